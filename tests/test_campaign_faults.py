"""Campaign faults reproduced deterministically: a sender that dies, a reused id, an oversized
text, a bad console item, dead letters, and a roster that changes after the fan-out.

A sender "dies" at a chosen point by raising :class:`Died` (a BaseException, as the end of a
process is to the code) with the claim's release switched off, since a dead process runs no
cleanup. Time is a fake clock handed to the sender, never a sleep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shiftsms.aws.send_markers import DynamoSendLedger
from shiftsms.core.campaign_text import campaign_text
from shiftsms.core.models import StaffMember
from shiftsms.handlers.campaign import CampaignApp
from shiftsms.handlers.sender import SenderApp
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    campaign_stack,
    deliver,
    drain,
    sqs_event,
    stream_event,
)
from tests.clitools import invoke, table_rows
from tests.fakes import RecordingSms

ANA, BEN, CY = "+447700900101", "+447700900102", "+447700900103"
T0 = datetime.now(UTC).timestamp()
# The send queue's visibility timeout: when a job held by a dead invocation comes back.
REDELIVERY = 360
TEXT = campaign_text("15/08 5h nightshift XYZ123")


class Died(BaseException):
    """The sender's process ended here."""


class FreeSlots:
    """A rate limiter with a send time always free (the pace is not under test here)."""

    def acquire(self, deadline: float | None = None) -> bool:
        return True


class DiesWaitingForASlot:
    """A rate limiter whose invocation dies while waiting for its send time."""

    def acquire(self, deadline: float | None = None) -> bool:
        raise Died


class DiesSending(RecordingSms):
    """End User Messaging, reached by an invocation that dies before it hears back."""

    def send(self, *args: Any, **kwargs: Any) -> str:
        raise Died


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack() as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        yield deployed


def sender(stack: CampaignStack, sms: RecordingSms, at: float, limiter: Any = None) -> SenderApp:
    return SenderApp(
        stack.sender_settings(), sms=sms, limiter=limiter or FreeSlots(), now=lambda: at
    )


def create_and_fan_out(stack: CampaignStack, campaign_id: str) -> None:
    created = invoke("campaign", "create", campaign_id, "--shifts", "XYZ123", "--yes")
    assert created.exit_code == 0, created.output
    fan_out = CampaignApp(stack.campaign_settings()).handle
    assert fan_out(stream_event(stack.insert_record(campaign_id)), None) == {
        "batchItemFailures": []
    }


def show(campaign_id: str) -> dict[str, Any]:
    shown = invoke("campaign", "show", campaign_id, "--json")
    assert shown.exit_code == 0, shown.output
    return dict(json.loads(shown.stdout))


