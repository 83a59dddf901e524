"""Campaign use cases, one service each: plan (CLI), fan out, send one job, report (CLI)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from shiftsms.core.award import AwardRule, CampaignMode
from shiftsms.core.booking_rules import may_work
from shiftsms.core.campaign_text import candidate_codes, clean_message, compose, localised_text
from shiftsms.core.campaigns import (
    MAX_JOB_BYTES,
    RUN_LENGTH,
    Campaign,
    CampaignStatus,
    SendJob,
    SendOutcome,
    sending_reason,
)
from shiftsms.core.catalogue import catalogue
from shiftsms.core.commands import validate_shift_id
from shiftsms.core.delivery import send_context
from shiftsms.core.due import first_wave
from shiftsms.core.gsm import SegmentInfo, segment_info
from shiftsms.core.models import Shift, ShiftStatus, StaffMember
from shiftsms.core.phone import country_of, fingerprint, mask, normalise, shown
from shiftsms.core.self_service import QuietHours, cap_day, hold_offer_until, snoozed
from shiftsms.core.shift_info import role_key
from shiftsms.core.shift_times import ShiftTimeError, span_from_item, time_zone, to_iso
from shiftsms.errors import (
    CampaignExists,
    CampaignNotFound,
    InvalidInput,
    RecipientOptedOut,
    SendDeferred,
    SendRejected,
)
from shiftsms.ports import (
    CampaignStore,
    ClaimWindows,
    DeadLetters,
    DueWork,
    OfferCap,
    OfferLog,
    SendLedger,
    SendQueue,
    SendRateLimiter,
    SendRecords,
    ShiftStore,
    SmsSender,
    StaffStore,
    WaitlistStore,
)
from shiftsms.services.live_offers import LiveOffers
from shiftsms.services.notify import CampaignLinks
from shiftsms.services.shifts import (
    ListingShiftStore,
    ShiftFilter,
    in_full,
    shift_started,
    soonest_first,
)
from shiftsms.services.windows import open_windows
from shiftsms.settings import FanOutSettings, SenderSettings

log = logging.getLogger("shiftsms.campaigns")

# The kind of offer record a campaign text leaves (a held offer leaves "held").
CAMPAIGN_OFFER = "campaign"

CAMPAIGN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ENQUEUE_CHUNK = 100
# End User Messaging's smallest TimeToLive: a job with less time left is not sent.
MIN_TTL_SECONDS = 5


def enqueue_chunked(queue: SendQueue, jobs: Sequence[SendJob]) -> None:
    """Queue ``jobs`` :data:`ENQUEUE_CHUNK` at a time (one wave's, or one re-offer's)."""
    for start in range(0, len(jobs), ENQUEUE_CHUNK):
        queue.enqueue(jobs[start : start + ENQUEUE_CHUNK])


def run_id(token: str) -> str:
    """The fan-out's run id for the stream record ``token``: short, fixed length, stable."""
    return hashlib.sha256(token.encode()).hexdigest()[:RUN_LENGTH]


def oversized(text: str) -> str:
    """Why ``text`` cannot travel in a send job (too large for the sender), or ""."""
    size = SendJob.largest_body(text)
    if size <= MAX_JOB_BYTES:
        return ""
    return f"the text makes each send job {size} bytes, over the sender's {MAX_JOB_BYTES}"


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def offer_roles(shifts: Sequence[Shift]) -> tuple[str, ...] | None:
    """The roles ``shifts`` need, one spelling each; None when one needs none (or there are
    none), since then everyone may work at least one of them."""
    if not shifts or any(s.role is None for s in shifts):
        return None
    kept: dict[str, str] = {}
    for shift in shifts:
        assert shift.role is not None
        kept.setdefault(role_key(shift.role), shift.role)
    return tuple(sorted(kept.values()))


def may_work_one(roles: tuple[str, ...] | None, member: StaffMember) -> bool:
    """True when ``member`` may work at least one shift of an offer needing ``roles``."""
    return roles is None or any(may_work(role, member.roles) for role in roles)


def normalise_notify(raw: str, default_region: str | None = None) -> str:
    """A ``--notify`` number in E.164; InvalidInput naming the reason if it is not one."""
    try:
        return normalise(raw, default_region)
    except ValueError as exc:
        raise InvalidInput(f"--notify: {exc}") from exc


