"""A send job that fails on its last receive is counted on its campaign as dead-lettered.

On fakes: the sender's decision and the report; on the deployed template in moto: the queue's
maxReceiveCount reaches the sender, and ``campaign show`` tells the campaign's dead letters
apart from the send DLQ's depth (all campaigns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shiftsms.core.campaigns import Campaign, SendJob, SendOutcome
from shiftsms.core.models import StaffMember
from shiftsms.errors import SendThrottled
from shiftsms.handlers.campaign import CampaignApp
from shiftsms.handlers.sender import SenderApp
from shiftsms.services.campaigns import CampaignReports, CampaignSender
from shiftsms.settings import SenderSettings
from tests.campaign_support import CampaignStack, FakeContext, campaign_stack, poll_once
from tests.campaign_support import stream_event as make_stream_event
from tests.clitools import invoke
from tests.fakes import (
    FixedDeadLetters,
    FreeSlots,
    MemoryCampaigns,
    MemoryLedger,
    MemoryShifts,
    MemoryStaff,
    RecordingSms,
)

ANA, BEN = "+447700900101", "+447700900202"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
SETTINGS = SenderSettings("campaigns", "staff", "state", "+447700900000")


class ThrottlesAna(RecordingSms):
    """End User Messaging that throttles every text to Ana."""

    def send(self, to: str, *args: object, **kwargs: object) -> str:
        if to == ANA:
            raise SendThrottled("ThrottlingException: retry later")
        return super().send(to, *args, **kwargs)  # type: ignore[arg-type]


# -- on fakes ------------------------------------------------------------------------------


def test_a_job_failing_on_its_last_receive_is_counted_once_and_no_longer_pending() -> None:
    campaigns, staff = MemoryCampaigns(), MemoryStaff()
    staff.put(StaffMember(ANA, "Ana"))
    staff.put(StaffMember(BEN, "Ben"))
    campaigns.create(Campaign("c1", "nights XYZ123"))
    campaigns.claim_fan_out("c1", "r1", "Open shifts: nights XYZ123", NOW, EPOCH + 3600)
    campaigns.finish_fan_out("c1", "r1", 2, NOW)
    ledger, sms = MemoryLedger(campaigns), ThrottlesAna()
    sender = CampaignSender(SETTINGS, sms, ledger, FreeSlots(), staff, clock=lambda: NOW)
    ana, ben = (SendJob("c1", to, "Open shifts", EPOCH + 3600, run="r1") for to in (ANA, BEN))
    assert sender.send(ben) is SendOutcome.SENT
    with pytest.raises(SendThrottled):
        sender.send(ana)
    assert sender.dead_letter(ana, "SendThrottled: ThrottlingException") is True
    # A second delivery of the same job on its last receive, and a job already sent: no count.
    assert sender.dead_letter(ana, "again") is False
    assert sender.dead_letter(ben, "late") is False
    reports = CampaignReports(campaigns, staff, MemoryShifts(), ledger, FixedDeadLetters(1))
    summary = reports.summarise("c1")
    assert (summary.status, summary.sent, summary.failed, summary.pending) == ("done", 1, 0, 0)
    assert (summary.dead_lettered, summary.send_dlq_depth) == (1, 1)
    assert [s.to for s in sms.sent] == [BEN]


def test_a_dead_lettered_job_is_never_sent_by_a_later_delivery() -> None:
    campaigns, staff = MemoryCampaigns(), MemoryStaff()
    staff.put(StaffMember(ANA, "Ana"))
    campaigns.create(Campaign("c1", "nights XYZ123"))
    campaigns.claim_fan_out("c1", "r1", "Open shifts: nights XYZ123", NOW, EPOCH + 3600)
    campaigns.finish_fan_out("c1", "r1", 1, NOW)
    sms = RecordingSms()
    sender = CampaignSender(
        SETTINGS, sms, MemoryLedger(campaigns), FreeSlots(), staff, clock=lambda: NOW
    )
    job = SendJob("c1", ANA, "Open shifts", EPOCH + 3600, run="r1")
    assert sender.dead_letter(job, "SendDeferred: no send time") is True
    assert sender.send(job) is SendOutcome.DUPLICATE
    assert sms.sent == []


# -- on the deployed template --------------------------------------------------------------


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack() as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        yield deployed


def test_campaign_show_counts_the_campaigns_own_dead_letters(stack: CampaignStack) -> None:
    stack.add_staff(ANA, BEN)
    created = invoke("campaign", "create", "c-dl", "--shifts", "XYZ123", "--yes")
    assert created.exit_code == 0, created.output
    fan_out = CampaignApp(stack.campaign_settings()).handle
    assert fan_out(make_stream_event(stack.insert_record("c-dl")), None) == {
        "batchItemFailures": []
    }
    settings = stack.sender_settings()
    attrs = stack.sqs.get_queue_attributes(
        QueueUrl=stack.queue_url, AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    assert settings.send_max_receive_count == json.loads(attrs["RedrivePolicy"])["maxReceiveCount"]
    sms = ThrottlesAna()
    app = SenderApp(settings, sms=sms, limiter=FreeSlots())
    failures = 0
    for _ in range(12):
        delivered, failed = poll_once(stack, app.handle, FakeContext())
        failures += failed
        if not delivered:
            break
    assert failures == 8  # Ana's job, once per receive, until SQS dead-letters it
    assert [s.to for s in sms.sent] == [BEN]
    shown = invoke("campaign", "show", "c-dl", "--json")
    assert shown.exit_code == 0, shown.output
    summary = json.loads(shown.stdout)
    assert {k: summary[k] for k in ("status", "sent", "failed", "dead_lettered", "pending")} == {
        "status": "done",
        "sent": 1,
        "failed": 0,
        "dead_lettered": 1,
        "pending": 0,
    }
    text = invoke("campaign", "show", "c-dl").stdout
    assert (
        "Recipients: 2 (sent 1, failed 0, opted out 0, skipped 0, dead-lettered 1, pending 0)"
        in text
    )
    assert "Dead-lettered: 1 send job in the send DLQ (all campaigns)" in text
    dead = stack.sqs.receive_message(QueueUrl=stack.dlq_url())["Messages"]
    assert [json.loads(m["Body"])["to"] for m in dead] == [ANA]
