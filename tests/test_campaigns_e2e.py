"""Campaigns through the whole path on the deployed template (moto).

CLI -> campaigns table -> stream record -> campaign handler -> SQS -> sender handler -> SMS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.send_markers import marker_id
from shiftsms.aws.send_queue import SqsSendQueue
from shiftsms.core.campaign_text import SAMPLE_CAMPAIGN_MESSAGE
from shiftsms.core.due import REOFFER, DueItem
from shiftsms.core.models import StaffMember
from shiftsms.core.phone import fingerprint
from shiftsms.errors import SendRejected
from shiftsms.handlers import campaign as campaign_handler
from shiftsms.handlers import due as due_handler
from shiftsms.handlers import sender as sender_handler
from shiftsms.services import campaigns as campaigns_service
from shiftsms.services.due_runner import DueRunner
from shiftsms.settings import DueSettings
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    deliver,
    drain,
    poll_once,
    stream_event,
)
from tests.clitools import invoke
from tests.conftest import ORIGINATION, function_environment
from tests.fakes import RecordingSms

ANA, BEN, CY = "+447700900101", "+447700900102", "+447700900103"
DEE, EVE = "+447700900104", "+447700900105"
TEXT = (
    "Open shifts: 15/08 5h nightshift XYZ123, 18/08 3h dayshift XYZ124. "
    "Reply a code to book, REQUEST for all open shifts, STOP to opt out."
)


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack() as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        deployed.add_shift("XYZ124", "18/08 3h dayshift")
        yield deployed


@pytest.fixture
def sms(stack: CampaignStack, monkeypatch: pytest.MonkeyPatch) -> RecordingSms:
    """A recording SMS sender, with both handlers' ``app()`` built from the deployed env."""
    recording = RecordingSms()
    campaign_app, sender_app = apps(stack, recording)
    monkeypatch.setattr(campaign_handler, "app", lambda: campaign_app)
    monkeypatch.setattr(sender_handler, "app", lambda: sender_app)
    return recording


def run_campaign(record: dict[str, Any]) -> dict[str, Any]:
    from lambdas.campaign import handler

    return handler(stream_event(record), FakeContext(function_name="campaign"))


def run_sender(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from lambdas.sender import handler

    return handler(event, context)


def roster(stack: CampaignStack) -> None:
    """Three recipients, one who takes no campaigns, one who opted out earlier."""
    stack.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"), StaffMember(CY, "Cy"))
    stack.add_staff(StaffMember(DEE, "Dee", campaigns=False))
    stack.add_staff(StaffMember(EVE, "Eve"))
    stack.staff().set_opted_out(EVE, True, datetime(2026, 11, 1, tzinfo=UTC))


def counters(stack: CampaignStack, campaign_id: str) -> dict[str, Any]:
    item = stack.campaign_item(campaign_id)
    return {
        k: (item[k].get("N") or item[k].get("S")) if k in item else None
        for k in ("campaign_status", "recipients", "sent", "failed", "opted_out")
    }


def markers(stack: CampaignStack) -> dict[str, str]:
    """Send markers in the state table: id -> state."""
    items = stack.dynamodb.scan(TableName=stack.outputs["StateTableName"])["Items"]
    return {
        i["id"]["S"]: i["state"]["S"] for i in items if i["id"]["S"].startswith("campaign-send#")
    }


def run_of(stack: CampaignStack, campaign_id: str) -> str:
    """The run id the campaign's fan-out gave its jobs (and their send markers)."""
    return str(stack.campaign_item(campaign_id)["fanout_token"]["S"])


def jobs_on_queue(stack: CampaignStack) -> list[dict[str, Any]]:
    messages = []
    while batch := stack.receive():
        messages.extend(batch)
    return messages


def test_cli_campaign_reaches_each_recipient_once(stack: CampaignStack, sms: RecordingSms) -> None:
    roster(stack)
    created = invoke("campaign", "create", "camp-1", "--shifts", "XYZ123,XYZ124", "--yes")
    assert created.exit_code == 0, created.output
    item = stack.campaign_item("camp-1")
    assert item["campaign_message"] == {"S": SAMPLE_CAMPAIGN_MESSAGE}
    assert item["campaign_status"] == {"S": "new"}
    assert item["shift_ids"] == {"L": [{"S": "XYZ123"}, {"S": "XYZ124"}]}

    before = int(datetime.now(UTC).timestamp())
    assert run_campaign(stack.insert_record("camp-1")) == {"batchItemFailures": []}
    assert counters(stack, "camp-1") == {
        "campaign_status": "sending",
        "recipients": "3",
        "sent": None,
        "failed": None,
        "opted_out": None,
    }

    messages = jobs_on_queue(stack)
    jobs = [json.loads(m["Body"]) for m in messages]
    assert sorted(j["to"] for j in jobs) == [ANA, BEN, CY]
    assert {j["text"] for j in jobs} == {TEXT}
    assert {j["campaign_id"] for j in jobs} == {"camp-1"}
    expires = {j["expires_at"] for j in jobs}
    assert len(expires) == 1
    assert before + 14400 <= expires.pop() <= before + 14400 + 5

    assert deliver(stack, run_sender, messages, FakeContext()) == 0
    assert stack.counts() == 0
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]
    for sent in sms.sent:
        assert sent.body == TEXT
        assert sent.origination == ORIGINATION
        # the campaign run and the recipient's phone fingerprint, never the number
        assert sent.context == {
            "kind": "campaign",
            "campaign_id": "camp-1",
            "run": jobs[0]["run"],
            "recipient": hashlib.sha256(sent.to.encode()).hexdigest()[:20],
        }
        assert sent.ttl_seconds is not None and 14400 - 10 <= sent.ttl_seconds <= 14400
    assert counters(stack, "camp-1") == {
        "campaign_status": "sending",
        "recipients": "3",
        "sent": "3",
        "failed": None,
        "opted_out": None,
    }
    assert set(markers(stack).values()) == {"sent"}
    assert len(markers(stack)) == 3

    shown = invoke("campaign", "show", "camp-1", "--json")
    assert shown.exit_code == 0, shown.output
    summary = json.loads(shown.stdout)
    assert (summary["status"], summary["recipients"], summary["sent"], summary["pending"]) == (
        "done",
        3,
        3,
        0,
    )
    assert [s["shift_id"] for s in summary["shifts"]] == ["XYZ123", "XYZ124"]


