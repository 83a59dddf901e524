"""Fault injection: each "must hold" of issue 9, its interleaving or crash reproduced on purpose.

Every test here makes one thing go wrong at a chosen moment and asserts what the holder, the
recipient or the operator ends up seeing. A process "dies" by raising :class:`Died` (a
BaseException, as the end of a process is to the code) with its cleanup switched off, since a
dead process runs none; a concurrent writer acts from a hook between a read and a write; a
retry is the same event delivered again; time is a fake clock. Never a sleep.

Kept elsewhere, with the reason:
- the sandbox killed with SIGKILL right after a confirmed booking and a half-sent campaign, and
  a second ``local up`` on a folder in use (``tests/test_local_sandbox.py``, marked ``slow``: each
  starts a sandbox process of its own);
- real concurrency, many invocations at once against a threaded moto server
  (``tests/test_booking_race.py``, ``tests/test_booking_rules_race.py``): races, not one
  interleaving chosen;
- the bounds on ``AGENT`` call-backs and on unknown senders' writes
  (``tests/test_inbound_handler.py``): each deploys a stack with its own parameters.

The whole module shares one stack (the template in moto, tables emptied per test).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import typer
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from shiftsms.aws.send_markers import DynamoSendLedger
from shiftsms.aws.send_queue import SqsDeadLetters
from shiftsms.aws.send_rate import DynamoSendRateLimiter
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import POOL_ATTR
from shiftsms.core.campaign_text import campaign_text
from shiftsms.core.models import Shift, StaffEdit, StaffMember
from shiftsms.deploy import deployer
from shiftsms.errors import SendRejected
from shiftsms.handlers.campaign import CampaignApp
from shiftsms.handlers.inbound import InboundApp
from shiftsms.handlers.sender import SenderApp
from shiftsms.settings import InboundSettings
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    campaign_stack,
    deliver,
    disable_emulated_mappings,
    drain,
    sqs_event,
    stream_event,
)
from tests.clitools import invoke, table_rows
from tests.conftest import (
    ORIGINATION,
    REGION,
    Deployed,
    deliver_shift_keys,
    function_environment,
    shared_stack,
    sns_event,
)
from tests.fakes import RecordingSms
from tests.reply_support import send_queued_replies
from tests.test_cli_shifts import BOB, LATER, book, seed_shifts, sms, stored
from tests.test_cli_shifts import table as shifts_table
from tests.test_inbound_handler import ANA, BEN, NOON, Harness, InvocationDied, _harness
from tests.test_send_rate import START, FakeClock, limiters
from tests.test_staff_table import (
    AT,
    PHONE,
    OptOutBetweenReadAndWrite,
    raw,
    recipient_phones,
)
from tests.test_staff_table import table as staff_table

__all__ = ["sms"]  # the fixture: End User Messaging as the CLI sees it, every request pinned

CY = "+447700900789"
T0 = datetime.now(UTC).timestamp()
# The send queue's visibility timeout: when a job held by a dead invocation comes back.
REDELIVERY = 360
TEXT = campaign_text("15/08 5h nightshift XYZ123")
# One stack for the whole module: replies share the number's real send schedule on a fast
# number, so tests never wait; the tests deliver queue messages and stream records themselves.
PARAMETERS = {"SendRatePerSecond": "1000"}


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    """The module's stack, every table and queue empty."""
    with shared_stack(PARAMETERS, prepare=disable_emulated_mappings) as info:
        yield Deployed(info=info, dynamodb=boto3.client("dynamodb", region_name=REGION))


