"""The in-memory fakes keep the contract of the DynamoDB adapters they stand in for.

Each check runs on the adapter (on the deployed stack in moto) and on the fake, so a service
test on fakes sees what the service would see on AWS.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest

from shiftsms import ports
from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.delivery_records import DynamoSendRecords
from shiftsms.aws.due_work import LEASE_SECONDS as DUE_LEASE_SECONDS
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.reply_limiter import DynamoReplyLimiter
from shiftsms.aws.reply_queue import CLAIM_LEASE_SECONDS, DynamoReplyMarkers, SqsReplyQueue
from shiftsms.aws.send_markers import DynamoSendLedger
from shiftsms.aws.send_queue import EnqueueFailed, SqsDeadLetters
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.booking_rules import Overlaps, Refusal, RuleSettings, ShiftToBook, check_booking
from shiftsms.core.campaigns import Campaign, CampaignStatus, SendJob, SendOutcome
from shiftsms.core.delivery import DayTotals, SendRecord, parse_event
from shiftsms.core.due import DueItem
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.models import (
    BookingOutcome,
    DropOutcome,
    Shift,
    ShiftStatus,
    StaffEdit,
    StaffMember,
)
from shiftsms.core.reply_jobs import CLAIMED, QUEUED, SENDING, SENT, ReplyJob
from shiftsms.core.shift_times import Span, to_iso
from shiftsms.errors import (
    CampaignExists,
    ShiftChanged,
    ShiftExists,
    ShiftNotFound,
    StaffNotFound,
)
from shiftsms.ports import BookingCheck, ReplyMark
from shiftsms.services.shifts import AdminShiftStore
from tests.conftest import REGION, Deployed, deliver_shift_keys
from tests.fakes import (
    CountingMetrics,
    CountingRateLimiter,
    CountingReplyLimiter,
    CountingReplyRate,
    FakeDueWork,
    FixedDeadLetters,
    ListReplyQueue,
    ListSendQueue,
    MemoryAuditTrail,
    MemoryCampaigns,
    MemoryClaimWindows,
    MemoryLedger,
    MemoryOfferCap,
    MemoryOfferLog,
    MemoryReplyMarkers,
    MemorySendRecords,
    MemoryShifts,
    MemoryStaff,
    RecordingCaller,
    RecordingSms,
)

AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ANA, BEN = "+447700900123", "+447700900456"
ANA_FP = "a8acc3a90a7b4e4dc65e"  # her phone's fingerprint: sha256, first 20 hex digits
SENT_1, SENT_2, SENT_3 = (f"2026-11-28T10:00:0{i}.000Z" for i in (1, 2, 3))


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
    dead_letters: ports.DeadLetters = FixedDeadLetters()
    rate: ports.SendRateLimiter = CountingRateLimiter()
    reply_rate: ports.ReplyRate = CountingReplyRate()
    reply_markers: ports.ReplyMarkers = MemoryReplyMarkers()
    reply_queue: ports.ReplyQueue = ListReplyQueue()
    waitlists: ports.WaitlistStore = MemoryShifts()
    offers: ports.OfferLog = MemoryOfferLog()
    offer_cap: ports.OfferCap = MemoryOfferCap()
    due_work: ports.DueWork = FakeDueWork()
    windows: ports.ClaimWindows = MemoryClaimWindows()
    send_records: ports.SendRecords = MemorySendRecords(campaigns)
    delivery_ledger: ports.DeliveryLedger = MemorySendRecords(campaigns)
    metrics: ports.MetricSink = CountingMetrics()
    audit_trail: ports.AuditTrail = MemoryAuditTrail()
    fakes = {
        "ShiftStore": shift_store,
        "StaffStore": staff_store,
        "SmsSender": sms,
        "Caller": caller,
        "ReplyLimiter": replies,
        "CampaignStore": campaign_store,
        "SendQueue": queue,
        "SendLedger": ledger,
        "DeadLetters": dead_letters,
        "SendRateLimiter": rate,
        "ReplyRate": reply_rate,
        "ReplyMarkers": reply_markers,
        "ReplyQueue": reply_queue,
        "WaitlistStore": waitlists,
        "OfferLog": offers,
        "OfferCap": offer_cap,
        "DueWork": due_work,
        "ClaimWindows": windows,
        "SendRecords": send_records,
        "DeliveryLedger": delivery_ledger,
        "MetricSink": metrics,
        "AuditTrail": audit_trail,
    }
    declared = {
        name
        for name, value in vars(ports).items()
        if isinstance(value, type)
        and value.__module__ == ports.__name__
        and getattr(value, "_is_protocol", False)  # ports, not the values they pass
    }
    assert declared == set(fakes)  # a new port needs a fake here
    admin: AdminShiftStore = MemoryShifts()  # the operator's store, too
    assert admin.count_by_status("taken") == 0


def _shifts(deployed: Deployed | None) -> AdminShiftStore:
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


def _limiter(deployed: Deployed | None) -> ports.ReplyLimiter:
    if deployed is None:
        return CountingReplyLimiter(cooldown=timedelta(minutes=30))
    return DynamoReplyLimiter(
        deployed.dynamodb, deployed.outputs["StateTableName"], agent_cooldown_minutes=30
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
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, ANA, "2026-11-28T10:00:00+00:00"
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


def test_shift_store_refuses_what_a_later_message_overtook(backend: Deployed | None) -> None:
    store = _shifts(backend)
    store.put(Shift("XYZ123", "15/08 nights"))
    assert store.book("XYZ123", ANA, "m2", AT, sent=SENT_2) is BookingOutcome.BOOKED
    assert store.release("XYZ123", ANA, ref="d1", sent=SENT_1) is DropOutcome.NOT_YOURS
    assert store.release("XYZ123", ANA, ref="d3", sent=SENT_3) is DropOutcome.RELEASED
    # the booking retried after the DROP that followed it books nothing
    assert store.book("XYZ123", ANA, "m2", AT, sent=SENT_2) is BookingOutcome.TAKEN
    assert store.get("XYZ123") == Shift("XYZ123", "15/08 nights")


def test_shift_store_books_an_id_stored_in_another_case(backend: Deployed | None) -> None:
    store = _shifts(backend)
    store.put(Shift("xyz123", "15/08 nights"))
    assert store.book("XYZ123", ANA, "m1", AT) is BookingOutcome.BOOKED
    assert store.get("xyz123") == Shift(
        "xyz123", "15/08 nights", ShiftStatus.TAKEN, ANA, "2026-11-28T10:00:00+00:00"
    )
    assert store.release("XYZ123", ANA, ref="d1") is DropOutcome.RELEASED
    assert store.get("xyz123") == Shift("xyz123", "15/08 nights")


def test_shift_store_finds_an_id_in_mixed_case_by_the_code_staff_text(
    backend: Deployed | None,
) -> None:
    store = _shifts(backend)
    if backend is None:
        store.put(Shift("xYz123", "15/08 nights"))
    else:  # typed in the console; the shift-key function writes its alias from the stream
        deliver_shift_keys(backend.outputs)  # what earlier tests wrote
        backend.dynamodb.put_item(
            TableName=backend.outputs["ShiftsTableName"],
            Item={
                "shift_id": {"S": "xYz123"},
                "shift_info": {"S": "15/08 nights"},
                "shift_status": {"S": "available"},
            },
        )
        assert deliver_shift_keys(backend.outputs) == 1
    store.put(Shift("ABC124", "16/08 early"))
    assert store.get("XYZ123") == Shift("xYz123", "15/08 nights")
    # Keyed by the code asked for; the shift keeps its id as typed.
    assert store.get_many(["XYZ123", "ABC124", "NOPE99"]) == {
        "XYZ123": Shift("xYz123", "15/08 nights"),
        "ABC124": Shift("ABC124", "16/08 early"),
    }
    assert store.book("XYZ123", ANA, "m1", AT) is BookingOutcome.BOOKED
    assert store.release("XYZ123", ANA, ref="d1") is DropOutcome.RELEASED
    assert store.book("NOPE99", ANA, "m2", AT) is BookingOutcome.UNKNOWN


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
    first, more = store.first_by_status("available", 2)
    assert ([s.shift_id for s in first], more) == (["A1", "C3"], True)
    assert (store.count_by_status("available"), store.count_by_status("available", "A1")) == (
        3,
        2,
    )
    assert store.count_by_status("taken") == 1
    assert sorted(store.ids_by_status("available")) == ["A1", "C3", "D4"]
    assert list(store.ids_by_status("taken")) == ["B2"]
    assert [s.shift_id for s in store.full_by_status("available")] == ["A1", "C3", "D4"]


def test_shift_store_keeps_times_location_and_role(backend: Deployed | None) -> None:
    store = _shifts(backend)
    night = Shift("N1", "Sat 15/08 19:00-07:00 Ward 7 RN", starts_at="2026-08-15T19:00+01:00",
                  ends_at="2026-08-16T07:00+01:00", location="Ward 7", role="RN")  # fmt: skip
    store.put(night)
    assert store.get("N1") == night
    assert store.get_many(["N1"]) == {"N1": night}


def test_admin_store_writes_only_on_the_shift_as_seen(backend: Deployed | None) -> None:
    store = _shifts(backend)
    store.put(Shift("XYZ123", "15/08 nights"))
    store.put(Shift("ABC456", "16/08 days"))
    assert store.book("XYZ123", ANA, "m1", AT) is BookingOutcome.BOOKED
    seen = store.get("XYZ123")
    assert seen is not None
    assert store.set_info("XYZ123", "15/08 long nights") == Shift(
        "XYZ123", "15/08 long nights", ShiftStatus.TAKEN, ANA, "2026-11-28T10:00:00+00:00"
    )
    with pytest.raises(ShiftNotFound):
        store.set_info("NOPE", "x")
    store.release_as_seen(seen)  # the info changed, the booking did not
    assert store.get("XYZ123") == Shift("XYZ123", "15/08 long nights")
    with pytest.raises(ShiftChanged) as changed:
        store.release_as_seen(seen)
    assert changed.value.now == Shift("XYZ123", "15/08 long nights")
    with pytest.raises(ShiftChanged):
        store.delete_as_seen(Shift("ABC456", "16/08 nights"))  # not the info shown
    with pytest.raises(ShiftNotFound):
        store.delete_as_seen(Shift("NOPE"))
    store.delete_as_seen(Shift("ABC456", "16/08 days"))
    assert store.get("ABC456") is None


def test_admin_store_imports_in_batches(backend: Deployed | None) -> None:
    store = _shifts(backend)
    shifts = [Shift(f"S{i:03d}", f"info {i}") for i in range(30)]
    written: list[list[str]] = []
    store.put_many(shifts, written.append)
    assert [len(batch) for batch in written] == [25, 5]
    assert sorted(i for batch in written for i in batch) == [s.shift_id for s in shifts]
    assert store.existing_ids(["S000", "S029", "S030"]) == {"S000", "S029"}
    assert store.count_by_status("available") == 30


def test_staff_store_keeps_opt_outs_and_filters_recipients(backend: Deployed | None) -> None:
    store = _staff(backend)
    assert store.put(StaffMember(ANA, "Ana", added_at="2026-11-01T00:00:00+00:00")) is True
    assert store.put(StaffMember(BEN, "Ben", campaigns=False)) is True
    store.set_opted_out(ANA, True, AT)
    store.set_list_cursor(ANA, "XYZ123")
    assert store.put(StaffMember(ANA, "Ana Silva", groups=("night", "icu"))) is False
    assert store.get(ANA) == StaffMember(
        ANA,
        "Ana Silva",
        opted_out=True,
        groups=("icu", "night"),
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


def test_staff_store_update_changes_only_the_given_fields(backend: Deployed | None) -> None:
    store = _staff(backend)
    store.put(StaffMember(BEN, "Ben", groups=("night",)))
    store.put(StaffMember(ANA, "Ana"))
    change = store.update(BEN, StaffEdit(campaigns=False, groups=("icu", "day")))
    assert change.before == StaffMember(BEN, "Ben", groups=("night",))
    assert change.after == StaffMember(BEN, "Ben", campaigns=False, groups=("day", "icu"))
    assert change.changed == ("campaigns", "groups")
    assert store.get(BEN) == change.after
    assert [m.phone for m in store.recipients()] == [ANA]
    same = store.update(BEN, StaffEdit(name="Ben"))
    assert (same.changed, same.before == same.after) == ((), True)
    with pytest.raises(StaffNotFound):
        store.update("+447700900999", StaffEdit(name="Nobody"))


def test_staff_store_roles(backend: Deployed | None) -> None:
    store = _staff(backend)
    store.put(StaffMember(ANA, "Ana", roles=("RN",)))
    assert store.get(ANA) == StaffMember(ANA, "Ana", roles=("RN",))
    change = store.update(ANA, StaffEdit(roles=("HCA", "Band 5")))
    assert (change.changed, change.after.roles) == (("roles",), ("Band 5", "HCA"))
    assert store.get(ANA) == change.after
    cleared = store.update(ANA, StaffEdit(roles=()))
    assert (cleared.changed, store.get(ANA)) == (("roles",), StaffMember(ANA, "Ana"))


def test_campaign_store_keeps_the_roles_offered(backend: Deployed | None) -> None:
    campaigns, _ledger = _campaigns_and_ledger(backend)
    campaigns.create(Campaign("c1", "15/08 XYZ123", offer_roles=("HCA", "RN")))
    campaigns.create(Campaign("c2", "15/08 XYZ124"))
    stored = campaigns.get("c1")
    assert stored is not None
    assert stored.offer_roles == ("HCA", "RN")
    assert getattr(campaigns.get("c2"), "offer_roles", "missing") is None


def test_campaign_store(backend: Deployed | None) -> None:
    campaigns, _ledger = _campaigns_and_ledger(backend)
    campaigns.create(Campaign("c1", "15/08 XYZ123", shift_ids=("XYZ123",)))
    with pytest.raises(CampaignExists):
        campaigns.create(Campaign("c1", "again"))
    claimed = campaigns.claim_fan_out("c1", "t1", "Open shifts: 15/08 XYZ123.", AT, 1795900000)
    assert claimed is not None
    assert (claimed.status, claimed.text, claimed.expires_at, claimed.fanout_token) == (
        CampaignStatus.FANNING_OUT,
        "Open shifts: 15/08 XYZ123.",
        1795900000,
        "t1",
    )
    assert campaigns.claim_fan_out("c1", "t2", "other", AT, 1) is None
    again = campaigns.claim_fan_out("c1", "t1", "other", AT, 1)  # the same record, retried
    assert again is not None and (again.text, again.expires_at) == (claimed.text, 1795900000)
    campaigns.save_progress("c1", "t2", BEN)  # not the claimant: no effect
    campaigns.save_progress("c1", "t1", ANA)
    campaigns.finish_fan_out("c1", "t2", 9, AT)  # not the claimant: no effect
    campaigns.finish_fan_out("c1", "t1", 2, AT)
    campaigns.reject("c1", "too late")  # only a new campaign can be rejected
    stored = campaigns.get("c1")
    assert stored is not None
    assert (stored.status, stored.recipients, stored.fanout_cursor, stored.reason) == (
        CampaignStatus.SENDING,
        2,
        ANA,
        None,
    )
    assert campaigns.claim_fan_out("nope", "t1", "x", AT, 1) is None
    campaigns.create(Campaign("c2", "16/08 ABC456"))
    campaigns.reject("c2", "nothing to send")
    rejected = campaigns.get("c2")
    assert rejected is not None
    assert (rejected.status, rejected.reason) == (CampaignStatus.REJECTED, "nothing to send")
    assert campaigns.claim_fan_out("c2", "t3", "x", AT, 1) is None
    assert sorted(c.campaign_id for c in campaigns.all()) == ["c1", "c2"]


def _fanned_out(campaigns: ports.CampaignStore, run: str) -> None:
    campaigns.create(Campaign("c1", "15/08 XYZ123"))
    assert campaigns.claim_fan_out("c1", run, "Open shifts: XYZ123", AT, 1795900000)
    campaigns.finish_fan_out("c1", run, 2, AT)


def _counters(campaigns: ports.CampaignStore) -> tuple[int, int, int, int]:
    found = campaigns.get("c1")
    assert found is not None
    return found.sent, found.failed, found.opted_out, found.skipped


def test_send_ledger_claims_once_and_counts_once(backend: Deployed | None) -> None:
    campaigns, ledger = _campaigns_and_ledger(backend)
    _fanned_out(campaigns, "r1")
    ana, ben = (SendJob("c1", to, "Open shifts: XYZ123", 1795900000, "r1") for to in (ANA, BEN))
    token = ledger.claim(ana, AT)
    assert token is not None
    assert ledger.claim(ana, AT) is None
    assert ledger.begin(ana, "not-ours", AT) is False
    assert ledger.begin(ana, token, AT) is True
    assert ledger.begin(ana, token, AT) is False  # sending already
    ledger.settle(ana, "not-ours", SendOutcome.FAILED, AT)
    ledger.settle(ana, token, SendOutcome.SENT, AT, message_id="m1")
    ledger.settle(ana, token, SendOutcome.SENT, AT, message_id="m1")  # counted once
    assert ledger.sent_at("c1", ANA, "r1") == AT
    assert ledger.sent_at("c1", ANA) is None  # another run's marker
    other = ledger.claim(ben, AT)
    assert other is not None
    ledger.release(ben, other)
    assert ledger.sent_at("c1", BEN, "r1") is None
    retried = ledger.claim(ben, AT)
    assert retried is not None
    ledger.settle(ben, retried, SendOutcome.SKIPPED, AT, reason="opted out since")
    assert ledger.claim(ben, AT + timedelta(hours=1)) is None  # settled: never claimed again
    assert _counters(campaigns) == (1, 0, 0, 1)


def test_send_ledger_takes_over_a_dead_senders_claim(backend: Deployed | None) -> None:
    campaigns, ledger = _campaigns_and_ledger(backend)
    _fanned_out(campaigns, "r1")
    ana, ben = (SendJob("c1", to, "Open shifts: XYZ123", 1795900000, "r1") for to in (ANA, BEN))
    dead = ledger.claim(ana, AT)
    assert dead is not None
    assert ledger.claim(ana, AT + timedelta(seconds=60)) is None  # still within the lease
    later = AT + timedelta(minutes=10)
    taken = ledger.claim(ana, later)
    assert taken is not None and taken != dead
    ledger.settle(ana, dead, SendOutcome.SENT, later)  # the dead sender's late settle
    assert ledger.close_abandoned(ana, later) is False  # claimed, never sending
    ledger.settle(ana, taken, SendOutcome.SENT, later, message_id="m1")
    sending = ledger.claim(ben, AT)
    assert sending is not None and ledger.begin(ben, sending, AT)
    assert ledger.claim(ben, later) is None  # it may have been sent: not taken over
    assert ledger.close_abandoned(ben, AT + timedelta(seconds=60)) is False
    assert ledger.close_abandoned(ben, later) is True
    assert ledger.close_abandoned(ben, later) is False  # closed once
    assert ledger.sent_at("c1", BEN, "r1") is None
    assert _counters(campaigns) == (1, 1, 0, 0)


def test_send_ledger_counts_only_on_the_run_that_fanned_out(backend: Deployed | None) -> None:
    campaigns, ledger = _campaigns_and_ledger(backend)
    _fanned_out(campaigns, "r2")
    old_run = SendJob("c1", ANA, "Open shifts: XYZ123", 1795900000, "r1")
    token = ledger.claim(old_run, AT)
    assert token is not None
    ledger.settle(old_run, token, SendOutcome.SENT, AT)
    assert ledger.sent_at("c1", ANA, "r1") == AT  # the marker keeps it
    assert _counters(campaigns) == (0, 0, 0, 0)


def test_reply_limiter_replies_once_per_sender(backend: Deployed | None) -> None:
    limiter = _limiter(backend)
    assert limiter.allow_unauthorised_reply(ANA, AT, ref="m1") is True
    assert limiter.allow_unauthorised_reply(ANA, AT, ref="m1") is True  # a retry
    assert limiter.allow_unauthorised_reply(ANA, AT, ref="m2") is False
    assert limiter.allow_unauthorised_reply(BEN, AT, ref="m3") is True


def test_reply_limiter_call_back_cooldown(backend: Deployed | None) -> None:
    limiter = _limiter(backend)
    assert limiter.allow_call_back(ANA, AT, ref="m1") is True
    assert limiter.allow_call_back(ANA, AT, ref="m1") is True  # a retry
    assert limiter.allow_call_back(ANA, AT, ref="m2") is False
    assert limiter.allow_call_back(BEN, AT, ref="m3") is True
    limiter.end_call_back(ANA, ref="m2")  # not the holder: nothing given back
    assert limiter.allow_call_back(ANA, AT, ref="m4") is False
    limiter.end_call_back(ANA, ref="m1")
    assert limiter.allow_call_back(ANA, AT, ref="m5") is True
    assert limiter.allow_call_back(BEN, AT + timedelta(minutes=29), ref="m6") is False
    assert limiter.allow_call_back(BEN, AT + timedelta(minutes=31), ref="m7") is True


def test_dead_letters_depth(backend: Deployed | None) -> None:
    if backend is None:
        letters: ports.DeadLetters = FixedDeadLetters(2)
        none: ports.DeadLetters = FixedDeadLetters(None)
    else:
        sqs = boto3.client("sqs", region_name=REGION)
        url = backend.outputs["SendDlqUrl"]
        for body in ("job 1", "job 2"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        letters, none = SqsDeadLetters(sqs, url), SqsDeadLetters(sqs, "")
    assert (letters.depth(), none.depth()) == (2, None)


def test_rate_limiter_and_queue_fakes() -> None:
    rate = CountingRateLimiter(slots=1)
    assert (rate.acquire(), rate.acquire()) == (True, False)
    queue = ListSendQueue(fail_next=1)
    job = SendJob("c1", ANA, "Open shifts: XYZ123", 1795900000, "r1")
    with pytest.raises(EnqueueFailed):
        queue.enqueue([job])
    queue.enqueue([job])
    assert queue.jobs == [job]


# -- behaviour the service tests on fakes rely on ----------------------------------------------


def test_shift_store_retried_drop_after_another_booking_leaves_it(
    backend: Deployed | None,
) -> None:
    store = _shifts(backend)
    store.put(Shift("XYZ123", "15/08 nights"))
    assert store.book("XYZ123", ANA, "m1", AT, sent=SENT_1) is BookingOutcome.BOOKED
    assert store.release("XYZ123", ANA, ref="d1", sent=SENT_2) is DropOutcome.RELEASED
    assert store.book("XYZ123", BEN, "m2", AT, sent=SENT_3) is BookingOutcome.BOOKED
    # the DROP retried reports what it did, and Ben keeps the shift
    assert store.release("XYZ123", ANA, ref="d1", sent=SENT_2) is DropOutcome.RELEASED
    assert store.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, BEN, "2026-11-28T10:00:00+00:00"
    )


def test_admin_store_refuses_to_delete_a_shift_booked_since_it_was_seen(
    backend: Deployed | None,
) -> None:
    store = _shifts(backend)
    store.put(Shift("XYZ123", "15/08 nights"))
    seen = store.get("XYZ123")
    assert seen is not None
    assert store.book("XYZ123", BEN, "m1", AT) is BookingOutcome.BOOKED
    booked = Shift("XYZ123", "15/08 nights", ShiftStatus.TAKEN, BEN, "2026-11-28T10:00:00+00:00")
    with pytest.raises(ShiftChanged) as changed:
        store.delete_as_seen(seen)
    assert changed.value.now == booked
    assert store.get("XYZ123") == booked


def test_staff_store_new_entries_keep_their_opt_out_and_recipients_come_in_phone_order(
    backend: Deployed | None,
) -> None:
    store = _staff(backend)
    cara, dan = "+447700900789", "+447700900012"
    for phone in (cara, BEN, dan, ANA):
        assert store.put(StaffMember(phone, "x"), replace=False) is True
    assert store.put(StaffMember("+447700900999", "Opted", opted_out=True), replace=False)
    assert store.get("+447700900999") == StaffMember("+447700900999", "Opted", opted_out=True)
    assert [m.phone for m in store.recipients()] == [dan, ANA, BEN, cara]


def test_campaign_store_reclaim_returns_the_progress_saved(backend: Deployed | None) -> None:
    campaigns, _ledger = _campaigns_and_ledger(backend)
    campaigns.create(Campaign("c1", "15/08 XYZ123"))
    assert campaigns.claim_fan_out("c1", "t1", "Open shifts: XYZ123", AT, 1795900000)
    campaigns.save_progress("c1", "t1", BEN)
    later = AT + timedelta(minutes=10)
    again = campaigns.claim_fan_out("c1", "t1", "other", later, 1795999999)
    assert again is not None
    assert (again.fanout_cursor, again.fanout_at, again.expires_at, again.text) == (
        BEN,
        "2026-11-28T10:00:00+00:00",
        1795900000,
        "Open shifts: XYZ123",
    )
    campaigns.finish_fan_out("c1", "t1", 2, later)
    done = campaigns.get("c1")
    assert done is not None
    assert (done.status, done.recipients, done.queued_at) == (
        CampaignStatus.SENDING,
        2,
        "2026-11-28T10:10:00+00:00",
    )


def test_full_listing_reads_console_items_and_timed_ones_in_full(deployed: Deployed) -> None:
    """A console item (no start_key) and a timed shiftsms shift both come back whole."""
    store = ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])
    store.put(
        Shift(
            "N1",
            "night",
            starts_at="2030-08-15T19:00+01:00",
            ends_at="2030-08-16T07:00+01:00",
            location="Ward 7",
            role="RN",
        )
    )
    deployed.dynamodb.put_item(
        TableName=deployed.outputs["ShiftsTableName"],
        Item={
            "shift_id": {"S": "C1"},
            "shift_info": {"S": "typed"},
            "shift_status": {"S": "available"},
        },
    )
    listed = {s.shift_id: s for s in store.full_by_status("available")}
    assert sorted(listed) == ["C1", "N1"]
    assert (listed["N1"].role, listed["N1"].location) == ("RN", "Ward 7")
    assert listed["N1"].starts_at == "2030-08-15T19:00+01:00"
    assert listed["C1"].shift_info == "typed"


# -- timed booking, the soonest-first listing and the person's held shifts ---------------------

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _span(day: int, start: int, hours: int) -> Span:
    begin = datetime(2026, 12, day, start, 0, tzinfo=UTC)
    return Span(begin, begin + timedelta(hours=hours))


def _timed(code: str, span: Span, role: str | None = None) -> Shift:
    return Shift(code, "info", starts_at=to_iso(span.start), ends_at=to_iso(span.end), role=role)


def _booking_stores(deployed: Deployed | None) -> tuple[AdminShiftStore, ports.StaffStore]:
    """The shifts store keeping person items on the allow list, and that allow list."""
    if deployed is None:
        staff = MemoryStaff()
        return MemoryShifts(staff=staff), staff
    out = deployed.outputs
    shifts = ShiftsTable(deployed.dynamodb, out["ShiftsTableName"], out["StaffTableName"])
    return shifts, StaffTable(deployed.dynamodb, out["StaffTableName"])


def _held(store: AdminShiftStore, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
    held: tuple[tuple[HeldShift, ...], int, bool] = store.held(phone)  # type: ignore[attr-defined]
    return held


def _rules(roles: tuple[str, ...]) -> BookingCheck:
    def check(shift: Shift, span: Span | None, held: tuple[HeldShift, ...]) -> tuple[Refusal, ...]:
        return check_booking(ShiftToBook(shift.shift_id, span, shift.role), roles, held, RULES, NOW)

    return check


RULES = RuleSettings(min_rest_hours=11, max_weekly_hours=48)


def test_shift_store_lists_soonest_first_untimed_last_for_the_roles(
    backend: Deployed | None,
) -> None:
    store, _staff_store = _booking_stores(backend)
    store.put(_timed("T2", _span(2, 8, 8)))
    store.put(_timed("T1", _span(1, 8, 8)))
    store.put(_timed("RN1", _span(1, 12, 8), role="RN"))
    store.put(Shift("PAST", "info", starts_at="2026-11-27T08:00:00+00:00", ends_at=to_iso(NOW)))
    store.put(Shift("U1", "any day"))
    store.put(Shift("U0", "any day"))
    store.put(_timed("TK", _span(1, 6, 8)))
    assert store.book("TK", BEN, "m1", NOW) is BookingOutcome.BOOKED
    page = store.open_listing((), NOW, None, 2)
    t1, t2 = "t:2026-12-01T08:00:00Z T1", "t:2026-12-02T08:00:00Z T2"
    assert ([s.shift_id for s in page.shifts], page.cursors) == (["T1", "T2"], [t1, t2])
    assert (page.beyond, page.tail, page.exact) == (2, t2, True)
    page = store.open_listing((), NOW, t2, 2)
    assert ([s.shift_id for s in page.shifts], page.beyond, page.exact) == (["U0", "U1"], 0, True)
    assert page.cursors == ["t:~untimed U0", "t:~untimed U1"]
    page = store.open_listing(("rn",), NOW, None, 10)
    assert [s.shift_id for s in page.shifts] == ["T1", "RN1", "T2", "U0", "U1"]
    assert page.shifts[1] == _timed("RN1", _span(1, 12, 8), role="RN")
    # once T1 has started it is not listed
    later = page.shifts[0].starts_at
    assert later is not None
    page = store.open_listing((), datetime.fromisoformat(later), None, 10)
    assert [s.shift_id for s in page.shifts] == ["T2", "U0", "U1"]


def test_shift_store_listing_past_the_status_windows_is_not_exact(
    backend: Deployed | None,
) -> None:
    store, _staff_store = _booking_stores(backend)
    for n in range(51):  # more available ids than the by-status windows read
        store.put(Shift(f"U{n:02d}", "any day"))
    page = store.open_listing((), NOW, None, 20)
    assert ([s.shift_id for s in page.shifts][:2], page.beyond) == (["U00", "U01"], 31)
    assert (page.tail, page.exact) == ("t:~untimed U19", False)
    # the last one on by-start: console items may follow the ids the windows read
    page = store.open_listing((), NOW, "t:~untimed U49", 20)
    assert ([s.shift_id for s in page.shifts], page.beyond, page.exact) == (["U50"], 1, False)
    assert page.tail == "c:U49"
    page = store.open_listing((), NOW, page.tail, 20)
    assert (page.shifts, page.beyond, page.tail, page.exact) == ([], 0, "", True)


def test_shift_store_books_timed_shifts_against_the_persons_held_shifts(
    backend: Deployed | None,
) -> None:
    store, staff = _booking_stores(backend)
    staff.put(StaffMember(ANA, "Ana", roles=("RN",)))
    day, overlap = _span(1, 8, 8), _span(1, 12, 8)
    store.put(_timed("T1", day))
    store.put(_timed("T1B", overlap))
    store.put(_timed("T2", _span(3, 8, 8)))
    store.put(Shift("U1", "any day"))
    check = _rules(("RN",))
    booked = ports.BookingResult(BookingOutcome.BOOKED)
    assert store.book_checked("T1", ANA, "m1", NOW, check=check) == booked
    assert _held(store, ANA) == ((HeldShift("T1", day),), 1, True)
    assert store.book_checked("T1", ANA, "m1", NOW, check=check) == booked  # a retry
    refused = store.book_checked("T1B", ANA, "m2", NOW, check=check)
    assert refused == ports.BookingResult(None, (Overlaps("T1B", HeldShift("T1", day)),))
    assert store.get("T1B") == _timed("T1B", overlap)  # not booked
    assert store.book_checked("U1", ANA, "m3", NOW, check=check) == booked  # untimed
    assert _held(store, ANA) == ((HeldShift("T1", day),), 1, True)
    assert store.book_checked("T2", BEN, "m4", NOW, check=check) == booked  # not on the list
    assert _held(store, BEN) == ((), 0, False)
    taken = ports.BookingResult(BookingOutcome.TAKEN)
    assert store.book_checked("T2", ANA, "m5", NOW, check=check) == taken
    assert store.release("T1", ANA, ref="d1") is DropOutcome.RELEASED
    assert _held(store, ANA) == ((), 2, True)
    assert store.book_checked("T1B", ANA, "m6", NOW, check=check) == booked
    seen = store.get("T1B")
    assert seen is not None
    store.release_as_seen(seen)  # the operator's release takes it off Ana's list too
    assert _held(store, ANA) == ((), 4, True)


def test_shift_store_books_by_another_case_and_refuses_an_unreadable_time(
    backend: Deployed | None,
) -> None:
    store, staff = _booking_stores(backend)
    staff.put(StaffMember(ANA, "Ana"))
    store.put(_timed("t4", _span(1, 8, 8)))
    store.put(Shift("BAD1", "info", starts_at="2026-12-01T08:00:00+00:00"))  # no end
    check = _rules(())
    result = store.book_checked("T4", ANA, "m1", NOW, check=check)
    assert result == ports.BookingResult(BookingOutcome.BOOKED)
    assert _held(store, ANA) == ((HeldShift("t4", _span(1, 8, 8)),), 1, True)
    unknown = ports.BookingResult(BookingOutcome.UNKNOWN)
    assert store.book_checked("BAD1", ANA, "m2", NOW, check=check) == unknown
    assert store.book_checked("NOPE", ANA, "m3", NOW, check=check) == unknown


def test_staff_store_keeps_roles_as_a_set(backend: Deployed | None) -> None:
    store = _staff(backend)
    store.put(StaffMember(ANA, "Ana", roles=("RN", "HCA", "RN")))
    found = store.get(ANA)
    assert found is not None
    assert found.roles == ("HCA", "RN")
    store.put(StaffMember(ANA, "Ana", roles=("RN",)))
    found = store.get(ANA)
    assert found is not None
    assert found.roles == ("RN",)


# -- replies: send-once markers and the reply queue --------------------------------------------


def _reply_markers(deployed: Deployed | None) -> ports.ReplyMarkers:
    if deployed is None:
        return MemoryReplyMarkers()
    return DynamoReplyMarkers(deployed.dynamodb, deployed.outputs["StateTableName"])


T0 = 1_795_900_000.0


def test_reply_markers_claim_once_and_never_send_twice(backend: Deployed | None) -> None:
    markers = _reply_markers(backend)
    mark = markers.claim("r1", T0)
    assert mark.token is not None
    assert mark.state == CLAIMED
    assert markers.claim("r1", T0 + 1) == ReplyMark(None, CLAIMED)
    assert markers.claim("r1", T0 + 1, from_queue=True) == ReplyMark(None, CLAIMED)
    assert markers.begin("r1", "not-ours") is False
    assert markers.begin("r1", mark.token) is True
    assert markers.begin("r1", mark.token) is False  # sending already
    # left while sending: never taken over, however late
    assert markers.claim("r1", T0 + 10 * CLAIM_LEASE_SECONDS) == ReplyMark(None, SENDING)
    markers.settle("r1", "not-ours", SENT, "msg-9")
    markers.settle("r1", mark.token, SENT, "msg-1")
    assert markers.claim("r1", T0 + 2, from_queue=True) == ReplyMark(None, SENT, "msg-1")


def test_reply_markers_take_over_a_stale_claim_and_a_queued_reply(
    backend: Deployed | None,
) -> None:
    markers = _reply_markers(backend)
    first = markers.claim("r2", T0)
    assert markers.claim("r2", T0 + CLAIM_LEASE_SECONDS) == ReplyMark(None, CLAIMED)
    stale = markers.claim("r2", T0 + CLAIM_LEASE_SECONDS + 1)
    assert stale.token not in (None, first.token)
    assert first.token is not None
    assert markers.begin("r2", first.token) is False  # its claim was taken over
    queued = markers.claim("r3", T0)
    assert queued.token is not None
    markers.release("r3", queued.token)
    assert markers.claim("r3", T0 + 1) == ReplyMark(None, QUEUED)  # only the queue sends it
    again = markers.claim("r3", T0 + 1, from_queue=True)
    assert (again.state, again.token not in (None, queued.token)) == (CLAIMED, True)


def test_reply_queue_keeps_the_job(backend: Deployed | None) -> None:
    job = ReplyJob("in-1", ANA, "Booked: XYZ123", "+447700900000")
    if backend is None:
        fake = ListReplyQueue()
        fake.enqueue(job)
        assert fake.jobs == [job]
        return
    sqs = boto3.client("sqs", region_name=REGION)
    url = backend.outputs["ReplyQueueUrl"]
    SqsReplyQueue(sqs, url).enqueue(job)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert [ReplyJob.from_json(m["Body"]) for m in got] == [job]


def test_reply_rate_fake_grants_its_slots() -> None:
    rate = CountingReplyRate(slots=1)
    assert (rate.acquire_reply(T0), rate.acquire_reply(T0)) == (True, False)


# -- due work ------------------------------------------------------------------------------------


def _due_work(deployed: Deployed | None) -> ports.DueWork:
    if deployed is None:
        return FakeDueWork()
    return DynamoDueWork(deployed.dynamodb, deployed.outputs["StateTableName"])


def _due(kind: str, key: str, minutes: int, **data: str) -> DueItem:
    return DueItem(kind, key, AT + timedelta(minutes=minutes), dict(data))


def test_due_work_lists_what_is_due_soonest_first_and_replaces_by_kind_and_key(
    backend: Deployed | None,
) -> None:
    work = _due_work(backend)
    work.schedule(_due("window-close", "C2", 10, campaign="C2"))
    work.schedule(_due("wave", "C1#2", 5, campaign="C1", wave="2"))
    work.schedule(_due("window-close", "C3", 30))
    assert work.due(AT + timedelta(minutes=4), 10) == []
    assert work.due(AT + timedelta(minutes=10), 10) == [
        _due("wave", "C1#2", 5, campaign="C1", wave="2"),
        _due("window-close", "C2", 10, campaign="C2"),
    ]
    assert work.due(AT + timedelta(minutes=10), 1) == [
        _due("wave", "C1#2", 5, campaign="C1", wave="2")
    ]
    work.schedule(_due("window-close", "C2", 20, campaign="C2", again="yes"))  # replaces
    work.cancel("wave", "C1#2")
    work.cancel("wave", "never-scheduled")
    assert work.due(AT + timedelta(minutes=10), 10) == []
    assert work.due(AT + timedelta(minutes=30), 10) == [
        _due("window-close", "C2", 20, campaign="C2", again="yes"),
        _due("window-close", "C3", 30),
    ]


def test_due_work_is_claimed_once_and_a_lapsed_lease_retried(backend: Deployed | None) -> None:
    work = _due_work(backend)
    item = _due("window-close", "C1", 0, campaign="C1")
    work.schedule(item)
    token = work.claim(item, AT)
    assert token is not None
    assert work.claim(item, AT + timedelta(seconds=1)) is None  # a second timer
    assert work.due(AT + timedelta(seconds=1), 10) == []  # held by a live lease
    lapsed = AT + timedelta(seconds=DUE_LEASE_SECONDS + 1)
    assert work.due(lapsed, 10) == [item]
    retry = work.claim(item, lapsed)
    assert retry not in (None, token)
    assert retry is not None
    work.finish(item, token)  # the first run's late finish: not its lease any more
    assert work.claim(item, lapsed + timedelta(seconds=DUE_LEASE_SECONDS + 1)) is not None
    work.finish(item, "not-a-token")
    assert work.due(lapsed + timedelta(days=1), 10) == [item]


def test_due_work_finished_is_gone_and_a_replacement_outlives_the_old_lease(
    backend: Deployed | None,
) -> None:
    work = _due_work(backend)
    item = _due("wave", "C1#2", 0)
    work.schedule(item)
    token = work.claim(item, AT)
    assert token is not None
    work.finish(item, token)
    assert work.due(AT + timedelta(days=1), 10) == []
    assert work.claim(item, AT + timedelta(days=1)) is None  # a late timer finds nothing
    work.schedule(item)
    token = work.claim(item, AT)
    assert token is not None
    later = _due("wave", "C1#2", 15)
    work.schedule(later)  # rescheduled while the old one runs
    work.finish(item, token)
    assert work.claim(item, AT + timedelta(minutes=20)) is None  # not the item as listed
    assert work.due(AT + timedelta(minutes=20), 10) == [later]


# -- claim windows -------------------------------------------------------------------------------


def _windows(deployed: Deployed | None) -> ports.ClaimWindows:
    if deployed is None:
        return MemoryClaimWindows()
    return DynamoClaimWindows(deployed.dynamodb, deployed.outputs["StateTableName"])


def test_claim_window_collects_first_replies_until_it_closes(backend: Deployed | None) -> None:
    windows = _windows(backend)
    closes = AT + timedelta(minutes=10)
    assert windows.register("XYZ123", ANA, AT) is None  # no window: first come
    windows.open("XYZ123", "C1", closes)
    assert windows.register("xyz123", BEN, AT + timedelta(minutes=2)) == closes
    assert windows.register("XYZ123", ANA, AT + timedelta(minutes=1)) == closes
    assert windows.register("XYZ123", BEN, AT + timedelta(minutes=3)) == closes  # kept first
    assert windows.register("XYZ123", "+447700900789", closes) is None  # closed on the minute
    assert windows.close("XYZ123", "C2") == []  # another campaign's close
    replies = [
        ports.WindowReply(ANA, AT + timedelta(minutes=1)),
        ports.WindowReply(BEN, AT + timedelta(minutes=2)),
    ]
    assert windows.close("XYZ123", "C1") == replies
    assert windows.close("XYZ123", "C1") == replies  # a retried close sees the same
    assert windows.register("XYZ123", ANA, AT + timedelta(minutes=4)) is None  # closed early


def test_campaign_store_counts_each_wave_once_in_order(backend: Deployed | None) -> None:
    campaigns, _ = _campaigns_and_ledger(backend)
    campaigns.create(Campaign("w1", "15/08 XYZ123", waves=3, wave_gap_seconds=900))
    assert campaigns.claim_fan_out("w1", "run-1", "Open shifts: XYZ123", AT, 1795900000)
    campaigns.finish_fan_out("w1", "run-1", 4, AT)
    assert campaigns.add_wave("w1", "run-1", 2, 4) is False  # wave 1 first
    assert campaigns.add_wave("w1", "run-1", 1, 0) is True
    assert campaigns.add_wave("w1", "run-1", 1, 0) is False  # a retried wave
    assert campaigns.add_wave("w1", "other-run", 2, 4) is False
    assert campaigns.add_wave("w1", "run-1", 2, 3) is True
    stored = campaigns.get("w1")
    assert stored is not None
    assert (stored.waves, stored.wave_gap_seconds, stored.waves_sent, stored.recipients) == (
        3,
        900,
        2,
        7,
    )


def _text_event(status: str, final: bool, at_ms: int, message_id: str = "m-1") -> str:
    """A text event as End User Messaging publishes it (one part, 0.0395 + 0.0025)."""
    return json.dumps(
        {
            "eventType": f"TEXT_{status}",
            "eventVersion": "1.0",
            "eventTimestamp": at_ms,
            "isFinal": final,
            "messageId": message_id,
            "messageRequestTimestamp": int(AT.timestamp() * 1000),
            "messageStatus": status,
            "context": {"kind": "campaign", "campaign_id": "c1", "run": "r1", "recipient": ANA_FP},
            "totalMessageParts": 1,
            "totalMessagePrice": 0.0395,
            "totalCarrierFee": 0.0025,
        }
    )


def _records(
    backend: Deployed | None, campaigns: ports.CampaignStore, ledger: ports.SendLedger
) -> tuple[ports.SendRecords, ports.DeliveryLedger]:
    """Ana's campaign text settled as sent, and the send records for it."""
    job = SendJob("c1", ANA, "Open shifts: XYZ123", 1795900000, "r1")
    token = ledger.claim(job, AT)
    assert token is not None
    ledger.settle(job, token, SendOutcome.SENT, AT, message_id="m-1")
    if backend is None:
        assert isinstance(campaigns, MemoryCampaigns)
        memory = MemorySendRecords(campaigns)
        memory.mark(SendRecord("c1", "r1", ANA_FP, AT, "sent", message_id="m-1"))
        return memory, memory
    out = backend.outputs
    dynamo = DynamoSendRecords(backend.dynamodb, out["StateTableName"], out["CampaignsTableName"])
    return dynamo, dynamo


