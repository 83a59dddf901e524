"""Waves: the first 1/N of the eligible staff in award order, the next after the gap, and
no more once every shift of the campaign is taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shiftsms.core.campaigns import Campaign, CampaignStatus, sending_reason
from shiftsms.core.due import first_wave
from shiftsms.core.models import Shift, StaffMember
from shiftsms.services.campaigns import CampaignFanOut
from shiftsms.services.due_runner import DueRunner
from shiftsms.services.waves import WaveSender
from shiftsms.settings import FanOutSettings
from tests.fakes import FakeDueWork, ListSendQueue, MemoryCampaigns, MemoryShifts, MemoryStaff

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
GAP = timedelta(minutes=15)
HOURS = {f"+44770090{i:04d}": float(h) for i, h in enumerate([40, 0, 24, 8, 32, 16])}


class Roster:
    def __init__(self) -> None:
        self.staff = MemoryStaff()
        for phone in HOURS:
            self.staff.put(StaffMember(phone))
        self.shifts = MemoryShifts(staff=self.staff)
        self.shifts.put(Shift("XYZ123", "Sat nights"))
        self.campaigns = MemoryCampaigns()
        self.queue = ListSendQueue()
        self.due = FakeDueWork()
        waves = WaveSender(
            campaigns=self.campaigns,
            staff=self.staff,
            shifts=self.shifts,
            queue=self.queue,
            due=self.due,
            hours=lambda phone, now: HOURS[phone],
        )
        self.runner = DueRunner(self.due, {"wave": waves})

    def create(self, waves: int = 3, first_start: str | None = None) -> Campaign:
        campaign = Campaign(
            "C1",
            "Sat nights XYZ123",
            CampaignStatus.NEW,
            ("XYZ123",),
            created_at=NOW.isoformat(),
            text="Open shifts: Sat nights XYZ123. Reply a code to book.",
            waves=waves,
            wave_gap_seconds=int(GAP.total_seconds()),
            first_start=first_start,
        )
        self.campaigns.create(campaign)
        self.due.schedule(first_wave("C1", NOW))
        return campaign

    def sent_to(self) -> list[str]:
        return [job.to for job in self.queue.jobs]


def by_hours(*hours: int) -> list[str]:
    return [next(p for p, h in HOURS.items() if h == want) for want in hours]


def test_each_wave_reaches_the_next_third_in_fewest_hours_order() -> None:
    roster = Roster()
    campaign = roster.create()
    fan_out = CampaignFanOut(
        FanOutSettings("c", "s", "q"), roster.campaigns, roster.staff, roster.queue
    )
    assert fan_out.fan_out(campaign, "stream-event-1").action == "waves"  # not from the stream
    assert roster.queue.jobs == []
    roster.runner.run(NOW)
    assert roster.sent_to() == by_hours(0, 8)
    roster.runner.run(NOW + GAP - timedelta(seconds=1))  # not yet
    assert len(roster.queue.jobs) == 2
    roster.runner.run(NOW + GAP)
    assert roster.sent_to() == by_hours(0, 8, 16, 24)
    stored = roster.campaigns.get("C1")
    assert stored is not None
    assert (stored.waves_sent, stored.recipients, stored.status) == (2, 4, CampaignStatus.SENDING)
    assert {j.run for j in roster.queue.jobs} == {stored.fanout_token}


def test_no_wave_goes_once_every_shift_is_taken() -> None:
    roster = Roster()
    roster.create()
    roster.runner.run(NOW)
    first = roster.sent_to()
    roster.shifts.book("XYZ123", first[0], "m1", NOW + timedelta(minutes=1))
    roster.runner.run(NOW + GAP)
    assert roster.sent_to() == first
    stored = roster.campaigns.get("C1")
    assert stored is not None
    assert (stored.waves_sent, stored.recipients) == (1, 2)
    assert roster.due.items == {}  # and no later wave is left waiting


def test_a_wave_run_twice_is_counted_once() -> None:
    roster = Roster()
    roster.create(waves=2)
    roster.runner.run(NOW)
    wave_two = roster.due.due(NOW + GAP, 1)[0]
    handler = roster.runner.handlers["wave"]
    handler(wave_two, NOW + GAP)
    handler(wave_two, NOW + GAP)  # a retry: the jobs go again (the send markers text once)
    stored = roster.campaigns.get("C1")
    assert stored is not None
    assert (stored.waves_sent, stored.recipients) == (2, 6)
    assert sorted(set(roster.sent_to())) == sorted(HOURS)


def test_every_wave_carries_the_soonest_start_so_an_urgent_offer_is_not_held_by_quiet_hours() -> (
    None
):
    roster = Roster()
    starts = (NOW + timedelta(hours=2)).isoformat()
    roster.create(first_start=starts)
    roster.runner.run(NOW)
    roster.runner.run(NOW + GAP)
    assert len(roster.queue.jobs) == 4
    assert {job.first_start for job in roster.queue.jobs} == {starts}


def test_a_campaign_between_waves_says_so() -> None:
    roster = Roster()
    roster.create()
    roster.runner.run(NOW)
    stored = roster.campaigns.get("C1")
    assert stored is not None
    assert sending_reason(stored) == (
        "wave 1 of 3 sent; the next goes after the wave gap while a shift is open"
    )