def die_once(stack: CampaignStack, app: SenderApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliver the one queued job to ``app``, which dies; the job comes back later."""
    (message,) = stack.receive()
    with monkeypatch.context() as patched:
        patched.setattr(DynamoSendLedger, "release", lambda *a, **k: None)
        with pytest.raises(Died):
            app.handle(sqs_event([message], stack.queue_arn()), FakeContext())
    stack.sqs.change_message_visibility(
        QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def test_a_claim_left_by_a_dead_sender_is_recovered_and_sent_once(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.add_staff(ANA, BEN)
    create_and_fan_out(stack, "c-dead")
    messages = stack.receive()
    assert len(messages) == 2
    # The invocation claims both jobs and dies waiting for its first send time.
    with monkeypatch.context() as patched:
        patched.setattr(DynamoSendLedger, "release", lambda *a, **k: None)
        dying = sender(stack, RecordingSms(), T0, DiesWaitingForASlot())
        with pytest.raises(Died):
            dying.handle(sqs_event(messages[:1], stack.queue_arn()), FakeContext())
    assert show("c-dead")["pending"] == 2
    # After the visibility timeout both jobs come back (the second was never started).
    sms = RecordingSms()
    assert deliver(stack, sender(stack, sms, T0 + REDELIVERY).handle, messages, FakeContext()) == 0
    assert sorted(s.to for s in sms.sent) == [ANA, BEN]
    assert {s.body for s in sms.sent} == {TEXT}
    # A later duplicate of either job sends nothing more.
    again = RecordingSms()
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=messages[0]["Body"])
    assert drain(stack, sender(stack, again, T0 + REDELIVERY + 10).handle, FakeContext()) == 1
    assert again.sent == []
    summary = show("c-dead")
    assert (summary["status"], summary["sent"], summary["failed"], summary["pending"]) == (
        "done",
        2,
        0,
        0,
    )


def test_the_stacks_claim_timeout_is_the_age_at_which_a_dead_senders_claim_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with campaign_stack({"SendClaimTimeoutSeconds": "30"}) as short:
        short.add_shift("XYZ123", "15/08 5h nightshift")
        short.add_staff(ANA)
        assert short.sender_settings().send_claim_timeout_seconds == 30
        create_and_fan_out(short, "c-short")
        (message,) = short.receive()
        with monkeypatch.context() as patched:
            patched.setattr(DynamoSendLedger, "release", lambda *a, **k: None)
            dying = sender(short, RecordingSms(), T0, DiesWaitingForASlot())
            with pytest.raises(Died):
                dying.handle(sqs_event([message], short.queue_arn()), FakeContext())
        # A job back before the claim is 30 s old finds it held: nothing is sent...
        early = RecordingSms()
        assert deliver(short, sender(short, early, T0 + 29).handle, [message], FakeContext()) == 0
        assert early.sent == []
        # ...and once it is older, the job's next delivery sends it, once.
        sms = RecordingSms()
        short.sqs.send_message(QueueUrl=short.queue_url, MessageBody=message["Body"])
        assert drain(short, sender(short, sms, T0 + 31).handle, FakeContext()) == 1
        assert [s.to for s in sms.sent] == [ANA]
        assert show("c-short")["sent"] == 1


def test_a_send_cut_off_mid_way_is_not_resent_and_is_accounted_for(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.add_staff(ANA)
    create_and_fan_out(stack, "c-cut")
    (message,) = stack.receive()
    with monkeypatch.context() as patched:
        patched.setattr(DynamoSendLedger, "release", lambda *a, **k: None)
        with pytest.raises(Died):
            sender(stack, DiesSending(), T0).handle(
                sqs_event([message], stack.queue_arn()), FakeContext()
            )
    sms = RecordingSms()
    assert deliver(stack, sender(stack, sms, T0 + REDELIVERY).handle, [message], FakeContext()) == 0
    assert sms.sent == []  # it may have arrived: never a second text
    summary = show("c-cut")
    assert (summary["status"], summary["sent"], summary["failed"], summary["pending"]) == (
        "done",
        0,
        1,
        0,
    )
    shown = invoke("campaign", "show", "c-cut")
    assert (
        "Recipients: 1 (sent 0, failed 1, opted out 0, skipped 0, dead-lettered 0, pending 0)"
        in shown.stdout
    )


def test_a_campaign_id_reused_after_its_item_was_deleted_starts_clean(
    stack: CampaignStack,
) -> None:
    stack.add_staff(ANA)
    sms = RecordingSms()
    create_and_fan_out(stack, "c-again")
    drain(stack, sender(stack, sms, T0).handle, FakeContext())
    stack.dynamodb.delete_item(
        TableName=stack.outputs["CampaignsTableName"], Key={"campaign_id": {"S": "c-again"}}
    )
    create_and_fan_out(stack, "c-again")
    drain(stack, sender(stack, sms, T0 + 60).handle, FakeContext())
    assert [s.to for s in sms.sent] == [ANA, ANA]
    summary = show("c-again")
    assert (summary["status"], summary["sent"], summary["pending"]) == ("done", 1, 0)


OVERSIZED = "XYZ123 nuit à l'hôpital " + "é" * 650


def test_an_oversized_text_is_refused_at_create(stack: CampaignStack) -> None:
    stack.add_staff(ANA)
    result = invoke("campaign", "create", "c-big", "--message", OVERSIZED, "--yes")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "send job" in line and "4096" in line
    assert stack.counts() == 0
    listed = invoke("campaign", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_an_oversized_console_item_is_rejected_with_its_reason(stack: CampaignStack) -> None:
    stack.add_staff(ANA)
    stack.dynamodb.put_item(
        TableName=stack.outputs["CampaignsTableName"],
        Item={"campaign_id": {"S": "c-typed"}, "campaign_message": {"S": OVERSIZED}},
    )
    fan_out = CampaignApp(stack.campaign_settings()).handle
    assert fan_out(stream_event(stack.insert_record("c-typed")), None) == {"batchItemFailures": []}
    assert stack.counts() == 0
    summary = show("c-typed")
    assert summary["status"] == "rejected"
    assert "send job" in summary["reason"]


def test_a_malformed_console_item_never_breaks_the_listing(stack: CampaignStack) -> None:
    stack.add_staff(ANA)
    create_and_fan_out(stack, "c-good")
    stack.dynamodb.put_item(
        TableName=stack.outputs["CampaignsTableName"],
        Item={
            "campaign_id": {"S": "c-typed"},
            "campaign_message": {"S": "15/08 XYZ123"},
            "campaign_status": {"S": "Sending"},
            "sent": {"S": "lots"},
        },
    )
    listed = invoke("campaign", "list")
    assert listed.exit_code == 0, listed.output
    header, *body = table_rows(listed.stdout)
    rows = {r[0]: r for r in body}
    assert set(rows) == {"c-good", "c-typed"}
    assert header[4] == "Sent"
    assert rows["c-typed"][1:2] == ["sending"]
    assert rows["c-typed"][4] == "0"
    assert listed.stderr.splitlines() == [
        "Warning: campaign c-typed: sent is not a number ('lots'): shown as unknown"
    ]
    shown = invoke("campaign", "show", "c-typed")
    assert shown.exit_code == 0, shown.output


def test_campaign_show_counts_the_dead_letters(stack: CampaignStack) -> None:
    stack.add_staff(ANA)
    create_and_fan_out(stack, "c-dlq")
    before = invoke("campaign", "show", "c-dlq")
    assert "Dead-lettered: 0 send jobs in the send DLQ (all campaigns)" in before.stdout
    stack.sqs.send_message(QueueUrl=stack.outputs["SendDlqUrl"], MessageBody="{not a job")
    after = invoke("campaign", "show", "c-dlq")
    assert "Dead-lettered: 1 send job in the send DLQ (all campaigns)" in after.stdout
    assert show("c-dlq")["send_dlq_depth"] == 1


def test_staff_removed_or_opted_out_after_the_fan_out_are_not_texted(
    stack: CampaignStack,
) -> None:
    stack.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"), StaffMember(CY, "Cy"))
    create_and_fan_out(stack, "c-late")
    stack.staff().delete(BEN)
    stack.staff().set_opted_out(CY, True, datetime.fromtimestamp(T0, UTC))
    sms = RecordingSms()
    drain(stack, sender(stack, sms, T0).handle, FakeContext())
    assert [s.to for s in sms.sent] == [ANA]
    summary = show("c-late")
    assert (summary["status"], summary["sent"], summary["skipped"], summary["pending"]) == (
        "done",
        1,
        2,
        0,
    )