def test_redelivered_stream_record_fans_out_once(stack: CampaignStack, sms: RecordingSms) -> None:
    roster(stack)
    assert invoke("campaign", "create", "camp-2", "--shifts", "XYZ123", "--yes").exit_code == 0
    record = stack.insert_record("camp-2")
    assert run_campaign(record) == {"batchItemFailures": []}
    assert run_campaign(record) == {"batchItemFailures": []}
    # A second delivery of the same item under another event id (never a fan-out either).
    assert run_campaign(stack.insert_record("camp-2")) == {"batchItemFailures": []}
    assert stack.counts() == 3
    drain(stack, run_sender, FakeContext())
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]


def test_interrupted_fan_out_resumes_without_double_sends(
    stack: CampaignStack, sms: RecordingSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster(stack)
    assert invoke("campaign", "create", "camp-3", "--shifts", "XYZ124", "--yes").exit_code == 0
    monkeypatch.setattr(campaigns_service, "ENQUEUE_CHUNK", 2)
    real = SqsSendQueue.enqueue
    calls: list[int] = []

    def flaky(self: SqsSendQueue, jobs: Any) -> None:
        calls.append(len(jobs))
        if len(calls) == 2:
            raise RuntimeError("network down after the first chunk")
        real(self, jobs)

    monkeypatch.setattr(SqsSendQueue, "enqueue", flaky)
    record = stack.insert_record("camp-3")
    sequence = record["dynamodb"]["SequenceNumber"]
    assert run_campaign(record) == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    assert counters(stack, "camp-3")["campaign_status"] == "fanning_out"
    assert stack.counts() == 2

    assert stack.campaign_item("camp-3")["fanout_cursor"] == {"S": BEN}

    # Lambda retries the same record: the fan-out resumes after the last chunk queued.
    assert run_campaign(record) == {"batchItemFailures": []}
    assert counters(stack, "camp-3")["campaign_status"] == "sending"
    assert counters(stack, "camp-3")["recipients"] == "3"
    assert stack.counts() == 3
    drain(stack, run_sender, FakeContext())
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]
    assert counters(stack, "camp-3")["sent"] == "3"


def test_redelivered_sqs_messages_send_once(stack: CampaignStack, sms: RecordingSms) -> None:
    roster(stack)
    assert invoke("campaign", "create", "camp-4", "--shifts", "XYZ123", "--yes").exit_code == 0
    run_campaign(stack.insert_record("camp-4"))
    messages = jobs_on_queue(stack)
    event_messages = [dict(m) for m in messages]
    from tests.campaign_support import sqs_event

    event = sqs_event(event_messages, stack.queue_arn())
    assert run_sender(event, FakeContext()) == {"batchItemFailures": []}
    # The same batch again (a Lambda retry, or SQS delivering twice): nothing more is sent.
    assert run_sender(event, FakeContext()) == {"batchItemFailures": []}
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]
    assert counters(stack, "camp-4")["sent"] == "3"


