"""Live offers on in-memory fakes: each text composed at send time from the shifts still open.

The sender reads the campaign's shifts when it sends (a short cache), lists those still open
that this recipient may take, and sends nothing once every shift is gone (``skipped_filled``).
The AWS wiring is covered in test_campaigns_e2e.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.campaign_text import compose
from shiftsms.core.campaigns import Campaign, CampaignStatus, SendJob, SendOutcome
from shiftsms.core.gsm import is_gsm7, segment_info
from shiftsms.core.held_shifts import HeldShift, MalformedHeldShifts
from shiftsms.core.models import Shift, StaffMember
from shiftsms.core.shift_times import Span
from shiftsms.services.campaigns import CampaignSender
from shiftsms.services.live_offers import LiveOffers
from shiftsms.settings import SenderSettings
from tests import fakes

ANA, BEN, CAT = "+447700900101", "+447700900102", "+447700900103"
NOW = datetime(2030, 8, 10, 9, 0, tzinfo=UTC)
SETTINGS = SenderSettings("campaigns", "staff", "state", "+447700900000")
NIGHT = Shift(
    "NIGHT1",
    "Sat 17/08 19:00-07:00 Ward 7 RN",
    starts_at="2030-08-17T19:00+01:00",
    ends_at="2030-08-18T07:00+01:00",
    role="RN",
)
DAY = Shift(
    "DAY1",
    "Sun 18/08 07:00-15:00 Ward 7",
    starts_at="2030-08-18T07:00+01:00",
    ends_at="2030-08-18T15:00+01:00",
)
LATE = Shift(
    "LATE1",
    "Mon 19/08 15:00-23:00 Ward 2",
    starts_at="2030-08-19T15:00+01:00",
    ends_at="2030-08-19T23:00+01:00",
)


@dataclass
class Tick:
    """A monotonic clock the test moves."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class CountingShifts:
    """The live-offer view of MemoryShifts, counting reads."""

    inner: fakes.MemoryShifts
    reads: int = 0
    held_reads: int = 0
    broken_held: set[str] = field(default_factory=set)

    def get_many(self, shift_ids: object) -> dict[str, Shift]:
        self.reads += 1
        return self.inner.get_many(shift_ids)  # type: ignore[arg-type]

    def held(self, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
        self.held_reads += 1
        if phone in self.broken_held:
            raise MalformedHeldShifts("held shift 0 cannot be read")
        return self.inner.held(phone)


@dataclass
class World:
    campaigns: fakes.MemoryCampaigns
    staff: fakes.MemoryStaff
    shifts: fakes.MemoryShifts
    reads: CountingShifts
    sms: fakes.RecordingSms
    tick: Tick
    sender: CampaignSender

    def job(self, to: str, campaign_id: str = "c1") -> SendJob:
        text = self.campaigns.items[campaign_id].text or "queued text"
        return SendJob(campaign_id, to, text, int(NOW.timestamp()) + 3600, run="r1")

    def book(self, shift_id: str, who: str) -> None:
        assert self.shifts.book(shift_id, who, f"m-{shift_id}", NOW).value == "booked"


def world(*shifts: Shift, live: bool = True, members: tuple[StaffMember, ...] = ()) -> World:
    staff = fakes.MemoryStaff()
    for member in members or (StaffMember(ANA, roles=("RN",)), StaffMember(BEN), StaffMember(CAT)):
        staff.put(member)
    store = fakes.MemoryShifts(staff=staff)
    for shift in shifts:
        store.put(shift)
    composed = compose(list(shifts))
    campaigns = fakes.MemoryCampaigns()
    campaigns.items["c1"] = Campaign(
        "c1",
        composed.message,
        status=CampaignStatus.SENDING,
        shift_ids=tuple(s.shift_id for s in shifts),
        text=composed.text,
        fanout_token="r1",
        recipients=3,
        live=live,
    )
    reads = CountingShifts(store)
    tick = Tick()
    offers = LiveOffers(campaigns, reads, RuleSettings(), monotonic=tick)
    sms = fakes.RecordingSms()
    sender = CampaignSender(
        settings=SETTINGS,
        sms=sms,
        ledger=fakes.MemoryLedger(campaigns),
        limiter=fakes.CountingRateLimiter(),
        staff=staff,
        clock=lambda: NOW,
        offers=offers,
    )
    return World(campaigns, staff, store, reads, sms, tick, sender)


def test_each_text_lists_only_the_shifts_still_open() -> None:
    w = world(NIGHT, DAY, LATE)
    assert w.sender.send(w.job(ANA)) is SendOutcome.SENT
    w.book("DAY1", CAT)
    w.tick.now += 2  # past the cache
    assert w.sender.send(w.job(BEN)) is SendOutcome.SENT
    assert w.sms.to(ANA) == [
        "Open shifts: Sat 17/08 19:00-07:00 Ward.. NIGHT1, Sun 18/08 07:00-15:00 Ward 7 DAY1 "
        "+1 more. Reply a code to book, REQUEST for all open shifts, STOP to opt out."
    ]
    # Ben holds no RN: NIGHT1 is not his to take; DAY1 went to Cat.
    assert w.sms.to(BEN) == [
        "Open shifts: Mon 19/08 15:00-23:00 Ward 2 LATE1. Reply a code to book, "
        "REQUEST for all open shifts, STOP to opt out."
    ]


def test_a_filled_campaign_sends_nothing_more_and_counts_skipped_filled() -> None:
    w = world(DAY)
    assert w.sender.send(w.job(ANA)) is SendOutcome.SENT
    w.book("DAY1", ANA)
    w.tick.now += 2
    assert w.sender.send(w.job(BEN)) is SendOutcome.SKIPPED_FILLED
    assert w.sender.send(w.job(CAT)) is SendOutcome.SKIPPED_FILLED
    assert [s.to for s in w.sms.sent] == [ANA]
    stored = w.campaigns.items["c1"]
    assert (stored.sent, stored.skipped_filled, stored.skipped) == (1, 2, 0)
    assert stored.effective_status is CampaignStatus.DONE


def test_shifts_are_read_once_per_cache_window_not_per_job() -> None:
    dan = "+447700900104"
    w = world(DAY, LATE)
    w.staff.put(StaffMember(dan))
    for who in (ANA, BEN, CAT):
        assert w.sender.send(w.job(who)) is SendOutcome.SENT
    assert w.reads.reads == 1
    w.tick.now += 1.5
    assert w.sender.send(w.job(dan)) is SendOutcome.SENT
    assert w.reads.reads == 2


def test_someone_the_rules_refuse_every_open_shift_is_not_texted() -> None:
    w = world(DAY)
    # Ana holds a shift overlapping DAY1: she may take none of what is open.
    start = datetime(2030, 8, 18, 5, 0, tzinfo=UTC)
    w.staff.held[ANA] = (HeldShift("OTHER", Span(start, start + timedelta(hours=8))),)
    assert w.sender.send(w.job(ANA)) is SendOutcome.SKIPPED
    assert w.sender.send(w.job(BEN)) is SendOutcome.SENT
    assert [s.to for s in w.sms.sent] == [BEN]
    assert w.campaigns.items["c1"].skipped == 1


def test_untimed_shifts_need_no_read_of_what_people_hold() -> None:
    w = world(Shift("XYZ123", "15/08 5h nightshift"))
    w.sender.send(w.job(BEN))
    assert w.reads.held_reads == 0
    assert w.sms.to(BEN)[0].startswith("Open shifts: 15/08 5h nightshift XYZ123.")


def test_unreadable_held_shifts_leave_the_offer_to_the_role_check() -> None:
    w = world(DAY)
    w.reads.broken_held.add(BEN)
    assert w.sender.send(w.job(BEN)) is SendOutcome.SENT


def test_a_typed_message_is_sent_as_queued_even_when_its_shifts_are_taken() -> None:
    w = world(DAY, live=False)
    w.book("DAY1", CAT)
    assert w.sender.send(w.job(BEN)) is SendOutcome.SENT
    assert w.sms.to(BEN) == [w.campaigns.items["c1"].text]
    assert w.reads.reads == 0


def test_console_item_with_no_shift_list_is_sent_as_queued() -> None:
    w = world(DAY)
    w.campaigns.items["console"] = Campaign(
        "console", "15/08 5h nightshift XYZ123", status=CampaignStatus.SENDING, fanout_token="r1"
    )
    job = SendJob("console", BEN, "Open shifts: 15/08 5h nightshift XYZ123. x", 2**40, run="r1")
    assert w.sender.send(job) is SendOutcome.SENT
    assert w.sms.to(BEN) == [job.text]


def test_many_shifts_every_live_text_one_gsm7_segment_soonest_first() -> None:
    shifts = [
        Shift(
            f"S{i:02d}",
            f'Day {i:02d}/08 07:00-19:00 "Ward {i}" long description {"x" * i}',
            starts_at=f"2030-08-{11 + i:02d}T07:00+01:00",
            ends_at=f"2030-08-{11 + i:02d}T19:00+01:00",
        )
        for i in range(12)
    ]
    w = world(*reversed(shifts))
    w.book("S00", CAT)
    w.sender.send(w.job(BEN))
    (text,) = w.sms.to(BEN)
    assert is_gsm7(text)
    assert segment_info(text).segments == 1
    assert text.startswith("Open shifts: Day 01/08")  # the soonest still open
    assert "S00" not in text
    listed = [s.shift_id for s in shifts if s.shift_id in text]
    assert f" +{11 - len(listed)} more." in text
    assert text.count('"') % 2 == 0
