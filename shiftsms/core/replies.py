"""Reply texts. Every text fits one segment of its language, shift lists aside.

The texts themselves live in the per-language catalogues (:mod:`shiftsms.core.catalogue`);
the functions here compose them in the language given (``texts``, English by default). The
constants are the English texts, under the catalogue keys of the same names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from shiftsms.core.booking_rules import LacksRole, Refusal, refusal_text
from shiftsms.core.catalogue import ENGLISH, Catalogue
from shiftsms.core.gsm import GSM7_PART, GSM7_SINGLE, to_gsm7, truncate_septets
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift
from shiftsms.core.waitlist import JoinOutcome, JoinResult

HOW_TO_LIST = ENGLISH.text("HOW_TO_LIST")

NOT_AUTHORISED = ENGLISH.text("NOT_AUTHORISED")
NOT_A_CODE = ENGLISH.text("NOT_A_CODE")
TOO_MANY_CODES = ENGLISH.text("TOO_MANY_CODES")
AGENT_CALLING = ENGLISH.text("AGENT_CALLING")
AGENT_ALREADY_CALLING = ENGLISH.text("AGENT_ALREADY_CALLING")
AGENT_UNAVAILABLE = ENGLISH.text("AGENT_UNAVAILABLE")
AGENT_FAILED = ENGLISH.text("AGENT_FAILED")
NO_OPEN_SHIFTS = ENGLISH.text("NO_OPEN_SHIFTS")
NO_MORE_SHIFTS = ENGLISH.text("NO_MORE_SHIFTS")
LOOK_FURTHER = ENGLISH.text("LOOK_FURTHER")

MAX_INFO_SEPTETS = 40

# YES where the latest offer named several shifts, or none that is still open.
YES_WHICH = ENGLISH.text("YES_WHICH")
WAIT_ONE_CODE = ENGLISH.text("WAIT_ONE_CODE")
WAITLIST_OPEN_HINT = ENGLISH.text("WAITLIST_OPEN_HINT")


def waitlist_joined(code: str, position: int, texts: Catalogue = ENGLISH) -> str:
    """``WAIT CODE`` put the sender on the list."""
    return texts.text("WAITLIST_JOINED", code=code, position=position)


def waitlist_already(code: str, position: int, texts: Catalogue = ENGLISH) -> str:
    """``WAIT CODE`` from someone already on the list."""
    return texts.text("WAITLIST_ALREADY", code=code, position=position)


def waitlist_full(code: str, texts: Catalogue = ENGLISH) -> str:
    """The list is at its cap."""
    return texts.text("WAITLIST_FULL", code=code)


def waitlist_open(code: str, texts: Catalogue = ENGLISH) -> str:
    """``WAIT CODE`` for a shift anyone may book now."""
    return texts.text("WAITLIST_OPEN", code=code)


def waitlist_yours(code: str, texts: Catalogue = ENGLISH) -> str:
    """``WAIT CODE`` from the person who holds it."""
    return texts.text("WAITLIST_YOURS", code=code)


def join_reply(code: str, result: JoinResult, texts: Catalogue = ENGLISH) -> str:
    """The reply to ``WAIT CODE``."""
    if result.outcome is JoinOutcome.JOINED:
        return waitlist_joined(code, result.position, texts)
    if result.outcome is JoinOutcome.ALREADY:
        return waitlist_already(code, result.position, texts)
    if result.outcome is JoinOutcome.FULL:
        return waitlist_full(code, texts)
    if result.outcome is JoinOutcome.OPEN:
        return waitlist_open(code, texts)
    if result.outcome is JoinOutcome.YOURS:
        return waitlist_yours(code, texts)
    if result.outcome is JoinOutcome.NEEDS_ROLE and result.role:
        # the booking refusal's sentence ("RN1 needs RN."): the reason needs no zone
        return refusal_text([LacksRole(code, result.role)], ZoneInfo("UTC"), texts=texts)
    return texts.text("NOT_A_CODE")


def held_offer(code: str, until: datetime, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
    """The text a waitlisted person gets when the shift is given back."""
    local = until.astimezone(zone)
    at = f"{local:%H:%M}" if local.second == 0 else f"{local:%H:%M:%S}"
    return texts.text("HELD_OFFER", code=code, at=at)


def taken_footer(taken: Sequence[str], texts: Catalogue = ENGLISH) -> str:
    """How to wait for taken codes: by name for one, in general for several."""
    if len(taken) == 1:
        return texts.text("WAIT_HINT_ONE", code=taken[0])
    return texts.text("WAITLIST_OPEN_HINT")


def budget(max_segments: int) -> int:
    """Septets available in ``max_segments`` GSM-7 segments."""
    return GSM7_SINGLE if max_segments <= 1 else GSM7_PART * max_segments


def _section(title: str, codes: Sequence[str], shown: int, texts: Catalogue) -> str:
    """``Title: A, B +3 more.``; with nothing shown, just how many codes."""
    if shown <= 0:
        return f"{title}: {texts.count('CODES', len(codes))}."
    listed = ", ".join(codes[:shown])
    rest = len(codes) - shown
    return f"{title}: {listed}{' ' + texts.text('MORE_CODES', n=rest) if rest else ''}."


def _summary(sections: Sequence[tuple[str, Sequence[str]]], footer: str, texts: Catalogue) -> str:
    """Sections then ``footer`` in one segment, shortening the longest code lists first."""
    present = [(title, list(codes)) for title, codes in sections if codes]
    shown = [len(codes) for _, codes in present]
    single = texts.single

    def render(with_footer: bool) -> str:
        parts = [_section(t, c, k, texts) for (t, c), k in zip(present, shown, strict=True)]
        return " ".join([*parts, footer] if with_footer and footer else parts)

    while texts.units(render(True)) > single and any(shown):
        longest = max(
            (i for i, k in enumerate(shown) if k),
            key=lambda i: texts.units(_section(*present[i], shown[i], texts)),
        )
        shown[longest] -= 1
    text = render(True)
    if texts.units(text) > single:
        text = render(False)
    return texts.fit(text, single)


def _booking_sections(
    outcomes: Mapping[str, BookingOutcome], texts: Catalogue
) -> list[tuple[str, list[str]]]:
    groups: dict[BookingOutcome, list[str]] = {o: [] for o in BookingOutcome}
    for code, outcome in outcomes.items():
        groups[outcome].append(code)
    return [(texts.text(key), groups[o]) for o, key in _BOOKING_TITLES]


def booking_summary(outcomes: Mapping[str, BookingOutcome], texts: Catalogue = ENGLISH) -> str:
    """One text that sums up a booking: booked / already yours / no longer available / unknown.

    Nothing booked but some taken: the footer says how to join the waitlist.
    """
    booked = [c for c, o in outcomes.items() if o is BookingOutcome.BOOKED]
    taken = [c for c, o in outcomes.items() if o is BookingOutcome.TAKEN]
    if booked:
        footer = texts.text("THANK_YOU")
    elif taken:
        footer = taken_footer(taken, texts)
    else:
        footer = texts.text("HOW_TO_LIST")
    return _summary(_booking_sections(outcomes, texts), footer, texts)


_BOOKING_TITLES = [
    (BookingOutcome.BOOKED, "BOOKED"),
    (BookingOutcome.ALREADY_YOURS, "ALREADY_YOURS"),
    (BookingOutcome.TAKEN, "NO_LONGER_AVAILABLE"),
    (BookingOutcome.UNKNOWN, "NOT_VALID_CODE"),
]


def booking_reply(
    outcomes: Mapping[str, BookingOutcome],
    refusals: Sequence[Refusal],
    zone: ZoneInfo,
    texts: Catalogue = ENGLISH,
) -> str:
    """A booking text's reply in one segment: what was booked, then each refusal's reason."""
    if not refusals:
        return booking_summary(outcomes, texts)
    if not outcomes:
        return refusal_text(refusals, zone, texts.single, texts)
    head = _summary(_booking_sections(outcomes, texts), "", texts)
    # The refusals keep at least half the segment: the head gives way first.
    head = texts.fit(head, texts.single // 2)
    room = texts.single - texts.units(head) - 1
    return f"{head} {refusal_text(refusals, zone, room, texts)}"


def drop_summary(outcomes: Mapping[str, DropOutcome], texts: Catalogue = ENGLISH) -> str:
    """One text that sums up a DROP: released / too late / not yours / unknown.

    Codes a retried DROP finds booked again by the sender (still theirs) close the text when
    there is room: only a DROP with four other outcomes leaves no room, and then silence about
    them is still true, where "Released" would not be."""
    groups: dict[DropOutcome, list[str]] = {o: [] for o in DropOutcome}
    for code, outcome in outcomes.items():
        groups[outcome].append(code)
    titles = [
        (DropOutcome.RELEASED, "RELEASED"),
        (DropOutcome.TOO_LATE, "TOO_LATE"),
        (DropOutcome.NOT_YOURS, "NOT_YOURS"),
        (DropOutcome.UNKNOWN, "NOT_VALID_CODE"),
    ]
    still = groups[DropOutcome.STILL_YOURS]
    footer = ""
    if still:
        footer = _section(texts.text("STILL_YOURS"), still, len(still), texts)
        if texts.units(footer) > texts.single:  # too many codes to list: how many
            footer = _section(texts.text("STILL_YOURS"), still, 0, texts)
    return _summary([(texts.text(key), groups[o]) for o, key in titles], footer, texts)


def _item(shift: Shift, texts: Catalogue) -> str:
    info = " ".join(to_gsm7(shift.shift_info, replacement="").split())
    info = texts.fit(info, MAX_INFO_SEPTETS) if info else ""
    return f"{to_gsm7(shift.shift_id)} {info}".strip()


def shift_page(
    shifts: Sequence[Shift],
    more_after: int,
    max_segments: int = 1,
    *,
    at_least: bool = False,
    texts: Catalogue = ENGLISH,
) -> tuple[str, int]:
    """Compose a list of open shifts within ``max_segments``.

    ``shifts`` are the next open shifts in order and ``more_after`` how many more are open
    beyond them. Returns the text and how many of ``shifts`` it shows; when not all open
    shifts fit, the text says how many more there are and that MORE sends them (``12+`` when
    ``at_least``: the count is a lower bound).
    """
    if not shifts:
        return texts.text("NO_OPEN_SHIFTS"), 0
    room = texts.budget(max_segments)
    head = texts.text("OPEN_SHIFTS") + ": "
    plus = "+" if at_least else ""
    book_hint = " " + texts.text("BOOK_HINT")

    def tail(remaining: int) -> str:
        return " " + texts.text("PAGE_MORE", n=f"{remaining}{plus}") if remaining else book_hint

    items: list[str] = []
    for count, shift in enumerate(shifts, start=1):
        remaining = len(shifts) - count + more_after
        candidate = head + "; ".join([*items, _item(shift, texts)]) + "." + tail(remaining)
        if texts.units(candidate) > room:
            break
        items.append(_item(shift, texts))
    if not items:
        # Even one shift does not fit with its info: show the code alone.
        items.append(to_gsm7(shifts[0].shift_id))
    shown = len(items)
    remaining = len(shifts) - shown + more_after
    return texts.fit(head + "; ".join(items) + "." + tail(remaining), room), shown


# -- texts to the managers a campaign notifies (``--notify``, ``ManagerNumbers``) -------------
# Each fits one GSM-7 segment with the longest values: a 20-character code and the name and
# campaign id cut to these lengths.
NOTIFY_NAME_SEPTETS = 24
NOTIFY_CAMPAIGN_SEPTETS = 32
NOTIFY_BOOKED = "{code} booked by {who} ({campaign}): {booked} of {total} booked."
NOTIFY_DROPPED = "{code} dropped by {who} ({campaign}): open again, {booked} of {total} booked."
NOTIFY_FILLED = "Campaign {campaign} filled in {took}: {total} of {total} booked."


def took_text(seconds: float) -> str:
    """A duration for a text: ``45s``, ``3m 20s``, ``2h 05m``, ``3d 4h``."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _short(text: str, limit: int) -> str:
    return truncate_septets(" ".join(to_gsm7(text, replacement="").split()), limit)


