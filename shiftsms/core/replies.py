"""Reply texts. Every text is GSM-7 and, shift lists aside, fits one 160-character segment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from shiftsms.core.booking_rules import Refusal, refusal_text
from shiftsms.core.gsm import GSM7_PART, GSM7_SINGLE, septets, to_gsm7, truncate_septets
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift
from shiftsms.core.shift_info import day_text

HOW_TO_LIST = "Reply REQUEST for open shifts."

NOT_AUTHORISED = "This number is not registered for shift booking. Ask your manager to add it."
NOT_A_CODE = "That is not a valid shift code. Reply REQUEST to see the open shifts."
TOO_MANY_CODES = "Please send at most 10 shift codes in one text. " + HOW_TO_LIST
AGENT_CALLING = "Thanks. An agent will call you back soon."
AGENT_ALREADY_CALLING = "An agent is already due to call you back. Please wait for that call."
AGENT_UNAVAILABLE = "Sorry, call-backs are not offered here. " + HOW_TO_LIST
AGENT_FAILED = "Sorry, we could not arrange a call-back just now. Please try AGENT again later."
NO_OPEN_SHIFTS = "There are no open shifts right now. We will text you when new ones are posted."
NO_MORE_SHIFTS = "No more open shifts. Reply REQUEST to see the list again."
LOOK_FURTHER = "No open shifts in this part of the list. Reply MORE to look further."

MAX_INFO_SEPTETS = 40


def budget(max_segments: int) -> int:
    """Septets available in ``max_segments`` GSM-7 segments."""
    return GSM7_SINGLE if max_segments <= 1 else GSM7_PART * max_segments


def _section(title: str, codes: Sequence[str], shown: int) -> str:
    """``Title: A, B +3 more.``; with nothing shown, just how many codes."""
    if shown <= 0:
        noun = "code" if len(codes) == 1 else "codes"
        return f"{title}: {len(codes)} {noun}."
    listed = ", ".join(codes[:shown])
    rest = len(codes) - shown
    return f"{title}: {listed}{f' +{rest} more' if rest else ''}."


def _summary(sections: Sequence[tuple[str, Sequence[str]]], footer: str) -> str:
    """Sections then ``footer`` in one segment, shortening the longest code lists first."""
    present = [(title, list(codes)) for title, codes in sections if codes]
    shown = [len(codes) for _, codes in present]

    def render(with_footer: bool) -> str:
        parts = [_section(t, c, k) for (t, c), k in zip(present, shown, strict=True)]
        return " ".join([*parts, footer] if with_footer and footer else parts)

    while septets(render(True)) > GSM7_SINGLE and any(shown):
        longest = max(
            (i for i, k in enumerate(shown) if k),
            key=lambda i: septets(_section(*present[i], shown[i])),
        )
        shown[longest] -= 1
    text = render(True)
    if septets(text) > GSM7_SINGLE:
        text = render(False)
    return truncate_septets(text, GSM7_SINGLE)


def booking_summary(outcomes: Mapping[str, BookingOutcome]) -> str:
    """One text that sums up a booking: booked / already yours / no longer available / unknown."""
    groups: dict[BookingOutcome, list[str]] = {o: [] for o in BookingOutcome}
    for code, outcome in outcomes.items():
        groups[outcome].append(code)
    footer = HOW_TO_LIST if not groups[BookingOutcome.BOOKED] else "Thank you!"
    return _summary([(title, groups[o]) for o, title in _BOOKING_TITLES], footer)


_BOOKING_TITLES = [
    (BookingOutcome.BOOKED, "Booked"),
    (BookingOutcome.ALREADY_YOURS, "Already yours"),
    (BookingOutcome.TAKEN, "No longer available"),
    (BookingOutcome.UNKNOWN, "Not a valid code"),
]


def booking_reply(
    outcomes: Mapping[str, BookingOutcome], refusals: Sequence[Refusal], zone: ZoneInfo
) -> str:
    """A booking text's reply in one segment: what was booked, then each refusal's reason."""
    if not refusals:
        return booking_summary(outcomes)
    if not outcomes:
        return refusal_text(refusals, zone)
    groups: dict[BookingOutcome, list[str]] = {o: [] for o in BookingOutcome}
    for code, outcome in outcomes.items():
        groups[outcome].append(code)
    head = _summary([(title, groups[o]) for o, title in _BOOKING_TITLES], "")
    # The refusals keep at least half the segment: the head gives way first.
    head = truncate_septets(head, GSM7_SINGLE // 2)
    room = GSM7_SINGLE - septets(head) - 1
    return f"{head} {refusal_text(refusals, zone, room)}"


def drop_summary(outcomes: Mapping[str, DropOutcome]) -> str:
    """One text that sums up a DROP: released / not yours / unknown."""
    groups: dict[DropOutcome, list[str]] = {o: [] for o in DropOutcome}
    for code, outcome in outcomes.items():
        groups[outcome].append(code)
    titles = [
        (DropOutcome.RELEASED, "Released"),
        (DropOutcome.TOO_LATE, TOO_LATE_TITLE),
        (DropOutcome.NOT_YOURS, "Not booked by you"),
        (DropOutcome.UNKNOWN, "Not a valid code"),
    ]
    return _summary([(title, groups[o]) for o, title in titles], "")


def _item(shift: Shift) -> str:
    info = " ".join(to_gsm7(shift.shift_info, replacement="").split())
    info = truncate_septets(info, MAX_INFO_SEPTETS) if info else ""
    return f"{to_gsm7(shift.shift_id)} {info}".strip()


def shift_page(
    shifts: Sequence[Shift], more_after: int, max_segments: int = 1, *, at_least: bool = False
) -> tuple[str, int]:
    """Compose a list of open shifts within ``max_segments``.

    ``shifts`` are the next open shifts in order and ``more_after`` how many more are open
    beyond them. Returns the text and how many of ``shifts`` it shows; when not all open
    shifts fit, the text says how many more there are and that MORE sends them (``12+`` when
    ``at_least``: the count is a lower bound).
    """
    if not shifts:
        return NO_OPEN_SHIFTS, 0
    room = budget(max_segments)
    head = "Open shifts: "
    plus = "+" if at_least else ""
    book_hint = " Reply a code to book."
    items: list[str] = []
    for count, shift in enumerate(shifts, start=1):
        remaining = len(shifts) - count + more_after
        tail = f" {remaining}{plus} more: reply MORE." if remaining else book_hint
        candidate = head + "; ".join([*items, _item(shift)]) + "." + tail
        if septets(candidate) > room:
            break
        items.append(_item(shift))
    if not items:
        # Even one shift does not fit with its info: show the code alone.
        items.append(to_gsm7(shifts[0].shift_id))
    shown = len(items)
    remaining = len(shifts) - shown + more_after
    tail = f" {remaining}{plus} more: reply MORE." if remaining else book_hint
    return truncate_septets(head + "; ".join(items) + "." + tail, room), shown


# -- self-service: MINE, COMMANDS, SNOOZE, RESUME, reminders --------------------------------

COMMAND_LIST = (
    "Text REQUEST for open shifts, a code to book, DROP code to give one back, MINE for yours,"
    " SNOOZE or SNOOZE 3 to pause offers, RESUME, AGENT for a call."
)
NO_BOOKED_SHIFTS = "You have no upcoming booked shifts. " + HOW_TO_LIST
NO_MORE_BOOKED = "No more booked shifts. Reply MINE to see them again."
BAD_SNOOZE = "Reply SNOOZE to pause offers for 7 days, or SNOOZE and 1-60 days, e.g. SNOOZE 3."
RESUMED = "Offers are back on. Reply SNOOZE to pause them again."
TOO_LATE_TITLE = "Too close to the start to drop by text, please call the ward"
MAX_LOCATION_IN_LIST = 20


def snoozed(until: datetime, zone: ZoneInfo) -> str:
    """The reply to SNOOZE: until when, and what keeps working."""
    return (
        f"No offers until {day_text(until, zone)} {until.astimezone(zone):%H:%M}. Bookings,"
        " REQUEST and reminders still work. Reply RESUME to get offers again."
    )


def _booked_item(shift_id: str, start: datetime, location: str, zone: ZoneInfo) -> str:
    place = " ".join(to_gsm7(location, replacement="").split())
    place = truncate_septets(place, MAX_LOCATION_IN_LIST) if place else ""
    when = f"{day_text(start, zone)} {start.astimezone(zone):%H:%M}"
    return " ".join(p for p in (to_gsm7(shift_id), when, place) if p)


def booked_page(
    booked: Sequence[tuple[str, datetime, str]], zone: ZoneInfo, more_after: int = 0
) -> tuple[str, int]:
    """A person's booked shifts ``(id, start, location)`` soonest first, in one segment.

    Returns the text and how many it shows; the rest are counted with how MORE sends them.
    """
    if not booked:
        return NO_BOOKED_SHIFTS, 0
    head = "Your shifts: "
    items: list[str] = []

    def render(shown: list[str], remaining: int) -> str:
        tail = f" {remaining} more: reply MORE." if remaining else ""
        return head + "; ".join(shown) + "." + tail

    for count, entry in enumerate(booked, start=1):
        candidate = [*items, _booked_item(*entry, zone)]
        if septets(render(candidate, len(booked) - count + more_after)) > GSM7_SINGLE:
            break
        items = candidate
    if not items:
        items = [to_gsm7(booked[0][0])]
    shown = len(items)
    text = render(items, len(booked) - shown + more_after)
    return truncate_septets(text, GSM7_SINGLE), shown


def reminder(shift_id: str, start: datetime, location: str, zone: ZoneInfo) -> str:
    """``Reminder: XYZ123 Sat 15/08 19:00 Ward 7. Reply DROP XYZ123 if you can't make it.``"""
    code = to_gsm7(shift_id)
    when = f"{day_text(start, zone)} {start.astimezone(zone):%H:%M}"
    tail = f". Reply DROP {code} if you can't make it."
    place = " ".join(to_gsm7(location, replacement="").split())
    room = GSM7_SINGLE - septets(f"Reminder: {code} {when}{tail}") - 1
    place = truncate_septets(place, room) if place and room >= 4 else ""
    return f"Reminder: {' '.join(p for p in (code, when, place) if p)}{tail}"


# -- claim windows ------------------------------------------------------------------------------


def window_interest(codes: Sequence[str], closes_at: str) -> str:
    """Replied during a claim window: ``You're in for XYZ123. We'll text you by 19:10 if it's
    yours.`` (``closes_at``: the wall-clock time the window closes, HH:MM in the stack's zone;
    the award runs within a minute of it, so "by" the next minute)."""
    listed = ", ".join(codes)
    text = f"You're in for {listed}. We'll text you by {closes_at} if it's yours."
    if septets(text) <= GSM7_SINGLE:
        return text
    return f"You're in for {len(codes)} shifts. We'll text you by {closes_at} if they're yours."


def award_lost(code: str) -> str:
    """The window closed and ``code`` went to someone else."""
    return f"{code} went to someone else this time. " + HOW_TO_LIST