@pytest.fixture
def h(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Harness:
    """The real inbound handler on the module's stack; Ana and Ben on the allow list."""
    harness = _harness(deployed, monkeypatch)
    harness.add_staff(ANA, "Ana")
    harness.add_staff(BEN, "Ben")
    return harness


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    """The module's stack for the campaign path, with one open shift (XYZ123)."""
    with campaign_stack(PARAMETERS) as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        yield deployed


# -- every state change is conditional on the state it was decided from ------------------------

# A retried SMS command has its original effect or none, never a later one undone.


def test_a_booking_retried_after_a_drop_does_not_book_again(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.die_before_replying()
    booking = h.event(h.message(ANA, "XYZ123", "m-book-first"))
    with pytest.raises(InvocationDied):
        h.redeliver(booking)
    h.text(ANA, "DROP XYZ123")
    assert h.sms.to(ANA) == ["Released: XYZ123."]
    h.redeliver(booking)  # the throttled booking, retried after the DROP
    item = h.shift("XYZ123")
    assert item["shift_status"] == "available"
    assert "employee" not in item
    assert h.sms.to(ANA)[-1] == (
        "No longer available: XYZ123. Reply WAIT XYZ123 to join its waitlist."
    )


def test_an_old_drop_retried_after_booking_again_keeps_the_new_booking(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.text(ANA, "XYZ123", message_id="m-book-1")
    h.die_before_replying()
    drop = h.event(h.message(ANA, "DROP XYZ123", "m-drop-1"))
    with pytest.raises(InvocationDied):
        h.redeliver(drop)
    h.text(ANA, "XYZ123", message_id="m-book-2")
    h.redeliver(drop)  # the throttled DROP, retried after the new booking
    item = h.shift("XYZ123")
    assert (item["shift_status"], item["employee"], item["booking_ref"]) == (
        "taken",
        ANA,
        "m-book-2",
    )
    assert h.sms.to(ANA) == [
        "Booked: XYZ123. Thank you!",
        "Booked: XYZ123. Thank you!",
        # the DROP's reply, at last, says what stands: the new booking
        "Still yours (booked again since): XYZ123.",
    ]


# `shifts release/remove` refuse when the shift changed since it was read (or shown).


def rebook_after_read(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, shift_id: str, to: str
) -> None:
    """Between the command's read of ``shift_id`` and its write, the holder drops it and
    ``to`` books it (five minutes later)."""
    real_get = ShiftsTable.get

    def get(self: ShiftsTable, wanted: str) -> Shift | None:
        seen = real_get(self, wanted)
        monkeypatch.setattr(ShiftsTable, "get", real_get)
        shifts_table(deployed).release(wanted)
        book(deployed, wanted, to, ref="m-2", at=LATER)
        return seen

    monkeypatch.setattr(ShiftsTable, "get", get)


def test_release_refuses_a_shift_rebooked_after_it_was_read(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)
    rebook_after_read(deployed, monkeypatch, "B2", BOB)
    result = invoke("shifts", "release", "B2")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: shift B2 changed since it was read: it is now taken by {BOB} "
        "(booked at 2026-11-28T10:05:00+00:00); nothing was released\n"
    )
    item = stored(deployed)["B2"]
    assert (item["shift_status"], item["employee"], item["booking_ref"]) == ("taken", BOB, "m-2")


def test_release_refuses_when_the_same_holder_booked_it_again(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)
    rebook_after_read(deployed, monkeypatch, "B2", ANA)
    result = invoke("shifts", "release", "B2")
    assert result.exit_code == 1
    assert "it is now taken by " + ANA + " (booked at 2026-11-28T10:05:00" in result.stderr
    assert stored(deployed)["B2"]["booking_ref"] == "m-2"


def test_remove_refuses_a_shift_booked_while_it_waited_for_confirmation(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)

    def confirm_after_bob_books(prompt: str, **_: Any) -> bool:
        assert prompt == "Remove shift A1 (14/08 night)?"
        book(deployed, "A1", BOB, ref="m-2", at=LATER)
        return True

    monkeypatch.setattr(typer, "confirm", confirm_after_bob_books)
    result = invoke("shifts", "remove", "A1")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: shift A1 changed since it was read: it is now taken by {BOB} "
        "(booked at 2026-11-28T10:05:00+00:00); nothing was removed\n"
    )
    assert stored(deployed)["A1"]["employee"] == BOB


def test_remove_refuses_a_booking_that_changed_hands_while_it_waited(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)

    def confirm_after_a_new_holder(prompt: str, **_: Any) -> bool:
        shifts_table(deployed).release("B2")
        book(deployed, "B2", BOB, ref="m-2", at=LATER)
        return True

    monkeypatch.setattr(typer, "confirm", confirm_after_a_new_holder)
    result = invoke("shifts", "remove", "B2")
    assert result.exit_code == 1
    assert f"it is now taken by {BOB}" in result.stderr
    assert stored(deployed)["B2"]["employee"] == BOB


def test_remove_refuses_a_shift_whose_info_changed_while_it_waited(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)

    def confirm_after_new_info(prompt: str, **_: Any) -> bool:
        shifts_table(deployed).set_info("A1", "14/08 night, ward 9")
        return True

    monkeypatch.setattr(typer, "confirm", confirm_after_new_info)
    result = invoke("shifts", "remove", "A1")
    assert result.exit_code == 1
    assert result.stderr == (
        'Error: shift A1 changed since it was read: its info is now "14/08 night, ward 9"; '
        "nothing was removed\n"
    )
    assert stored(deployed)["A1"]["shift_info"] == "14/08 night, ward 9"


def test_remove_with_yes_refuses_a_shift_rebooked_after_it_was_read(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)
    rebook_after_read(deployed, monkeypatch, "B2", BOB)
    result = invoke("shifts", "remove", "B2", "--yes")
    assert result.exit_code == 1
    assert result.stderr.endswith("; nothing was removed\n")
    assert stored(deployed)["B2"]["employee"] == BOB


# -- every recipient of a campaign is texted once or accounted for -----------------------------


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


def test_campaign_show_counts_the_dead_letters(stack: CampaignStack) -> None:
    stack.add_staff(ANA)
    create_and_fan_out(stack, "c-dlq")
    before = invoke("campaign", "show", "c-dlq")
    assert "Dead-lettered: 0 send jobs in the send DLQ (all campaigns)" in before.stdout
    stack.sqs.send_message(QueueUrl=stack.outputs["SendDlqUrl"], MessageBody="{not a job")
    after = invoke("campaign", "show", "c-dlq")
    assert "Dead-lettered: 1 send job in the send DLQ (all campaigns)" in after.stdout
    assert show("c-dlq")["send_dlq_depth"] == 1


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


# -- replies are never starved: retried from a durable place, failures shown -------------------


# A reply books the number's next send time ahead of campaign texts waiting for theirs.
def test_replies_book_ahead_and_campaign_texts_wait_behind_them(deployed: Deployed) -> None:
    clock = FakeClock()
    (campaign,) = limiters(deployed, 2, clock, 1)
    waited: list[float] = []
    # Replies in other invocations: they wait for their times without moving this clock.
    reply = DynamoSendRateLimiter(
        deployed.dynamodb,
        deployed.outputs["StateTableName"],
        2,
        clock=clock,
        sleep=waited.append,
    )
    assert campaign.acquire()  # START; next free: START + 0.5
    clock.now += 0.1
    assert reply.acquire_reply(deadline=START + 5)
    assert reply.acquire_reply(deadline=START + 5)
    assert waited == pytest.approx([0.4, 0.9])  # START + 0.5 and START + 1.0
    # No time before the deadline: nothing booked.
    assert not reply.acquire_reply(deadline=START + 1.2)
    assert campaign.acquire()
    assert clock() == pytest.approx(START + 1.5)
    item = deployed.dynamodb.get_item(
        TableName=deployed.outputs["StateTableName"], Key={"id": {"S": "send-rate"}}
    )["Item"]
    assert int(item["next_at"]["N"]) == int(START * 1_000_000) + 4 * 500_000


def test_throttled_reply_is_sent_from_the_reply_queue_without_a_second_booking(
    h: Harness,
) -> None:
    h.add_shift("XYZ123")
    h.sms.throttle_next = 1
    message = h.message(ANA, "XYZ123", "m-throttled")
    assert h.deliver(message) == {"handled": 1, "dropped": 0}  # queued: nothing to retry
    booked = h.shift("XYZ123")
    assert booked["employee"] == ANA
    assert h.sms.sent == []
    h.at(NOON + timedelta(minutes=1))
    assert h.deliver(message) == {"handled": 1, "dropped": 0}
    assert send_queued_replies(h.deployed.outputs, h.sms) == 1
    assert h.sms.to(ANA) == ["Booked: XYZ123. Thank you!"]  # not "already yours"
    assert h.shift("XYZ123") == booked  # not written again
    h.deliver(message)
    assert send_queued_replies(h.deployed.outputs, h.sms) == 0
    assert h.sms.to(ANA) == ["Booked: XYZ123. Thank you!"]


BOOKED = "Booked: XYZ123. Thank you!"


@pytest.fixture
def outputs(deployed: Deployed) -> dict[str, str]:
    """The module's stack's outputs, with Ana on the allow list and XYZ123 open."""
    from shiftsms.aws.staff_table import StaffTable

    StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"]).put(StaffMember(ANA, "Ana"))
    deployed.dynamodb.put_item(
        TableName=deployed.outputs["ShiftsTableName"],
        Item={"shift_id": {"S": "XYZ123"}, "shift_status": {"S": "available"}},
    )
    return deployed.outputs


def inbound(outputs: dict[str, str], sms: Any) -> InboundApp:
    env = function_environment(outputs["InboundFunctionName"])
    return InboundApp(InboundSettings.from_env(env), sms=sms)


def message(body: str, message_id: str) -> dict[str, str]:
    return {
        "originationNumber": ANA,
        "destinationNumber": ORIGINATION,
        "messageBody": body,
        "inboundMessageId": message_id,
    }


def lambda_tries(app: InboundApp, event: dict[str, Any]) -> None:
    """An asynchronous invocation and Lambda's two retries, as far as each gets."""
    for _ in range(3):
        try:
            app.handle(event, None)
            return
        except Exception:
            continue


def shift(outputs: dict[str, str]) -> dict[str, Any]:
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=outputs["ShiftsTableName"], Key={"shift_id": {"S": "XYZ123"}}
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_a_reply_throttled_on_every_try_is_sent_from_the_reply_queue(
    outputs: dict[str, str],
) -> None:
    sms = RecordingSms(throttle_next=3)  # every one of Lambda's tries
    app = inbound(outputs, sms)
    lambda_tries(app, sns_event(message("XYZ123", "m-1")))
    assert shift(outputs)["employee"] == ANA
    assert sms.to(ANA) == []
    assert send_queued_replies(outputs, sms) == 0  # still throttled: tried again later
    assert send_queued_replies(outputs, sms) == 0
    assert send_queued_replies(outputs, sms) == 1
    assert sms.to(ANA) == [BOOKED]
    # A repeated inbound event and a repeated queue delivery send nothing more.
    app.handle(sns_event(message("XYZ123", "m-1")), None)
    assert send_queued_replies(outputs, sms) == 0
    assert sms.to(ANA) == [BOOKED]
    assert shift(outputs)["employee"] == ANA


def test_a_reply_is_queued_once_however_often_its_message_is_retried(
    outputs: dict[str, str],
) -> None:
    sms = RecordingSms(throttle_next=1)
    app = inbound(outputs, sms)
    event = sns_event(message("XYZ123", "m-2"))
    app.handle(event, None)
    # Lambda retries the event although the first try finished (a lost acknowledgement):
    # the idempotency record is gone, the reply marker is not.
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=outputs["StateTableName"],
        Key={"id": {"S": next(iter(_idempotency_keys(outputs)))}},
    )
    app.handle(event, None)
    assert send_queued_replies(outputs, sms) == 1
    assert sms.to(ANA) == [BOOKED]


