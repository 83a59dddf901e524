"""WAIT, held offers on DROP, their expiry, and YES: what each texter sees, on fakes.

A fixed clock in Europe/London (the stack's zone): 19:10 plus HoldMinutes 15 is 19:25.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shiftsms.core import replies
from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.campaigns import Campaign, CampaignStatus, SendJob, SendOutcome
from shiftsms.core.commands import Command, Kind, parse
from shiftsms.core.due import REOFFER, DueItem
from shiftsms.core.gsm import GSM7_SINGLE, is_gsm7, septets
from shiftsms.core.models import BookingOutcome, InboundSms, Shift, ShiftStatus, StaffMember
from shiftsms.core.phone import fingerprint
from shiftsms.core.waitlist import (
    HOLD_EXPIRY,
    JoinOutcome,
    JoinResult,
    Offer,
    WaitView,
    hold_until,
    join,
    next_holder,
)
from shiftsms.services.campaigns import CampaignReports, CampaignSender
from shiftsms.services.inbound import InboundService
from shiftsms.services.notify import ManagerNotifier
from shiftsms.services.waitlist import WaitlistService
from shiftsms.settings import InboundSettings, SenderSettings
from tests.fakes import (
    CountingRateLimiter,
    CountingReplyLimiter,
    FixedDeadLetters,
    MemoryCampaigns,
    MemoryLedger,
    MemoryLinks,
    MemoryOfferLog,
    MemoryShifts,
    MemoryStaff,
    RecordingSms,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 7, 14, 18, 10, tzinfo=UTC)  # 19:10 in London (BST)
ANA, BEN, CAL, DEE, EVE = (f"+44770090010{i}" for i in range(1, 6))
WARD = "+447700900000"
SETTINGS = InboundSettings("shifts", "staff", origination_identity=WARD)
HELD_1925 = "XYZ123 is free again and held for you until 19:25. Reply YES to take it."


class World:
    """An inbound service with a waitlist on fresh fakes; ANA holds XYZ123."""

    def __init__(self) -> None:
        self.now = NOW
        self.staff = MemoryStaff()
        self.shifts = MemoryShifts(staff=self.staff)
        for phone in (ANA, BEN, CAL, DEE, EVE):
            self.staff.put(StaffMember(phone))
        self.sms = RecordingSms()
        self.offers = MemoryOfferLog()
        self.scheduled: list[tuple[str, str, datetime]] = []
        self.data: list[dict[str, str]] = []
        self.waitlist = WaitlistService(
            self.shifts,
            self.staff,
            self.sms,
            self.offers,
            WARD,
            LONDON,
            RuleSettings(),
            hold_minutes=15,
            schedule=self.schedule,
        )
        self.service = InboundService(
            SETTINGS,
            self.shifts,
            self.staff,
            self.sms,
            CountingReplyLimiter(),
            clock=lambda: self.now,
            waitlist=self.waitlist,
        )
        self.shifts.put(Shift("XYZ123", "Sat nights", ShiftStatus.AVAILABLE))
        self._ids = 0
        assert self.text("XYZ123", ANA) == "Booked: XYZ123. Thank you!"

    def schedule(self, item: DueItem) -> None:
        self.scheduled.append((item.kind, item.key, item.due_at))
        self.data.append(item.data)

    def reoffers(self) -> list[tuple[str, datetime]]:
        return [(key, at) for kind, key, at in self.scheduled if kind == REOFFER]

    def text(self, body: str, sender: str) -> str | None:
        """Deliver one inbound SMS; the reply it got."""
        self._ids += 1
        sms = InboundSms(f"m{self._ids}", sender, WARD, body)
        return self.service.handle(sms).reply

    def view(self) -> WaitView:
        view = self.shifts.waitlist_view("XYZ123")
        assert view is not None
        return view


@pytest.fixture
def world() -> World:
    return World()


def test_wait_and_yes_parse_as_commands() -> None:
    assert parse("wait xyz123") == Command(Kind.WAIT, codes=("XYZ123",))
    assert parse(" Yes! ") == Command(Kind.YES)
    assert parse("YES please") == Command(Kind.YES)


def test_wait_joins_in_order_without_duplicates(world: World) -> None:
    assert world.text("WAIT XYZ123", BEN) == (
        "You're number 1 for XYZ123. We'll text you if it is free again."
    )
    assert world.text("wait xyz123", CAL) == (
        "You're number 2 for XYZ123. We'll text you if it is free again."
    )
    assert world.text("WAIT XYZ123", BEN) == (
        "You're already number 1 for XYZ123. We'll text you if it is free again."
    )
    assert world.text("WAIT XYZ123", ANA) == "XYZ123 is already yours."
    assert world.view().waitlist == (BEN, CAL)


def test_wait_for_an_open_or_unknown_shift(world: World) -> None:
    world.shifts.put(Shift("OPEN1", "Sun early"))
    assert world.text("WAIT OPEN1", BEN) == "OPEN1 is open: reply OPEN1 to book it."
    assert world.text("WAIT NOPE99", BEN) == replies.NOT_A_CODE
    assert world.text("WAIT XYZ123 OPEN1", BEN) == replies.WAIT_ONE_CODE


def test_waitlist_is_capped(world: World) -> None:
    view = world.view()
    full = tuple(f"+4477009002{i:02d}" for i in range(20))
    assert world.shifts.set_hold(view, None, None, ()) is False  # taken: no hold
    world.shifts.records["XYZ123"].waitlist = full
    assert world.text("WAIT XYZ123", BEN) == (
        "The waitlist for XYZ123 is full. Reply REQUEST for open shifts."
    )
    assert world.view().waitlist == full


def test_a_taken_code_says_how_to_wait(world: World) -> None:
    assert world.text("XYZ123", BEN) == (
        "No longer available: XYZ123. Reply WAIT XYZ123 to join its waitlist."
    )


def test_drop_holds_the_shift_for_the_first_waiting_and_only_they_can_book(
    world: World,
) -> None:
    world.text("WAIT XYZ123", BEN)
    world.text("WAIT XYZ123", CAL)
    assert world.text("DROP XYZ123", ANA) == "Released: XYZ123."
    assert world.sms.to(BEN)[-1] == HELD_1925
    assert world.sms.sent[-2].context == {"kind": "offer", "recipient": fingerprint(BEN)}
    until = datetime(2026, 7, 14, 18, 25, tzinfo=UTC)
    assert world.scheduled == [(HOLD_EXPIRY, "XYZ123", until)]
    assert world.view().held_for == BEN and world.view().waitlist == (CAL,)
    # Nobody else can take it while it is held, not even by its code.
    assert world.text("XYZ123", DEE) == (
        "No longer available: XYZ123. Reply WAIT XYZ123 to join its waitlist."
    )
    assert world.text("YES", BEN) == "Booked: XYZ123. Thank you!"
    shift = world.shifts.items["XYZ123"]
    assert (shift.shift_status, shift.employee) == (ShiftStatus.TAKEN, BEN)
    assert world.view().held_for is None and world.view().waitlist == (CAL,)


def test_an_expired_hold_goes_to_the_next_then_opens_to_all(world: World) -> None:
    world.text("WAIT XYZ123", BEN)
    world.text("WAIT XYZ123", CAL)
    world.text("DROP XYZ123", ANA)
    # Early: the hold still runs, nothing moves.
    assert world.waitlist.expire("XYZ123", NOW + timedelta(minutes=10)) is None
    assert world.view().held_for == BEN
    later = NOW + timedelta(minutes=16)
    assert world.waitlist.expire("XYZ123", later) == CAL
    assert world.sms.to(CAL)[-1] == (
        "XYZ123 is free again and held for you until 19:41. Reply YES to take it."
    )
    # A second firing of the same timer finds CAL's hold running.
    assert world.waitlist.expire("XYZ123", later) is None
    assert world.text("YES", BEN) == replies.YES_WHICH  # BEN's offer is gone to CAL
    assert world.reoffers() == []
    last = later + timedelta(minutes=16)
    assert world.waitlist.expire("XYZ123", last) is None
    # Nobody left: open to all, and re-offered to the campaign's recipients (at once).
    assert world.reoffers() == [("XYZ123", last)]
    assert world.data[-1] == {}
    # The timer firing again changes nothing and re-offers nothing more.
    assert world.waitlist.expire("XYZ123", last) is None
    assert world.reoffers() == [("XYZ123", last)]
    assert world.text("XYZ123", DEE) == "Booked: XYZ123. Thank you!"


def test_wait_for_a_shift_needing_a_role_the_sender_lacks_is_refused(world: World) -> None:
    world.shifts.put(Shift("RN1", "Sat nights RN", ShiftStatus.AVAILABLE, role="RN"))
    world.staff.put(StaffMember(ANA, roles=("RN",)))
    assert world.text("RN1", ANA) == "Booked: RN1. Thank you!"
    assert world.text("WAIT RN1", BEN) == "RN1 needs RN."
    view = world.shifts.waitlist_view("RN1")
    assert view is not None and view.waitlist == ()
    world.staff.put(StaffMember(BEN, roles=("rn",)))  # given the role: any case
    assert world.text("WAIT RN1", BEN) == (
        "You're number 1 for RN1. We'll text you if it is free again."
    )


def test_a_bare_wait_or_drop_says_how_to_send_it(world: World) -> None:
    assert world.text("WAIT", BEN) == "Please send WAIT and one shift code, like WAIT XYZ123."
    assert world.text("drop", ANA) == (
        "Please send DROP and the code of the shift to give back, like DROP XYZ123."
    )
    assert world.shifts.items["XYZ123"].employee == ANA  # nothing given back


def test_opted_out_removed_and_ineligible_waiters_are_skipped_never_texted(
    world: World,
) -> None:
    world.shifts.put(Shift("RN1", "Sat nights RN", ShiftStatus.AVAILABLE, role="RN"))
    for phone in (ANA, BEN, CAL, EVE):
        world.staff.put(StaffMember(phone, roles=("RN",)))
    assert world.text("RN1", ANA) == "Booked: RN1. Thank you!"
    for phone in (BEN, CAL, DEE, EVE):
        world.text("WAIT RN1", phone)
    world.text("STOP", BEN)  # opted out
    world.staff.delete(CAL)  # removed from the allow list
    # DEE holds no RN role: the booking rules refuse her.
    before = len(world.sms.sent)
    world.text("DROP RN1", ANA)
    texts = world.sms.sent[before:]
    assert [(t.to, t.body) for t in texts] == [
        (EVE, "RN1 is free again and held for you until 19:25. Reply YES to take it."),
        (ANA, "Released: RN1."),
    ]
    view = world.shifts.waitlist_view("RN1")
    assert view is not None and view.held_for == EVE and view.waitlist == ()


def test_a_holder_whose_number_opted_out_is_passed_over_at_once(world: World) -> None:
    world.text("WAIT XYZ123", BEN)
    world.text("WAIT XYZ123", CAL)
    world.sms.opted_out.add(BEN)
    world.text("DROP XYZ123", ANA)
    assert world.sms.to(BEN) == ["You're number 1 for XYZ123. We'll text you if it is free again."]
    assert world.sms.to(CAL)[-1] == HELD_1925
    assert world.view().held_for == CAL
    assert world.staff.items[BEN].opted_out


def test_yes_books_the_single_shift_of_a_campaign_text(world: World) -> None:
    world.shifts.put(Shift("SUN1", "Sun early"))
    world.offers.record(BEN, ["SUN1"], "campaign", NOW - timedelta(minutes=1))
    assert world.text("yes", BEN) == "Booked: SUN1. Thank you!"


def test_a_booking_by_yes_tells_the_campaigns_managers(world: World) -> None:
    boss = "+447700900909"
    world.shifts.put(Shift("SUN1", "Sun early"))
    campaigns = MemoryCampaigns()
    campaigns.items["c1"] = Campaign(
        "c1", "x", status=CampaignStatus.SENDING, shift_ids=("SUN1",), notify=(boss,)
    )
    links = MemoryLinks()
    links.tag(("SUN1",), "c1")
    world.service.notifier = ManagerNotifier(links, campaigns, world.shifts)
    world.offers.record(BEN, ["SUN1"], "campaign", NOW - timedelta(minutes=1))
    assert world.text("YES", BEN) == "Booked: SUN1. Thank you!"
    told = world.sms.to(boss)
    assert told[0] == "SUN1 booked by +44********02 (c1): 1 of 1 booked."
    assert told[1].startswith("Campaign c1 filled in ")
    assert len(told) == 2


def test_a_yes_that_comes_back_before_the_held_offers_send_returns_books_it(
    world: World,
) -> None:
    world.text("WAIT XYZ123", BEN)
    world.shifts.put(Shift("SUN1", "Sun early"))  # a campaign text offered Ben two shifts
    world.offers.record(BEN, ["XYZ123", "SUN1"], "campaign", NOW - timedelta(minutes=5))
    replies_to_ben: list[str | None] = []
    send = world.sms.send

    def send_and_answer_at_once(to: str, body: str, origination: str, **kw: object) -> str:
        message_id = send(to, body, origination, **kw)  # type: ignore[arg-type]
        if to == BEN and "held for you" in body:  # Ben's phone answers at once
            replies_to_ben.append(world.text("YES", BEN))
        return message_id

    world.sms.send = send_and_answer_at_once  # type: ignore[method-assign]
    world.text("DROP XYZ123", ANA)
    assert replies_to_ben == ["Booked: XYZ123. Thank you!"]
    assert world.shifts.items["XYZ123"].employee == BEN


def test_yes_asks_for_the_code_after_several_none_or_a_taken_one(world: World) -> None:
    assert world.text("YES", BEN) == replies.YES_WHICH  # nothing offered
    world.shifts.put(Shift("SUN1", "Sun early"))
    world.shifts.put(Shift("SUN2", "Sun late"))
    world.offers.record(BEN, ["SUN1", "SUN2"], "campaign", NOW - timedelta(minutes=2))
    assert world.text("YES", BEN) == replies.YES_WHICH
    world.offers.record(BEN, ["XYZ123"], "campaign", NOW - timedelta(minutes=1))
    assert world.text("YES", BEN) == replies.YES_WHICH  # taken by ANA
    assert world.shifts.items["SUN1"].available and world.shifts.items["SUN2"].available


def test_join_and_next_holder_pure() -> None:
    taken = Shift("XYZ123", shift_status=ShiftStatus.TAKEN, employee=ANA)
    assert join(WaitView(taken, (BEN,)), BEN) == (JoinResult(JoinOutcome.ALREADY, 1), False)
    assert join(WaitView(taken, (BEN,)), CAL) == (JoinResult(JoinOutcome.JOINED, 2), True)
    assert join(WaitView(taken, (BEN,)), CAL, cap=1) == (JoinResult(JoinOutcome.FULL), False)
    held = WaitView(Shift("XYZ123"), (), BEN)
    assert join(held, CAL) == (JoinResult(JoinOutcome.JOINED, 1), True)
    nxt = next_holder([BEN, CAL, DEE], lambda p: p == CAL)
    assert (nxt.holder, nxt.rest, nxt.skipped) == (CAL, (DEE,), (BEN,))
    assert next_holder([BEN], lambda p: False).holder is None
    at = datetime(2026, 7, 14, 18, 10, 30, tzinfo=UTC)
    assert hold_until(at, 15) == datetime(2026, 7, 14, 18, 26, tzinfo=UTC)


def test_a_hold_ends_on_a_whole_minute_or_for_short_holds_a_whole_second() -> None:
    on_the_minute = datetime(2026, 7, 14, 18, 10, tzinfo=UTC)
    assert hold_until(on_the_minute, 15) == datetime(2026, 7, 14, 18, 25, tzinfo=UTC)
    assert hold_until(on_the_minute, 1.5) == datetime(2026, 7, 14, 18, 12, tzinfo=UTC)
    late = datetime(2026, 7, 14, 23, 59, 58, 500000, tzinfo=UTC)  # across midnight
    assert hold_until(late, 0.1) == datetime(2026, 7, 15, 0, 0, 5, tzinfo=UTC)
    assert hold_until(late, 0) == datetime(2026, 7, 15, 0, 0, 2, tzinfo=UTC)  # 3 s at least
    exact = datetime(2026, 7, 14, 18, 10, 30, tzinfo=UTC)
    assert hold_until(exact, 0.5) == datetime(2026, 7, 14, 18, 11, tzinfo=UTC)
    assert replies.held_offer("XYZ123", hold_until(late, 0.1), LONDON) == (
        "XYZ123 is free again and held for you until 01:00:05. Reply YES to take it."
    )
    assert replies.held_offer("XYZ123", hold_until(late, 15), LONDON) == (
        "XYZ123 is free again and held for you until 01:15. Reply YES to take it."
    )


def test_new_texts_are_gsm7_and_one_segment_with_the_longest_values() -> None:
    code = "A" * 20
    until = datetime(2026, 7, 14, 18, 25, tzinfo=UTC)
    texts = [
        replies.waitlist_joined(code, 20),
        replies.waitlist_already(code, 20),
        replies.waitlist_full(code),
        replies.waitlist_open(code),
        replies.waitlist_yours(code),
        replies.held_offer(code, until, LONDON),
        replies.taken_footer([code]),
        replies.YES_WHICH,
        replies.WAIT_ONE_CODE,
        replies.booking_summary({code: BookingOutcome.TAKEN}),
    ]
    for text in texts:
        assert is_gsm7(text), text
        assert septets(text) <= GSM7_SINGLE, text


def test_campaign_show_counts_each_shifts_waitlist(world: World) -> None:
    world.text("WAIT XYZ123", BEN)
    world.text("WAIT XYZ123", CAL)
    world.shifts.put(Shift("SUN1", "Sun early"))
    campaigns = MemoryCampaigns()
    campaigns.create(Campaign("c1", "nights", shift_ids=("XYZ123", "SUN1")))
    reports = CampaignReports(
        campaigns,
        world.staff,
        world.shifts,
        MemoryLedger(campaigns),
        FixedDeadLetters(),
        waitlists=world.shifts,
    )
    shown = reports.summarise("c1").to_json()["shifts"]
    assert [(s["shift_id"], s["waitlist"]) for s in shown] == [("XYZ123", 2), ("SUN1", 0)]


def test_a_campaign_text_sent_leaves_the_offer_yes_books(world: World) -> None:
    world.shifts.put(Shift("SUN1", "15/08 5h nightshift"))
    campaigns = MemoryCampaigns()
    campaigns.create(Campaign("c1", "SUN1"))
    sender = CampaignSender(
        SenderSettings("campaigns", "staff", "state", WARD),
        world.sms,
        MemoryLedger(campaigns),
        CountingRateLimiter(),
        world.staff,
        clock=lambda: NOW,
        offer_log=world.offers,
    )
    text = "Open shifts: SUN1 15/08 5h nightshift. Reply a code to book."
    job = SendJob("c1", BEN, text, int(NOW.timestamp()) + 3600, run="r1")
    assert sender.send(job) is SendOutcome.SENT
    # "5H" reads like a code but is no shift: the offer still names one.
    assert world.offers.latest(BEN, NOW) == Offer(("SUN1", "5H"), "campaign", NOW)
    assert world.text("YES", BEN) == "Booked: SUN1. Thank you!"


def test_a_drop_with_nobody_waiting_is_re_offered_but_not_to_who_dropped(world: World) -> None:
    assert world.text("DROP XYZ123", ANA) == "Released: XYZ123."
    assert world.reoffers() == [("XYZ123", NOW)]
    assert world.data[-1] == {"not_to": fingerprint(ANA)}
    assert world.sms.to(BEN) == []  # a re-offer is sent by the due function, not here


def test_a_retried_drop_schedules_the_same_re_offer_round_not_a_second(world: World) -> None:
    # SNS delivers the DROP again minutes later: the re-offer is keyed by when it was sent,
    # so the retry names the same round (each person texted once), not a new one.
    sent = NOW - timedelta(seconds=2)
    drop = InboundSms("m-drop", ANA, WARD, "DROP XYZ123", sent_at=sent.isoformat())
    assert world.service.handle(drop).reply == "Released: XYZ123."
    world.now = NOW + timedelta(minutes=5)
    assert world.service.handle(drop).reply == "Released: XYZ123."
    assert world.reoffers() == [("XYZ123", sent), ("XYZ123", sent)]


def test_a_drop_with_a_waitlist_is_held_first_not_re_offered(world: World) -> None:
    world.text("WAIT XYZ123", BEN)
    world.text("DROP XYZ123", ANA)
    assert world.reoffers() == []
