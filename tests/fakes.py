"""In-memory fakes for every port in ``shiftsms.ports``: no moto, no sockets.

The SMS sender and caller record what they were asked (moto serves neither); the stores keep
plain dicts and follow the DynamoDB adapters' conditions, which tests/test_fakes.py checks
against the adapters on moto.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from shiftsms.aws.due_work import LEASE_SECONDS as DUE_LEASE_SECONDS
from shiftsms.aws.reply_queue import CLAIM_LEASE_SECONDS as REPLY_LEASE_SECONDS
from shiftsms.aws.send_markers import (
    CLAIM_LEASE_SECONDS,
    CLAIMED,
    SENDING,
    UNCONFIRMED_REASON,
    counted_as,
)
from shiftsms.aws.send_queue import EnqueueFailed
from shiftsms.aws.shifts_table import (
    CONSOLE_WINDOW,
    CONSOLE_WINDOWS,
    _read_cursor,
    key_of,
    start_key,
    textable,
)
from shiftsms.core import reply_jobs
from shiftsms.core.audit import AuditEntry
from shiftsms.core.booking_rules import may_work
from shiftsms.core.campaigns import Campaign, CampaignStatus, SendJob, SendOutcome
from shiftsms.core.delivery import DayTotals, DeliveryEvent, SendRecord
from shiftsms.core.due import DueItem
from shiftsms.core.held_shifts import RETENTION, HeldShift, add, prune, remove
from shiftsms.core.models import (
    BookingOutcome,
    DropOutcome,
    Shift,
    ShiftStatus,
    StaffChange,
    StaffEdit,
    StaffMember,
)
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.core.shift_times import ShiftTimeError, Span, sort_key, span_from_item
from shiftsms.core.waitlist import WAITLIST_CAP, JoinOutcome, JoinResult, Offer, WaitView
from shiftsms.core.waitlist import join as join_waitlist
from shiftsms.errors import (
    CallError,
    CampaignExists,
    RecipientOptedOut,
    SendThrottled,
    ShiftChanged,
    ShiftExists,
    ShiftNotFound,
    StaffNotFound,
)
from shiftsms.ports import (
    BookingCheck,
    BookingResult,
    DeliveryChange,
    OpenPage,
    ReplyMark,
    WindowReply,
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
class _ShiftRecord:
    """A stored shift and what the adapter keeps beside it on the item."""

    shift: Shift
    booking_ref: str | None = None
    release_ref: str | None = None
    message_at: str = ""  # when the message that last changed it was sent
    waitlist: tuple[str, ...] = ()
    held_for: str | None = None
    held_until: datetime | None = None
    wait_version: int = 0

    def reserved_against(self, employee: str) -> bool:
        """True when a hold or a waitlist not yet offered keeps ``employee`` from booking."""
        if self.held_for is not None:
            return self.held_for != employee
        return bool(self.waitlist)


@dataclass
class MemoryShifts:
    """AdminShiftStore (so also ShiftStore) in a dict, with the DynamoDB adapter's conditions.

    Statuses are stored as read (no console spellings); an id typed in another case is
    booked and released as the adapter does. Every shift is one shiftsms wrote (it has a
    ``by-start`` key): there are no console items. With ``staff`` (the allow list, as the
    adapter's ``staff_table``), the timed shifts each person holds are kept on their entry.
    """

    records: dict[str, _ShiftRecord] = field(default_factory=dict)
    staff: MemoryStaff | None = None

    @property
    def items(self) -> dict[str, Shift]:
        """The stored shifts by id."""
        return {i: r.shift for i, r in self.records.items()}

    def _stored_id(self, code: str) -> str | None:
        """The id stored in another case than ``code`` (as its alias item finds it)."""
        others = sorted(i for i in self.records if i != code and key_of(i) == key_of(code))
        return others[0] if others else None

    @staticmethod
    def _unchanged_since(record: _ShiftRecord, sent: str) -> bool:
        return not sent or not record.message_at or record.message_at < sent

    def book(
        self, shift_id: str, employee: str, booking_ref: str, at: datetime, *, sent: str = ""
    ) -> BookingOutcome:
        record = self.records.get(shift_id)
        if record is None:
            stored = self._stored_id(shift_id)
            if stored is None:
                return BookingOutcome.UNKNOWN
            return self.book(stored, employee, booking_ref, at, sent=sent)
        old = record.shift
        if (
            old.available
            and self._unchanged_since(record, sent)
            and not record.reserved_against(employee)
        ):
            record.held_for = record.held_until = None
            record.shift = replace(
                old,
                shift_status=ShiftStatus.TAKEN,
                employee=employee,
                booked_at=at.isoformat(timespec="seconds"),
            )
            record.booking_ref = booking_ref
            record.message_at = sent or record.message_at
            return BookingOutcome.BOOKED
        if old.employee == employee:
            same = record.booking_ref == booking_ref
            return BookingOutcome.BOOKED if same else BookingOutcome.ALREADY_YOURS
        return BookingOutcome.TAKEN

    def release(
        self,
        shift_id: str,
        employee: str | None = None,
        *,
        ref: str | None = None,
        sent: str = "",
    ) -> DropOutcome:
        record = self.records.get(shift_id)
        if record is None:
            stored = self._stored_id(shift_id)
            if stored is None:
                return DropOutcome.UNKNOWN
            return self.release(stored, employee, ref=ref, sent=sent)
        old = record.shift
        if (
            old.shift_status is ShiftStatus.TAKEN
            and employee in (None, old.employee)
            and self._unchanged_since(record, sent)
        ):
            record.shift = replace(
                old, shift_status=ShiftStatus.AVAILABLE, employee=None, booked_at=None
            )
            record.booking_ref = None
            record.release_ref = ref if ref is not None else record.release_ref
            record.message_at = sent or record.message_at
            if employee is not None:  # the holder's list loses it (as one transaction)
                self._change_held(employee, lambda held: remove(held, old.shift_id))
            return DropOutcome.RELEASED
        if ref is not None and record.release_ref == ref:
            rebooked = old.shift_status is ShiftStatus.TAKEN and old.employee == employee
            return DropOutcome.STILL_YOURS if rebooked and employee else DropOutcome.RELEASED
        return DropOutcome.NOT_YOURS

    @staticmethod
    def _lost(record: _ShiftRecord, employee: str, booking_ref: str) -> BookingOutcome:
        if record.shift.employee == employee:
            same = record.booking_ref == booking_ref
            return BookingOutcome.BOOKED if same else BookingOutcome.ALREADY_YOURS
        return BookingOutcome.TAKEN

    def book_checked(
        self,
        shift_id: str,
        employee: str,
        booking_ref: str,
        at: datetime,
        *,
        check: BookingCheck,
        sent: str = "",
        keep: timedelta = RETENTION,
    ) -> BookingResult:
        record = self.records.get(shift_id)
        if record is None:
            stored = self._stored_id(shift_id)
            if stored is None:
                return BookingResult(BookingOutcome.UNKNOWN)
            return self.book_checked(
                stored, employee, booking_ref, at, check=check, sent=sent, keep=keep
            )
        shift = record.shift
        bookable = shift.available and not record.reserved_against(employee)
        if not (bookable and self._unchanged_since(record, sent)):
            return BookingResult(self._lost(record, employee, booking_ref))
        try:
            span = _span(shift)
        except ShiftTimeError:
            return BookingResult(BookingOutcome.UNKNOWN)
        if span is None or self.staff is None:
            refusals = check(shift, span, ())
        else:
            held, _, _ = self.held(employee)
            refusals = check(shift, span, held)
        if refusals:
            return BookingResult(None, refusals)
        outcome = self.book(shift.shift_id, employee, booking_ref, at, sent=sent)
        if span is not None:
            entry = HeldShift(shift.shift_id, span)
            self._change_held(employee, lambda held: prune(add(held, entry), at, keep))
        return BookingResult(outcome)

    def waitlist_view(self, shift_id: str) -> WaitView | None:
        record = self.records.get(shift_id) or self.records.get(self._stored_id(shift_id) or "")
        if record is None:
            return None
        return WaitView(
            record.shift, record.waitlist, record.held_for, record.held_until, record.wait_version
        )

    def join_waitlist(
        self,
        shift_id: str,
        phone: str,
        cap: int = WAITLIST_CAP,
        *,
        roles: Sequence[str] | None = None,
    ) -> JoinResult:
        view = self.waitlist_view(shift_id)
        if view is None:
            return JoinResult(JoinOutcome.UNKNOWN)
        result, changes = join_waitlist(view, phone, cap, roles)
        if changes:
            record = self.records[view.shift.shift_id]
            record.waitlist = (*record.waitlist, phone)
            record.wait_version += 1
        return result

    def set_hold(
        self, seen: WaitView, holder: str | None, until: datetime | None, rest: Sequence[str]
    ) -> bool:
        record = self.records.get(seen.shift.shift_id)
        if (
            record is None
            or record.wait_version != seen.version
            or not record.shift.available
            or record.held_for != seen.held_for
        ):
            return False
        record.waitlist = tuple(rest)
        record.held_for, record.held_until = (holder, until) if holder and until else (None, None)
        record.wait_version += 1
        return True

    def held(self, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
        """The timed shifts ``phone`` holds, their version, and whether the person exists."""
        if self.staff is None or phone not in self.staff.items:
            return (), 0, False
        return self.staff.held.get(phone, ()), self.staff.held_versions.get(phone, 0), True

    def _change_held(
        self, phone: str, change: Callable[[tuple[HeldShift, ...]], tuple[HeldShift, ...]]
    ) -> None:
        """Apply ``change`` to the person's held shifts, bumping their version (a person not
        on the list keeps none)."""
        held, version, exists = self.held(phone)
        if self.staff is not None and exists:
            self.staff.held[phone] = change(held)
            self.staff.held_versions[phone] = version + 1

    def open_listing(
        self, roles: Sequence[str], now: datetime, cursor: str | None, limit: int
    ) -> OpenPage:
        # As the adapter with no console items: shifts not started, soonest first (untimed
        # last) from by-start, then the by-status windows, which hold no console item but may
        # hold more ids than they read.
        kind, key, after_id = _read_cursor(cursor)
        after: str | None = after_id
        picked: list[tuple[Shift, str]] = []
        beyond = 0
        if kind == "t":
            now_key = sort_key(now)
            listed = sorted(
                ((start_key(r.shift), i), r.shift)
                for i, r in self.records.items()
                if r.shift.available
                and start_key(r.shift) > now_key
                and not (r.held_for or r.waitlist)  # held for someone waiting: not listed
            )
            for position, shift in listed:
                if position <= (key, after_id) or not may_work(shift.role, roles):
                    continue
                if not textable(shift):
                    continue
                if len(picked) < limit:
                    picked.append((shift, f"t:{position[0]} {shift.shift_id}"))
                else:
                    beyond += 1
            after = None
        available = self._with_status(ShiftStatus.AVAILABLE, after)
        window = CONSOLE_WINDOW * CONSOLE_WINDOWS
        # The last window read came back full: "more", as a Query with Limit says.
        more = len(available) >= window
        cursors = [p[1] for p in picked]
        tail = cursors[-1] if cursors else ""
        if more and not beyond:
            beyond = 1
            tail = f"c:{available[window - 1].shift_id}"
        return OpenPage([p[0] for p in picked], cursors, beyond, tail, exact=not more)

    def _with_status(self, status: str, after: str | None) -> list[Shift]:
        return [
            r.shift
            for i, r in sorted(self.records.items())
            if r.shift.shift_status == status and (after is None or i > after)
        ]

    def open_page(self, after: str | None, limit: int) -> tuple[list[Shift], bool]:
        # As a DynamoDB Query with Limit: "more" whenever the page came back full.
        page = self._with_status(ShiftStatus.AVAILABLE, after)[:limit]
        return page, len(page) == limit

    def count_open(self, after: str | None) -> int:
        return len(self._with_status(ShiftStatus.AVAILABLE, after))

    def get(self, shift_id: str) -> Shift | None:
        record = self.records.get(shift_id)
        if record is None and (stored := self._stored_id(shift_id)) is not None:
            record = self.records[stored]
        return record.shift if record else None

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        return {i: shift for i in shift_ids if (shift := self.get(i)) is not None}

    def put(self, shift: Shift, *, replace: bool = False) -> None:
        if not replace and shift.shift_id in self.records:
            raise ShiftExists(f"shift {shift.shift_id} already exists")
        self.records[shift.shift_id] = _ShiftRecord(shift)  # a put replaces the whole item

    def delete(self, shift_id: str) -> None:
        if self.records.pop(shift_id, None) is None:
            raise ShiftNotFound(f"no shift {shift_id}")

    def by_status(self, status: str) -> Iterator[Shift]:
        return iter(self._with_status(status, None))

    def ids_by_status(self, status: str) -> Iterator[str]:
        return iter([s.shift_id for s in self._with_status(status, None)])

    def full_by_status(self, status: str) -> list[Shift]:
        return list(self._with_status(status, None))

    def every_shift(self) -> list[Shift]:
        shifts = [r.shift for r in self.records.values() if r.shift.shift_status is not None]
        return sorted(shifts, key=lambda s: s.shift_id)

    # -- the operator's writes (AdminShiftStore) -------------------------------------------------

    def set_info(self, shift_id: str, shift_info: str) -> Shift:
        record = self.records.get(shift_id)
        if record is None:
            raise ShiftNotFound(f"no shift {shift_id}")
        record.shift = replace(record.shift, shift_info=shift_info)
        return record.shift

    def _as_seen(self, seen: Shift, *, with_info: bool) -> _ShiftRecord:
        record = self.records.get(seen.shift_id)
        if record is None:
            raise ShiftNotFound(f"no shift {seen.shift_id}")
        now = record.shift
        fields = ["shift_status", "employee", "booked_at"] + (["shift_info"] if with_info else [])
        if any(getattr(now, f) != getattr(seen, f) for f in fields):
            raise ShiftChanged(f"shift {seen.shift_id} changed", now)
        return record

    def release_as_seen(self, seen: Shift) -> None:
        record = self._as_seen(seen, with_info=False)
        record.shift = replace(
            record.shift, shift_status=ShiftStatus.AVAILABLE, employee=None, booked_at=None
        )
        record.booking_ref = None
        self._drop_held(seen)

    def delete_as_seen(self, seen: Shift) -> None:
        self._as_seen(seen, with_info=True)
        del self.records[seen.shift_id]
        self._drop_held(seen)

    def _drop_held(self, seen: Shift) -> None:
        """The holder's list loses the shift (in the adapter, in the same transaction)."""
        if seen.employee:
            self._change_held(seen.employee, lambda held: remove(held, seen.shift_id))

    def existing_ids(self, shift_ids: Sequence[str]) -> set[str]:
        return {i for i in shift_ids if i in self.records}

    def put_many(
        self, shifts: Sequence[Shift], on_written: Callable[[list[str]], None] | None = None
    ) -> None:
        for start in range(0, len(shifts), 25):  # BatchWriteItem's 25 a call
            batch = shifts[start : start + 25]
            for shift in batch:
                self.records[shift.shift_id] = _ShiftRecord(shift)
            if on_written is not None:
                on_written([s.shift_id for s in batch])

    def first_by_status(self, status: str, limit: int) -> tuple[list[Shift], bool]:
        page = self._with_status(status, None)[:limit]
        return page, len(page) == limit

    def count_by_status(self, status: str, after: str | None = None) -> int:
        return len(self._with_status(status, after))


