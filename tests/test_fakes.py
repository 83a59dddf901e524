"""The in-memory fakes keep the contract of the DynamoDB adapters they stand in for.

Each check runs on the adapter (on the deployed stack in moto) and on the fake, so a service
test on fakes sees what the service would see on AWS.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shiftsms import ports
from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.send_markers import DynamoSendLedger
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.campaigns import Campaign, SendOutcome
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, StaffMember
from shiftsms.errors import CampaignExists, ShiftExists, ShiftNotFound, StaffNotFound
from tests.conftest import Deployed
from tests.fakes import (
    CountingRateLimiter,
    CountingReplyLimiter,
    ListSendQueue,
    MemoryCampaigns,
    MemoryLedger,
    MemoryShifts,
    MemoryStaff,
    RecordingCaller,
    RecordingSms,
)

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ANA, BEN = "+447700900123", "+447700900456"


def test_every_port_has_a_fake() -> None:
    campaigns = MemoryCampaigns()
    # Typed assignments: mypy fails here if a fake drifts from its port.
    shift_store: ports.ShiftStore = MemoryShifts()
    staff_store: ports.StaffStore = MemoryStaff()
    sms: ports.SmsSender = RecordingSms()
    caller: ports.Caller = RecordingCaller()
    replies: ports.ReplyLimiter = CountingReplyLimiter()
    campaign_store: ports.CampaignStore = campaigns
    queue: ports.SendQueue = ListSendQueue()
    ledger: ports.SendLedger = MemoryLedger(campaigns)
    rate: ports.SendRateLimiter = CountingRateLimiter()
    fakes = {
        "ShiftStore": shift_store,
        "StaffStore": staff_store,
        "SmsSender": sms,
        "Caller": caller,
        "ReplyLimiter": replies,
        "CampaignStore": campaign_store,
        "SendQueue": queue,
        "SendLedger": ledger,
        "SendRateLimiter": rate,
    }
    declared = {
        name
        for name, value in vars(ports).items()
        if isinstance(value, type) and value.__module__ == ports.__name__
    }
    assert declared == set(fakes)  # a new port needs a fake here


def _shifts(deployed: Deployed | None) -> ports.ShiftStore:
    if deployed is None:
        return MemoryShifts()
    return ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])


def _staff(deployed: Deployed | None) -> ports.StaffStore:
    if deployed is None:
        return MemoryStaff()
    return StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])


def _campaigns_and_ledger(
    deployed: Deployed | None,
) -> tuple[ports.CampaignStore, ports.SendLedger]:
    if deployed is None:
        memory = MemoryCampaigns()
        return memory, MemoryLedger(memory)
    out = deployed.outputs
    return CampaignsTable(deployed.dynamodb, out["CampaignsTableName"]), DynamoSendLedger(
        deployed.dynamodb, out["StateTableName"], out["CampaignsTableName"]
    )


@pytest.fixture(params=["dynamodb", "fake"])
def backend(request: pytest.FixtureRequest) -> Deployed | None:
    """The deployed stack for the adapter, or None for the fake."""
    if request.param == "fake":
        return None
    deployed: Deployed = request.getfixturevalue("deployed")
    return deployed


def test_shift_store_booking_and_release(backend: Deployed | None) -> None:
    store = _shifts(backend)
    store.put(Shift("XYZ123", "15/08 nights"))
    with pytest.raises(ShiftExists):
        store.put(Shift("XYZ123", "again"))
    assert store.book("NOPE", ANA, "m1", AT) is BookingOutcome.UNKNOWN
    assert store.book("XYZ123", ANA, "m1", AT) is BookingOutcome.BOOKED
    assert store.book("XYZ123", ANA, "m1", AT) is BookingOutcome.BOOKED  # a retry
    assert store.book("XYZ123", ANA, "m2", AT) is BookingOutcome.ALREADY_YOURS
    assert store.book("XYZ123", BEN, "m3", AT) is BookingOutcome.TAKEN
    assert store.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", "taken", ANA, "2026-11-28T10:00:00+00:00"
    )
    assert store.release("XYZ123", BEN, ref="d1") is DropOutcome.NOT_YOURS
    assert store.release("XYZ123", ANA, ref="d2") is DropOutcome.RELEASED
    assert store.release("XYZ123", ANA, ref="d2") is DropOutcome.RELEASED  # a retry
    assert store.release("XYZ123", ANA, ref="d3") is DropOutcome.NOT_YOURS
    assert store.release("NOPE") is DropOutcome.UNKNOWN
    assert store.get("XYZ123") == Shift("XYZ123", "15/08 nights")
    store.delete("XYZ123")
    with pytest.raises(ShiftNotFound):
        store.delete("XYZ123")
    assert store.get("XYZ123") is None


def test_shift_store_pages_counts_and_statuses(backend: Deployed | None) -> None:
    store = _shifts(backend)
    for code in ("C3", "A1", "B2", "D4"):
        store.put(Shift(code, f"info {code}"))
    store.book("B2", ANA, "m1", AT)
    page, more = store.open_page(None, 2)
    assert ([s.shift_id for s in page], more) == (["A1", "C3"], True)
    page, more = store.open_page("C3", 5)
    assert ([s.shift_id for s in page], more) == (["D4"], False)
    assert (store.count_open(None), store.count_open("A1"), store.count_open("D4")) == (3, 2, 0)
    assert [s.shift_id for s in store.by_status("taken")] == ["B2"]
    assert sorted(store.get_many(["A1", "B2", "ZZ9"])) == ["A1", "B2"]


def test_staff_store_keeps_opt_outs_and_filters_recipients(backend: Deployed | None) -> None:
    store = _staff(backend)
    assert store.put(StaffMember(ANA, "Ana", added_at="2026-11-01T00:00:00+00:00")) is True
    assert store.put(StaffMember(BEN, "Ben", campaigns=False)) is True
    store.set_opted_out(ANA, True, AT)
    store.set_list_cursor(ANA, "XYZ123")
    assert store.put(StaffMember(ANA, "Ana Silva", groups=("night",))) is False
    assert store.get(ANA) == StaffMember(
        ANA,
        "Ana Silva",
        opted_out=True,
        groups=("night",),
        added_at="2026-11-01T00:00:00+00:00",
        list_cursor="XYZ123",
    )
    assert store.put(StaffMember(BEN, "Renamed"), replace=False) is False
    assert store.get(BEN) == StaffMember(BEN, "Ben", campaigns=False)
    assert list(store.recipients()) == []
    store.set_opted_out(ANA, False, AT)
    assert [m.phone for m in store.recipients()] == [ANA]
    assert sorted(m.phone for m in store.all()) == [ANA, BEN]
    store.delete(BEN)
    with pytest.raises(StaffNotFound):
        store.delete(BEN)
    store.set_opted_out(BEN, True, AT)  # not on the list: nothing happens
    assert store.get(BEN) is None


def test_campaign_store_and_ledger(backend: Deployed | None) -> None:
    campaigns, ledger = _campaigns_and_ledger(backend)
    campaigns.create(Campaign("c1", "15/08 XYZ123", shift_ids=("XYZ123",)))
    with pytest.raises(CampaignExists):
        campaigns.create(Campaign("c1", "again"))
    claimed = campaigns.claim_fan_out("c1", "t1", "Open shifts: 15/08 XYZ123.", AT, 1795900000)
    assert claimed is not None
    assert (claimed.status, claimed.text, claimed.expires_at) == (
        "fanning_out",
        "Open shifts: 15/08 XYZ123.",
        1795900000,
    )
    assert campaigns.claim_fan_out("c1", "t2", "other", AT, 1) is None
    again = campaigns.claim_fan_out("c1", "t1", "other", AT, 1)  # the same record, retried
    assert again is not None and (again.text, again.expires_at) == (claimed.text, 1795900000)
    campaigns.save_progress("c1", "t1", ANA)
    campaigns.finish_fan_out("c1", "t2", 9, AT)  # not the claimant: no effect
    campaigns.finish_fan_out("c1", "t1", 2, AT)
    campaigns.reject("c1", "too late")  # only a new campaign can be rejected
    stored = campaigns.get("c1")
    assert stored is not None
    assert (stored.status, stored.recipients, stored.fanout_cursor, stored.reason) == (
        "sending",
        2,
        ANA,
        None,
    )

    token = ledger.claim("c1", ANA, AT)
    assert token is not None
    assert ledger.claim("c1", ANA, AT) is None
    ledger.settle("c1", ANA, "not-ours", SendOutcome.FAILED, AT)
    ledger.settle("c1", ANA, token, SendOutcome.SENT, AT, message_id="m1")
    ledger.settle("c1", ANA, token, SendOutcome.SENT, AT, message_id="m1")  # counted once
    assert ledger.sent_at("c1", ANA) == AT
    other = ledger.claim("c1", BEN, AT)
    assert other is not None
    ledger.release("c1", BEN, other)
    assert ledger.sent_at("c1", BEN) is None
    retried = ledger.claim("c1", BEN, AT)
    assert retried is not None
    ledger.settle("c1", BEN, retried, SendOutcome.EXPIRED, AT)
    counted = campaigns.get("c1")
    assert counted is not None
    assert (counted.sent, counted.failed, counted.opted_out) == (1, 1, 0)
    assert [c.campaign_id for c in campaigns.all()] == ["c1"]


def test_reply_limiter_rate_limiter_and_queue_fakes() -> None:
    limiter = CountingReplyLimiter()
    assert limiter.allow_unauthorised_reply(ANA, AT, ref="m1") is True
    assert limiter.allow_unauthorised_reply(ANA, AT, ref="m1") is True  # a retry
    assert limiter.allow_unauthorised_reply(ANA, AT, ref="m2") is False
    rate = CountingRateLimiter(slots=1)
    assert (rate.acquire(), rate.acquire()) == (True, False)
    queue = ListSendQueue(fail_next=1)
    with pytest.raises(RuntimeError):
        queue.enqueue([])
    assert queue.jobs == []
