"""Campaign texts: the open shifts with their codes and one short line on how to book.

Every text is GSM-7 only. The campaign item's ``campaign_message`` keeps the sample's meaning
(the list of shifts, e.g. ``15/08 5h nightshift XYZ123, 18/08 3h dayshift XYZ124``);
:func:`campaign_text` wraps it into the SMS, so an item typed in the console and one written
by the CLI are sent the same way. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shiftsms.core.catalogue import ENGLISH, Catalogue
from shiftsms.core.commands import RESERVED_WORDS, SHIFT_ID_PATTERN
from shiftsms.core.gsm import (
    GSM7_PART,
    GSM7_SINGLE,
    SegmentInfo,
    segment_info,
    segments,
    septets,
    to_gsm7,
    truncate_septets,
)
from shiftsms.core.models import Shift

PREFIX = ENGLISH.text("OPEN_SHIFTS") + ": "
HOW_TO_BOOK = ENGLISH.text("HOW_TO_BOOK")
MAX_INFO_SEPTETS = 40
# Infos are shortened to no less than this to fit one more shift into the text.
MIN_INFO_SEPTETS = 20
# A console item's message is sent as typed, but never beyond this many segments.
MAX_SEGMENTS = 10

# The original AWS sample's campaign text (its campaign Lambda, verbatim), kept to compare
# costs (bench/segments.py): "Available shifts: " + campaign_message + these instructions.
# Its README's example message takes 3 segments with Connect enabled and 2 without.
ORIGINAL_PREFIX = "Available shifts: "
ORIGINAL_INSTRUCTIONS = (
    ". To book a shift reply by typing the codes separated by comma e.g. XYZ123, XYZ222. "
    "Text REQUEST to receive all available shifts or STOP to stop receiving such notifications"
)
ORIGINAL_AGENT_INSTRUCTIONS = (
    ". If you want to speak to an agent text AGENT and what you need help with."
)
SAMPLE_CAMPAIGN_MESSAGE = "15/08 5h nightshift XYZ123, 18/08 3h dayshift XYZ124"
SAMPLE_SHIFTS = (
    Shift("XYZ123", "15/08 5h nightshift"),
    Shift("XYZ124", "18/08 3h dayshift"),
)

_TOKENS = re.compile(r"[\s,;/&+.:()]+")


def original_text(campaign_message: str, connect_enabled: bool) -> str:
    """The text the original sample sent for ``campaign_message``."""
    tail = ORIGINAL_INSTRUCTIONS + (ORIGINAL_AGENT_INSTRUCTIONS if connect_enabled else "")
    return ORIGINAL_PREFIX + campaign_message + tail


def budget(max_segments: int) -> int:
    """Septets available in ``max_segments`` GSM-7 segments."""
    return GSM7_SINGLE if max_segments <= 1 else GSM7_PART * max_segments


def clean_message(message: str) -> str:
    """A campaign message as it will be sent: GSM-7, single spaces, no trailing full stop."""
    text = " ".join(to_gsm7(message or "", replacement="").split())
    return text.rstrip(" .")


def campaign_text(
    message: str, max_segments: int = MAX_SEGMENTS, texts: Catalogue = ENGLISH
) -> str:
    """The SMS for a campaign message: prefix, the shifts, and how to book (in ``texts``)."""
    listing = clean_message(message)
    prefix, how = texts.text("OPEN_SHIFTS") + ": ", texts.text("HOW_TO_BOOK")
    room = texts.budget(max_segments) - texts.units(prefix) - texts.units(". " + how)
    listing = texts.fit(listing, max(room, 10))
    return f"{prefix}{listing}. {how}"


def localised_text(approved: str, message: str, texts: Catalogue) -> str:
    """The campaign text ``approved`` (English) in the language of ``texts``.

    Only a text that is the standard wrapping of ``message`` is translated, and only when the
    translation bills no more segments than ``approved`` (the cost shown at ``campaign
    create`` stays true); otherwise ``approved`` is sent as it is.
    """
    if texts is ENGLISH or not clean_message(message) or approved != campaign_text(message):
        return approved
    listing, translated = clean_message(message), campaign_text(message, texts=texts)
    whole = f": {listing}. " in translated and f": {listing}. " in approved
    return translated if whole and segments(translated) <= segments(approved) else approved


def _clean_info(shift: Shift) -> str:
    return " ".join(to_gsm7(shift.shift_info, replacement="").split()).rstrip(" .,")


def shorten_info(info: str, limit: int) -> str:
    """``info`` in at most ``limit`` septets, cut only if longer, never inside a quotation.

    A cut that would leave a ``"`` open goes back to before it, so staff never read half of a
    quoted name.
    """
    if septets(info) <= limit:
        return info
    ellipsis = ".."
    if limit <= septets(ellipsis):
        return ""
    kept = truncate_septets(info, limit - septets(ellipsis), ellipsis="")
    if kept.count('"') % 2:
        kept = kept[: kept.rindex('"')]
    kept = kept.rstrip(" ,.;:-(")
    return kept + ellipsis if kept else ""


def shift_item(shift: Shift, limit: int = MAX_INFO_SEPTETS) -> str:
    """One shift as the sample writes it: its info (shortened to ``limit``), then its code."""
    info = shorten_info(_clean_info(shift), limit)
    return f"{info} {shift.shift_id}".strip()


@dataclass(frozen=True)
class ComposedCampaign:
    """A campaign composed from shifts: the message to store and the SMS it becomes."""

    message: str
    text: str
    shown: tuple[str, ...]
    left_out: int
    info: SegmentInfo


def _listing(shifts: Sequence[Shift], cap: int, total: int, texts: Catalogue = ENGLISH) -> str:
    rest = total - len(shifts)
    items = ", ".join(shift_item(s, cap) for s in shifts)
    return items + (" " + texts.text("MORE_CODES", n=rest) if rest else "")


def _largest_cap(
    shifts: Sequence[Shift], total: int, room: int, floor: int, texts: Catalogue = ENGLISH
) -> int | None:
    """The largest info length at which ``shifts`` fit ``room`` (None: not even at ``floor``)."""

    def size(cap: int) -> int:
        return texts.units(campaign_text(_listing(shifts, cap, total, texts), texts=texts))

    longest = max(septets(_clean_info(s)) for s in shifts)
    if size(longest) <= room:
        return longest
    low, high = floor, longest
    if size(low) > room:
        return None
    while low < high:  # the text grows with the cap: the largest cap that fits
        mid = (low + high + 1) // 2
        if size(mid) <= room:
            low = mid
        else:
            high = mid - 1
    return low


def compose(
    shifts: Sequence[Shift], max_segments: int = 1, texts: Catalogue = ENGLISH
) -> ComposedCampaign:
    """The campaign for ``shifts`` (soonest first) within ``max_segments``, in ``texts``.

    As many shifts as fit with infos of at least :data:`MIN_INFO_SEPTETS` are listed in order,
    each info shortened only as far as the budget needs; when some do not fit, the text says
    how many more there are and that REQUEST lists them. The first shift is always listed.
    """
    if not shifts:
        raise ValueError("a campaign needs at least one shift")
    room = texts.budget(max_segments)
    chosen: tuple[int, int] = (1, 0)
    for count in range(len(shifts), 0, -1):
        floor = MIN_INFO_SEPTETS if count > 1 else 0
        cap = _largest_cap(shifts[:count], len(shifts), room, floor, texts)
        if cap is not None:
            chosen = (count, cap)
            break
    count, cap = chosen
    message = _listing(shifts[:count], cap, len(shifts), texts)
    text = campaign_text(message, texts=texts)
    shown = tuple(s.shift_id for s in shifts[:count])
    return ComposedCampaign(message, text, shown, len(shifts) - count, segment_info(text))


def candidate_codes(message: str) -> tuple[str, ...]:
    """Words of a typed campaign message that could be shift codes (they contain a digit)."""
    found: list[str] = []
    for token in _TOKENS.split(message.upper()):
        if (
            SHIFT_ID_PATTERN.fullmatch(token)
            and token not in RESERVED_WORDS
            and any(c.isdigit() for c in token)
            and any(c.isalpha() for c in token)
        ):
            found.append(token)
    return tuple(dict.fromkeys(found))