def _span(shift: Shift) -> Span | None:
    """The shift's time, read as the adapter reads it from the item."""
    return span_from_item(dataclasses.asdict(shift))


@dataclass
class MemoryStaff:
    """StaffStore in a dict: a put keeps the opt-out state, as the DynamoDB adapter does.

    ``held`` and ``held_versions`` stand for the person item's booked timed shifts (written by
    :class:`MemoryShifts` given this store): kept by a put or update, gone with the entry.
    """

    items: dict[str, StaffMember] = field(default_factory=dict)
    held: dict[str, tuple[HeldShift, ...]] = field(default_factory=dict)
    held_versions: dict[str, int] = field(default_factory=dict)

    def get(self, phone: str) -> StaffMember | None:
        return self.items.get(phone)

    def set_opted_out(self, phone: str, opted_out: bool, at: datetime) -> None:
        if phone in self.items:
            self.items[phone] = replace(self.items[phone], opted_out=opted_out)

    def set_list_cursor(self, phone: str, cursor: str | None) -> None:
        if phone in self.items:
            self.items[phone] = replace(self.items[phone], list_cursor=cursor)

    def set_snooze(self, phone: str, until: datetime | None, at: datetime) -> bool:
        if phone not in self.items:
            return False
        stamp = until.astimezone(UTC).isoformat(timespec="seconds") if until else None
        self.items[phone] = replace(self.items[phone], snoozed_until=stamp)
        return True

    def put(self, member: StaffMember, *, replace: bool = True) -> bool:
        member = _sorted_groups(member)
        old = self.items.get(member.phone)
        if old is None:
            self.items[member.phone] = dataclasses.replace(member, list_cursor=None)
            return True
        if replace:
            self.items[member.phone] = _keep(old, member)
        return False

    def update(self, phone: str, edit: StaffEdit) -> StaffChange:
        before = self.items.get(phone)
        if before is None:
            raise StaffNotFound(f"{phone} is not on the allow list")
        change = StaffChange(before, edit.applied_to(before))
        self.items[phone] = change.after
        return change

    def delete(self, phone: str) -> None:
        if self.items.pop(phone, None) is None:
            raise StaffNotFound(f"{phone} is not on the allow list")
        self.held.pop(phone, None)
        self.held_versions.pop(phone, None)

    def all(self) -> Iterator[StaffMember]:
        return iter(list(self.items.values()))

    def recipients(self) -> Iterator[StaffMember]:
        # The sparse index: hash key recipient_pool, range key phone.
        return iter([m for _, m in sorted(self.items.items()) if m.campaigns and not m.opted_out])


