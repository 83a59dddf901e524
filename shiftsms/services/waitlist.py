"""Waitlists, held offers and YES: who gets a shift that is given back, and when."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from shiftsms.core import replies
from shiftsms.core.booking_rules import RuleSettings, ShiftToBook, check_booking
from shiftsms.core.catalogue import catalogue
from shiftsms.core.commands import MAX_CODES_PER_TEXT
from shiftsms.core.due import REOFFER, REOFFER_NOT_TO, DueItem
from shiftsms.core.models import Shift
from shiftsms.core.phone import fingerprint, mask
from shiftsms.core.shift_times import ShiftTimeError, span_from_item
from shiftsms.core.waitlist import (
    DEFAULT_HOLD_MINUTES,
    HOLD_EXPIRY,
    WAITLIST_CAP,
    JoinResult,
    WaitView,
    YesChoice,
    hold_until,
    next_holder,
    resolve_yes,
)
from shiftsms.errors import RecipientOptedOut, SendError, ShiftsmsError
from shiftsms.ports import OfferLog, SmsSender, StaffStore, WaitlistStore

log = logging.getLogger("shiftsms.waitlist")

# Hold changes retried when the shift keeps changing under them.
ADVANCE_ATTEMPTS = 8
HELD_OFFER = "held"

# Puts due work (a hold's expiry, a re-offer) on the schedule; None: nothing is scheduled
# (a caller runs ``expire``).
Schedule = Callable[[DueItem], None]


@dataclass
class WaitlistService:
    """Joins waitlists, offers a given-back shift down its waitlist, resolves YES."""

    shifts: WaitlistStore
    staff: StaffStore
    sms: SmsSender
    offers: OfferLog
    origination: str
    zone: ZoneInfo
    rules: RuleSettings
    hold_minutes: float = DEFAULT_HOLD_MINUTES
    cap: int = WAITLIST_CAP
    schedule: Schedule | None = None

    def join(self, shift_id: str, phone: str, roles: Sequence[str] | None = None) -> JoinResult:
        """``WAIT CODE`` from ``phone``, who holds ``roles`` (None: not checked)."""
        return self.shifts.join_waitlist(shift_id, phone, self.cap, roles=roles)

    def eligible(self, shift: Shift, phone: str, *, now: datetime) -> bool:
        """True when ``phone`` may still take ``shift``: on the allow list, not opted out, and
        allowed by the booking rules (role, start, overlap, rest, weekly hours)."""
        member = self.staff.get(phone)
        if member is None or member.opted_out:
            return False
        try:
            span = span_from_item(
                {"starts_at": shift.starts_at, "ends_at": shift.ends_at} if shift.starts_at else {}
            )
        except ShiftTimeError:
            return False
        held = self.shifts.held(phone)[0] if span is not None else ()
        to_book = ShiftToBook(shift.shift_id, span, shift.role)
        return not check_booking(to_book, member.roles, held, self.rules, now)

    def advance(
        self,
        shift_id: str,
        now: datetime,
        *,
        lapsed: str | None = None,
        given_back_by: str | None = None,
        given_back_at: datetime | None = None,
    ) -> str | None:
        """Offer an available shift to the next eligible person on its waitlist, unless a
        hold on it is still running; nobody left, open it to all. The holder, or None.

        Called after a DROP or release, and when a hold's expiry is due. Conditional on the
        shift as read, so two runs at once make one hold; people skipped leave the list and
        are never texted. ``lapsed``: a holder whose hold ends now (their number opted out).
        A shift that opens to all is re-offered to its campaign's recipients (due work,
        scheduled only by the run whose write opened it); so is one just given back by
        ``given_back_by`` with nobody waiting (not to them), as of ``given_back_at`` (when
        the DROP was sent: a retried DROP names the same re-offer round, not a new one).
        """
        for _ in range(ADVANCE_ATTEMPTS):
            view = self.shifts.waitlist_view(shift_id)
            if view is None or not view.offering:
                if given_back_by and view is not None and view.shift.available:
                    self._reoffer(shift_id, given_back_at or now, not_to=given_back_by)
                return None
            running = view.held_until is not None and view.held_until > now
            if view.held_for is not None and view.held_for != lapsed and running:
                return None  # still held
            chosen = next_holder(view.waitlist, partial(self.eligible, view.shift, now=now))
            until = hold_until(now, self.hold_minutes) if chosen.holder else None
            if self.shifts.set_hold(view, chosen.holder, until, chosen.rest):
                break
        else:
            raise ShiftsmsError(f"shift {shift_id} kept changing while offered; try again")
        if chosen.skipped:
            log.info("waitlist skipped", extra={"shift": shift_id, "skipped": len(chosen.skipped)})
        if chosen.holder is None or until is None:
            log.info("waitlist used up: open to all", extra={"shift": shift_id})
            self._reoffer(view.shift.shift_id, now)
            return None
        self._offer(view, chosen.holder, until, now)
        return chosen.holder

    def _reoffer(self, shift_id: str, now: datetime, not_to: str | None = None) -> None:
        if self.schedule is not None:
            data = {REOFFER_NOT_TO: fingerprint(not_to)} if not_to else {}
            self.schedule(DueItem(REOFFER, shift_id, now, data))

    def _offer(self, view: WaitView, holder: str, until: datetime, now: datetime) -> None:
        """Schedule the hold's expiry, record the offer for YES, then text the holder."""
        code = view.shift.shift_id
        if self.schedule is not None:
            self.schedule(DueItem(HOLD_EXPIRY, code, until))
        member = self.staff.get(holder)
        texts = catalogue(member.language if member else None)
        text = replies.held_offer(code, until, self.zone, texts)
        context = {"kind": "offer", "recipient": fingerprint(holder)}
        # Recorded first: a YES can come back before the send call returns. Should the text
        # not go, the hold is theirs all the same until it lapses.
        self.offers.record(holder, [code], HELD_OFFER, now)
        try:
            self.sms.send(holder, text, self.origination, context=context)
        except RecipientOptedOut:
            log.info("held offer not sent: opted out", extra={"sender": mask(holder)})
            self.staff.set_opted_out(holder, True, now)
            self.advance(code, now, lapsed=holder)
            return
        except SendError:
            # The hold stands: its expiry moves the shift on if nobody answers.
            log.error("held offer not sent", extra={"sender": mask(holder), "shift": code})
            return
        log.info("held offer", extra={"sender": mask(holder), "shift": code})

    def expire(self, shift_id: str, now: datetime) -> str | None:
        """A hold's expiry is due: the next person, once (a second run finds it moved on)."""
        return self.advance(shift_id, now)

    def on_hold_expiry(self, item: DueItem, now: datetime) -> None:
        """The due-work handler of :data:`HOLD_EXPIRY` items (key: the shift id)."""
        self.expire(item.key, now)

    def yes_code(self, phone: str, now: datetime) -> str | None:
        """The shift YES books: the single one of the latest offer; None when it named
        several or none (the reply asks for the code)."""
        offer = self.offers.latest(phone, now)
        offered = offer.shift_ids[:MAX_CODES_PER_TEXT] if offer else ()
        if len(offered) > 1:
            # Codes read from a campaign text may include words that are no shift ("5H").
            offered = tuple(c for c in offered if self.shifts.waitlist_view(c) is not None)
        choice, code = resolve_yes(offered)
        return code if choice is YesChoice.BOOK else None