def test_throttling_storm_retries_until_each_recipient_has_one_text(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    staff = [f"+4477009002{i:02d}" for i in range(12)]
    stack.add_staff(*staff)
    assert invoke("campaign", "create", "storm", "--shifts", "XYZ123", "--yes").exit_code == 0
    run_campaign(stack.insert_record("storm"))
    sms.throttle_next = 25
    reported = 0
    for _ in range(20):
        delivered, failed = poll_once(stack, run_sender, FakeContext())
        reported += failed
        if not delivered:
            break
    assert reported == 25  # every throttled send came back as a batch item failure
    assert sms.throttle_next == 0
    assert sorted(s.to for s in sms.sent) == sorted(staff)
    assert stack.counts() == 0
    assert stack.counts(stack.dlq_url()) == 0
    assert counters(stack, "storm")["sent"] == "12"
    assert set(markers(stack).values()) == {"sent"}


def test_opted_out_staff_recorded_and_not_retried(stack: CampaignStack, sms: RecordingSms) -> None:
    roster(stack)
    sms.opted_out = {BEN}
    assert invoke("campaign", "create", "camp-5", "--shifts", "XYZ123", "--yes").exit_code == 0
    run_campaign(stack.insert_record("camp-5"))
    delivered, failed = poll_once(stack, run_sender, FakeContext())
    assert (delivered, failed) == (3, 0)
    assert stack.counts() == 0
    assert sorted(s.to for s in sms.sent) == [ANA, CY]
    assert counters(stack, "camp-5") == {
        "campaign_status": "sending",
        "recipients": "3",
        "sent": "2",
        "failed": None,
        "opted_out": "1",
    }
    assert markers(stack)[marker_id("camp-5", BEN, run_of(stack, "camp-5"))] == "opted_out"
    member = stack.staff().get(BEN)
    assert member is not None and member.opted_out
    assert BEN not in [m.phone for m in stack.staff().recipients()]


def test_rejected_send_is_recorded_as_failed(stack: CampaignStack, monkeypatch: Any) -> None:
    class Rejecting(RecordingSms):
        def send(self, to: str, body: str, origination: str, **kw: Any) -> str:
            if to == CY:
                raise SendRejected("ValidationException: destination not allowed")
            return super().send(to, body, origination, **kw)

    sms = Rejecting()
    campaign_app, sender_app = apps(stack, sms)
    monkeypatch.setattr(campaign_handler, "app", lambda: campaign_app)
    monkeypatch.setattr(sender_handler, "app", lambda: sender_app)
    roster(stack)
    assert invoke("campaign", "create", "camp-6", "--shifts", "XYZ123", "--yes").exit_code == 0
    run_campaign(stack.insert_record("camp-6"))
    assert poll_once(stack, run_sender, FakeContext()) == (3, 0)
    assert sorted(s.to for s in sms.sent) == [ANA, BEN]
    assert counters(stack, "camp-6")["failed"] == "1"
    assert markers(stack)[marker_id("camp-6", CY, run_of(stack, "camp-6"))] == "failed"


def test_empty_roster_sends_nothing(stack: CampaignStack, sms: RecordingSms) -> None:
    created = invoke("campaign", "create", "camp-7", "--shifts", "XYZ123", "--yes")
    assert created.exit_code == 0
    assert "nobody on the allow list receives campaigns" in created.stderr
    assert run_campaign(stack.insert_record("camp-7")) == {"batchItemFailures": []}
    assert stack.counts() == 0
    assert sms.sent == []
    assert counters(stack, "camp-7")["recipients"] == "0"
    shown = json.loads(invoke("campaign", "show", "camp-7", "--json").stdout)
    assert (shown["status"], shown["recipients"], shown["pending"]) == ("done", 0, 0)


def test_console_item_with_only_the_sample_attributes_still_sends(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    roster(stack)
    stack.dynamodb.put_item(
        TableName=stack.outputs["CampaignsTableName"],
        Item={
            "campaign_id": {"S": "campaign_id1"},
            "campaign_message": {"S": SAMPLE_CAMPAIGN_MESSAGE},
        },
    )
    assert run_campaign(stack.insert_record("campaign_id1")) == {"batchItemFailures": []}
    drain(stack, run_sender, FakeContext())
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]
    assert {s.body for s in sms.sent} == {TEXT}
    shown = json.loads(invoke("campaign", "show", "campaign_id1", "--json").stdout)
    assert shown["status"] == "done"
    assert [s["shift_id"] for s in shown["shifts"]] == ["XYZ123", "XYZ124"]


def test_the_text_approved_at_create_is_the_text_sent(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    roster(stack)
    created = invoke("campaign", "create", "camp-t", "--shifts", "XYZ123,XYZ124", "--yes")
    assert created.exit_code == 0, created.output
    assert f"Text:       {TEXT}" in created.stdout.splitlines()
    assert stack.campaign_item("camp-t")["sms_text"] == {"S": TEXT}
    # Stored with the item, the approved text wins over re-composing the message.
    stack.dynamodb.put_item(
        TableName=stack.outputs["CampaignsTableName"],
        Item={
            "campaign_id": {"S": "camp-u"},
            "campaign_message": {"S": SAMPLE_CAMPAIGN_MESSAGE},
            "sms_text": {"S": "Approved: XYZ123 tonight. Reply XYZ123 to book."},
        },
    )
    assert run_campaign(stack.insert_record("camp-t")) == {"batchItemFailures": []}
    assert run_campaign(stack.insert_record("camp-u")) == {"batchItemFailures": []}
    drain(stack, run_sender, FakeContext())
    bodies = sorted((s.context or {}).get("campaign_id", "") + ": " + s.body for s in sms.sent)
    assert bodies == [
        *[f"camp-t: {TEXT}"] * 3,
        *["camp-u: Approved: XYZ123 tonight. Reply XYZ123 to book."] * 3,
    ]


def test_console_item_without_a_message_is_rejected(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    roster(stack)
    stack.dynamodb.put_item(
        TableName=stack.outputs["CampaignsTableName"], Item={"campaign_id": {"S": "empty"}}
    )
    assert run_campaign(stack.insert_record("empty")) == {"batchItemFailures": []}
    assert stack.counts() == 0
    assert counters(stack, "empty")["campaign_status"] == "rejected"


def test_modify_and_remove_records_are_ignored(stack: CampaignStack, sms: RecordingSms) -> None:
    roster(stack)
    assert invoke("campaign", "create", "camp-8", "--shifts", "XYZ123", "--yes").exit_code == 0
    record = stack.insert_record("camp-8")
    record["eventName"] = "MODIFY"
    assert run_campaign(record) == {"batchItemFailures": []}
    assert stack.counts() == 0
    assert counters(stack, "camp-8")["campaign_status"] == "new"


def test_poison_job_ends_in_the_dlq(stack: CampaignStack, sms: RecordingSms) -> None:
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{not a job")
    failures = 0
    for _ in range(12):
        delivered, failed = poll_once(stack, run_sender, FakeContext())
        failures += failed
        if not delivered:
            break
    assert failures == 8  # the queue's maxReceiveCount
    assert stack.counts() == 0
    dead = stack.sqs.receive_message(QueueUrl=stack.dlq_url())["Messages"]
    assert [m["Body"] for m in dead] == ["{not a job"]
    assert sms.sent == []


def test_no_send_slot_before_the_deadline_retries_the_job(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    roster(stack)
    assert invoke("campaign", "create", "camp-10", "--shifts", "XYZ123", "--yes").exit_code == 0
    run_campaign(stack.insert_record("camp-10"))
    # Almost no time left in the invocation: nothing is claimed, everything is retried.
    assert poll_once(stack, run_sender, FakeContext(remaining_ms=1000)) == (3, 3)
    assert sms.sent == []
    assert markers(stack) == {}
    drain(stack, run_sender, FakeContext())
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]


def test_a_shift_given_back_is_re_offered_through_its_campaign_once(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    roster(stack)
    assert (
        invoke("campaign", "create", "camp-r", "--shifts", "XYZ123,XYZ124", "--yes").exit_code == 0
    )
    run_campaign(stack.insert_record("camp-r"))
    drain(stack, run_sender, FakeContext())
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]

    # XYZ123 was booked by Ana and given back with nobody waiting: the re-offer is due.
    now = datetime.now(UTC)
    settings = DueSettings.from_env(function_environment(stack.outputs["DueFunctionName"]))
    due = DynamoDueWork(stack.dynamodb, settings.state_table)
    due.schedule(DueItem(REOFFER, "XYZ123", now, {"not_to": fingerprint(ANA)}))
    runner = DueRunner(due, due_handler.handlers(settings, stack.dynamodb))
    assert runner.run(now).ran == [f"{REOFFER}:XYZ123"]
    assert runner.run(now).ran == []  # once
    drain(stack, run_sender, FakeContext())

    reoffers = sms.sent[3:]
    assert sorted(s.to for s in reoffers) == [BEN, CY]
    for sent in reoffers:
        assert sent.body == (
            "Open shifts: 15/08 5h nightshift XYZ123. Reply a code to book, REQUEST for all "
            "open shifts, STOP to opt out."
        )
        assert sent.context is not None
        assert sent.context["reoffer"] == f"XYZ123@{int(now.timestamp())}"
    shown = json.loads(invoke("campaign", "show", "camp-r", "--json").stdout)
    assert (shown["recipients"], shown["sent"], shown["reoffered"]) == (3, 3, 2)
    assert "Re-offered: 2 texts (shifts given back, open again)" in (
        invoke("campaign", "show", "camp-r").stdout
    )
    assert len(markers(stack)) == 5