def _sorted_groups(member: StaffMember) -> StaffMember:
    """Groups and roles as read back from their string sets: sorted, each once."""
    return dataclasses.replace(
        member, groups=tuple(sorted(set(member.groups))), roles=tuple(sorted(set(member.roles)))
    )


def _keep(old: StaffMember, new: StaffMember) -> StaffMember:
    """``new``'s name, campaigns, groups and roles on ``old``'s opt-out, added time, cursor."""
    return dataclasses.replace(
        old,
        name=new.name,
        campaigns=new.campaigns,
        groups=new.groups,
        roles=new.roles,
        language=new.language,
        added_at=old.added_at or new.added_at,
    )


@dataclass
class CountingReplyLimiter:
    """ReplyLimiter: ``per_sender`` replies per number (a retried ``ref`` again), and one
    call-back per person per ``cooldown`` (a retried ``ref`` again, given back by its ref)."""

    per_sender: int = 1
    cooldown: timedelta = timedelta(minutes=30)
    granted: dict[str, list[str | None]] = field(default_factory=dict)
    call_backs: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # ref, until

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

    def allow_call_back(self, employee: str, at: datetime, *, ref: str) -> bool:
        held = self.call_backs.get(employee)
        if held is not None and held[0] != ref and held[1] >= at:
            return False
        self.call_backs[employee] = (ref, at + self.cooldown)
        return True

    def end_call_back(self, employee: str, *, ref: str) -> None:
        held = self.call_backs.get(employee)
        if held is not None and held[0] == ref:
            del self.call_backs[employee]


