"""English (the default): every reply and campaign text shiftsms sends."""

from __future__ import annotations

CODE = "en"
NAME = "English"
GSM_ONLY = True


def plural(n: int) -> int:
    """0: one, 1: other."""
    return 0 if n == 1 else 1


TEXTS: dict[str, str | tuple[str, ...]] = {
    "NOT_AUTHORISED": "This number is not registered for shift booking. "
    "Ask your manager to add it.",
    "NOT_A_CODE": "That is not a valid shift code. Reply REQUEST to see the open shifts.",
    "TOO_MANY_CODES": "Please send at most 10 shift codes in one text. "
    "Reply REQUEST for open shifts.",
    "AGENT_CALLING": "Thanks. An agent will call you back soon.",
    "AGENT_ALREADY_CALLING": "An agent is already due to call you back. Please wait for that call.",
    "AGENT_UNAVAILABLE": "Sorry, call-backs are not offered here. Reply REQUEST for open shifts.",
    "AGENT_FAILED": "Sorry, we could not arrange a call-back just now. "
    "Please try AGENT again later.",
    "NO_OPEN_SHIFTS": "There are no open shifts right now. "
    "We will text you when new ones are posted.",
    "NO_MORE_SHIFTS": "No more open shifts. Reply REQUEST to see the list again.",
    "LOOK_FURTHER": "No open shifts in this part of the list. Reply MORE to look further.",
    "HOW_TO_LIST": "Reply REQUEST for open shifts.",
    # Booking and DROP summaries: "Booked: XYZ123, XYZ124 +2 more. Thank you!"
    "BOOKED": "Booked",
    "ALREADY_YOURS": "Already yours",
    "NO_LONGER_AVAILABLE": "No longer available",
    "NOT_VALID_CODE": "Not a valid code",
    "THANK_YOU": "Thank you!",
    "RELEASED": "Released",
    "NOT_YOURS": "Not booked by you",
    "CODES": ("{n} code", "{n} codes"),
    "MORE_CODES": "+{n} more",
    # Shift lists (REQUEST, MORE) and campaign texts: "Open shifts: XYZ123 15/08 nights. ..."
    "OPEN_SHIFTS": "Open shifts",
    "PAGE_MORE": "{n} more: reply MORE.",
    "BOOK_HINT": "Reply a code to book.",
    "HOW_TO_BOOK": "Reply a code to book, REQUEST for all open shifts, STOP to opt out.",
    # Booking refusals: "XYZ123 needs RN, overlaps your 19:00-07:00 on 15/08."
    "HAS_STARTED": "has started",
    "NEEDS_ROLE": "needs {role}",
    "OVERLAPS": "overlaps your {held}",
    "REST_AFTER": "leaves only {hours} rest after your {held}",
    "REST_BEFORE": "leaves only {hours} rest before your {held}",
    "NO_REST_AFTER": "leaves no rest after your {held}",
    "NO_REST_BEFORE": "leaves no rest before your {held}",
    "OVER_WEEKLY": "takes you to {total} in 7 days, max {cap}",
    "HELD": "{span} on {day}",
    "MORE_REFUSED": "+{n} more refused.",
    "WAIT_HINT_ONE": "Reply WAIT {code} to join its waitlist.",
    "WAITLIST_OPEN_HINT": "Reply WAIT and a code to join its waitlist.",
    "TOO_LATE": "Too close to the start to drop by text, please call the ward",
}