def first_start(shifts: Iterable[Shift]) -> str | None:
    """The earliest start among the timed ``shifts`` (ISO 8601), or None."""
    starts = []
    for shift in shifts:
        try:
            span = span_from_item({"starts_at": shift.starts_at, "ends_at": shift.ends_at})
        except ShiftTimeError:
            continue
        if span is not None:
            starts.append(span.start)
    return to_iso(min(starts)) if starts else None


def validate_campaign_id(raw: str) -> str:
    """``raw`` if it can be a campaign id (1-64 letters, digits, ``_.-``), else InvalidInput."""
    value = (raw or "").strip()
    if not CAMPAIGN_ID.fullmatch(value):
        raise InvalidInput(
            f"{raw!r}: a campaign id is 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


@dataclass(frozen=True)
class CampaignDraft:
    """A campaign ready to write: its text, what it costs, and who gets it."""

    campaign_id: str
    message: str
    text: str
    info: SegmentInfo
    shift_ids: tuple[str, ...]
    left_out: int
    recipients: int
    # The roles the offered shifts need (None: everyone may work one); see offer_roles.
    roles: tuple[str, ...] | None = None
    # Composed from ``shift_ids`` when each text is sent (not a typed message).
    live: bool = False
    # Numbers told of bookings, drops and the campaign filled (``--notify``).
    notify: tuple[str, ...] = ()
    # The recipients by country (ISO code, or "" when the number names none), most first.
    countries: tuple[tuple[str, int], ...] = ()

    def outside(self, allowed: Sequence[str]) -> tuple[tuple[str, int], ...]:
        """The recipients' countries not in ``allowed``, with how many in each."""
        return tuple((c, n) for c, n in self.countries if c not in allowed)

    @property
    def fits_one_text(self) -> bool:
        """True when the first text lists every shift the campaign tracks."""
        return self.left_out == 0

    @property
    def billed_segments(self) -> int:
        """Segments billed for the whole campaign (recipients x segments per text)."""
        return self.recipients * self.info.segments


@dataclass(frozen=True)
class FanOutResult:
    """What a fan-out did: ``queued`` jobs, or why it did nothing."""

    campaign_id: str
    action: str
    recipients: int = 0


@dataclass(frozen=True)
class ShiftFill:
    """One shift a campaign offered: booked or not, by whom, how soon after the text."""

    shift_id: str
    shift_info: str
    status: str
    employee: str | None = None
    employee_name: str | None = None
    booked_at: str | None = None
    seconds_to_book: int | None = None
    # How many people wait for it (WAIT), shown by ``show --json``.
    waitlist: int = 0


@dataclass(frozen=True)
class DeliverySummary:
    """What End User Messaging reported on a campaign's texts so far.

    ``pending``: texts sent with no final status yet. ``cost_usd``: prices and carrier fees
    reported so far (by any event, final or not).
    """

    delivered: int
    failed: int
    pending: int
    parts: int
    cost_usd: Decimal

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (the cost as a decimal string, exact)."""
        return {**asdict(self), "cost_usd": str(self.cost_usd)}


@dataclass(frozen=True)
class RecipientLine:
    """One recipient of a campaign run: who (masked unless asked), what the send and the
    carrier said, parts and price."""

    recipient: str
    name: str | None
    outcome: str
    delivery_status: str | None
    parts: int | None
    price_usd: Decimal | None
    carrier_fee_usd: Decimal | None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe (prices as decimal strings)."""
        data = asdict(self)
        for key in ("price_usd", "carrier_fee_usd"):
            data[key] = None if data[key] is None else str(data[key])
        return data


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign's status, delivery counters and (for ``show``) its shifts."""

    campaign_id: str
    status: str
    message: str
    text: str | None
    created_at: str | None
    sent_at: str | None
    recipients: int | None
    sent: int
    failed: int
    opted_out: int
    pending: int | None
    skipped: int = 0
    # Jobs not texted because every shift was taken by their turn (live offers).
    skipped_filled: int = 0
    # This campaign's jobs that failed on their last receive (in the send DLQ).
    dead_lettered: int = 0
    # Recipients over MaxOffersPerDay at send time: not texted.
    skipped_capped: int = 0
    # Texts that re-offered a shift whose waitlist ran out (not counted in ``sent``).
    reoffered: int = 0
    # The send DLQ's depth, all campaigns together (``show`` only; None without the queue).
    send_dlq_depth: int | None = None
    reason: str | None = None
    problems: tuple[str, ...] = field(default=())
    shifts: tuple[ShiftFill, ...] = field(default=())
    # first-come or window; how many waves went (None: not in waves); the window's close.
    mode: str = "first-come"
    waves_sent: int | None = None
    window_closes_at: str | None = None
    delivery: DeliverySummary | None = None

    def to_json(self, *, full_numbers: bool = False) -> dict[str, Any]:
        """A JSON-safe dict (for ``--json``); holders' numbers masked unless ``full_numbers``."""
        data = asdict(self)
        data["shifts"] = [
            {
                **asdict(s),
                "employee": s.employee if full_numbers or not s.employee else mask(s.employee),
            }
            for s in self.shifts
        ]
        data["delivery"] = self.delivery.to_json() if self.delivery else None
        return data


def _parse_time(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OfferOptions:
    """How a campaign's replies are served: first come, or a claim window then an award."""

    mode: CampaignMode = CampaignMode.FIRST_COME
    window: timedelta | None = None
    award: AwardRule = AwardRule.FEWEST_HOURS
    waves: int = 1
    wave_gap: timedelta | None = None


@dataclass
class CampaignPlanner:
    """Compose, preview and create campaigns (the CLI's ``campaign create``)."""

    campaigns: CampaignStore
    staff: StaffStore
    shifts: ListingShiftStore
    clock: Callable[[], datetime] = utc_now
    # Where a ``--notify`` number written without ``+`` is read (the stack's default).
    default_region: str | None = None
    # Marks the shifts offered with the campaign's id (managers are told of their bookings).
    links: CampaignLinks | None = None
    # Claim windows and due work (for --mode window; None on a stack without them).
    windows: ClaimWindows | None = None
    due: DueWork | None = None

    def new_id(self) -> str:
        """A fresh campaign id: the time and a random suffix (``c20261128-1840-3fa2``)."""
        return f"c{self.clock():%Y%m%d-%H%M}-{secrets.token_hex(2)}"

    def prepare(
        self,
        campaign_id: str | None = None,
        *,
        shift_ids: Sequence[str] | None = None,
        all_available: bool = False,
        message: str | None = None,
        max_segments: int = 1,
        only: ShiftFilter | None = None,
        notify: Sequence[str] = (),
    ) -> CampaignDraft:
        """Compose and check a campaign without writing it.

        Exactly one of ``shift_ids``, ``all_available`` and ``message``. Unknown, taken or
        started codes are refused; a typed message keeps the codes in it that name real
        shifts. ``all_available`` offers the open shifts ``only`` takes that have not
        started, soonest first. Recipients are those who may work at least one shift offered.
        """
        sources = sum([shift_ids is not None, all_available, message is not None])
        if sources != 1:
            raise InvalidInput("give exactly one of --shifts, --all-available or --message")
        if only is not None and only != ShiftFilter() and not all_available:
            raise InvalidInput("--location, --role, --from and --to go with --all-available")
        numbers = tuple(sorted({normalise_notify(n, self.default_region) for n in notify}))
        campaign_id = self.new_id() if campaign_id is None else validate_campaign_id(campaign_id)
        if self.campaigns.get(campaign_id) is not None:
            raise CampaignExists(f"campaign {campaign_id} already exists")
        if message is not None:
            listing = clean_message(message)
            if not listing:
                raise InvalidInput("the message is empty: list the shifts and their codes")
            text = Campaign(campaign_id, listing).sms_text
            found = self.shifts.get_many(candidate_codes(listing))
            ids = tuple(c for c in candidate_codes(listing) if c in found)
            roles = offer_roles([found[i] for i in ids])
            draft = self._draft(campaign_id, listing, text, ids, 0, roles=roles)
            return replace(draft, notify=numbers)
        if all_available:
            offered = self._open(only or ShiftFilter())
        else:
            offered = self._requested(shift_ids or ())
        composed = compose(offered, max_segments)
        # The campaign tracks every shift offered; each text lists the open ones that fit.
        draft = self._draft(
            campaign_id,
            composed.message,
            composed.text,
            tuple(s.shift_id for s in offered),
            composed.left_out,
            roles=offer_roles(offered),
        )
        return replace(draft, live=True, notify=numbers)

    def _open(self, only: ShiftFilter) -> list[Shift]:
        """The open shifts ``only`` takes that have not started, soonest first."""
        now = self.clock()
        listed = in_full(self.shifts, ShiftStatus.AVAILABLE)
        matching = [s for s in listed if s.available and only(s)]
        offered = [s for s in matching if not shift_started(s, now)]
        if not offered:
            started = len(matching)
            why = f" ({started} started: never offered)" if started else ""
            if only != ShiftFilter():
                raise InvalidInput(f"no open shifts match: nothing to offer{why}")
            raise InvalidInput(f"there are no open shifts to offer{why}")
        return soonest_first(offered)

    def _draft(
        self,
        campaign_id: str,
        message: str,
        text: str,
        ids: tuple[str, ...],
        left_out: int,
        *,
        roles: tuple[str, ...] | None = None,
    ) -> CampaignDraft:
        problem = oversized(text)
        if problem:
            raise InvalidInput(f"{problem}: shorten the message")
        countries = Counter(
            country_of(m.phone) or "" for m in self.staff.recipients() if may_work_one(roles, m)
        )
        return CampaignDraft(
            campaign_id,
            message,
            text,
            segment_info(text),
            ids,
            left_out,
            countries.total(),
            roles,
            countries=tuple(countries.most_common()),
        )

    def _requested(self, raw_ids: Sequence[str]) -> list[Shift]:
        ids = list(dict.fromkeys(validate_shift_id(r) for r in raw_ids if r.strip()))
        if not ids:
            raise InvalidInput("--shifts needs at least one shift code")
        found = self.shifts.get_many(ids)
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise InvalidInput(f"unknown shift codes: {', '.join(unknown)}")
        no_status = [i for i in ids if found[i].shift_status is None]
        if no_status:
            raise InvalidInput(
                "no shift_status (set it to available to offer it), cannot be offered: "
                + ", ".join(no_status)
            )
        taken = [i for i in ids if not found[i].available]
        if taken:
            raise InvalidInput(f"already taken, cannot be offered: {', '.join(taken)}")
        now = self.clock()
        started = [i for i in ids if shift_started(found[i], now)]
        if started:
            raise InvalidInput(f"already started, cannot be offered: {', '.join(started)}")
        return [found[i] for i in ids]

    def create(self, draft: CampaignDraft, offer: OfferOptions | None = None) -> Campaign:
        """Write the campaign item with the approved text; its INSERT starts the fan-out.

        A window campaign first opens each shift's claim window and schedules its close, so
        no reply to the text can come before the window is there.
        """
        offer = offer or OfferOptions()
        now = self.clock()
        closes_at = now + offer.window if offer.window is not None else None
        if offer.mode is CampaignMode.WINDOW:
            if closes_at is None or self.windows is None or self.due is None:
                raise InvalidInput("--mode window needs --window (and a stack with due work)")
            open_windows(
                self.windows,
                self.due,
                campaign_id=draft.campaign_id,
                shift_ids=draft.shift_ids,
                closes_at=closes_at,
                award=offer.award,
            )
        campaign = Campaign(
            campaign_id=draft.campaign_id,
            campaign_message=draft.message,
            status=CampaignStatus.NEW,
            shift_ids=draft.shift_ids,
            created_at=now.isoformat(timespec="seconds"),
            text=draft.text,
            offer_roles=draft.roles,
            live=draft.live,
            notify=draft.notify,
            first_start=first_start(self.shifts.get_many(draft.shift_ids).values()),
            mode=offer.mode.value,
            award=offer.award.value,
            window_closes_at=closes_at.isoformat(timespec="seconds") if closes_at else None,
            waves=offer.waves,
            wave_gap_seconds=int(offer.wave_gap.total_seconds()) if offer.wave_gap else None,
        )
        if self.links is not None and draft.shift_ids:
            # Before the item: its INSERT starts the texts, whose bookings look for the link.
            self.links.tag(draft.shift_ids, draft.campaign_id)
        if offer.waves > 1 and self.due is None:
            raise InvalidInput("--waves needs a stack with due work")
        self.campaigns.create(campaign)
        if offer.waves > 1 and self.due is not None:  # the due function sends wave 1 now
            self.due.schedule(first_wave(draft.campaign_id, now))
        log.info("campaign created", extra={"campaign_id": draft.campaign_id})
        return campaign


@dataclass
class CampaignFanOut:
    """Fan a new campaign out: one send job per recipient, once per campaign."""

    settings: FanOutSettings
    campaigns: CampaignStore
    staff: StaffStore
    queue: SendQueue
    clock: Callable[[], datetime] = utc_now

    def fan_out(self, campaign: Campaign, token: str) -> FanOutResult:
        """Put one send job per recipient on the queue, once per campaign.

        ``campaign`` is the item as inserted; ``token`` identifies the stream record: its
        redelivery resumes an interrupted fan-out (jobs queued twice are sent once, by the
        send markers); any other delivery does nothing.
        """
        campaign_id = campaign.campaign_id
        text = campaign.sms_text
        problem = "campaign_message is empty" if not text else oversized(text)
        if problem:
            self.campaigns.reject(campaign_id, problem)
            log.warning(f"campaign rejected: {problem}", extra={"campaign_id": campaign_id})
            return FanOutResult(campaign_id, "rejected")
        if campaign.waves > 1:  # sent wave by wave as due work (services.waves)
            return FanOutResult(campaign_id, "waves")
        token = run_id(token)
        now = self.clock()
        expires_at = int(now.timestamp()) + self.settings.message_ttl_seconds
        claimed = self.campaigns.claim_fan_out(campaign_id, token, text, now, expires_at)
        if claimed is None:
            log.info("fan-out skipped: already done or not new", extra={"campaign_id": campaign_id})
            return FanOutResult(campaign_id, "skipped")
        text = claimed.sms_text or text
        expires = claimed.expires_at or expires_at
        # Recipients come in phone order: a resumed fan-out skips those already queued.
        cursor = claimed.fanout_cursor
        if cursor:
            log.info("fan-out resumed", extra={"campaign_id": campaign_id})
        count = 0
        chunk: list[SendJob] = []
        in_language: dict[str, str] = {}
        for member in self.staff.recipients():
            if not may_work_one(campaign.offer_roles, member):
                continue  # may work none of the shifts offered
            count += 1
            if cursor is not None and member.phone <= cursor:
                continue
            if member.language not in in_language:
                own = localised_text(text, campaign.campaign_message, catalogue(member.language))
                in_language[member.language] = text if oversized(own) else own
            job_text = in_language[member.language]
            chunk.append(
                SendJob(
                    campaign_id,
                    member.phone,
                    job_text,
                    expires,
                    run=token,
                    first_start=campaign.first_start or "",
                )
            )
            if len(chunk) >= ENQUEUE_CHUNK:
                self._enqueue(campaign_id, token, chunk)
                chunk = []
        if chunk:
            self._enqueue(campaign_id, token, chunk)
        self.campaigns.finish_fan_out(campaign_id, token, count, self.clock())
        log.info("fan-out done", extra={"campaign_id": campaign_id, "recipients": count})
        return FanOutResult(campaign_id, "queued", count)

    def _enqueue(self, campaign_id: str, token: str, chunk: list[SendJob]) -> None:
        self.queue.enqueue(chunk)
        self.campaigns.save_progress(campaign_id, token, chunk[-1].to)


@dataclass
class CampaignReports:
    """Campaign listings for the operator: status, counters, who booked what, how soon."""

    campaigns: CampaignStore
    staff: StaffStore
    shifts: ShiftStore
    ledger: SendLedger
    dead_letters: DeadLetters
    # Each shift's waitlist (None: not shown, every count 0).
    waitlists: WaitlistStore | None = None
    # What each text did and cost (delivery receipts); None: not known here.
    records: SendRecords | None = None

    def get(self, campaign_id: str) -> Campaign:
        """One campaign; CampaignNotFound if there is none."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"no campaign {campaign_id}")
        return campaign

    def list(self) -> list[CampaignSummary]:
        """Every campaign's status and counters, newest first."""
        found = [self._summary(c, ()) for c in self.campaigns.all()]
        return sorted(found, key=lambda s: (s.created_at or s.sent_at or "", s.campaign_id))[::-1]

    def summarise(self, campaign_id: str) -> CampaignSummary:
        """Status, counters, the send DLQ's depth, and each shift offered: booked by whom, when."""
        campaign = self.get(campaign_id)
        ids = campaign.shift_ids or candidate_codes(campaign.campaign_message)
        found = self.shifts.get_many(ids) if ids else {}
        fills = tuple(self._waiting(self._fill(campaign, found[i])) for i in ids if i in found)
        return self._summary(campaign, fills, self.dead_letters.depth())

    def _waiting(self, fill: ShiftFill) -> ShiftFill:
        """``fill`` with the length of its shift's waitlist (one read per shift offered)."""
        view = self.waitlists.waitlist_view(fill.shift_id) if self.waitlists else None
        return replace(fill, waitlist=len(view.waitlist)) if view and view.waitlist else fill

    def _summary(
        self, campaign: Campaign, fills: tuple[ShiftFill, ...], dead: int | None = None
    ) -> CampaignSummary:
        pending = (
            max(0, campaign.recipients - campaign.settled)
            if campaign.recipients is not None
            else None
        )
        return CampaignSummary(
            campaign_id=campaign.campaign_id,
            status=campaign.effective_status.value,
            message=campaign.campaign_message,
            text=campaign.sms_text or None,
            created_at=campaign.created_at,
            sent_at=campaign.fanout_at,
            recipients=campaign.recipients,
            sent=campaign.sent,
            failed=campaign.failed,
            opted_out=campaign.opted_out,
            pending=pending,
            skipped=campaign.skipped,
            skipped_filled=campaign.skipped_filled,
            dead_lettered=campaign.dead_lettered,
            skipped_capped=campaign.skipped_capped,
            reoffered=campaign.reoffered,
            send_dlq_depth=dead,
            reason=campaign.reason or sending_reason(campaign),
            problems=campaign.problems,
            shifts=fills,
            mode=campaign.mode,
            waves_sent=campaign.waves_sent,
            window_closes_at=campaign.window_closes_at,
            delivery=DeliverySummary(
                delivered=campaign.delivered,
                failed=campaign.delivery_failed,
                pending=max(
                    0,
                    campaign.sent
                    + campaign.reoffered
                    - campaign.delivered
                    - campaign.delivery_failed,
                ),
                parts=campaign.parts,
                cost_usd=campaign.cost_usd,
            ),
        )

    def recipients(
        self, campaign_id: str, *, full_numbers: bool = False
    ) -> tuple[RecipientLine, ...]:
        """Each recipient of the campaign's run: masked number (the full one if asked, found
        by fingerprint on the allow list), name, outcome, delivery status, parts, price."""
        campaign = self.get(campaign_id)
        if self.records is None:
            return ()
        known = {fingerprint(m.phone): m for m in self.staff.all()}
        lines = []
        for record in self.records.for_campaign(campaign_id, campaign.fanout_token or ""):
            member = known.get(record.recipient)
            if member is None:
                who = f"not on the allow list ({record.recipient[:8]})"
            else:
                who = shown(member.phone, full_numbers)
            lines.append(
                RecipientLine(
                    recipient=who,
                    name=(member.name or None) if member else None,
                    outcome=record.outcome,
                    delivery_status=record.delivery_status,
                    parts=record.parts,
                    price_usd=record.price_usd,
                    carrier_fee_usd=record.carrier_fee_usd,
                )
            )
        return tuple(lines)

    def _fill(self, campaign: Campaign, shift: Shift) -> ShiftFill:
        if shift.available or not shift.employee:
            return ShiftFill(shift.shift_id, shift.shift_info, shift.status_text)
        member = self.staff.get(shift.employee)
        booked = _parse_time(shift.booked_at)
        sent = self.ledger.sent_at(
            campaign.campaign_id, shift.employee, campaign.fanout_token or ""
        )
        sent = sent or _parse_time(campaign.fanout_at)
        seconds = None
        if booked is not None and sent is not None and booked >= sent:
            seconds = int((booked - sent).total_seconds())
        return ShiftFill(
            shift_id=shift.shift_id,
            shift_info=shift.shift_info,
            status=shift.status_text,
            employee=shift.employee,
            employee_name=(member.name or None) if member else None,
            booked_at=shift.booked_at,
            seconds_to_book=seconds,
        )


@dataclass
class CampaignSender:
    """Sends one job: at the shared rate, at most once per (campaign, recipient)."""

    settings: SenderSettings
    sms: SmsSender
    ledger: SendLedger
    limiter: SendRateLimiter
    staff: StaffStore
    clock: Callable[[], datetime] = utc_now
    # Composes live campaign texts at send time; None: every job's text is sent as queued.
    offers: LiveOffers | None = None
    # The latest offer sent to each number, for YES (None: not recorded).
    offer_log: OfferLog | None = None
    # MaxOffersPerDay's counters; None: no cap.
    cap: OfferCap | None = None
    # QuietHours, and where a text due in them goes to wait (due work); either None: none.
    quiet: QuietHours | None = None
    defer: Callable[[SendJob, datetime], None] | None = None

    def send(self, job: SendJob, deadline: float | None = None) -> SendOutcome:
        """Send ``job`` once; return the outcome.

        The claim (send-once marker) comes first, then the allow-list check, then a send time
        from the shared limiter, then the text. Raises (so the job is retried, its claim given
        back) when throttled, on a transient error, or when no send time is free before
        ``deadline``; opted-out, skipped and rejected sends are recorded and not retried.
        """
        who = mask(job.to)
        ctx = {"campaign_id": job.campaign_id, "recipient": who}
        remaining = job.expires_at - int(self.clock().timestamp())
        if remaining < MIN_TTL_SECONDS:
            return self._settle_without_send(job, SendOutcome.EXPIRED, "offer expired", ctx)
        now = self.clock()
        token = self.ledger.claim(job, now)
        if token is None:
            if self.ledger.close_abandoned(job, now):
                log.warning("a dead sender left this send unconfirmed: not resent", extra=ctx)
                return SendOutcome.UNCONFIRMED
            log.info("duplicate job: already sent or in progress", extra=ctx)
            return SendOutcome.DUPLICATE
        try:
            checked = self._checked(job, token, now, ctx)
            if isinstance(checked, SendOutcome):
                return checked
            text = checked
            # The send time comes last, so the text goes out right on it.
            if not self.limiter.acquire(deadline):
                raise SendDeferred("no send time free before the invocation's deadline")
            now = self.clock()
            if not self.ledger.begin(job, token, now):
                log.warning("claim lost before sending: not sent by this invocation", extra=ctx)
                return SendOutcome.DUPLICATE
            remaining = job.expires_at - int(now.timestamp())
            message_id = self.sms.send(
                job.to,
                text,
                self.settings.origination_identity,
                context=send_context(
                    "campaign",
                    fingerprint(job.to),
                    campaign_id=job.campaign_id,
                    run=job.run,
                    reoffer=job.reoffer,
                ),
                ttl_seconds=max(MIN_TTL_SECONDS, remaining),
            )
        except RecipientOptedOut:
            self.ledger.settle(job, token, SendOutcome.OPTED_OUT, now, reason="opted out")
            self.staff.set_opted_out(job.to, True, now)
            log.info("recipient opted out: recorded, not retried", extra=ctx)
            return SendOutcome.OPTED_OUT
        except SendRejected as exc:
            self.ledger.settle(job, token, SendOutcome.FAILED, now, reason=str(exc))
            log.error("send rejected: recorded, not retried", extra={**ctx, "error": str(exc)})
            return SendOutcome.FAILED
        except BaseException:
            self.ledger.release(job, token)
            raise
        try:
            self.ledger.settle(job, token, SendOutcome.SENT, now, message_id=message_id)
        except Exception:
            # The text went out and the marker still blocks a resend: only the count is short.
            log.exception("sent, but the outcome could not be recorded", extra=ctx)
        self._record_offer(job.to, text, now)
        log.info("sent", extra=ctx)
        return SendOutcome.SENT

    def _checked(
        self, job: SendJob, token: str, now: datetime, ctx: dict[str, str]
    ) -> SendOutcome | str:
        """The text to send ``job`` now, or the outcome it was settled (or deferred) with:
        the allow list, then the live offer, then quiet hours and the daily cap."""
        member = self.staff.get(job.to)
        refusal = self._refusal(member)
        if refusal:
            self.ledger.settle(job, token, SendOutcome.SKIPPED, now, reason=refusal)
            log.info(f"not sent: {refusal}", extra=ctx)
            return SendOutcome.SKIPPED
        assert member is not None
        live = self.offers.text_for(job, member, now) if self.offers else None
        if live is not None and live.text is None:
            outcome = SendOutcome.SKIPPED_FILLED if live.filled else SendOutcome.SKIPPED
            self.ledger.settle(job, token, outcome, now, reason=live.reason)
            log.info(f"not sent: {live.reason}", extra=ctx)
            return outcome
        held = self._held_back(job, now)
        if held is SendOutcome.DEFERRED:
            self.ledger.release(job, token)
            log.info("quiet hours: deferred until they end", extra=ctx)
            return held
        if held is not None:
            self.ledger.settle(job, token, held, now, reason="over MaxOffersPerDay")
            log.info("not sent: over the daily offer cap", extra=ctx)
            return held
        return live.text if live is not None and live.text else job.text

    def _record_offer(self, to: str, text: str, at: datetime) -> None:
        """Remember the codes the text sent listed, so YES can book the one it named."""
        if self.offer_log is None:
            return
        try:
            self.offer_log.record(to, candidate_codes(text), CAMPAIGN_OFFER, at)
        except Exception:
            log.exception(
                "sent, but the offer could not be recorded", extra={"recipient": mask(to)}
            )

    def dead_letter(self, job: SendJob, reason: str) -> bool:
        """Count ``job`` on its campaign as dead-lettered: it failed on its last receive.

        Once per recipient, like every outcome: only a free (or stale) claim is settled, so a
        job another invocation holds, or one settled already, is not counted. True if counted.
        """
        now = self.clock()
        token = self.ledger.claim(job, now)
        if token is None:
            return False
        self.ledger.settle(job, token, SendOutcome.DEAD_LETTERED, now, reason=reason)
        log.error(
            "send job failed on its last receive: dead-lettered, not texted",
            extra={"campaign_id": job.campaign_id, "recipient": mask(job.to), "error": reason},
        )
        return True

    def _refusal(self, member: StaffMember | None) -> str:
        """Why ``member`` may not be texted now (removed, opted out, off campaigns, snoozed),
        or ""."""
        if member is None:
            return "no longer on the allow list"
        if member.opted_out:
            return "opted out since the fan-out"
        if not member.campaigns:
            return "takes no campaigns since the fan-out"
        if member.snoozed_until and snoozed(_parse_time(member.snoozed_until), self.clock()):
            return "snoozed (SNOOZE)"
        return ""

    def _held_back(self, job: SendJob, now: datetime) -> SendOutcome | None:
        """The check right before the send: quiet hours (DEFERRED: handed to due work for when
        they end, unless a shift offered starts before then), over the daily cap (CAPPED), or
        None: send it now.

        The cap counts this campaign run once for the person on the local day, in one
        conditional write shared by every sender invocation. A deferred job keeps the time it
        had left to live, counted from the end of quiet hours.
        """
        zone = time_zone(self.settings.time_zone)
        if self.quiet is not None and self.defer is not None:
            starts = _parse_time(job.first_start) if job.first_start else None
            until = hold_offer_until(now, self.quiet, zone, starts)
            if until is not None:
                left = job.expires_at - int(now.timestamp())
                self.defer(replace(job, expires_at=int(until.timestamp()) + left), until)
                return SendOutcome.DEFERRED
        cap = self.settings.max_offers_per_day
        if self.cap is None or not cap:
            return None
        day = cap_day(now, zone)
        offer = f"{job.campaign_id}#{job.run}"
        return None if self.cap.take(job.to, day, offer, cap, now) else SendOutcome.CAPPED

    def _settle_without_send(
        self, job: SendJob, outcome: SendOutcome, reason: str, ctx: dict[str, str]
    ) -> SendOutcome:
        now = self.clock()
        token = self.ledger.claim(job, now)
        if token is None:
            return SendOutcome.DUPLICATE
        self.ledger.settle(job, token, outcome, now, reason=reason)
        log.warning(f"not sent: {reason}", extra=ctx)
        return outcome
