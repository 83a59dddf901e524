"""In-memory fakes for every port in ``shiftsms.ports``: no moto, no sockets.

The SMS sender and caller record what they were asked (moto serves neither); the stores keep
plain dicts and follow the DynamoDB adapters' conditions, which tests/test_fakes.py checks
against the adapters on moto.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from shiftsms.core.campaigns import Campaign, CampaignStatus, SendJob, SendOutcome
from shiftsms.core.models import AVAILABLE, TAKEN, BookingOutcome, DropOutcome, Shift, StaffMember
from shiftsms.errors import (
    CallError,
    CampaignExists,
    RecipientOptedOut,
    SendThrottled,
    ShiftExists,
    ShiftNotFound,
    StaffNotFound,
)


@dataclass
class SentSms:
    """One text handed to the fake sender."""

    to: str
    body: str
    origination: str
    context: dict[str, str] | None = None
    ttl_seconds: int | None = None


@dataclass
class RecordingSms:
    """SmsSender that records texts; can refuse opted-out numbers or throttle N sends."""

    sent: list[SentSms] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    throttle_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        with self.lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                raise SendThrottled("ThrottlingException: retry later")
            if to in self.opted_out:
                raise RecipientOptedOut("recipient has opted out")
            self.sent.append(
                SentSms(to, body, origination, dict(context) if context else None, ttl_seconds)
            )
            return f"msg-{len(self.sent)}"

    def to(self, number: str) -> list[str]:
        """Bodies sent to ``number``, in order."""
        return [s.body for s in self.sent if s.to == number]


@dataclass
class RecordingCaller:
    """Caller that records call-backs, one per distinct token (as Connect's ClientToken)."""

    calls: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail: bool = False

    def call_back(self, to: str, note: str, token: str) -> str:
        if self.fail:
            raise CallError("Connect refused the call-back: AccessDeniedException")
        self.calls.setdefault(token, (to, note))
        return f"contact-{token}"


@dataclass
class MemoryShifts:
    """ShiftStore in a dict, with the booking conditions of the DynamoDB adapter."""

    items: dict[str, Shift] = field(default_factory=dict)
    refs: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # booking, drop

    def book(self, shift_id: str, employee: str, booking_ref: str, at: datetime) -> BookingOutcome:
        old = self.items.get(shift_id)
        if old is None:
            return BookingOutcome.UNKNOWN
        if old.available:
            self.items[shift_id] = replace(
                old, shift_status=TAKEN, employee=employee, booked_at=at.isoformat("T", "seconds")
            )
            self.refs[shift_id] = (booking_ref, self.refs.get(shift_id, (None, None))[1])
            return BookingOutcome.BOOKED
        if old.employee == employee:
            same = self.refs.get(shift_id, (None, None))[0] == booking_ref
            return BookingOutcome.BOOKED if same else BookingOutcome.ALREADY_YOURS
        return BookingOutcome.TAKEN

    def release(
        self, shift_id: str, employee: str | None = None, *, ref: str | None = None
    ) -> DropOutcome:
        old = self.items.get(shift_id)
        if old is None:
            return DropOutcome.UNKNOWN
        if old.shift_status == TAKEN and employee in (None, old.employee):
            self.items[shift_id] = replace(
                old, shift_status=AVAILABLE, employee=None, booked_at=None
            )
            last_drop = self.refs.get(shift_id, (None, None))[1]
            self.refs[shift_id] = (None, ref if ref is not None else last_drop)
            return DropOutcome.RELEASED
        if ref is not None and self.refs.get(shift_id, (None, None))[1] == ref:
            return DropOutcome.RELEASED
        return DropOutcome.NOT_YOURS

    def _open(self, after: str | None) -> list[Shift]:
        return [
            s
            for _, s in sorted(self.items.items())
            if s.available and (after is None or s.shift_id > after)
        ]

    def open_page(self, after: str | None, limit: int) -> tuple[list[Shift], bool]:
        # As a DynamoDB Query with Limit: "more" whenever the page came back full.
        page = self._open(after)[:limit]
        return page, len(page) == limit

    def count_open(self, after: str | None) -> int:
        return len(self._open(after))

    def get(self, shift_id: str) -> Shift | None:
        return self.items.get(shift_id)

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        return {i: self.items[i] for i in shift_ids if i in self.items}

    def put(self, shift: Shift, *, replace: bool = False) -> None:
        if not replace and shift.shift_id in self.items:
            raise ShiftExists(f"shift {shift.shift_id} already exists")
        self.items[shift.shift_id] = shift
        self.refs.pop(shift.shift_id, None)

    def delete(self, shift_id: str) -> None:
        if self.items.pop(shift_id, None) is None:
            raise ShiftNotFound(f"no shift {shift_id}")

    def by_status(self, status: str) -> Iterator[Shift]:
        return iter([s for _, s in sorted(self.items.items()) if s.shift_status == status])


@dataclass
class MemoryStaff:
    """StaffStore in a dict: a put keeps the opt-out state, as the DynamoDB adapter does."""

    items: dict[str, StaffMember] = field(default_factory=dict)

    def get(self, phone: str) -> StaffMember | None:
        return self.items.get(phone)

    def set_opted_out(self, phone: str, opted_out: bool, at: datetime) -> None:
        if phone in self.items:
            self.items[phone] = replace(self.items[phone], opted_out=opted_out)

    def set_list_cursor(self, phone: str, cursor: str | None) -> None:
        if phone in self.items:
            self.items[phone] = replace(self.items[phone], list_cursor=cursor)

    def put(self, member: StaffMember, *, replace: bool = True) -> bool:
        old = self.items.get(member.phone)
        if old is None:
            self.items[member.phone] = member
            return True
        if replace:
            self.items[member.phone] = _keep(old, member)
        return False

    def delete(self, phone: str) -> None:
        if self.items.pop(phone, None) is None:
            raise StaffNotFound(f"{phone} is not on the allow list")

    def all(self) -> Iterator[StaffMember]:
        return iter(list(self.items.values()))

    def recipients(self) -> Iterator[StaffMember]:
        return iter([m for m in self.items.values() if m.campaigns and not m.opted_out])


def _keep(old: StaffMember, new: StaffMember) -> StaffMember:
    """``new``'s name, campaigns and groups on ``old``'s opt-out, added time and cursor."""
    return replace(old, name=new.name, campaigns=new.campaigns, groups=new.groups)


@dataclass
class CountingReplyLimiter:
    """ReplyLimiter allowing ``per_sender`` replies per number (a retried ``ref`` again)."""

    per_sender: int = 1
    granted: dict[str, list[str | None]] = field(default_factory=dict)

    def allow_unauthorised_reply(
        self, sender: str, at: datetime, *, ref: str | None = None
    ) -> bool:
        refs = self.granted.setdefault(sender, [])
        if ref is not None and ref in refs:
            return True
        if len(refs) >= self.per_sender:
            return False
        refs.append(ref)
        return True


@dataclass
class MemoryCampaigns:
    """CampaignStore in a dict, with the DynamoDB adapter's status transitions."""

    items: dict[str, Campaign] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def create(self, campaign: Campaign) -> None:
        if campaign.campaign_id in self.items:
            raise CampaignExists(f"campaign {campaign.campaign_id} already exists")
        self.items[campaign.campaign_id] = campaign

    def get(self, campaign_id: str) -> Campaign | None:
        return self.items.get(campaign_id)

    def all(self) -> Iterator[Campaign]:
        return iter(list(self.items.values()))

    def _fanning(self, campaign_id: str, token: str) -> bool:
        found = self.items.get(campaign_id)
        return (
            found is not None
            and found.status == CampaignStatus.FANNING_OUT.value
            and self.tokens.get(campaign_id) == token
        )

    def claim_fan_out(
        self, campaign_id: str, token: str, text: str, at: datetime, expires_at: int
    ) -> Campaign | None:
        old = self.items.get(campaign_id)
        if old is None:
            return None
        if old.status not in ("", CampaignStatus.NEW.value) and not self._fanning(
            campaign_id, token
        ):
            return None
        self.tokens[campaign_id] = token
        claimed = replace(
            old,
            status=CampaignStatus.FANNING_OUT.value,
            text=old.text or text,
            fanout_at=old.fanout_at or at.isoformat(timespec="seconds"),
            expires_at=old.expires_at if old.expires_at is not None else expires_at,
        )
        self.items[campaign_id] = claimed
        return claimed

    def save_progress(self, campaign_id: str, token: str, cursor: str) -> None:
        if self._fanning(campaign_id, token):
            self.items[campaign_id] = replace(self.items[campaign_id], fanout_cursor=cursor)

    def finish_fan_out(self, campaign_id: str, token: str, recipients: int, at: datetime) -> None:
        if self._fanning(campaign_id, token):
            self.items[campaign_id] = replace(
                self.items[campaign_id],
                status=CampaignStatus.SENDING.value,
                recipients=recipients,
                queued_at=at.isoformat(timespec="seconds"),
            )

    def reject(self, campaign_id: str, reason: str) -> None:
        old = self.items.get(campaign_id)
        if old is not None and old.status in ("", CampaignStatus.NEW.value):
            self.items[campaign_id] = replace(
                old, status=CampaignStatus.REJECTED.value, reason=reason
            )


@dataclass
class ListSendQueue:
    """SendQueue that keeps the jobs in a list; ``fail_next`` enqueues raise first."""

    jobs: list[SendJob] = field(default_factory=list)
    fail_next: int = 0

    def enqueue(self, jobs: Sequence[SendJob]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("the queue refused the batch")
        self.jobs.extend(jobs)


@dataclass
class MemoryLedger:
    """SendLedger: one marker per (campaign, recipient), counted on ``campaigns`` once."""

    campaigns: MemoryCampaigns
    markers: dict[tuple[str, str], tuple[str, str, datetime | None]] = field(
        default_factory=dict
    )  # (campaign, to) -> (state, token, settled at)

    def claim(self, campaign_id: str, to: str, at: datetime) -> str | None:
        if (campaign_id, to) in self.markers:
            return None
        token = uuid.uuid4().hex
        self.markers[campaign_id, to] = ("claimed", token, None)
        return token

    def settle(
        self,
        campaign_id: str,
        to: str,
        token: str,
        outcome: SendOutcome,
        at: datetime,
        *,
        message_id: str = "",
        reason: str = "",
    ) -> None:
        if self.markers.get((campaign_id, to), ("", "", None))[:2] != ("claimed", token):
            return
        self.markers[campaign_id, to] = (outcome.value, token, at)
        found = self.campaigns.items.get(campaign_id)
        counter = {
            SendOutcome.SENT: "sent",
            SendOutcome.OPTED_OUT: "opted_out",
            SendOutcome.FAILED: "failed",
            SendOutcome.EXPIRED: "failed",
        }.get(outcome)
        if found is not None and counter is not None:
            counted = replace(found, **{counter: getattr(found, counter) + 1})
            self.campaigns.items[campaign_id] = counted

    def release(self, campaign_id: str, to: str, token: str) -> None:
        if self.markers.get((campaign_id, to), ("", "", None))[:2] == ("claimed", token):
            del self.markers[campaign_id, to]

    def sent_at(self, campaign_id: str, to: str) -> datetime | None:
        state, _token, at = self.markers.get((campaign_id, to), ("", "", None))
        return at if state == SendOutcome.SENT.value else None


@dataclass
class CountingRateLimiter:
    """SendRateLimiter that never waits: grants ``slots`` sends (unlimited if None)."""

    slots: int | None = None
    granted: int = 0

    def acquire(self, deadline: float | None = None) -> bool:
        if self.slots is not None and self.granted >= self.slots:
            return False
        self.granted += 1
        return True
