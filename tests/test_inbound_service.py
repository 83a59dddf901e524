"""InboundService's decisions on in-memory fakes: the reply a texter sees, what is stored.

No moto, no sockets, a fixed clock: the path through SNS and the Lambda handler is tested in
test_inbound_handler.py; these pin the service's own decisions, one command of the command
table (shiftsms.core.commands.COMMANDS) at a time.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from shiftsms.core import replies
from shiftsms.core.commands import COMMANDS, Kind
from shiftsms.core.models import InboundSms, Shift, ShiftStatus, StaffMember
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.errors import SendThrottled
from shiftsms.services.inbound import END_OF_LIST, Action, InboundResult, InboundService
from shiftsms.services.reply_outbox import ReplyOutbox
from shiftsms.settings import InboundSettings
from tests.fakes import (
    CountingReplyLimiter,
    CountingReplyRate,
    ListReplyQueue,
    MemoryReplyMarkers,
    MemoryShifts,
    MemoryStaff,
    RecordingCaller,
    RecordingSms,
    SentSms,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
BOOKED_AT = "2026-11-28T10:00:00+00:00"
ANA, BEN, STRANGER = "+447700900101", "+447700900202", "+447700900999"
# A reply's Context: its kind and Ana by her phone's fingerprint (never the number).
TO_ANA = {"kind": "reply", "recipient": "b1e7c34f8f2731a143d8"}
WARD_NUMBER = "+447700900000"  # the number staff text (the inbound message's destination)
CONFIGURED = "+447700900001"  # the stack's origination identity
SETTINGS = InboundSettings("shifts", "staff", origination_identity=CONFIGURED)
HOW_TO_LIST = "Reply REQUEST for open shifts."


def sent_at(second: int) -> str:
    """When SNS published a message: a fixed minute, ``second`` seconds in."""
    return f"2026-11-28T10:00:{second:02d}.000Z"


class World:
    """One service on fresh fakes, with Ana and Ben on the allow list and a clock to move."""

    def __init__(self, *, call_backs: bool = True) -> None:
        self.now = NOW
        self.staff = MemoryStaff()
        # As the inbound function wires it: timed bookings keep the person's held shifts.
        self.shifts = MemoryShifts(staff=self.staff)
        for phone, name in ((ANA, "Ana"), (BEN, "Ben")):
            self.staff.put(StaffMember(phone, name))
        self.sms = RecordingSms()
        self.limiter = CountingReplyLimiter(cooldown=timedelta(minutes=30))
        self.caller = RecordingCaller()
        self.service = InboundService(
            SETTINGS,
            self.shifts,
            self.staff,
            self.sms,
            self.limiter,
            self.caller if call_backs else None,
            clock=lambda: self.now,
        )
        self._ids = 0

    def text(
        self,
        body: str,
        sender: str = ANA,
        *,
        message_id: str | None = None,
        sent: str = "",
        destination: str = WARD_NUMBER,
    ) -> InboundResult:
        """Deliver one inbound SMS (a fresh message id unless one is given)."""
        if message_id is None:
            self._ids += 1
            message_id = f"m{self._ids}"
        return self.service.handle(InboundSms(message_id, sender, destination, body, sent_at=sent))

    def open(self, *shifts: tuple[str, str]) -> None:
        """Post available shifts (code, info)."""
        for code, info in shifts:
            self.shifts.put(Shift(code, info))

    def held(self, code: str, info: str, employee: str) -> None:
        """Post a shift already taken by ``employee``."""
        self.shifts.put(Shift(code, info, ShiftStatus.TAKEN, employee, BOOKED_AT))

    def cursor(self, phone: str = ANA) -> str | None:
        member = self.staff.get(phone)
        assert member is not None
        return member.list_cursor


@pytest.fixture
def world() -> World:
    return World()


def result(action: Action, reply: str | None, sent: str | None) -> InboundResult:
    return InboundResult(action, reply, sent)


# -- the command table: every word, and the wordless kinds ------------------------------------

OPT_OUT_WORDS = next(s.words for s in COMMANDS if s.kind is Kind.OPT_OUT)
CARRIER_WORDS = [w for s in COMMANDS if s.carrier for w in s.words]
# Each kind of the table, and texts that are read as it (every word of it, in any case).
TEXTS: dict[Kind, list[str]] = {
    Kind.REQUEST: ["REQUEST", "list", "Shifts."],
    Kind.MORE: ["MORE", "next"],
    Kind.BOOK: ["xyz123"],
    Kind.DROP: ["DROP ABC456", "release abc456"],
    Kind.WAIT: ["WAIT ABC456"],  # acted on in test_waitlist.py
    Kind.YES: ["YES"],
    Kind.AGENT: ["AGENT nights pay", "Call: nights pay"],
    Kind.OPT_OUT: list(OPT_OUT_WORDS),
    Kind.OPT_IN: ["START", "unstop"],
    Kind.HELP: ["HELP"],
    Kind.MINE: ["MINE", "mine."],
    Kind.COMMANDS: ["COMMANDS"],
    Kind.SNOOZE: ["SNOOZE", "snooze 3"],
    Kind.RESUME: ["RESUME"],
    Kind.TOO_MANY: [" ".join(f"S{i:02d}" for i in range(11))],
    Kind.EMPTY: ["", "   "],
    Kind.UNKNOWN: ["can I swap?"],
}


def test_the_cases_below_cover_every_command_and_every_word() -> None:
    assert set(TEXTS) == {spec.kind for spec in COMMANDS}
    for spec in COMMANDS:
        typed = {t.split()[0].upper().strip(".:") for t in TEXTS[spec.kind] if t.strip()}
        assert set(spec.words) <= typed, spec.kind


@pytest.mark.parametrize("body", TEXTS[Kind.REQUEST])
def test_request_lists_the_open_shifts_from_the_number_texted(world: World, body: str) -> None:
    world.open(("XYZ123", "15/08 nights"), ("XYZ124", "18/08 days"))
    world.held("ABC456", "16/08 lates", BEN)
    text = "Open shifts: XYZ123 15/08 nights; XYZ124 18/08 days. Reply a code to book."
    assert world.text(body) == result(Action.LISTED, text, "msg-1")
    assert world.sms.sent == [SentSms(ANA, text, WARD_NUMBER, TO_ANA)]
    assert world.cursor() == END_OF_LIST


def test_request_with_nothing_open_says_so(world: World) -> None:
    world.held("ABC456", "16/08 lates", BEN)
    assert world.text("REQUEST") == result(Action.LISTED, replies.NO_OPEN_SHIFTS, "msg-1")
    assert world.sms.to(ANA) == [
        "There are no open shifts right now. We will text you when new ones are posted."
    ]


def test_a_reply_goes_from_the_configured_number_when_the_message_names_none(
    world: World,
) -> None:
    world.text("can I swap?", destination="")
    assert world.sms.sent == [SentSms(ANA, replies.NOT_A_CODE, CONFIGURED, TO_ANA)]


@pytest.mark.parametrize("body", TEXTS[Kind.MORE])
def test_more_with_no_list_sent_yet_starts_at_the_top(world: World, body: str) -> None:
    world.open(("XYZ123", "15/08 nights"))
    assert world.text(body).reply == "Open shifts: XYZ123 15/08 nights. Reply a code to book."


@pytest.mark.parametrize("body", TEXTS[Kind.BOOK])
def test_a_code_books_the_shift(world: World, body: str) -> None:
    world.open(("XYZ123", "15/08 nights"))
    reply = "Booked: XYZ123. Thank you!"
    assert world.text(body) == result(Action.BOOKED, reply, "msg-1")
    assert world.shifts.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, ANA, BOOKED_AT
    )
    assert world.sms.sent == [SentSms(ANA, reply, WARD_NUMBER, TO_ANA)]


def test_a_booking_text_sums_up_every_code(world: World) -> None:
    world.open(("XYZ123", "15/08 nights"), ("XYZ124", "18/08 days"))
    world.held("ABC456", "16/08 lates", BEN)
    world.text("XYZ124")
    got = world.text("xyz123, ABC456 xyz124 NOPE99")
    assert got.reply == (
        "Booked: XYZ123. Already yours: XYZ124. No longer available: ABC456. "
        "Not a valid code: NOPE99. Thank you!"
    )
    assert world.shifts.get("ABC456") == Shift(
        "ABC456", "16/08 lates", ShiftStatus.TAKEN, BEN, BOOKED_AT
    )
    assert world.text("ABC456").reply == (
        "No longer available: ABC456. Reply WAIT ABC456 to join its waitlist."
    )
    assert world.text("XYZ123").reply == "Already yours: XYZ123. " + HOW_TO_LIST


@pytest.mark.parametrize("body", TEXTS[Kind.DROP])
def test_drop_gives_back_only_what_the_sender_holds(world: World, body: str) -> None:
    world.held("ABC456", "16/08 lates", ANA)
    assert world.text(body) == result(Action.DROPPED_SHIFT, "Released: ABC456.", "msg-1")
    assert world.shifts.get("ABC456") == Shift("ABC456", "16/08 lates")


def test_drop_of_a_shift_held_by_someone_else_leaves_it_with_them(world: World) -> None:
    world.held("ABC456", "16/08 lates", BEN)
    world.held("XYZ123", "15/08 nights", ANA)
    world.open(("XYZ124", "18/08 days"))
    got = world.text("DROP abc456 XYZ123 xyz124 NOPE99")
    assert got == result(
        Action.DROPPED_SHIFT,
        "Released: XYZ123. Not booked by you: ABC456, XYZ124. Not a valid code: NOPE99.",
        "msg-1",
    )
    assert world.shifts.get("ABC456") == Shift(
        "ABC456", "16/08 lates", ShiftStatus.TAKEN, BEN, BOOKED_AT
    )
    assert world.shifts.get("XYZ123") == Shift("XYZ123", "15/08 nights")


@pytest.mark.parametrize("body", TEXTS[Kind.MINE])
def test_mine_with_nothing_booked_says_so(world: World, body: str) -> None:
    world.held("ABC456", "untimed", ANA)
    assert world.text(body).reply == replies.NO_BOOKED_SHIFTS
    assert world.cursor() == "m:~"


def test_mine_shows_a_timed_shift_booked_by_text(world: World) -> None:
    world.shifts.put(
        Shift("N1", "nights", starts_at="2026-12-05T19:00+00:00", ends_at="2026-12-06T07:00+00:00")
    )
    world.text("N1")
    assert world.text("MINE").reply == "Your shifts: N1 Sat 05/12 19:00."


@pytest.mark.parametrize("body", TEXTS[Kind.COMMANDS])
def test_commands_lists_the_words(world: World, body: str) -> None:
    assert world.text(body) == result(Action.COMMANDS, replies.COMMAND_LIST, "msg-1")


@pytest.mark.parametrize(
    ("body", "until"), list(zip(TEXTS[Kind.SNOOZE], ["12-05", "12-01"], strict=True))
)
def test_snooze_is_stored_until_then_resume_clears_it(world: World, body: str, until: str) -> None:
    world.text(body, sent=sent_at(0))
    member = world.staff.get(ANA)
    assert member is not None and member.snoozed_until == f"2026-{until}T10:00:00+00:00"
    assert world.text("RESUME").reply == replies.RESUMED
    member = world.staff.get(ANA)
    assert member is not None and member.snoozed_until is None


@pytest.mark.parametrize("body", TEXTS[Kind.AGENT])
def test_agent_asks_for_a_call_back_with_the_note(world: World, body: str) -> None:
    got = world.text(body, message_id="m-agent")
    assert got == result(Action.AGENT_CALLED, "Thanks. An agent will call you back soon.", "msg-1")
    assert world.caller.calls == {"m-agent": (ANA, "nights pay")}


def test_agent_within_the_cooldown_is_told_a_call_is_on_its_way() -> None:
    world = World()
    world.text("AGENT first", message_id="a1")
    world.now = NOW + timedelta(minutes=29)
    assert world.text("AGENT again", message_id="a2") == result(
        Action.AGENT_WAITING,
        "An agent is already due to call you back. Please wait for that call.",
        "msg-2",
    )
    assert world.text("AGENT", sender=BEN, message_id="b1").action is Action.AGENT_CALLED
    world.now = NOW + timedelta(minutes=31)
    assert world.text("AGENT later", message_id="a3").action is Action.AGENT_CALLED
    assert world.caller.calls == {
        "a1": (ANA, "first"),
        "b1": (BEN, ""),
        "a3": (ANA, "later"),
    }


def test_a_failed_call_back_says_so_and_gives_the_cooldown_back(world: World) -> None:
    world.caller.fail = True
    assert world.text("AGENT nights", message_id="a1") == result(
        Action.AGENT_FAILED,
        "Sorry, we could not arrange a call-back just now. Please try AGENT again later.",
        "msg-1",
    )
    assert world.caller.calls == {}
    world.caller.fail = False
    assert world.text("AGENT nights", message_id="a2").action is Action.AGENT_CALLED
    assert world.caller.calls == {"a2": (ANA, "nights")}


def test_agent_without_call_backs_set_up_says_they_are_not_offered() -> None:
    world = World(call_backs=False)
    assert world.text("AGENT") == result(
        Action.AGENT_UNAVAILABLE,
        "Sorry, call-backs are not offered here. " + HOW_TO_LIST,
        "msg-1",
    )


@pytest.mark.parametrize("word", TEXTS[Kind.OPT_OUT])
def test_an_opt_out_word_is_recorded_and_never_answered(world: World, word: str) -> None:
    assert world.text(word) == result(Action.OPTED_OUT, None, None)
    assert world.staff.get(ANA) == StaffMember(ANA, "Ana", opted_out=True)
    assert world.sms.sent == []


@pytest.mark.parametrize("word", TEXTS[Kind.OPT_IN])
def test_an_opt_in_word_is_recorded_and_never_answered(world: World, word: str) -> None:
    world.staff.set_opted_out(ANA, True, NOW)
    assert world.text(word) == result(Action.OPTED_IN, None, None)
    assert world.staff.get(ANA) == StaffMember(ANA, "Ana", opted_out=False)
    assert world.sms.sent == []


def test_help_is_left_to_end_user_messaging(world: World) -> None:
    assert world.text("HELP") == result(Action.HELP, None, None)
    assert world.staff.get(ANA) == StaffMember(ANA, "Ana")
    assert world.sms.sent == []


def test_too_many_codes_books_none(world: World) -> None:
    world.open(("S00", "first"))
    assert world.text(TEXTS[Kind.TOO_MANY][0]) == result(
        Action.INVALID,
        "Please send at most 10 shift codes in one text. " + HOW_TO_LIST,
        "msg-1",
    )
    assert world.shifts.get("S00") == Shift("S00", "first")


@pytest.mark.parametrize("body", TEXTS[Kind.EMPTY] + TEXTS[Kind.UNKNOWN])
def test_an_unusable_text_says_how_to_get_the_list(world: World, body: str) -> None:
    assert world.text(body) == result(
        Action.INVALID,
        "That is not a valid shift code. Reply REQUEST to see the open shifts.",
        "msg-1",
    )


# -- senders not on the allow list -------------------------------------------------------------


@pytest.mark.parametrize("word", CARRIER_WORDS)
def test_a_carrier_word_from_an_unknown_sender_is_ignored(world: World, word: str) -> None:
    got = world.text(word, sender=STRANGER)
    assert got == InboundResult(Action.IGNORED, reason="carrier keyword from unknown sender")
    assert world.sms.sent == []
    assert world.limiter.granted == {}  # the one reply per window is not spent on it
    assert world.staff.get(STRANGER) is None


def test_an_unknown_sender_is_answered_once_per_window(world: World) -> None:
    refusal = "This number is not registered for shift booking. Ask your manager to add it."
    assert world.text("REQUEST", sender=STRANGER, message_id="s1") == result(
        Action.UNAUTHORISED, refusal, "msg-1"
    )
    assert world.text("XYZ123", sender=STRANGER, message_id="s2") == result(
        Action.UNAUTHORISED, None, None
    )
    # a retry of the first message has its original effect: the same reply
    assert world.text("REQUEST", sender=STRANGER, message_id="s1").reply == refusal
    assert world.text("hi", sender="+447700900888").reply == refusal
    assert [(s.to, s.body) for s in world.sms.sent] == [
        (STRANGER, refusal),
        (STRANGER, refusal),
        ("+447700900888", refusal),
    ]


def test_a_sender_that_is_not_a_number_is_dropped_unanswered(world: World) -> None:
    got = world.text("REQUEST", sender="AMAZON")
    assert got == InboundResult(Action.DROPPED, reason="invalid sender")
    assert world.sms.sent == []


# -- MORE: paging to the end -------------------------------------------------------------------

INFO = "15/08 long day shift on ward 7B"  # 31 characters: three shifts to a page


def page(codes: list[str], more: int) -> str:
    listed = "; ".join(f"{c} {INFO}" for c in codes)
    tail = f"{more} more: reply MORE." if more else "Reply a code to book."
    return f"Open shifts: {listed}. {tail}"


def test_more_pages_through_every_open_shift_to_the_end(world: World) -> None:
    codes = [f"S{i:02d}" for i in range(1, 26)]  # more than one read of open shifts
    world.open(*((c, INFO) for c in codes))
    world.held("S00", INFO, BEN)
    got = [world.text("REQUEST").reply]
    for _ in range(8):
        got.append(world.text("MORE").reply)
    expected = [page(codes[i : i + 3], 22 - i) for i in range(0, 24, 3)] + [page(["S25"], 0)]
    assert got == expected
    assert world.cursor() == END_OF_LIST
    assert world.text("NEXT").reply == "No more open shifts. Reply REQUEST to see the list again."
    assert world.text("MORE").reply == replies.NO_MORE_SHIFTS
    assert world.text("REQUEST").reply == expected[0]  # the list again from the top
    assert world.cursor() == "t:~untimed S03"  # a by-start listing cursor


def test_more_after_the_next_shift_was_booked_continues_where_the_list_stopped(
    world: World,
) -> None:
    codes = [f"S{i:02d}" for i in range(1, 8)]
    world.open(*((c, INFO) for c in codes))
    world.text("REQUEST")
    world.text("S04", sender=BEN)
    assert world.text("MORE").reply == page(["S05", "S06", "S07"], 0)


def test_a_page_not_sent_leaves_the_cursor_for_the_retry(world: World) -> None:
    codes = [f"S{i:02d}" for i in range(1, 8)]
    world.open(*((c, INFO) for c in codes))
    world.text("REQUEST")
    world.sms.throttle_next = 1
    with pytest.raises(SendThrottled):
        world.text("MORE", message_id="more-1")
    assert world.cursor() == "t:~untimed S03"
    assert world.text("MORE", message_id="more-1").reply == page(["S04", "S05", "S06"], 1)
    assert world.cursor() == "t:~untimed S06"


def test_a_page_to_an_opted_out_number_is_not_sent_and_not_counted(world: World) -> None:
    world.open(*((f"S{i:02d}", INFO) for i in range(1, 8)))
    world.sms.opted_out.add(ANA)
    got = world.text("REQUEST")
    assert (got.action, got.reply, got.sent) == (
        Action.LISTED,
        page(["S01", "S02", "S03"], 4),
        None,
    )
    assert world.cursor() is None


def test_a_longer_reply_allowed_by_settings_shows_more_per_page() -> None:
    world = World()
    world.service.settings = InboundSettings(
        "shifts", "staff", origination_identity=CONFIGURED, reply_max_segments=2
    )
    world.open(*((f"S{i:02d}", INFO) for i in range(1, 8)))
    # two segments hold 306 septets: seven shifts of 36 each, and the frame
    assert world.text("REQUEST").reply == page([f"S{i:02d}" for i in range(1, 8)], 0)


# -- retried messages: their original effect, or none -----------------------------------------


def test_a_retried_booking_reports_booked_again_and_books_nothing_more(world: World) -> None:
    world.open(("XYZ123", "15/08 nights"))
    first = world.text("XYZ123", message_id="m1", sent=sent_at(1))
    world.now = NOW + timedelta(minutes=5)
    again = world.text("XYZ123", message_id="m1", sent=sent_at(1))
    assert first.reply == again.reply == "Booked: XYZ123. Thank you!"
    assert world.shifts.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, ANA, BOOKED_AT
    )


def test_a_booking_retried_after_the_senders_drop_books_nothing(world: World) -> None:
    world.open(("XYZ123", "15/08 nights"))
    world.text("XYZ123", message_id="m1", sent=sent_at(1))
    world.text("DROP XYZ123", message_id="d1", sent=sent_at(2))
    again = world.text("XYZ123", message_id="m1", sent=sent_at(1))
    assert again.reply == "No longer available: XYZ123. Reply WAIT XYZ123 to join its waitlist."
    assert world.shifts.get("XYZ123") == Shift("XYZ123", "15/08 nights")


def test_a_retried_drop_reports_released_and_leaves_a_later_booking(world: World) -> None:
    world.held("XYZ123", "15/08 nights", ANA)
    first = world.text("DROP XYZ123", message_id="d1", sent=sent_at(1))
    world.text("XYZ123", sender=BEN, message_id="b1", sent=sent_at(2))
    again = world.text("DROP XYZ123", message_id="d1", sent=sent_at(1))
    assert first.reply == again.reply == "Released: XYZ123."
    assert world.shifts.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, BEN, BOOKED_AT
    )


def test_an_old_drop_delivered_after_a_new_booking_releases_nothing(world: World) -> None:
    world.open(("XYZ123", "15/08 nights"))
    world.text("XYZ123", message_id="m2", sent=sent_at(2))
    late = world.text("DROP XYZ123", message_id="d1", sent=sent_at(1))
    assert late.reply == "Not booked by you: XYZ123."
    assert world.shifts.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, ANA, BOOKED_AT
    )


def test_a_retried_agent_places_one_call_and_says_so_again(world: World) -> None:
    first = world.text("AGENT nights", message_id="a1")
    again = world.text("AGENT nights", message_id="a1")
    assert first.reply == again.reply == replies.AGENT_CALLING
    assert world.caller.calls == {"a1": (ANA, "nights")}


def test_a_retried_opt_out_stays_opted_out(world: World) -> None:
    world.text("STOP", message_id="s1")
    assert world.text("STOP", message_id="s1") == result(Action.OPTED_OUT, None, None)
    assert world.staff.get(ANA) == StaffMember(ANA, "Ana", opted_out=True)


def test_logs_never_hold_a_full_number(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.open(("XYZ123", "15/08 nights"))
    world.caller.fail = True
    caplog.set_level(logging.DEBUG, logger="shiftsms")
    for body in ("REQUEST", "XYZ123", "DROP XYZ123", "AGENT", "STOP"):
        world.text(body)
    world.text("REQUEST", sender=STRANGER)
    logged = " ".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert ANA not in logged and STRANGER not in logged
    assert "+44********01" in logged and "+44********99" in logged  # masked, so logged


# -- timed shifts: soonest first, checked against the shifts the sender holds -----------------


def timed(code: str, info: str, start: str, end: str, role: str | None = None) -> Shift:
    """A shift with a time (ISO 8601 with offset) and perhaps a role."""
    return Shift(code, info, starts_at=start, ends_at=end, role=role)


def test_request_lists_timed_shifts_soonest_first_then_untimed(world: World) -> None:
    world.open(("A1", "any day"))
    world.shifts.put(timed("T2", "02/12 day", "2026-12-02T08:00:00+00:00", "2026-12-02T16:00:00Z"))
    world.shifts.put(timed("T1", "01/12 day", "2026-12-01T08:00:00+00:00", "2026-12-01T16:00:00Z"))
    started = timed("EARLY", "28/11 early", "2026-11-28T07:00:00+00:00", "2026-11-28T15:00:00Z")
    world.shifts.put(started)
    world.shifts.put(
        timed("RN1", "01/12 RN", "2026-12-01T09:00:00+00:00", "2026-12-01T17:00:00Z", "RN")
    )
    listed = "Open shifts: T1 01/12 day; T2 02/12 day; A1 any day. Reply a code to book."
    assert world.text("REQUEST").reply == listed
    world.staff.put(StaffMember(ANA, "Ana", roles=("RN",)))
    assert world.text("REQUEST").reply == (
        "Open shifts: T1 01/12 day; RN1 01/12 RN; T2 02/12 day; A1 any day. Reply a code to book."
    )


def test_a_timed_booking_is_checked_against_the_shifts_the_sender_holds(world: World) -> None:
    world.shifts.put(timed("N1", "night", "2026-12-05T19:00:00+00:00", "2026-12-06T07:00:00Z"))
    world.shifts.put(timed("L1", "late", "2026-12-05T14:00:00+00:00", "2026-12-05T22:00:00Z"))
    assert world.text("N1").reply == "Booked: N1. Thank you!"
    assert world.text("L1").reply == "L1 overlaps your 19:00-07:00 on 05/12."
    late = world.shifts.get("L1")
    assert late is not None
    assert late.available
    assert world.text("L1", sender=BEN).reply == "Booked: L1. Thank you!"  # Ben holds none
    assert world.text("DROP N1").reply == "Released: N1."
    assert world.text("DROP L1", sender=BEN).reply == "Released: L1."
    assert world.text("L1").reply == "Booked: L1. Thank you!"  # N1 no longer in the way


# -- replies through the outbox: within the shared rate, queued when no time is free ----------


def test_a_reply_with_no_send_time_free_is_queued_once_and_sent_from_the_queue(
    world: World,
) -> None:
    queue, markers = ListReplyQueue(), MemoryReplyMarkers()
    rate = CountingReplyRate(slots=0)
    world.service.outbox = ReplyOutbox(world.sms, rate, markers, queue, clock=lambda: 1e9)
    world.open(("S01", INFO))
    listed = page(["S01"], 0)
    assert world.text("REQUEST", message_id="q1") == result(Action.LISTED, listed, "queued")
    assert world.cursor() == END_OF_LIST  # the page will go: the list moves on
    # a retry of the same message queues nothing more
    assert world.text("REQUEST", message_id="q1") == result(Action.LISTED, listed, "queued")
    assert queue.jobs == [ReplyJob("q1", ANA, listed, WARD_NUMBER)]
    assert world.sms.sent == []
    rate.slots = 1
    assert world.service.outbox.deliver(queue.jobs[0], None) == "sent"
    assert world.service.outbox.deliver(queue.jobs[0], None) == "duplicate"
    assert world.sms.sent == [SentSms(ANA, listed, WARD_NUMBER, TO_ANA)]
