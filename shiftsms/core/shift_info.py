"""The human line of a timed shift (``shift_info``) and the role and location it is built from.

``Sat 15/08 19:00-07:00 Ward 7 RN``: the day and times on the stack's wall clock, then the
location and role. Every part is GSM-7, so the line never turns a text into UCS-2, and it fits
``MAX_INFO_SEPTETS`` (what shift lists and campaigns show of an info) by shortening the location,
never the times or the role. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from shiftsms.core.gsm import is_gsm7, septets, to_gsm7, truncate_septets
from shiftsms.core.shift_times import Span
from shiftsms.errors import InvalidInput

MAX_INFO_SEPTETS = 40
MAX_ROLE_SEPTETS = 16
MAX_LOCATION_SEPTETS = 40
# English day names on purpose: strftime's %a follows the machine's locale.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class UnreadableLabel(InvalidInput):
    """A role or location staff could not read in a GSM-7 text, or one too long to show."""


def check_label(text: str, what: str, max_septets: int) -> str:
    """``text`` with surrounding and repeated spaces removed, if staff can read it in GSM-7.

    Refused: empty, more than one line, characters outside GSM-7 (the message suggests the
    GSM-7 spelling when there is one), longer than ``max_septets``.
    """
    label = " ".join(part for part in text.split(" ") if part)
    if not label:
        raise UnreadableLabel(f"{what} is empty")
    if any(ch in label for ch in "\r\n\f\x1b"):
        raise UnreadableLabel(f"{what} must be one line")
    if not is_gsm7(label):
        bad = "".join(dict.fromkeys(ch for ch in label if not is_gsm7(ch)))
        # Suggest a spelling only when every character has a GSM-7 form (nothing dropped).
        hint = to_gsm7(label, replacement="\x00")
        suggestion = f"; try {hint!r}" if is_gsm7(hint) else ""
        raise UnreadableLabel(
            f"{what} {label!r} has characters an SMS cannot show in GSM-7: {bad!r}{suggestion}"
        )
    if septets(label) > max_septets:
        raise UnreadableLabel(f"{what} {label!r} is longer than {max_septets} characters")
    return label


def check_role(text: str) -> str:
    """A role (``RN``, ``HCA``, ``Band 5``) as stored; compare roles with :func:`role_key`."""
    return check_label(text, "role", MAX_ROLE_SEPTETS)


def check_location(text: str) -> str:
    """A location (``Ward 7``) as stored."""
    return check_label(text, "location", MAX_LOCATION_SEPTETS)


def role_key(role: str) -> str:
    """The form roles are matched in: ``rn`` and ``RN`` are the same role."""
    return " ".join(role.split()).casefold()


def day_text(instant: datetime, zone: ZoneInfo) -> str:
    """``Sat 15/08`` on the wall clock of ``zone``."""
    local = instant.astimezone(zone)
    return f"{_DAYS[local.weekday()]} {local:%d/%m}"


def span_text(span: Span, zone: ZoneInfo) -> str:
    """``19:00-07:00`` on the wall clock of ``zone`` (a night shift ends the next day)."""
    return f"{span.start.astimezone(zone):%H:%M}-{span.end.astimezone(zone):%H:%M}"


def compose_info(
    span: Span | None,
    zone: ZoneInfo,
    location: str | None = None,
    role: str | None = None,
    max_septets: int = MAX_INFO_SEPTETS,
) -> str:
    """``Sat 15/08 19:00-07:00 Ward 7 RN``, within ``max_septets``.

    The day and times are in ``zone``; ``location`` and ``role`` are checked
    (:func:`check_location`, :func:`check_role`). When the line is too long the location is
    shortened (``Ward 7 Nor.. RN``), then dropped; times and role are kept whole.
    """
    head = f"{day_text(span.start, zone)} {span_text(span, zone)}" if span is not None else ""
    tail = check_role(role) if role is not None else ""
    place = check_location(location) if location is not None else ""
    fixed = " ".join(part for part in (head, tail) if part)
    if septets(fixed) > max_septets:
        raise ValueError(f"shift info {fixed!r} does not fit {max_septets} characters")
    if place:
        room = max_septets - septets(fixed) - (1 if fixed else 0)
        place = truncate_septets(place, room) if room >= 4 else ""
    return " ".join(part for part in (head, place, tail) if part)