def _new(campaign: Campaign) -> bool:
    return campaign.status is CampaignStatus.NEW


@dataclass
class MemoryCampaigns:
    """CampaignStore in a dict, with the DynamoDB adapter's status transitions."""

    items: dict[str, Campaign] = field(default_factory=dict)

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
            and found.status is CampaignStatus.FANNING_OUT
            and found.fanout_token == token
        )

    def claim_fan_out(
        self, campaign_id: str, token: str, text: str, at: datetime, expires_at: int
    ) -> Campaign | None:
        old = self.items.get(campaign_id)
        if old is None or not (_new(old) or self._fanning(campaign_id, token)):
            return None
        claimed = replace(
            old,
            status=CampaignStatus.FANNING_OUT,
            fanout_token=token,
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
                status=CampaignStatus.SENDING,
                recipients=recipients,
                queued_at=at.isoformat(timespec="seconds"),
            )

    def add_wave(self, campaign_id: str, token: str, wave: int, recipients: int) -> bool:
        old = self.items.get(campaign_id)
        if old is None or old.fanout_token != token or (old.waves_sent or 0) != wave - 1:
            return False
        self.items[campaign_id] = replace(
            old, waves_sent=wave, recipients=(old.recipients or 0) + recipients
        )
        return True

    def reject(self, campaign_id: str, reason: str) -> None:
        old = self.items.get(campaign_id)
        if old is not None and _new(old):
            self.items[campaign_id] = replace(old, status=CampaignStatus.REJECTED, reason=reason)


