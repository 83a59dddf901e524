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
    "STILL_YOURS": "Still yours (booked again since)",
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
    # Waitlists (WAIT), held offers and YES
    "YES_WHICH": "Please reply with the code of the shift you want. Reply REQUEST for open shifts.",
    "WAIT_ONE_CODE": "Please send WAIT and one shift code, like WAIT XYZ123.",
    "DROP_WHICH": "Please send DROP and the code of the shift to give back, like DROP XYZ123.",
    "WAITLIST_JOINED": "You're number {position} for {code}. We'll text you if it is free again.",
    "WAITLIST_ALREADY": "You're already number {position} for {code}. "
    "We'll text you if it is free again.",
    "WAITLIST_FULL": "The waitlist for {code} is full. Reply REQUEST for open shifts.",
    "WAITLIST_OPEN": "{code} is open: reply {code} to book it.",
    "WAITLIST_YOURS": "{code} is already yours.",
    "HELD_OFFER": "{code} is free again and held for you until {at}. Reply YES to take it.",
    # Self-service: COMMANDS, MINE, SNOOZE, RESUME, reminders ("{when}": "Sat 15/08 19:00")
    "COMMAND_LIST": "Text REQUEST for open shifts, a code to book, DROP code to give one back, "
    "MINE for yours, SNOOZE or SNOOZE 3 to pause offers, RESUME, AGENT for a call.",
    "NO_BOOKED_SHIFTS": "You have no upcoming booked shifts. Reply REQUEST for open shifts.",
    "NO_MORE_BOOKED": "No more booked shifts. Reply MINE to see them again.",
    "BAD_SNOOZE": "Reply SNOOZE to pause offers for 7 days, or SNOOZE and 1-60 days, "
    "e.g. SNOOZE 3.",
    "RESUMED": "Offers are back on. Reply SNOOZE to pause them again.",
    "SNOOZED": "No offers until {when}. Bookings, REQUEST and reminders still work. "
    "Reply RESUME to get offers again.",
    "YOUR_SHIFTS": "Your shifts",
    "REMINDER": "Reminder: {shift}. Reply DROP {code} if you can't make it.",
    # The weekdays of a date ("Sat 15/08"), Monday first, separated by spaces.
    "WEEKDAYS": "Mon Tue Wed Thu Fri Sat Sun",
    # Claim windows ("{at}": 19:10)
    "WINDOW_INTEREST": "You're in for {codes}. We'll text you by {at} if it's yours.",
    "WINDOW_INTEREST_MANY": (
        "You're in for {n} shift. We'll text you by {at} if it's yours.",
        "You're in for {n} shifts. We'll text you by {at} if they're yours.",
    ),
    "AWARD_LOST": "{code} went to someone else this time. Reply REQUEST for open shifts.",
    # An operator's release or removal, told to the holder ("{shift}": "XYZ123 (15/08 nights)")
    "BOOKING_CANCELLED": "Your booking of {shift} was cancelled by the ward. "
    "Text REQUEST for open shifts.",
    "SHIFT_CANCELLED": "{shift} was cancelled by the ward. Text REQUEST for open shifts.",
}
