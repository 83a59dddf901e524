"""The campaign planner, fan-out and reports on in-memory fakes, with a fixed clock.

No moto, no sockets: the stream, queue and Lambda path is tested end to end in
test_campaigns_e2e.py and the sender on fakes in test_campaign_sender.py; these pin what
``campaign create`` composes, what a fan-out queues (and resumes), and what the reports count.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shiftsms.aws.send_queue import EnqueueFailed
from shiftsms.core.campaigns import Campaign, CampaignStatus, SendJob, SendOutcome
from shiftsms.core.models import Shift, ShiftStatus, StaffMember
from shiftsms.errors import CampaignExists, CampaignNotFound, InvalidInput
from shiftsms.services.campaigns import (
    CampaignDraft,
    CampaignFanOut,
    CampaignPlanner,
    CampaignReports,
    CampaignSummary,
    DeliverySummary,
    FanOutResult,
    ShiftFill,
)
from shiftsms.settings import FanOutSettings
from tests.fakes import (
    FixedDeadLetters,
    ListSendQueue,
    MemoryCampaigns,
    MemoryLedger,
    MemoryShifts,
    MemoryStaff,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
TTL = 3600
ANA, BEN, CARA, DAN = "+447700900101", "+447700900202", "+447700900303", "+447700900404"
HOW_TO_BOOK = "Reply a code to book, REQUEST for all open shifts, STOP to opt out."
NIGHTS = Shift("XYZ123", "15/08 5h nightshift")
DAYS = Shift("XYZ124", "18/08 3h dayshift")
TWO_SHIFTS = "15/08 5h nightshift XYZ123, 18/08 3h dayshift XYZ124"


def run_of(record_id: str) -> str:
    """A fan-out's run id, as the send markers key it: 16 hex digits of the record's hash."""
    return hashlib.sha256(record_id.encode()).hexdigest()[:16]


@dataclass
class QueueRefusingCall(ListSendQueue):
    """ListSendQueue that refuses its ``refuse``-th enqueue call (counted from 1)."""

    refuse: int = 0
    calls: int = 0

    def enqueue(self, jobs: Sequence[SendJob]) -> None:
        self.calls += 1
        if self.calls == self.refuse:
            raise EnqueueFailed(f"{len(jobs)} send jobs not queued (the queue refused them)")
        super().enqueue(jobs)


class World:
    """The campaign services on shared fakes; Ana and Ben take campaigns, Cara and Dan not."""

    def __init__(self) -> None:
        self.now = NOW
        self.campaigns = MemoryCampaigns()
        self.staff = MemoryStaff()
        self.staff.put(StaffMember(ANA, "Ana"))
        self.staff.put(StaffMember(BEN, "Ben"))
        self.staff.put(StaffMember(CARA, "Cara", campaigns=False))
        self.staff.put(StaffMember(DAN, "Dan", opted_out=True))
        self.shifts = MemoryShifts()
        self.queue = QueueRefusingCall()
        self.ledger = MemoryLedger(self.campaigns)
        self.dead_letters = FixedDeadLetters(0)
        clock = lambda: self.now  # noqa: E731
        self.planner = CampaignPlanner(self.campaigns, self.staff, self.shifts, clock=clock)
        self.fan_out = CampaignFanOut(
            FanOutSettings("campaigns", "staff", "queue", message_ttl_seconds=TTL),
            self.campaigns,
            self.staff,
            self.queue,
            clock=clock,
        )
        self.reports = CampaignReports(
            self.campaigns, self.staff, self.shifts, self.ledger, self.dead_letters
        )

    def open(self, *shifts: Shift) -> None:
        for shift in shifts:
            self.shifts.put(shift)

    def stored(self, campaign_id: str = "c1") -> Campaign:
        found = self.campaigns.get(campaign_id)
        assert found is not None
        return found


@pytest.fixture
def world() -> World:
    return World()


# -- planning: text, segments, recipients ------------------------------------------------------


def test_a_campaign_for_named_shifts_lists_them_for_every_recipient(world: World) -> None:
    world.open(NIGHTS, DAYS)
    draft = world.planner.prepare("c1", shift_ids=["xyz123", " XYZ124", "XYZ123"])
    text = f"Open shifts: {TWO_SHIFTS}. {HOW_TO_BOOK}"
    assert draft == CampaignDraft(
        "c1",
        TWO_SHIFTS,
        text,
        draft.info,
        ("XYZ123", "XYZ124"),
        left_out=0,
        recipients=2,
        live=True,
        countries=(("GB", 2),),
    )
    assert (draft.info.encoding, draft.info.segments, draft.billed_segments) == ("GSM-7", 1, 2)
    assert world.campaigns.items == {}  # nothing written until create


def test_shifts_that_do_not_fit_one_segment_are_tracked_and_counted_as_more(
    world: World,
) -> None:
    shifts = [Shift(f"XYZ12{i}", "15/08 5h nightshift") for i in range(5)]
    world.open(*shifts)
    draft = world.planner.prepare("c1", all_available=True)
    message = "15/08 5h nightshift XYZ120, 15/08 5h nightshift XYZ121 +3 more"
    assert (draft.message, draft.text) == (message, f"Open shifts: {message}. {HOW_TO_BOOK}")
    # The campaign tracks all five (its texts list the open ones that fit), not the two shown.
    assert (draft.shift_ids, draft.left_out, draft.info.segments) == (
        tuple(s.shift_id for s in shifts),
        3,
        1,
    )
    assert not draft.fits_one_text
    wider = world.planner.prepare("c2", all_available=True, max_segments=2)
    assert (wider.shift_ids, wider.left_out, wider.info.segments) == (
        tuple(s.shift_id for s in shifts),
        0,
        2,
    )
    assert wider.billed_segments == 4


def test_all_available_offers_only_open_shifts_in_id_order(world: World) -> None:
    world.open(DAYS, NIGHTS, Shift("ABC456", "16/08 lates", ShiftStatus.TAKEN, ANA))
    draft = world.planner.prepare("c1", all_available=True)
    assert (draft.shift_ids, draft.message) == (("XYZ123", "XYZ124"), TWO_SHIFTS)


def test_a_typed_message_keeps_the_codes_that_name_shifts(world: World) -> None:
    world.open(NIGHTS)
    draft = world.planner.prepare("c1", message="  Nights 15/08 xyz123  and NOPE99, ward 7B. ")
    assert draft.message == "Nights 15/08 xyz123 and NOPE99, ward 7B"
    assert draft.text == f"Open shifts: Nights 15/08 xyz123 and NOPE99, ward 7B. {HOW_TO_BOOK}"
    assert (draft.shift_ids, draft.left_out, draft.recipients) == (("XYZ123",), 0, 2)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, "give exactly one of --shifts, --all-available or --message"),
        (
            {"shift_ids": ["XYZ123"], "message": "XYZ123"},
            "give exactly one of --shifts, --all-available or --message",
        ),
        ({"shift_ids": ["XYZ123", "nope99", "ZZ9"]}, "unknown shift codes: NOPE99, ZZ9"),
        ({"shift_ids": ["ABC456", "XYZ123"]}, "already taken, cannot be offered: ABC456"),
        # typed in the console without a status: neither offered nor bookable, so refused
        (
            {"shift_ids": ["TYPED1", "ABC456"]},
            "no shift_status (set it to available to offer it), cannot be offered: TYPED1",
        ),
        ({"shift_ids": [" "]}, "--shifts needs at least one shift code"),
        ({"message": " . "}, "the message is empty"),
    ],
)
def test_a_campaign_that_cannot_be_sent_is_refused(
    world: World, kwargs: dict[str, Any], error: str
) -> None:
    world.open(
        NIGHTS,
        Shift("ABC456", "16/08 lates", ShiftStatus.TAKEN, ANA),
        Shift("TYPED1", "17/08 days", None),
    )
    with pytest.raises(InvalidInput) as refused:
        world.planner.prepare("c1", **kwargs)
    assert str(refused.value).startswith(error)


def test_all_available_with_nothing_open_is_refused(world: World) -> None:
    world.open(Shift("ABC456", "16/08 lates", ShiftStatus.TAKEN, ANA))
    with pytest.raises(InvalidInput, match="there are no open shifts to offer"):
        world.planner.prepare("c1", all_available=True)


def test_an_id_in_use_or_malformed_is_refused(world: World) -> None:
    world.open(NIGHTS)
    world.campaigns.create(Campaign("c1", "old"))
    with pytest.raises(CampaignExists):
        world.planner.prepare("c1", shift_ids=["XYZ123"])
    with pytest.raises(InvalidInput, match="a campaign id is 1-64"):
        world.planner.prepare("bad id!", shift_ids=["XYZ123"])


def test_create_stores_the_approved_text_as_new(world: World) -> None:
    world.open(NIGHTS, DAYS)
    draft = world.planner.prepare(shift_ids=["XYZ123", "XYZ124"])
    assert re.fullmatch(r"c20261128-1000-[0-9a-f]{4}", draft.campaign_id)
    created = world.planner.create(draft)
    assert world.campaigns.items == {
        draft.campaign_id: Campaign(
            draft.campaign_id,
            TWO_SHIFTS,
            CampaignStatus.NEW,
            ("XYZ123", "XYZ124"),
            created_at="2026-11-28T10:00:00+00:00",
            text=f"Open shifts: {TWO_SHIFTS}. {HOW_TO_BOOK}",
            live=True,
        )
    }
    assert created == world.stored(draft.campaign_id)
    with pytest.raises(CampaignExists):
        world.planner.create(draft)


# -- fan-out ---------------------------------------------------------------------------------


def created(world: World, campaign_id: str = "c1") -> Campaign:
    world.open(NIGHTS, DAYS)
    return world.planner.create(world.planner.prepare(campaign_id, shift_ids=["XYZ123", "XYZ124"]))


def test_fan_out_queues_one_job_per_recipient_with_the_approved_text(world: World) -> None:
    campaign = created(world)
    result = world.fan_out.fan_out(campaign, "record-1")
    run = run_of("record-1")
    text = f"Open shifts: {TWO_SHIFTS}. {HOW_TO_BOOK}"
    assert result == FanOutResult("c1", "queued", 2)
    assert world.queue.jobs == [
        SendJob("c1", ANA, text, EPOCH + TTL, run=run),
        SendJob("c1", BEN, text, EPOCH + TTL, run=run),
    ]
    stored = world.stored()
    assert (stored.status, stored.recipients, stored.fanout_token, stored.fanout_cursor) == (
        CampaignStatus.SENDING,
        2,
        run,
        BEN,
    )
    assert (stored.fanout_at, stored.queued_at, stored.expires_at) == (
        "2026-11-28T10:00:00+00:00",
        "2026-11-28T10:00:00+00:00",
        EPOCH + TTL,
    )


def test_a_campaign_fans_out_once_whatever_record_arrives_again(world: World) -> None:
    campaign = created(world)
    world.fan_out.fan_out(campaign, "record-1")
    assert world.fan_out.fan_out(campaign, "record-1") == FanOutResult("c1", "skipped")
    assert world.fan_out.fan_out(campaign, "record-2") == FanOutResult("c1", "skipped")
    assert [j.to for j in world.queue.jobs] == [ANA, BEN]
    assert world.stored().recipients == 2


def test_an_interrupted_fan_out_resumes_after_the_last_recipient_queued(world: World) -> None:
    campaign = created(world)
    phones = [f"+4477009{i:05d}" for i in range(1000, 1150)]  # 150: two chunks of jobs
    for phone in phones:
        world.staff.put(StaffMember(phone))
    everyone = sorted([ANA, BEN, *phones])
    world.queue.refuse = 2
    with pytest.raises(EnqueueFailed):
        world.fan_out.fan_out(campaign, "record-1")
    assert [j.to for j in world.queue.jobs] == everyone[:100]
    half = world.stored()
    assert (half.status, half.fanout_cursor, half.recipients) == (
        CampaignStatus.FANNING_OUT,
        everyone[99],
        None,
    )
    # another stream record meanwhile does nothing; the same one, redelivered later, resumes
    assert world.fan_out.fan_out(campaign, "record-2") == FanOutResult("c1", "skipped")
    world.now = NOW + timedelta(minutes=10)
    assert world.fan_out.fan_out(campaign, "record-1") == FanOutResult("c1", "queued", 152)
    assert [j.to for j in world.queue.jobs] == everyone
    assert {(j.expires_at, j.run) for j in world.queue.jobs} == {(EPOCH + TTL, run_of("record-1"))}
    done = world.stored()
    assert (done.status, done.recipients, done.fanout_at, done.queued_at) == (
        CampaignStatus.SENDING,
        152,
        "2026-11-28T10:00:00+00:00",
        "2026-11-28T10:10:00+00:00",
    )


def test_a_console_item_is_sent_as_its_message_wrapped(world: World) -> None:
    world.campaigns.create(Campaign("c9", "15/08 nights XYZ123."))
    text = f"Open shifts: 15/08 nights XYZ123. {HOW_TO_BOOK}"
    assert world.fan_out.fan_out(world.stored("c9"), "record-9") == FanOutResult("c9", "queued", 2)
    assert [(j.to, j.text) for j in world.queue.jobs] == [(ANA, text), (BEN, text)]
    assert world.stored("c9").text == text


def test_each_recipient_gets_the_campaign_in_their_language(world: World) -> None:
    world.staff.put(StaffMember(ANA, "Ana", language="es"))
    world.staff.put(StaffMember(BEN, "Ben", language="pl"))
    world.staff.put(StaffMember(CARA, "Cara"))
    campaign = created(world)
    world.fan_out.fan_out(campaign, "record-1")
    assert [(j.to, j.text) for j in world.queue.jobs] == [
        (
            ANA,
            f"Turnos libres: {TWO_SHIFTS}. "
            "Responda un codigo para reservar, REQUEST para ver todos, STOP para baja.",
        ),
        (
            BEN,
            f"Wolne zmiany: {TWO_SHIFTS}. "
            "Odpisz kod, aby zarezerwowac; REQUEST: wszystkie wolne; STOP: wypisanie.",
        ),
        (CARA, f"Open shifts: {TWO_SHIFTS}. {HOW_TO_BOOK}"),
    ]
    assert world.stored().text == f"Open shifts: {TWO_SHIFTS}. {HOW_TO_BOOK}"


def test_a_translation_that_would_bill_more_segments_sends_the_approved_text(
    world: World,
) -> None:
    world.staff.put(StaffMember(ANA, "Ana", language="es"))
    # Filled to the last character of one English segment; the Spanish wrapper is longer.
    message = "Nights " + "x" * (160 - len(f"Open shifts: Nights . {HOW_TO_BOOK}"))
    world.campaigns.create(Campaign("c9", message))
    world.fan_out.fan_out(world.stored("c9"), "record-9")
    english = f"Open shifts: {message}. {HOW_TO_BOOK}"
    assert len(english) == 160
    assert [(j.to, j.text) for j in world.queue.jobs] == [(ANA, english), (BEN, english)]


def test_a_campaign_with_nothing_to_send_is_rejected(world: World) -> None:
    world.campaigns.create(Campaign("c9", " . "))
    assert world.fan_out.fan_out(world.stored("c9"), "record-9") == FanOutResult("c9", "rejected")
    stored = world.stored("c9")
    assert (stored.status, stored.reason) == (CampaignStatus.REJECTED, "campaign_message is empty")
    assert world.queue.jobs == []


def test_a_fan_out_with_no_recipients_finishes_with_none(world: World) -> None:
    campaign = created(world)
    for phone in (ANA, BEN):
        world.staff.set_opted_out(phone, True, NOW)
    assert world.fan_out.fan_out(campaign, "record-1") == FanOutResult("c1", "queued", 0)
    assert world.queue.jobs == []
    assert (world.stored().status, world.stored().recipients) == (CampaignStatus.SENDING, 0)
    assert world.reports.summarise("c1").status == "done"  # nobody left to send to


# -- reports ----------------------------------------------------------------------------------


def settle(world: World, to: str, outcome: SendOutcome, at: datetime, run: str) -> None:
    job = SendJob("c1", to, "text", EPOCH + TTL, run=run)
    token = world.ledger.claim(job, at)
    assert token is not None
    world.ledger.settle(job, token, outcome, at)


def test_a_report_counts_outcomes_and_times_each_booking(world: World) -> None:
    world.campaigns.create(
        Campaign("c1", "nights", shift_ids=("XYZ123", "XYZ124", "ABC456", "NOPE99"))
    )
    world.campaigns.claim_fan_out("c1", "r1", "Open shifts: nights", NOW, EPOCH + TTL)
    world.campaigns.finish_fan_out("c1", "r1", 3, NOW)
    settle(world, ANA, SendOutcome.SENT, NOW + timedelta(seconds=10), "r1")
    settle(world, CARA, SendOutcome.FAILED, NOW + timedelta(seconds=11), "r1")
    world.open(
        Shift("XYZ123", "15/08 nights", ShiftStatus.TAKEN, ANA, "2026-11-28T10:01:45+00:00"),
        Shift("XYZ124", "18/08 days"),
        Shift("ABC456", "16/08 lates", ShiftStatus.TAKEN, "+447700900999", "2026-11-28T10:10:00Z"),
    )
    world.dead_letters.messages = 2
    assert world.reports.summarise("c1") == CampaignSummary(
        campaign_id="c1",
        status="sending",
        message="nights",
        text="Open shifts: nights",
        created_at=None,
        sent_at="2026-11-28T10:00:00+00:00",
        recipients=3,
        sent=1,
        failed=1,
        opted_out=0,
        pending=1,
        send_dlq_depth=2,
        # still sending: what holds the last text is said, never a bare "sending"
        reason="1 of 3 texts to go: sent at the number's rate, held until quiet hours end, "
        "or (a sender that stopped) sent again after SendClaimTimeoutSeconds",
        shifts=(
            ShiftFill(
                "XYZ123",
                "15/08 nights",
                "taken",
                ANA,
                "Ana",
                "2026-11-28T10:01:45+00:00",
                seconds_to_book=95,  # after Ana's own text went out
            ),
            ShiftFill("XYZ124", "18/08 days", "available"),
            ShiftFill(
                "ABC456",
                "16/08 lates",
                "taken",
                "+447700900999",
                None,  # no longer on the allow list
                "2026-11-28T10:10:00Z",
                seconds_to_book=600,  # no text of theirs recorded: timed from the fan-out
            ),
        ),
        # Ana's text was sent; End User Messaging has reported nothing on it yet.
        delivery=DeliverySummary(delivered=0, failed=0, pending=1, parts=0, cost_usd=Decimal(0)),
    )
    settle(world, BEN, SendOutcome.OPTED_OUT, NOW + timedelta(seconds=12), "r1")
    last = world.reports.summarise("c1")
    assert (last.status, last.sent, last.failed, last.opted_out, last.pending) == (
        "done",
        1,
        1,
        1,
        0,
    )


def test_a_console_item_report_finds_its_shifts_in_the_message(world: World) -> None:
    world.campaigns.create(Campaign("c9", "15/08 nights XYZ123, 18/08 days XYZ124"))
    world.open(Shift("XYZ124", "18/08 days"))
    summary = world.reports.summarise("c9")
    assert (summary.status, summary.text, summary.recipients, summary.pending) == (
        "new",
        f"Open shifts: 15/08 nights XYZ123, 18/08 days XYZ124. {HOW_TO_BOOK}",
        None,
        None,
    )
    assert summary.shifts == (ShiftFill("XYZ124", "18/08 days", "available"),)
    assert summary.send_dlq_depth == 0


def test_the_listing_is_newest_first_without_shifts(world: World) -> None:
    world.campaigns.create(Campaign("c1", "a", created_at="2026-11-27T09:00:00+00:00"))
    world.campaigns.create(Campaign("c2", "b", created_at="2026-11-28T09:00:00+00:00"))
    world.campaigns.create(Campaign("c0", "console item"))
    world.campaigns.create(Campaign("c3", "", status=CampaignStatus.REJECTED, reason="empty"))
    listed = world.reports.list()
    assert [(s.campaign_id, s.status, s.reason) for s in listed] == [
        ("c2", "new", None),
        ("c1", "new", None),
        ("c3", "rejected", "empty"),
        ("c0", "new", None),
    ]
    assert {s.shifts for s in listed} == {()}
    assert {s.send_dlq_depth for s in listed} == {None}


def test_a_report_on_an_unknown_campaign_is_refused(world: World) -> None:
    with pytest.raises(CampaignNotFound, match="no campaign nope"):
        world.reports.summarise("nope")