def test_send_records_take_each_text_once_and_keep_its_first_final(
    backend: Deployed | None,
) -> None:
    campaigns, ledger = _campaigns_and_ledger(backend)
    _fanned_out(campaigns, "r1")
    records, delivery = _records(backend, campaigns, ledger)
    start = int(AT.timestamp() * 1000)
    events = [
        ("PENDING", False, start + 1000),
        ("DELIVERED", True, start + 3000),
        ("DELIVERED", True, start + 3000),  # twice
        ("PENDING", False, start + 2000),  # late
        ("UNREACHABLE", True, start + 4000),  # another final, later: never taken
    ]
    changes = [delivery.record(parse_event(_text_event(*e))) for e in events]
    assert [(c.applied, c.settled) for c in changes] == [
        (True, False),
        (True, True),
        (False, False),
        (False, False),
        (False, False),
    ]
    cost = Decimal("0.0420")
    campaign = campaigns.get("c1")
    assert campaign is not None
    assert (campaign.delivered, campaign.delivery_failed, campaign.parts) == (1, 0, 1)
    assert campaign.cost_usd == cost
    (marker,) = records.for_campaign("c1", "r1")
    assert (marker.recipient, marker.outcome, marker.delivery_status) == (
        ANA_FP,
        "sent",
        "DELIVERED",
    )
    assert (marker.parts, marker.price_usd, marker.carrier_fee_usd) == (
        1,
        Decimal("0.0395"),
        Decimal("0.0025"),
    )
    (text,) = records.sent_on(AT.date())
    assert (text.campaign_id, text.run, text.message_id, text.sent_at) == ("c1", "r1", "m-1", AT)
    assert records.day_totals(AT.date()) == DayTotals(AT.date(), 1, 1, cost, 1, 0)
    assert records.day_totals(AT.date() + timedelta(days=1)) == DayTotals(
        AT.date() + timedelta(days=1)
    )