def _idempotency_keys(outputs: dict[str, str]) -> list[str]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=outputs["StateTableName"])[
        "Items"
    ]
    keys = [i["id"]["S"] for i in items if not i["id"]["S"].startswith(("reply#", "send-rate"))]
    assert len(keys) == 1, keys
    return keys


def test_a_reply_that_fails_on_every_try_lands_in_the_reply_dlq(outputs: dict[str, str]) -> None:
    sms = RecordingSms(throttle_next=100)
    lambda_tries(inbound(outputs, sms), sns_event(message("XYZ123", "m-3")))
    sqs = boto3.client("sqs", region_name=REGION)
    dead = SqsDeadLetters(sqs, outputs["ReplyDlqUrl"])
    for _ in range(6):  # the queue's maxReceiveCount
        assert send_queued_replies(outputs, sms) == 0
    assert dead.depth() == 0
    assert send_queued_replies(outputs, sms) == 0  # the 7th receive moves it on
    assert dead.depth() == 1
    assert sms.to(ANA) == []
    assert shift(outputs)["employee"] == ANA  # the booking stands


class _RefusingSms(RecordingSms):
    """Refuses (for good) the reply to the first text it is asked to send, as End User
    Messaging does a text over MaxPrice; sends the rest."""

    refused: int = 0

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        if not self.refused:
            self.refused += 1
            raise SendRejected("ValidationException: PRICE_OVER_THRESHOLD")
        return super().send(to, body, origination, context=context, ttl_seconds=ttl_seconds)


