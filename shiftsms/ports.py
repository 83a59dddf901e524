"""The ports services run against. AWS adapters implement them; tests may use fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from shiftsms.core.audit import AuditEntry
from shiftsms.core.booking_rules import Refusal
from shiftsms.core.campaigns import Campaign, SendJob, SendOutcome
from shiftsms.core.delivery import DayTotals, DeliveryEvent, SendRecord
from shiftsms.core.due import DueItem
from shiftsms.core.held_shifts import RETENTION, HeldShift
from shiftsms.core.models import (
    BookingOutcome,
    DropOutcome,
    Shift,
    StaffChange,
    StaffEdit,
    StaffMember,
)
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.core.shift_times import Span
from shiftsms.core.waitlist import WAITLIST_CAP, JoinResult, Offer, WaitView

# Why a shift cannot be booked by this person now (empty: it can), given its span and the
# person's held shifts.
BookingCheck = Callable[[Shift, Span | None, tuple[HeldShift, ...]], tuple[Refusal, ...]]


@dataclass(frozen=True)
class BookingResult:
    """What a checked booking did: an outcome, or (outcome None) the refusals."""

    outcome: BookingOutcome | None
    refusals: tuple[Refusal, ...] = ()


@dataclass(frozen=True)
class OpenPage:
    """Open shifts a person may book, in listing order, with the cursor after each one."""

    shifts: list[Shift]
    cursors: list[str]
    # How many more follow the page (a console-item window not read to its end counts 1).
    beyond: int
    # Where MORE goes on once every shift of the page was shown ("" for none).
    tail: str = ""
    # False when ``beyond`` is a lower bound (console items were not all read).
    exact: bool = True


class ShiftStore(Protocol):
    """The shifts table."""

    def book(
        self, shift_id: str, employee: str, booking_ref: str, at: datetime, *, sent: str = ""
    ) -> BookingOutcome:
        """Atomically book an available shift for ``employee`` (one conditional write).

        ``booking_ref`` (the inbound message id) makes a retried booking report BOOKED again;
        ``sent`` (when the message was sent) refuses it if a later message changed the shift.
        """
        ...

    def release(
        self,
        shift_id: str,
        employee: str | None = None,
        *,
        ref: str | None = None,
        sent: str = "",
    ) -> DropOutcome:
        """Make a taken shift available again; with ``employee``, only if they hold it.

        ``ref`` (the inbound message id) makes a retried release report RELEASED again;
        ``sent`` (when the message was sent) refuses it if a later message changed the shift.
        """
        ...

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
        """Book if ``check`` finds no reason against it; a timed shift and the person's held
        shifts change in one transaction (race-free rules). Retries report as :meth:`book`."""
        ...

    def open_listing(
        self, roles: Sequence[str], now: datetime, cursor: str | None, limit: int
    ) -> OpenPage:
        """Open shifts a person with ``roles`` may book, not started, soonest first (untimed
        after timed), after ``cursor`` (one of a previous page's :attr:`OpenPage.cursors`)."""
        ...

    def open_page(self, after: str | None, limit: int) -> tuple[list[Shift], bool]:
        """Up to ``limit`` available shifts with ids after ``after``, and whether more follow."""
        ...

    def count_open(self, after: str | None) -> int:
        """How many available shifts have ids after ``after``."""
        ...

    def get(self, shift_id: str) -> Shift | None:
        """One shift, or None."""
        ...

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The shifts that exist among ``shift_ids``."""
        ...

    def put(self, shift: Shift, *, replace: bool = False) -> None:
        """Create a shift; raise ShiftExists if the id is taken and not ``replace``."""
        ...

    def delete(self, shift_id: str) -> None:
        """Delete a shift; raise ShiftNotFound if there is none."""
        ...

    def by_status(self, status: str) -> Iterator[Shift]:
        """Every shift with ``status`` (through the status index, paginated)."""
        ...

    def held(self, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
        """The timed shifts ``phone`` holds (soonest first), their version, and whether the
        person is on the allow list."""
        ...


class WaitlistStore(Protocol):
    """Waitlists and held offers, kept on the shift items."""

    def waitlist_view(self, shift_id: str) -> WaitView | None:
        """The shift with its waitlist, hold and version (strongly consistent), or None."""
        ...

    def join_waitlist(
        self,
        shift_id: str,
        phone: str,
        cap: int = WAITLIST_CAP,
        *,
        roles: Sequence[str] | None = None,
    ) -> JoinResult:
        """Add ``phone`` to the end of a taken (or held) shift's waitlist: conditional, no
        duplicates, at most ``cap``, never someone lacking its role (``roles`` None: not
        checked)."""
        ...

    def set_hold(
        self, seen: WaitView, holder: str | None, until: datetime | None, rest: Sequence[str]
    ) -> bool:
        """Hold the shift for ``holder`` (None: open it to all) with ``rest`` as its waitlist,
        only while it is as ``seen``; False when it changed."""
        ...

    def held(self, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
        """The timed shifts ``phone`` holds, their version, and whether the person exists."""
        ...


class OfferLog(Protocol):
    """The latest offer sent to each number (for YES)."""

    def record(self, phone: str, shift_ids: Sequence[str], kind: str, at: datetime) -> None:
        """Remember an offer of ``shift_ids`` sent at ``at`` (a newer one is kept)."""
        ...

    def latest(self, phone: str, now: datetime) -> Offer | None:
        """The newest offer sent to ``phone`` that has not expired, or None."""
        ...


class StaffStore(Protocol):
    """The allow list (which is also the campaign roster)."""

    def get(self, phone: str) -> StaffMember | None:
        """The allow-list entry for an E.164 number, or None."""
        ...

    def set_opted_out(self, phone: str, opted_out: bool, at: datetime) -> None:
        """Record an opt-out or opt-in (no-op for numbers not on the list)."""
        ...

    def set_list_cursor(self, phone: str, cursor: str | None) -> None:
        """Remember where the sender's list of open shifts stopped, for MORE."""
        ...

    def set_snooze(self, phone: str, until: datetime | None, at: datetime) -> bool:
        """Pause campaign offers until ``until`` (None: resume); False if not on the list."""
        ...

    def put(self, member: StaffMember, *, replace: bool = True) -> bool:
        """Add or update an entry; return True if it was new."""
        ...

    def update(self, phone: str, edit: StaffEdit) -> StaffChange:
        """Change only the fields ``edit`` gives (conditional); raise StaffNotFound."""
        ...

    def delete(self, phone: str) -> None:
        """Remove an entry; raise StaffNotFound if there is none."""
        ...

    def all(self) -> Iterator[StaffMember]:
        """Every entry (operator listing; not for hot paths)."""
        ...

    def recipients(self) -> Iterator[StaffMember]:
        """Entries that get campaigns and have not opted out (sparse index, paginated)."""
        ...


class SmsSender(Protocol):
    """End User Messaging SMS."""

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """Send one text; return its message id. Raise a SendError subclass on failure."""
        ...


class Caller(Protocol):
    """Amazon Connect outbound call-backs."""

    def call_back(self, to: str, note: str, token: str) -> str:
        """Start (idempotently, by ``token``) a call to ``to``; return the contact id."""
        ...


class ReplyLimiter(Protocol):
    """Bounds what unknown senders can make us spend."""

    def allow_unauthorised_reply(
        self, sender: str, at: datetime, *, ref: str | None = None
    ) -> bool:
        """True at most once per sender per window, and within a global hourly cap.

        ``ref`` (the inbound message id) lets a retry of the same message through again.
        """
        ...

    def allow_call_back(self, employee: str, at: datetime, *, ref: str) -> bool:
        """True unless another message placed a call-back to ``employee`` within the cooldown."""
        ...

    def end_call_back(self, employee: str, *, ref: str) -> None:
        """Give back the cooldown ``ref`` took (its call-back could not be placed)."""
        ...


class CampaignStore(Protocol):
    """The campaigns table: items, fan-out claims and delivery counters."""

    def create(self, campaign: Campaign) -> None:
        """Write a new campaign item; raise CampaignExists if the id is taken."""
        ...

    def get(self, campaign_id: str) -> Campaign | None:
        """One campaign, or None."""
        ...

    def all(self) -> Iterator[Campaign]:
        """Every campaign (operator listing)."""
        ...

    def claim_fan_out(
        self, campaign_id: str, token: str, text: str, at: datetime, expires_at: int
    ) -> Campaign | None:
        """Mark the campaign as fanning out under ``token``; None if it is not ours to fan out.

        A campaign that is new (or has no status, as a console item) is claimed; one already
        fanning out under the same ``token`` (a retried stream record) is claimed again, so an
        interrupted fan-out resumes. Returns the campaign as stored after the claim.
        """
        ...

    def save_progress(self, campaign_id: str, token: str, cursor: str) -> None:
        """Remember the last recipient queued (recipients come in phone order), to resume."""
        ...

    def finish_fan_out(self, campaign_id: str, token: str, recipients: int, at: datetime) -> None:
        """Record the recipient count and move the campaign to sending."""
        ...

    def reject(self, campaign_id: str, reason: str) -> None:
        """Mark a campaign that cannot be sent (nothing to send), if still new."""
        ...

    def add_wave(self, campaign_id: str, token: str, wave: int, recipients: int) -> bool:
        """Record wave ``wave`` as sent (adding its ``recipients``), once: False if it was."""
        ...


class SendQueue(Protocol):
    """The queue of send jobs between the campaign and sender functions."""

    def enqueue(self, jobs: Sequence[SendJob]) -> None:
        """Put every job on the queue (in batches); raise if any could not be queued."""
        ...


class SendLedger(Protocol):
    """Send-once markers per (campaign run, recipient), settled together with the counters."""

    def claim(self, job: SendJob, at: datetime) -> str | None:
        """Claim the one send of ``job``; a claim token, or None if claimed or done already.

        A claim left unsent by a sender that died (older than the lease) is taken over.
        """
        ...

    def begin(self, job: SendJob, token: str, at: datetime) -> bool:
        """Mark the claim as sending, right before the text goes; False if it is not ours."""
        ...

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
        """Record the claim's final outcome and count it on the campaign."""
        ...

    def close_abandoned(self, job: SendJob, at: datetime) -> bool:
        """Settle (as unconfirmed, counted) a send left mid-way by a dead sender; False if none."""
        ...

    def release(self, job: SendJob, token: str) -> None:
        """Give a claim back after a transient failure, so a retry can send."""
        ...

    def sent_at(self, campaign_id: str, to: str, run: str = "") -> datetime | None:
        """When the campaign run's text was sent to ``to``, if it was."""
        ...


class OfferCap(Protocol):
    """MaxOffersPerDay: campaign texts counted per person per day, across every sender."""

    def take(self, to: str, day: str, offer: str, cap: int, at: datetime) -> bool:
        """Count ``offer`` (a campaign run; counted once however often it is asked) for ``to``
        on ``day``; False when ``cap`` offers are counted already."""
        ...


class DeadLetters(Protocol):
    """A dead-letter queue, seen from the operator's side."""

    def depth(self) -> int | None:
        """About how many messages it holds; None when the stack names no such queue."""
        ...


class SendRateLimiter(Protocol):
    """Paces sends to the origination identity's rate across every concurrent sender."""

    def acquire(self, deadline: float | None = None) -> bool:
        """Wait for a send slot; False if none is free before ``deadline`` (epoch seconds)."""
        ...


class ReplyRate(Protocol):
    """The number's send schedule, seen from replies: they book ahead of campaign texts."""

    def acquire_reply(self, deadline: float) -> bool:
        """Book the next send time and wait for it; False if none before ``deadline``."""
        ...


@dataclass(frozen=True)
class ReplyMark:
    """A reply marker as a claim found it: ours (``token``) or someone's, in ``state``."""

    token: str | None
    state: str
    message_id: str = ""


class ReplyMarkers(Protocol):
    """Send-once markers for replies, keyed by the inbound message id (``ref``)."""

    def claim(self, ref: str, at: float, *, from_queue: bool = False) -> ReplyMark:
        """Claim the reply's one send: new, or a claim left stale, or (``from_queue``) queued."""
        ...

    def begin(self, ref: str, token: str) -> bool:
        """Mark the claim as sending, right before the text goes; False if it is not ours."""
        ...

    def settle(self, ref: str, token: str, state: str, message_id: str = "") -> None:
        """Record the final state (sent, opted out) on our claim."""
        ...

    def release(self, ref: str, token: str) -> None:
        """Give our claim back as queued (not sent), for the reply queue to send."""
        ...


class ReplyQueue(Protocol):
    """The durable queue of replies that could not go at once."""

    def enqueue(self, job: ReplyJob) -> None:
        """Put ``job`` on the queue; raise if it could not be queued."""
        ...


class DueWork(Protocol):
    """Work to run at a time, kept until a run claims and finishes it."""

    def schedule(self, item: DueItem) -> None:
        """Keep ``item`` (the same kind and key replace the earlier item, leased or not)."""
        ...

    def cancel(self, kind: str, key: str) -> None:
        """Forget the item of ``kind`` and ``key`` (nothing if there is none)."""
        ...

    def due(self, now: datetime, limit: int) -> list[DueItem]:
        """Up to ``limit`` items due by ``now``, soonest first, not held by a live lease."""
        ...

    def claim(self, item: DueItem, now: datetime) -> str | None:
        """Lease ``item`` as scheduled (same due time); a token, or None if it is gone,
        replaced or leased by another run. A lease not finished in time lapses (retried)."""
        ...

    def finish(self, item: DueItem, token: str) -> None:
        """Delete the item if ``token`` still holds it (a replacement scheduled meanwhile stays)."""
        ...


@dataclass(frozen=True)
class WindowReply:
    """Someone who replied with a shift's code while its claim window was open."""

    phone: str
    replied_at: datetime


class ClaimWindows(Protocol):
    """Claim windows per shift: replies collected while open, handed over once at the close."""

    def open(self, shift_id: str, campaign_id: str, closes_at: datetime) -> None:
        """Open (or reopen, for a new campaign) the window of ``shift_id`` until ``closes_at``."""
        ...

    def register(self, shift_id: str, phone: str, at: datetime) -> datetime | None:
        """Note ``phone``'s reply (the first one counts); the closing time, or None when the
        shift has no window open at ``at`` (then it is booked first come)."""
        ...

    def close(self, shift_id: str, campaign_id: str) -> list[WindowReply]:
        """Close the campaign's window of ``shift_id``; who replied (again on a retry)."""
        ...


class SendRecords(Protocol):
    """What each text did and cost, from the send markers and End User Messaging's events."""

    def for_campaign(self, campaign_id: str, run: str) -> Iterator[SendRecord]:
        """One record per recipient of the campaign run (an index query, never a Scan)."""
        ...

    def sent_on(self, day: date) -> Iterator[SendRecord]:
        """Every text (campaign texts and replies) sent on the UTC ``day`` that has an event."""
        ...

    def day_totals(self, day: date) -> DayTotals:
        """Counts and cost of every text sent on the UTC ``day`` (zeros when none)."""
        ...


@dataclass(frozen=True)
class DeliveryChange:
    """What recording one event did: nothing (a duplicate or stale event), or an update;
    ``settled`` when it was the text's first final status (counters moved)."""

    applied: bool
    settled: bool = False


class DeliveryLedger(Protocol):
    """Records delivery events on the send records, once each, never moving a final back."""

    def record(self, event: DeliveryEvent) -> DeliveryChange:
        """Record ``event`` (conditional writes): a final status is never overwritten, and the
        counters (campaign, day) move once per text."""
        ...


class MetricSink(Protocol):
    """Custom metrics (names in :mod:`shiftsms.core.metrics`)."""

    def count(self, name: str, value: float = 1) -> None:
        """Add ``value`` to the metric ``name``."""
        ...


class AuditTrail(Protocol):
    """The audit table: append-only entries, read by subject or by time range."""

    def record(self, entry: AuditEntry) -> bool:
        """Store ``entry`` once; False if it was stored already."""
        ...

    def for_subject(self, subject: str, since: datetime | None = None) -> Iterator[AuditEntry]:
        """One subject's entries, oldest first."""
        ...

    def between(self, start: datetime, end: datetime) -> Iterator[AuditEntry]:
        """Entries made in ``[start, end)``, oldest first (through a day index, no Scan)."""
        ...