@dataclass
class ListSendQueue:
    """SendQueue that keeps the jobs in a list; ``fail_next`` enqueues raise first."""

    jobs: list[SendJob] = field(default_factory=list)
    fail_next: int = 0

    def enqueue(self, jobs: Sequence[SendJob]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise EnqueueFailed(f"{len(jobs)} send jobs not queued (the queue refused them)")
        self.jobs.extend(jobs)


@dataclass
class Marker:
    """One send-once marker, as the state table holds it (times in whole seconds)."""

    state: str
    token: str
    claimed_at: int
    sending_at: int | None = None
    settled_at: int | None = None
    message_id: str = ""
    reason: str = ""


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


@dataclass
class MemoryLedger:
    """SendLedger: one marker per (campaign, run, recipient), counted on ``campaigns`` once.

    As the DynamoDB adapter: a claim older than the lease is taken over, a send left
    ``sending`` that long is closed as unconfirmed, and a run only counts on the campaign
    instance it fanned out.
    """

    campaigns: MemoryCampaigns
    markers: dict[tuple[str, str, str], Marker] = field(default_factory=dict)

    @staticmethod
    def _key(job: SendJob) -> tuple[str, str, str]:
        """(campaign, run, number); a re-offer's run part names its round too."""
        run = f"{job.run}#reoffer#{job.reoffer}" if job.reoffer else job.run
        return job.campaign_id, run, job.to

    def _ours(self, job: SendJob, token: str) -> Marker | None:
        marker = self.markers.get(self._key(job))
        if marker is None or marker.state not in (CLAIMED, SENDING) or marker.token != token:
            return None
        return marker

    def claim(self, job: SendJob, at: datetime) -> str | None:
        old = self.markers.get(self._key(job))
        stale = _epoch(at) - CLAIM_LEASE_SECONDS
        if old is not None and not (old.state == CLAIMED and old.claimed_at < stale):
            return None
        token = uuid.uuid4().hex
        self.markers[self._key(job)] = Marker(CLAIMED, token, _epoch(at))
        return token

    def begin(self, job: SendJob, token: str, at: datetime) -> bool:
        marker = self._ours(job, token)
        if marker is None or marker.state != CLAIMED:
            return False
        marker.state, marker.sending_at = SENDING, _epoch(at)
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
        marker = self._ours(job, token)
        if marker is None:
            return  # settled already, or not our claim: nothing to count
        marker.state, marker.settled_at = outcome.value, _epoch(at)
        marker.message_id, marker.reason = message_id, reason[:500]
        self._count(job, outcome)

    def close_abandoned(self, job: SendJob, at: datetime) -> bool:
        marker = self.markers.get(self._key(job))
        stale = _epoch(at) - CLAIM_LEASE_SECONDS
        if marker is None or marker.state != SENDING or (marker.sending_at or 0) >= stale:
            return False
        marker.state, marker.settled_at = SendOutcome.UNCONFIRMED.value, _epoch(at)
        marker.reason = UNCONFIRMED_REASON
        self._count(job, SendOutcome.UNCONFIRMED)
        return True

    def _count(self, job: SendJob, outcome: SendOutcome) -> None:
        found = self.campaigns.items.get(job.campaign_id)
        if found is None or (job.run and found.fanout_token != job.run):
            return  # deleted or replaced meanwhile: the marker keeps the outcome
        counter = counted_as(job, outcome)
        if counter is None:
            return
        self.campaigns.items[job.campaign_id] = replace(
            found, **{counter: getattr(found, counter) + 1}
        )

    def release(self, job: SendJob, token: str) -> None:
        if self._ours(job, token) is not None:
            del self.markers[self._key(job)]

    def sent_at(self, campaign_id: str, to: str, run: str = "") -> datetime | None:
        marker = self.markers.get((campaign_id, run, to))
        if marker is None or marker.state != SendOutcome.SENT.value or marker.settled_at is None:
            return None
        return datetime.fromtimestamp(marker.settled_at, UTC)


@dataclass
class FixedDeadLetters:
    """DeadLetters holding ``messages`` (None: the stack names no such queue)."""

    messages: int | None = 0

    def depth(self) -> int | None:
        return self.messages


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


class FreeSlots:
    """A send-rate limiter with a time always free, for tests whose clock stands still."""

    def acquire(self, deadline: float | None = None) -> bool:
        return True

    def acquire_reply(self, deadline: float) -> bool:
        return True


@dataclass
class CountingReplyRate:
    """ReplyRate that never waits: grants ``slots`` send times (unlimited if None)."""

    slots: int | None = None
    granted: int = 0

    def acquire_reply(self, deadline: float) -> bool:
        if self.slots is not None and self.granted >= self.slots:
            return False
        self.granted += 1
        return True


@dataclass
class ReplyMarker:
    """One reply marker, as the state table holds it (``reply#<ref>``)."""

    state: str
    token: str
    lease_until: int | None = None
    message_id: str = ""


@dataclass
class MemoryReplyMarkers:
    """ReplyMarkers in a dict, with the DynamoDB adapter's conditions: a new marker, a claim
    whose lease is past, or (from the queue) a queued reply may be claimed; the rest report
    what they hold."""

    markers: dict[str, ReplyMarker] = field(default_factory=dict)

    def _ours(self, ref: str, token: str) -> ReplyMarker | None:
        marker = self.markers.get(ref)
        return marker if marker is not None and marker.token == token else None

    def claim(self, ref: str, at: float, *, from_queue: bool = False) -> ReplyMark:
        old = self.markers.get(ref)
        stale = (
            old is not None
            and old.state == reply_jobs.CLAIMED
            and old.lease_until is not None
            and old.lease_until < int(at)
        )
        if old is None or stale or (from_queue and old.state == reply_jobs.QUEUED):
            token = uuid.uuid4().hex
            lease = int(at) + REPLY_LEASE_SECONDS
            self.markers[ref] = ReplyMarker(reply_jobs.CLAIMED, token, lease)
            return ReplyMark(token, reply_jobs.CLAIMED)
        return ReplyMark(None, old.state, old.message_id)

    def begin(self, ref: str, token: str) -> bool:
        marker = self._ours(ref, token)
        if marker is None or marker.state != reply_jobs.CLAIMED:
            return False
        marker.state = reply_jobs.SENDING
        return True

    def settle(self, ref: str, token: str, state: str, message_id: str = "") -> None:
        marker = self._ours(ref, token)
        if marker is not None:
            marker.state, marker.message_id, marker.lease_until = state, message_id, None

    def release(self, ref: str, token: str) -> None:
        marker = self._ours(ref, token)
        if marker is not None:
            marker.state, marker.lease_until = reply_jobs.QUEUED, None


@dataclass
class ListReplyQueue:
    """ReplyQueue that keeps the jobs in a list."""

    jobs: list[ReplyJob] = field(default_factory=list)

    def enqueue(self, job: ReplyJob) -> None:
        self.jobs.append(job)


@dataclass
class MemoryLinks:
    """CampaignLinks in dicts, with the adapter's once-per-filling condition."""

    offered: dict[str, str] = field(default_factory=dict)
    filled: dict[str, str] = field(default_factory=dict)

    def tag(self, shift_ids: Sequence[str], campaign_id: str) -> None:
        self.offered.update(dict.fromkeys(shift_ids, campaign_id))

    def offered_in(self, shift_id: str) -> str | None:
        return self.offered.get(shift_id)

    def mark_filled(self, campaign_id: str, ref: str, at: datetime) -> bool:
        if self.filled.get(campaign_id, ref) != ref:
            return False
        self.filled[campaign_id] = ref
        return True

    def clear_filled(self, campaign_id: str) -> None:
        self.filled.pop(campaign_id, None)


@dataclass
class MemoryOfferLog:
    """OfferLog in a dict keyed by number; the newest offer wins, expired ones are not read."""

    offers: dict[str, Offer] = field(default_factory=dict)
    keep: timedelta = timedelta(days=7)

    def record(self, phone: str, shift_ids: Sequence[str], kind: str, at: datetime) -> None:
        old = self.offers.get(phone)
        if old is None or old.sent_at <= at:
            self.offers[phone] = Offer(tuple(shift_ids), kind, at)

    def latest(self, phone: str, now: datetime) -> Offer | None:
        offer = self.offers.get(phone)
        return offer if offer is not None and offer.sent_at + self.keep > now else None


@dataclass
class MemoryOfferCap:
    """OfferCap in a dict: the offers counted per (number, day), each run once."""

    counted: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def take(self, to: str, day: str, offer: str, cap: int, at: datetime) -> bool:
        offers = self.counted.setdefault((to, day), set())
        if offer not in offers and len(offers) >= cap:
            return False
        offers.add(offer)
        return True


@dataclass
class _DueRecord:
    item: DueItem
    lease_token: str = ""
    lease_until: int | None = None


@dataclass
class FakeDueWork:
    """DueWork in a dict, with the DynamoDB adapter's conditions: a claim leases the item as
    scheduled (same due time) unless a live lease holds it; finish deletes on the token."""

    items: dict[tuple[str, str], _DueRecord] = field(default_factory=dict)
    lease_seconds: int = DUE_LEASE_SECONDS
    lock: threading.Lock = field(default_factory=threading.Lock)

    def schedule(self, item: DueItem) -> None:
        with self.lock:
            self.items[(item.kind, item.key)] = _DueRecord(item)

    def cancel(self, kind: str, key: str) -> None:
        with self.lock:
            self.items.pop((kind, key), None)

    def due(self, now: datetime, limit: int) -> list[DueItem]:
        with self.lock:
            free = [
                r.item
                for r in self.items.values()
                if r.item.due_at <= now and (r.lease_until is None or r.lease_until < _epoch(now))
            ]
        return sorted(free, key=lambda i: i.sort_key)[:limit]

    def claim(self, item: DueItem, now: datetime) -> str | None:
        with self.lock:
            record = self.items.get((item.kind, item.key))
            if record is None or record.item.sort_key != item.sort_key:
                return None
            if record.lease_until is not None and record.lease_until >= _epoch(now):
                return None
            record.lease_token = uuid.uuid4().hex
            record.lease_until = _epoch(now) + self.lease_seconds
            return record.lease_token

    def finish(self, item: DueItem, token: str) -> None:
        with self.lock:
            record = self.items.get((item.kind, item.key))
            if record is not None and record.lease_token == token:
                del self.items[(item.kind, item.key)]


@dataclass
class _Window:
    campaign_id: str
    closes_at: datetime
    open: bool = True
    repliers: dict[str, datetime] = field(default_factory=dict)


@dataclass
class MemoryClaimWindows:
    """ClaimWindows in a dict, with the DynamoDB adapter's conditions."""

    windows: dict[str, _Window] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, shift_id: str, campaign_id: str, closes_at: datetime) -> None:
        with self.lock:
            self.windows[shift_id.upper()] = _Window(campaign_id, closes_at)

    def register(self, shift_id: str, phone: str, at: datetime) -> datetime | None:
        with self.lock:
            window = self.windows.get(shift_id.upper())
            if window is None or not window.open or window.closes_at <= at:
                return None
            window.repliers.setdefault(phone, at)
            return window.closes_at

    def close(self, shift_id: str, campaign_id: str) -> list[WindowReply]:
        with self.lock:
            window = self.windows.get(shift_id.upper())
            if window is None or window.campaign_id != campaign_id:
                return []
            window.open = False
            found = [WindowReply(p, at) for p, at in window.repliers.items()]
        return sorted(found, key=lambda r: (r.replied_at, r.phone))