def test_replies_that_failed_for_good_are_counted_in_status(outputs: dict[str, str]) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    # One reply throttled on every try from the reply queue: it ends in the reply DLQ.
    throttled = RecordingSms(throttle_next=100)
    lambda_tries(inbound(outputs, throttled), sns_event(message("XYZ123", "m-1")))
    for _ in range(7):  # the queue's maxReceiveCount, then the receive that moves it on
        assert send_queued_replies(outputs, throttled) == 0
    # One refused for good when it was first sent: marked rejected, never queued.
    refusing = _RefusingSms()
    inbound(outputs, refusing).handle(sns_event(message("REQUEST", "m-2")), None)
    assert send_queued_replies(outputs, refusing) == 0
    assert throttled.to(ANA) == refusing.to(ANA) == []

    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    replies = json.loads(result.stdout)["replies"]
    last = datetime.fromisoformat(replies.pop("last_refused_at"))
    assert before <= last <= datetime.now(UTC)
    assert replies == {"failed_for_good": 2, "refused": 1, "dead_lettered": 1}
    assert "1 reply was refused for good by End User Messaging: never sent" in result.stderr

    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert (
        "Replies failed for good: 2 (1 refused by End User Messaging, 1 in the reply DLQ, "
        f"last refused at {last.isoformat()})"
    ) in human.stdout


