"""The sender's decisions on in-memory fakes: who is texted, and what happens to the claim."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from shiftsms.core.campaigns import SendJob, SendOutcome
from shiftsms.core.models import StaffMember
from shiftsms.services.campaigns import CampaignSender
from shiftsms.settings import SenderSettings
from tests.fakes import RecordingSms

ANA = "+447700900101"
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
    ],
    ids=["removed", "opted-out", "off-campaigns"],
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


def test_a_failed_allow_list_read_gives_the_claim_back_for_the_retry() -> None:
    staff = MemoryStaff({ANA: StaffMember(ANA)}, broken=True)
    sender, sms, ledger, _ = make(staff)
    with pytest.raises(ConnectionError):
        sender.send(JOB)
    assert ledger.markers == {}
    staff.broken = False
    assert sender.send(JOB) is SendOutcome.SENT
    assert [s.to for s in sms.sent] == [ANA]
