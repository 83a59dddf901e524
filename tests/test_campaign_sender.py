"""CampaignSender on in-memory fakes: what one send job becomes (no moto, no sockets).

The path through SQS and the Lambda handler is tested end to end in test_campaigns_e2e.py;
these pin the service's own decisions with a fixed clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shiftsms.core.campaigns import Campaign, SendJob, SendOutcome
from shiftsms.core.models import StaffMember
from shiftsms.errors import SendThrottled
from shiftsms.services.campaigns import CampaignSender
from shiftsms.settings import Settings
from tests.fakes import (
    CountingRateLimiter,
    MemoryCampaigns,
    MemoryLedger,
    MemoryStaff,
    RecordingSms,
)

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
ANA = "+447700900101"
TEXT = "Open shifts: 15/08 5h nightshift XYZ123. Reply a code to book."


class Parts:
    """The sender and the fakes behind it."""

    def __init__(self) -> None:
        self.campaigns = MemoryCampaigns()
        self.campaigns.create(Campaign("c1", "15/08 5h nightshift XYZ123"))
        self.ledger = MemoryLedger(self.campaigns)
        self.sms = RecordingSms()
        self.staff = MemoryStaff()
        self.staff.put(StaffMember(ANA, "Ana"))
        self.rate = CountingRateLimiter()
        self.sender = CampaignSender(
            settings=Settings(
                shifts_table="shifts", staff_table="staff", origination_identity="+447700900000"
            ),
            sms=self.sms,
            ledger=self.ledger,
            limiter=self.rate,
            staff=self.staff,
            clock=lambda: NOW,
        )

    def counters(self) -> tuple[int, int, int]:
        campaign = self.campaigns.get("c1")
        assert campaign is not None
        return campaign.sent, campaign.failed, campaign.opted_out


@pytest.fixture
def parts() -> Parts:
    return Parts()


def test_stale_job_is_not_sent(parts: Parts) -> None:
    outcome = parts.sender.send(SendJob("c1", ANA, TEXT, EPOCH - 60))
    assert outcome is SendOutcome.EXPIRED
    assert parts.sms.sent == []
    assert parts.rate.granted == 0
    assert parts.ledger.markers["c1", ANA][0] == "expired"
    assert parts.counters() == (0, 1, 0)


def test_ttl_is_what_is_left_of_the_offer(parts: Parts) -> None:
    assert parts.sender.send(SendJob("c1", ANA, TEXT, EPOCH + 3600)) is SendOutcome.SENT
    [sent] = parts.sms.sent
    assert (sent.to, sent.body, sent.origination) == (ANA, TEXT, "+447700900000")
    assert (sent.context, sent.ttl_seconds) == ({"campaign_id": "c1"}, 3600)
    assert parts.ledger.sent_at("c1", ANA) == NOW
    assert parts.counters() == (1, 0, 0)


def test_a_throttled_send_gives_its_claim_back_so_the_retry_sends_once(parts: Parts) -> None:
    parts.sms.throttle_next = 1
    job = SendJob("c1", ANA, TEXT, EPOCH + 3600)
    with pytest.raises(SendThrottled):
        parts.sender.send(job)
    assert ("c1", ANA) not in parts.ledger.markers
    assert parts.sender.send(job) is SendOutcome.SENT
    assert parts.sender.send(job) is SendOutcome.DUPLICATE
    assert parts.sms.to(ANA) == [TEXT]
    assert parts.counters() == (1, 0, 0)