def test_status_says_no_reply_failed_when_none_did(outputs: dict[str, str]) -> None:
    sms = RecordingSms()
    inbound(outputs, sms).handle(sns_event(message("XYZ123", "m-1")), None)
    assert sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    result = invoke("status", "--json")
    assert json.loads(result.stdout)["replies"] == {
        "failed_for_good": 0,
        "refused": 0,
        "last_refused_at": None,
        "dead_lettered": 0,
    }
    assert "Replies failed for good: 0 (0 refused by End User Messaging, 0 in the reply DLQ)" in (
        invoke("status").stdout
    )


def test_status_says_unknown_when_the_reply_failures_cannot_be_read(
    outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*_: Any) -> None:
        error = {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}
        raise ClientError(error, "GetItem")  # type: ignore[arg-type]

    monkeypatch.setattr(deployer, "reply_failures", denied)
    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["replies"] == {
        "failed_for_good": None,
        "refused": None,
        "last_refused_at": None,
        "dead_lettered": 0,
    }
    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert (
        "Replies failed for good: unknown (unknown refused by End User Messaging, "
        "0 in the reply DLQ)"
    ) in human.stdout


# -- console items as the sample teaches them work, in any case of the id ---------------------


def test_a_console_item_deleted_before_its_alias_is_written_leaves_none(h: Harness) -> None:
    deliver_shift_keys(h.deployed.outputs)  # what earlier tests wrote
    h.add_shift("xYz123", "15/08 nights")
    h.deployed.dynamodb.delete_item(
        TableName=h.shifts_table, Key={"shift_id": {"S": "xYz123"}}
    )  # deleted before the shift-key function reads the stream
    assert deliver_shift_keys(h.deployed.outputs) == 1
    assert h.table(h.shifts_table) == []  # no alias naming a shift that is not there
    h.text(ANA, "XYZ123")
    assert h.sms.to(ANA) == ["Not a valid code: XYZ123. Reply REQUEST for open shifts."]