@dataclass
class MemorySendRecords:
    """SendRecords and DeliveryLedger in dicts, with the DynamoDB adapter's once-only rules.

    ``mark`` stands in for the sender's settled marker of a campaign text; ``campaigns``
    (when given) gets the delivery counters, as the campaigns table does.
    """

    campaigns: MemoryCampaigns | None = None
    texts: dict[str, SendRecord] = field(default_factory=dict)
    finals: set[str] = field(default_factory=set)
    seen_at: dict[str, datetime] = field(default_factory=dict)
    markers: dict[tuple[str, str, str], SendRecord] = field(default_factory=dict)
    totals: dict[date, DayTotals] = field(default_factory=dict)

    def mark(self, record: SendRecord) -> None:
        """A campaign send marker as the sender leaves it (outcome, sent_at)."""
        self.markers[(record.campaign_id, record.run, record.recipient)] = record

    def record(self, event: DeliveryEvent) -> DeliveryChange:
        mid = event.message_id
        old = self.texts.get(mid)
        if mid in self.finals:
            return DeliveryChange(applied=False)
        if old is not None and not event.is_final and self.seen_at[mid] > event.at:
            return DeliveryChange(applied=False)
        parts = event.parts if event.parts is not None else (old.parts if old else None)
        price = event.price_usd if event.price_usd is not None else (old and old.price_usd)
        fee = event.carrier_fee_usd
        if fee is None and old is not None:
            fee = old.carrier_fee_usd
        fields_ = {
            "delivery_status": event.status,
            "parts": parts,
            "price_usd": price,
            "carrier_fee_usd": fee,
        }
        self.texts[mid] = SendRecord(
            campaign_id=event.campaign_id,
            run=event.run,
            recipient=event.recipient,
            sent_at=event.requested_at,
            outcome="sent",
            message_id=mid,
            **fields_,  # type: ignore[arg-type]
        )
        self.seen_at[mid] = event.at
        key = (event.campaign_id, event.run, event.recipient)
        if event.kind == "campaign" and key in self.markers:
            self.markers[key] = replace(self.markers[key], **fields_)
        day = self.totals.get(event.day, DayTotals(event.day))
        cost = (price or Decimal(0)) + (fee or Decimal(0))
        day = replace(day, texts=day.texts + (1 if old is None else 0))
        if event.is_final:
            self.finals.add(mid)
            day = replace(
                day,
                parts=day.parts + (parts or 0),
                cost_usd=day.cost_usd + cost,
                delivered=day.delivered + event.delivered,
                failed=day.failed + event.failed,
            )
            self._count(event, parts or 0, cost)
        self.totals[event.day] = day
        return DeliveryChange(applied=True, settled=event.is_final)

    def _count(self, event: DeliveryEvent, parts: int, cost: Decimal) -> None:
        if self.campaigns is None or event.kind != "campaign" or not event.campaign_id:
            return
        found = self.campaigns.items.get(event.campaign_id)
        if found is None or (event.run and found.fanout_token != event.run):
            return
        self.campaigns.items[event.campaign_id] = replace(
            found,
            delivered=found.delivered + event.delivered,
            delivery_failed=found.delivery_failed + event.failed,
            parts=found.parts + parts,
            cost_usd=found.cost_usd + cost,
        )

    def for_campaign(self, campaign_id: str, run: str) -> Iterator[SendRecord]:
        found = [r for (c, r_, _), r in self.markers.items() if (c, r_) == (campaign_id, run)]
        return iter(sorted(found, key=lambda r: r.recipient))

    def sent_on(self, day: date) -> Iterator[SendRecord]:
        found = [r for r in self.texts.values() if r.sent_at and r.sent_at.date() == day]
        return iter(sorted(found, key=lambda r: r.message_id or ""))

    def day_totals(self, day: date) -> DayTotals:
        return self.totals.get(day, DayTotals(day))


@dataclass
class CountingMetrics:
    """MetricSink that adds up each metric."""

    counts: dict[str, float] = field(default_factory=dict)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value


@dataclass
class MemoryAuditTrail:
    """AuditTrail in a list: an entry is kept once per subject and stream event."""

    entries: list[AuditEntry] = field(default_factory=list)

    def record(self, entry: AuditEntry) -> bool:
        if any((e.subject, e.event_id) == (entry.subject, entry.event_id) for e in self.entries):
            return False
        self.entries.append(entry)
        return True

    def for_subject(self, subject: str, since: datetime | None = None) -> Iterator[AuditEntry]:
        found = [e for e in self.entries if e.subject == subject]
        return iter(sorted((e for e in found if since is None or e.at >= since), key=_at))

    def between(self, start: datetime, end: datetime) -> Iterator[AuditEntry]:
        return iter(sorted((e for e in self.entries if start <= e.at < end), key=_at))


def _at(entry: AuditEntry) -> datetime:
    return entry.at
