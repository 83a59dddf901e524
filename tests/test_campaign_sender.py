"""The sender's decisions on in-memory fakes: who is texted, and what happens to the claim.

No moto, no sockets: the path through SQS and the Lambda handler is tested end to end in
test_campaigns_e2e.py; these pin the service's own decisions with a fixed clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from shiftsms.core.campaigns import Campaign, SendJob, SendOutcome
from shiftsms.core.models import StaffMember
from shiftsms.core.self_service import QuietHours
from shiftsms.errors import SendThrottled
from shiftsms.services.campaigns import CampaignSender
from shiftsms.settings import SenderSettings
from tests import fakes
from tests.fakes import RecordingSms

ANA = "+447700900101"
ANA_FINGERPRINT = "b1e7c34f8f2731a143d8"  # sha256 of the number, first 20 hex digits
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
JOB = SendJob("c1", ANA, "Open shifts: XYZ123", int(NOW.timestamp()) + 3600, run="r1")
SETTINGS = SenderSettings("campaigns", "staff", "state", "+447700900000")


@dataclass
class MemoryLedger:
    """SendLedger in a dict: marker state per job, and the outcomes counted."""

    markers: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    counted: list[SendOutcome] = field(default_factory=list)

    def _key(self, job: SendJob) -> tuple[str, str, str]:
        return (job.campaign_id, job.run, job.to)

    def claim(self, job: SendJob, at: datetime) -> str | None:
        if self._key(job) in self.markers:
            return None
        self.markers[self._key(job)] = ("claimed", "t1")
        return "t1"

    def begin(self, job: SendJob, token: str, at: datetime) -> bool:
        if self.markers.get(self._key(job)) != ("claimed", token):
            return False
        self.markers[self._key(job)] = ("sending", token)
        return True

    def settle(
        self,
        job: SendJob,
        token: str,
        outcome: SendOutcome,
        at: datetime,
        *,
        message_id: str = "",
        reason: str = "",
    ) -> None:
        self.markers[self._key(job)] = (outcome.value, token)
        self.counted.append(outcome)

    def close_abandoned(self, job: SendJob, at: datetime) -> bool:
        return False

    def release(self, job: SendJob, token: str) -> None:
        self.markers.pop(self._key(job), None)

    def sent_at(self, campaign_id: str, to: str, run: str = "") -> datetime | None:
        return None


@dataclass
class CountingLimiter:
    acquired: int = 0

    def acquire(self, deadline: float | None = None) -> bool:
        self.acquired += 1
        return True


@dataclass
class MemoryStaff:
    """The parts of StaffStore the sender uses; ``broken`` makes every read fail."""

    members: dict[str, StaffMember] = field(default_factory=dict)
    broken: bool = False

    def get(self, phone: str) -> StaffMember | None:
        if self.broken:
            raise ConnectionError("the staff table did not answer")
        return self.members.get(phone)

    def set_opted_out(self, phone: str, opted_out: bool, at: datetime) -> None:
        raise AssertionError("not expected")

    def set_list_cursor(self, phone: str, cursor: str | None) -> None:
        raise AssertionError("not expected")

    def put(self, member: StaffMember, *, replace: bool = True) -> bool:
        raise AssertionError("not expected")

    def delete(self, phone: str) -> None:
        raise AssertionError("not expected")

    def all(self) -> Iterator[StaffMember]:
        raise AssertionError("not expected")

    def recipients(self) -> Iterator[StaffMember]:
        raise AssertionError("not expected")


def make(staff: MemoryStaff) -> tuple[CampaignSender, RecordingSms, MemoryLedger, CountingLimiter]:
    sms, ledger, limiter = RecordingSms(), MemoryLedger(), CountingLimiter()
    sender = CampaignSender(SETTINGS, sms, ledger, limiter, staff, clock=lambda: NOW)
    return sender, sms, ledger, limiter


@pytest.mark.parametrize(
    "member",
    [
        None,
        StaffMember(ANA, opted_out=True),
        StaffMember(ANA, campaigns=False),
        StaffMember(ANA, snoozed_until="2026-11-28T09:00:01+00:00"),
    ],
    ids=["removed", "opted-out", "off-campaigns", "snoozed"],
)
def test_recipients_no_longer_on_the_roster_are_skipped_without_a_send_slot(
    member: StaffMember | None,
) -> None:
    sender, sms, ledger, limiter = make(MemoryStaff({ANA: member} if member else {}))
    assert sender.send(JOB) is SendOutcome.SKIPPED
    assert sms.sent == []
    assert limiter.acquired == 0
    assert ledger.counted == [SendOutcome.SKIPPED]
    assert ledger.markers == {("c1", "r1", ANA): ("skipped", "t1")}


def test_a_recipient_still_on_the_roster_is_sent_once() -> None:
    sender, sms, ledger, limiter = make(MemoryStaff({ANA: StaffMember(ANA)}))
    assert sender.send(JOB) is SendOutcome.SENT
    assert sender.send(JOB) is SendOutcome.DUPLICATE
    assert [(s.to, s.body) for s in sms.sent] == [(ANA, "Open shifts: XYZ123")]
    assert limiter.acquired == 1
    assert ledger.counted == [SendOutcome.SENT]


def test_a_snooze_that_ended_does_not_hold_the_text_back() -> None:
    ended = StaffMember(ANA, snoozed_until="2026-11-28T09:00:00+00:00")
    sender, sms, _, _ = make(MemoryStaff({ANA: ended}))
    assert sender.send(JOB) is SendOutcome.SENT
    assert [s.to for s in sms.sent] == [ANA]


def test_over_the_daily_cap_is_counted_capped_without_a_send_slot() -> None:
    sender, sms, ledger, limiter = make(MemoryStaff({ANA: StaffMember(ANA)}))
    sender.settings = replace(SETTINGS, max_offers_per_day=1)
    sender.cap = fakes.MemoryOfferCap()
    assert sender.send(JOB) is SendOutcome.SENT
    assert sender.send(replace(JOB, campaign_id="c2")) is SendOutcome.CAPPED
    assert [s.to for s in sms.sent] == [ANA]
    assert limiter.acquired == 1
    assert ledger.counted == [SendOutcome.SENT, SendOutcome.CAPPED]
    # 09:00 UTC on 28/11 is that day in London too.
    assert sender.cap.counted == {(ANA, "2026-11-28"): {"c1#r1"}}


def _quiet_sender(
    deferred: list[tuple[SendJob, datetime]], at: datetime
) -> tuple[CampaignSender, RecordingSms, MemoryLedger]:
    sender, sms, ledger, _ = make(MemoryStaff({ANA: StaffMember(ANA)}))
    sender.quiet = QuietHours.parse("22:00-07:00")
    sender.defer = lambda job, until: deferred.append((job, until))
    sender.clock = lambda: at
    return sender, sms, ledger


def test_a_text_due_in_quiet_hours_waits_for_their_end_with_its_time_to_live() -> None:
    deferred: list[tuple[SendJob, datetime]] = []
    night = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)  # 23:00 GMT in London
    job = replace(JOB, expires_at=int(night.timestamp()) + 3600)
    sender, sms, ledger = _quiet_sender(deferred, night)
    assert sender.send(job) is SendOutcome.DEFERRED
    assert sms.sent == [] and ledger.counted == [] and ledger.markers == {}
    morning = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert deferred == [(replace(job, expires_at=int(morning.timestamp()) + 3600), morning)]
    # Run again when quiet hours end, the deferred job is sent once.
    sender.clock = lambda: morning
    assert sender.send(deferred[0][0]) is SendOutcome.SENT
    assert [s.to for s in sms.sent] == [ANA]


def test_an_offer_of_a_shift_starting_before_quiet_hours_end_goes_at_once() -> None:
    deferred: list[tuple[SendJob, datetime]] = []
    night = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    job = replace(JOB, expires_at=int(night.timestamp()) + 3600, first_start="2026-11-29T06:00Z")
    sender, sms, _ = _quiet_sender(deferred, night)
    assert sender.send(job) is SendOutcome.SENT
    assert deferred == [] and [s.to for s in sms.sent] == [ANA]


def test_outside_quiet_hours_nothing_waits() -> None:
    deferred: list[tuple[SendJob, datetime]] = []
    sender, sms, _ = _quiet_sender(deferred, NOW)
    assert sender.send(JOB) is SendOutcome.SENT
    assert deferred == [] and [s.to for s in sms.sent] == [ANA]


def test_a_failed_allow_list_read_gives_the_claim_back_for_the_retry() -> None:
    staff = MemoryStaff({ANA: StaffMember(ANA)}, broken=True)
    sender, sms, ledger, _ = make(staff)
    with pytest.raises(ConnectionError):
        sender.send(JOB)
    assert ledger.markers == {}
    staff.broken = False
    assert sender.send(JOB) is SendOutcome.SENT
    assert [s.to for s in sms.sent] == [ANA]


# -- on the shared fakes (tests/fakes.py, checked against the DynamoDB adapters) ---------------

EPOCH = int(NOW.timestamp())
TEXT = "Open shifts: 15/08 5h nightshift XYZ123. Reply a code to book."


class Parts:
    """A sender on the shared fakes, for a campaign fanned out as run ``r1``."""

    def __init__(self) -> None:
        self.campaigns = fakes.MemoryCampaigns()
        self.campaigns.create(Campaign("c1", "15/08 5h nightshift XYZ123"))
        assert self.campaigns.claim_fan_out("c1", "r1", TEXT, NOW, EPOCH + 3600)
        self.campaigns.finish_fan_out("c1", "r1", 1, NOW)
        self.ledger = fakes.MemoryLedger(self.campaigns)
        self.sms = RecordingSms()
        self.staff = fakes.MemoryStaff()
        self.staff.put(StaffMember(ANA, "Ana"))
        self.rate = fakes.CountingRateLimiter()
        self.sender = CampaignSender(
            SETTINGS, self.sms, self.ledger, self.rate, self.staff, clock=lambda: NOW
        )

    def counters(self) -> tuple[int, int, int]:
        campaign = self.campaigns.get("c1")
        assert campaign is not None
        return campaign.sent, campaign.failed, campaign.opted_out


@pytest.fixture
def parts() -> Parts:
    return Parts()


def test_stale_job_is_not_sent(parts: Parts) -> None:
    outcome = parts.sender.send(SendJob("c1", ANA, TEXT, EPOCH - 60, run="r1"))
    assert outcome is SendOutcome.EXPIRED
    assert parts.sms.sent == []
    assert parts.rate.granted == 0
    assert parts.ledger.markers["c1", "r1", ANA].state == "expired"
    assert parts.counters() == (0, 1, 0)


def test_ttl_is_what_is_left_of_the_offer(parts: Parts) -> None:
    job = SendJob("c1", ANA, TEXT, EPOCH + 3600, run="r1")
    assert parts.sender.send(job) is SendOutcome.SENT
    [sent] = parts.sms.sent
    assert (sent.to, sent.body, sent.origination) == (ANA, TEXT, "+447700900000")
    # The Context End User Messaging copies into the text's events: the campaign run and the
    # recipient's phone fingerprint, never the number.
    context = {"kind": "campaign", "campaign_id": "c1", "run": "r1", "recipient": ANA_FINGERPRINT}
    assert (sent.context, sent.ttl_seconds) == (context, 3600)
    assert parts.ledger.sent_at("c1", ANA, "r1") == NOW
    assert parts.counters() == (1, 0, 0)


def test_a_throttled_send_gives_its_claim_back_so_the_retry_sends_once(parts: Parts) -> None:
    parts.sms.throttle_next = 1
    job = SendJob("c1", ANA, TEXT, EPOCH + 3600, run="r1")
    with pytest.raises(SendThrottled):
        parts.sender.send(job)
    assert ("c1", "r1", ANA) not in parts.ledger.markers
    assert parts.sender.send(job) is SendOutcome.SENT
    assert parts.sender.send(job) is SendOutcome.DUPLICATE
    assert parts.sms.to(ANA) == [TEXT]
    assert parts.counters() == (1, 0, 0)