def test_an_alias_left_by_a_deleted_item_books_nothing(h: Harness) -> None:
    deliver_shift_keys(h.deployed.outputs)  # what earlier tests wrote
    h.add_shift("xYz123", "15/08 nights")
    assert deliver_shift_keys(h.deployed.outputs) == 1
    h.deployed.dynamodb.delete_item(TableName=h.shifts_table, Key={"shift_id": {"S": "xYz123"}})
    h.text(ANA, "XYZ123")
    assert h.sms.to(ANA) == ["Not a valid code: XYZ123. Reply REQUEST for open shifts."]
    assert h.table(h.shifts_table) == [{"shift_id": "key#XYZ123", "stored_id": "xYz123"}]
    # Typed again, in another case: the new item's alias replaces the old one.
    h.add_shift("XyZ123", "15/08 nights, again")
    assert deliver_shift_keys(h.deployed.outputs) == 2  # the old alias's insert, and the item
    h.text(ANA, "xyz123")
    assert h.sms.to(ANA)[-1] == "Booked: XYZ123. Thank you!"
    assert h.shift("XyZ123")["employee"] == ANA


# -- bad items never break listings ------------------------------------------------------------


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
    status = invoke("status", "--json")  # the stack's summary reads the campaigns too
    assert status.exit_code == 0, status.output


# -- updates change only what was asked, even with a STOP between read and write ---------------


def test_opt_out_between_read_and_write_is_kept(deployed: Deployed) -> None:
    staff = staff_table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann"))
    assert PHONE in recipient_phones(staff)

    racing = OptOutBetweenReadAndWrite(deployed, opted_out=True)
    assert (
        staff_table(deployed, racing).put(StaffMember(phone=PHONE, name="Ann B"), replace=True)
        is False
    )

    assert racing.gets == 2  # the stale write lost its condition and was retried
    member = staff.get(PHONE)
    assert member is not None
    assert member.opted_out is True
    assert member.name == "Ann B"
    assert POOL_ATTR not in raw(deployed)
    assert PHONE not in recipient_phones(staff)


@pytest.mark.parametrize("opted_out", [True, False])
def test_campaigns_on_while_a_stop_lands_keeps_the_index_right(
    deployed: Deployed, opted_out: bool
) -> None:
    staff = staff_table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann", campaigns=False))
    if not opted_out:
        staff.set_opted_out(PHONE, True, AT)

    racing = OptOutBetweenReadAndWrite(deployed, opted_out=opted_out)
    change = staff_table(deployed, racing).update(PHONE, StaffEdit(campaigns=True))

    assert racing.gets == 2
    assert change.after.campaigns is True
    assert (PHONE in recipient_phones(staff)) is (not opted_out)


# -- texts reach staff only: the roster is checked at send time --------------------------------


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
