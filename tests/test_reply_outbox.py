"""The reply outbox's send-once markers (on the deployed state table) when invocations die."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shiftsms.aws.reply_queue import CLAIM_LEASE_SECONDS, DynamoReplyMarkers
from shiftsms.core.campaigns import MalformedJob
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.services.reply_outbox import ReplyBusy, ReplyOutbox
from tests.conftest import Deployed
from tests.fakes import FreeSlots, RecordingSms

ANA = "+447700900123"
NOW = 1_795_860_000.0
JOB = ReplyJob("m-1", ANA, "Booked: XYZ123. Thank you!", "+447700900000")


@dataclass
class ListQueue:
    jobs: list[ReplyJob] = field(default_factory=list)

    def enqueue(self, job: ReplyJob) -> None:
        self.jobs.append(job)


class Dies(Exception):
    """The invocation stops here."""


def outbox(deployed: Deployed, sms: object, queue: ListQueue, at: float = NOW) -> ReplyOutbox:
    markers = DynamoReplyMarkers(deployed.dynamodb, deployed.outputs["StateTableName"])
    return ReplyOutbox(sms=sms, rate=FreeSlots(), markers=markers, queue=queue, clock=lambda: at)  # type: ignore[arg-type]


def test_an_invocation_that_died_before_sending_is_taken_over_from_the_queue(
    deployed: Deployed,
) -> None:
    sms, queue = RecordingSms(), ListQueue()
    markers = DynamoReplyMarkers(deployed.dynamodb, deployed.outputs["StateTableName"])
    assert markers.claim(JOB.ref, NOW).token  # claimed, then the invocation died
    # The retried event finds the claim held: it queues the reply rather than send it.
    assert outbox(deployed, sms, queue).reply(*_args()) == "queued"
    assert queue.jobs == [JOB]
    with pytest.raises(ReplyBusy):  # the lease is not past yet: tried again later
        outbox(deployed, sms, queue).deliver(JOB, None)
    later = NOW + CLAIM_LEASE_SECONDS + 1
    assert outbox(deployed, sms, queue, later).deliver(JOB, None) == "sent"
    assert outbox(deployed, sms, queue, later).deliver(JOB, None) == "duplicate"
    assert sms.to(ANA) == [JOB.text]


def test_an_invocation_that_died_while_sending_is_never_sent_again(deployed: Deployed) -> None:
    queue = ListQueue()

    class DiesSending(RecordingSms):
        def send(self, *args: object, **kw: object) -> str:
            raise Dies

    with pytest.raises(Dies):
        outbox(deployed, DiesSending(), queue).reply(*_args())
    sms = RecordingSms()
    later = NOW + CLAIM_LEASE_SECONDS + 1
    assert outbox(deployed, sms, queue, later).reply(*_args()) == "sending"
    assert outbox(deployed, sms, queue, later).deliver(JOB, None) == "duplicate"
    assert sms.sent == [] and queue.jobs == []


def test_a_sent_reply_is_not_sent_again_by_a_retry_or_the_queue(deployed: Deployed) -> None:
    sms, queue = RecordingSms(), ListQueue()
    first = outbox(deployed, sms, queue).reply(*_args())
    assert first == "msg-1"
    assert outbox(deployed, sms, queue).reply(*_args()) == "msg-1"
    assert outbox(deployed, sms, queue).deliver(JOB, None) == "duplicate"
    assert sms.to(ANA) == [JOB.text] and queue.jobs == []


def _args() -> tuple[str, str, str, str]:
    return JOB.ref, JOB.to, JOB.text, JOB.origination


def test_a_notice_queued_and_sent_later_keeps_its_kind(deployed: Deployed) -> None:
    sms, queue = RecordingSms(throttle_next=1), ListQueue()
    notice = ("notify#booked#XYZ123#m-1#ab12", ANA, "XYZ123 booked by Ana (c1)", JOB.origination)
    assert outbox(deployed, sms, queue).reply(*notice, sent_as="notify") == "queued"
    (queued,) = queue.jobs
    # through the queue's JSON, as the sender function reads it back
    assert ReplyJob.from_json(queued.to_json()) == queued
    assert queued.sent_as == "notify"
    assert outbox(deployed, sms, queue).deliver(queued, None) == "sent"
    assert [(s.body, (s.context or {}).get("kind")) for s in sms.sent] == [
        ("XYZ123 booked by Ana (c1)", "notify")
    ]


def test_reply_jobs_without_a_kind_are_replies_and_an_unknown_kind_is_refused() -> None:
    earlier = '{"v":1,"kind":"reply","ref":"m-1","to":"+447700900123","text":"Hi","from":"+44"}'
    assert ReplyJob.from_json(earlier).sent_as == "reply"
    assert '"as"' not in JOB.to_json()  # replies are written as before
    with pytest.raises(MalformedJob):
        ReplyJob.from_json(earlier.replace('"v":1', '"v":1,"as":"spam"'))