def shift_notice(
    template: str, code: str, *, who: str, campaign: str, booked: int, total: int
) -> str:
    """:data:`NOTIFY_BOOKED` or :data:`NOTIFY_DROPPED` filled in, GSM-7, one segment."""
    return template.format(
        code=to_gsm7(code),
        who=_short(who, NOTIFY_NAME_SEPTETS) or "someone",
        campaign=_short(campaign, NOTIFY_CAMPAIGN_SEPTETS),
        booked=booked,
        total=total,
    )


def filled_notice(campaign: str, total: int, seconds: float) -> str:
    """:data:`NOTIFY_FILLED` filled in, GSM-7, one segment."""
    return NOTIFY_FILLED.format(
        campaign=_short(campaign, NOTIFY_CAMPAIGN_SEPTETS), total=total, took=took_text(seconds)
    )


# -- self-service: MINE, COMMANDS, SNOOZE, RESUME, reminders --------------------------------

COMMAND_LIST = ENGLISH.text("COMMAND_LIST")
NO_BOOKED_SHIFTS = ENGLISH.text("NO_BOOKED_SHIFTS")
NO_MORE_BOOKED = ENGLISH.text("NO_MORE_BOOKED")
BAD_SNOOZE = ENGLISH.text("BAD_SNOOZE")
RESUMED = ENGLISH.text("RESUMED")
TOO_LATE_TITLE = ENGLISH.text("TOO_LATE")
MAX_LOCATION_IN_LIST = 20


