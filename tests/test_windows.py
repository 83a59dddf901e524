"""Claim windows: replies register interest while open; the close awards each shift once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shiftsms.core.award import AwardRule
from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.campaigns import Campaign, CampaignStatus
from shiftsms.core.models import InboundSms, Shift, ShiftStatus, StaffMember
from shiftsms.services.due_runner import DueRunner
from shiftsms.services.inbound import InboundService
from shiftsms.services.notify import ManagerNotifier
from shiftsms.services.reminders import REMINDER
from shiftsms.services.windows import WindowAward, open_windows, reply_by
from shiftsms.settings import InboundSettings
from tests.fakes import (
    CountingMetrics,
    CountingReplyLimiter,
    FakeDueWork,
    ListReplyQueue,
    MemoryCampaigns,
    MemoryClaimWindows,
    MemoryLinks,
    MemoryShifts,
    MemoryStaff,
    RecordingSms,
)

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(minutes=10)
ANA, BEN, CAI = "+447700900101", "+447700900202", "+447700900303"
NUMBER = "+447700900000"
SETTINGS = InboundSettings("shifts", "staff", origination_identity=NUMBER, time_zone="UTC")


class Ward:
    """The inbound service and the window-close handler on one set of fakes."""

    def __init__(self, reminder_hours: float = 0.0, managers: tuple[str, ...] = ()) -> None:
        self.now = NOW
        self.staff = MemoryStaff()
        self.shifts = MemoryShifts(staff=self.staff)
        for phone, name in ((ANA, "Ana"), (BEN, "Ben"), (CAI, "Cai")):
            self.staff.put(StaffMember(phone, name))
        self.shifts.put(Shift("XYZ123", "Sat 12/12 08:00-20:00 ICU"))
        self.shifts.put(Shift("XYZ124", "Sun 13/12 08:00-20:00 ICU"))
        self.windows = MemoryClaimWindows()
        self.due = FakeDueWork()
        self.replies = ListReplyQueue()
        self.sms = RecordingSms()
        self.hours = {ANA: 36.0, BEN: 12.0, CAI: 24.0}
        self.metrics = CountingMetrics()
        self.inbound = InboundService(
            SETTINGS,
            self.shifts,
            self.staff,
            self.sms,
            CountingReplyLimiter(),
            clock=lambda: self.now,
            windows=self.windows,
        )
        award = WindowAward(
            windows=self.windows,
            shifts=self.shifts,
            staff=self.staff,
            replies=self.replies,
            hours=lambda phone, now: self.hours[phone],
            origination=NUMBER,
            rules=RuleSettings(11, 48),
            zone_name="UTC",
            due=self.due,
            reminder_hours=reminder_hours,
            metrics=self.metrics,
        )
        if managers:  # the campaign C1 offers both shifts; the stack's managers are told
            self.campaigns = MemoryCampaigns()
            self.campaigns.items["C1"] = Campaign(
                "C1", "x", status=CampaignStatus.SENDING, shift_ids=("XYZ123", "XYZ124")
            )
            self.links = MemoryLinks()
            self.links.tag(("XYZ123", "XYZ124"), "C1")
            award.notifier = ManagerNotifier(
                self.links, self.campaigns, self.shifts, managers=managers
            )
        self.award = award
        self.runner = DueRunner(self.due, {"window-close": award})
        self._ids = 0

    def open(
        self,
        award: AwardRule = AwardRule.FEWEST_HOURS,
        shift_ids: tuple[str, ...] = ("XYZ123", "XYZ124"),
    ) -> None:
        open_windows(
            self.windows,
            self.due,
            campaign_id="C1",
            shift_ids=shift_ids,
            closes_at=CLOSES,
            award=award,
        )

    def text(self, body: str, sender: str, minutes: float) -> str | None:
        self.now = NOW + timedelta(minutes=minutes)
        self._ids += 1
        return self.inbound.handle(InboundSms(f"m{self._ids}", sender, NUMBER, body)).reply

    def texts_to(self, phone: str) -> list[str]:
        return [j.text for j in self.replies.jobs if j.to == phone]


def test_during_the_window_a_code_registers_interest_and_books_nothing() -> None:
    ward = Ward()
    ward.open()
    assert ward.text("XYZ123", ANA, 1) == (
        "You're in for XYZ123. We'll text you by 19:11 if it's yours."
    )
    shift = ward.shifts.get("XYZ123")
    assert shift is not None
    assert shift.available
    assert [i.key for i in ward.due.due(CLOSES, 10)] == ["C1"]


def test_at_the_close_the_fewest_hours_replier_gets_it_and_everyone_is_told() -> None:
    ward = Ward()
    ward.open()
    ward.text("XYZ123", ANA, 1)  # first, but 36 h booked
    ward.text("XYZ123", CAI, 2)
    ward.text("xyz123 XYZ124", BEN, 3)  # last, 12 h booked
    ward.runner.run(CLOSES + timedelta(seconds=30))
    shift, other = ward.shifts.get("XYZ123"), ward.shifts.get("XYZ124")
    assert shift is not None and other is not None
    assert (shift.shift_status, shift.employee) == (ShiftStatus.TAKEN, BEN)
    assert (other.shift_status, other.employee) == (ShiftStatus.TAKEN, BEN)
    assert ward.texts_to(BEN) == ["Booked: XYZ123. Thank you!", "Booked: XYZ124. Thank you!"]
    lost = "XYZ123 went to someone else this time. Reply REQUEST for open shifts."
    assert ward.texts_to(ANA) == [lost]
    assert ward.texts_to(CAI) == [lost]
    # The timer again (or late): the window is done; nothing more is sent.
    ward.runner.run(CLOSES + timedelta(minutes=1))
    assert len(ward.replies.jobs) == 4
    assert ward.metrics.counts == {"Booked": 2}  # each award that booked, once


def test_the_managers_are_told_of_each_award_and_the_filling_once() -> None:
    boss = "+447700900909"
    ward = Ward(managers=(boss,))
    ward.open()
    ward.text("XYZ123", ANA, 1)
    ward.text("XYZ124", CAI, 2)
    ward.runner.run(CLOSES + timedelta(seconds=30))
    notices = [j for j in ward.replies.jobs if j.to == boss]
    assert [j.text for j in notices[:2]] == [
        "XYZ123 booked by Ana (C1): 1 of 2 booked.",
        "XYZ124 booked by Cai (C1): 2 of 2 booked.",
    ]
    assert notices[2].text.startswith("Campaign C1 filled in ")
    assert len(notices) == 3
    # queued as notices (their receipts and cost told apart from replies), each once by ref
    assert {j.sent_as for j in notices} == {"notify"}
    assert len({j.ref for j in notices}) == 3
    # the award retried (the run died before its item was done): queued again, if at all,
    # under the same refs, which the reply markers send once
    assert ward.award.award("C1", "XYZ123", AwardRule.FEWEST_HOURS, CLOSES) == ANA
    assert {j.ref for j in ward.replies.jobs if j.to == boss} == {j.ref for j in notices}


def test_the_earliest_rule_and_a_first_come_booking_after_the_window() -> None:
    ward = Ward()
    ward.open(AwardRule.EARLIEST)
    ward.text("XYZ123", ANA, 1)
    ward.text("XYZ124", CAI, 2)
    ward.text("XYZ123", BEN, 3)
    # The window has closed, the timer has not run yet: first come books XYZ124 for Ben.
    assert ward.text("XYZ124", BEN, 10.2) == "Booked: XYZ124. Thank you!"
    ward.runner.run(CLOSES + timedelta(seconds=40))
    first, second = ward.shifts.get("XYZ123"), ward.shifts.get("XYZ124")
    assert first is not None and second is not None
    assert (first.employee, second.employee) == (ANA, BEN)
    assert ward.texts_to(CAI) == [
        "XYZ124 went to someone else this time. Reply REQUEST for open shifts."
    ]


def test_a_replier_the_rules_refuse_is_passed_over_and_one_who_left_is_not_texted() -> None:
    ward = Ward()
    ward.shifts.put(
        Shift(
            "XYZ125",
            "Sat 12/12 08:00-20:00 ICU",
            starts_at="2026-12-12T08:00:00+00:00",
            ends_at="2026-12-12T20:00:00+00:00",
        )
    )
    ward.shifts.put(
        Shift(
            "OVR001",
            "Sat 12/12 10:00-14:00 ICU",
            starts_at="2026-12-12T10:00:00+00:00",
            ends_at="2026-12-12T14:00:00+00:00",
        )
    )
    open_windows(
        ward.windows,
        ward.due,
        campaign_id="C2",
        shift_ids=("XYZ125",),
        closes_at=CLOSES,
        award=AwardRule.FEWEST_HOURS,
    )
    ward.text("XYZ125", BEN, 1)
    ward.text("XYZ125", CAI, 2)
    ward.text("XYZ125", ANA, 3)
    ward.text("OVR001", BEN, 4)  # no window on it: Ben books it, and now overlaps XYZ125
    ward.staff.delete(CAI)
    ward.runner.run(CLOSES)
    shift = ward.shifts.get("XYZ125")
    assert shift is not None
    assert shift.employee == ANA
    assert ward.texts_to(CAI) == []
    assert ward.texts_to(ANA) == ["Booked: XYZ125. Thank you!"]


def test_the_promised_time_is_the_minute_after_the_close_on_the_wall_clock() -> None:
    assert reply_by(datetime(2026, 7, 1, 18, 9, 30, tzinfo=UTC), "Europe/London") == "19:10"
    assert reply_by(datetime(2026, 12, 1, 23, 59, 0, tzinfo=UTC), "UTC") == "00:00"


def test_a_retry_after_the_booking_keeps_the_winner_though_their_hours_grew() -> None:
    ward = Ward()
    ward.open()
    ward.text("XYZ123", ANA, 1)
    ward.text("XYZ123", BEN, 2)
    award = ward.runner.handlers["window-close"]
    item = ward.due.due(CLOSES, 1)[0]
    award(item, CLOSES)
    ward.hours[BEN] = 48.0  # the booking now counts in Ben's hours
    award(item, CLOSES + timedelta(minutes=1))  # a retry after a crash before finish
    shift = ward.shifts.get("XYZ123")
    assert shift is not None
    assert shift.employee == BEN
    assert set(ward.texts_to(BEN)) == {"Booked: XYZ123. Thank you!"}


def test_the_winner_of_a_timed_shift_gets_its_reminder_the_others_none() -> None:
    ward = Ward(reminder_hours=12)
    starts = NOW + timedelta(days=2)
    timed = Shift(
        "TIM1",
        "Thu 03/12 19:00-07:00 ICU",
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=12)).isoformat(),
    )
    ward.shifts.put(timed)
    ward.open(shift_ids=("TIM1",))
    ward.text("TIM1", ANA, 1)
    ward.text("TIM1", BEN, 2)  # fewest hours: the winner
    ward.runner.run(CLOSES)
    ward.runner.run(CLOSES + timedelta(seconds=30))  # the timer again: still one reminder
    reminders = [i for (kind, _), i in ward.due.items.items() if kind == REMINDER]
    assert [(r.item.data["holder"], r.item.data["shift_id"], r.item.due_at) for r in reminders] == [
        (BEN, "TIM1", starts - timedelta(hours=12))
    ]
    # The award retried after a crash that lost the reminder: scheduled again, once.
    for key in [k for k in ward.due.items if k[0] == REMINDER]:
        del ward.due.items[key]
    ward.award.award("C1", "TIM1", AwardRule.FEWEST_HOURS, CLOSES + timedelta(minutes=1))
    assert [k[0] for k in ward.due.items].count(REMINDER) == 1