def day(instant: datetime, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
    """``Sat 15/08`` on the wall clock of ``zone``, the weekday in the language of ``texts``."""
    local = instant.astimezone(zone)
    return f"{texts.text('WEEKDAYS').split()[local.weekday()]} {local:%d/%m}"


def _when(instant: datetime, zone: ZoneInfo, texts: Catalogue) -> str:
    """``Sat 15/08 19:00`` on the wall clock of ``zone``."""
    return f"{day(instant, zone, texts)} {instant.astimezone(zone):%H:%M}"


def snoozed(until: datetime, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
    """The reply to SNOOZE: until when, and what keeps working."""
    return texts.text("SNOOZED", when=_when(until, zone, texts))


def _booked_item(
    shift_id: str, start: datetime, location: str, zone: ZoneInfo, texts: Catalogue
) -> str:
    place = " ".join(to_gsm7(location, replacement="").split())
    place = truncate_septets(place, MAX_LOCATION_IN_LIST) if place else ""
    return " ".join(p for p in (to_gsm7(shift_id), _when(start, zone, texts), place) if p)


def booked_page(
    booked: Sequence[tuple[str, datetime, str]],
    zone: ZoneInfo,
    more_after: int = 0,
    texts: Catalogue = ENGLISH,
) -> tuple[str, int]:
    """A person's booked shifts ``(id, start, location)`` soonest first, in one segment.

    Returns the text and how many it shows; the rest are counted with how MORE sends them.
    """
    if not booked:
        return texts.text("NO_BOOKED_SHIFTS"), 0
    head = texts.text("YOUR_SHIFTS") + ": "
    items: list[str] = []

    def render(shown: list[str], remaining: int) -> str:
        tail = " " + texts.text("PAGE_MORE", n=remaining) if remaining else ""
        return head + "; ".join(shown) + "." + tail

    for count, entry in enumerate(booked, start=1):
        candidate = [*items, _booked_item(*entry, zone, texts)]
        if texts.units(render(candidate, len(booked) - count + more_after)) > texts.single:
            break
        items = candidate
    if not items:
        items = [to_gsm7(booked[0][0])]
    shown = len(items)
    text = render(items, len(booked) - shown + more_after)
    return texts.fit(text, texts.single), shown


def reminder(
    shift_id: str, start: datetime, location: str, zone: ZoneInfo, texts: Catalogue = ENGLISH
) -> str:
    """``Reminder: XYZ123 Sat 15/08 19:00 Ward 7. Reply DROP XYZ123 if you can't make it.``"""
    code = to_gsm7(shift_id)
    when = _when(start, zone, texts)
    place = " ".join(to_gsm7(location, replacement="").split())
    bare = texts.text("REMINDER", shift=f"{code} {when}", code=code)
    room = texts.single - texts.units(bare) - 1
    place = texts.fit(place, room) if place and room >= 4 else ""
    shift = " ".join(p for p in (code, when, place) if p)
    return texts.text("REMINDER", shift=shift, code=code)


# -- claim windows ------------------------------------------------------------------------------


def window_interest(codes: Sequence[str], closes_at: str, texts: Catalogue = ENGLISH) -> str:
    """Replied during a claim window: ``You're in for XYZ123. We'll text you by 19:10 if it's
    yours.`` (``closes_at``: the wall-clock time the window closes, HH:MM in the stack's zone;
    the award runs within a minute of it, so "by" the next minute)."""
    text = texts.text("WINDOW_INTEREST", codes=", ".join(codes), at=closes_at)
    if texts.units(text) <= texts.single:
        return text
    return texts.count("WINDOW_INTEREST_MANY", len(codes), at=closes_at)


def award_lost(code: str, texts: Catalogue = ENGLISH) -> str:
    """The window closed and ``code`` went to someone else."""
    return texts.text("AWARD_LOST", code=code)
