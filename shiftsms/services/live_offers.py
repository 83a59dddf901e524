"""Live offers: each campaign text composed when it is sent, from the shifts still open.

A campaign created from shifts (``campaign create --shifts`` or ``--all-available``) is
``live``: its sender reads the campaign's shifts (by key, a short cache shared by the jobs of
one invocation, so the DynamoDB work per job is flat in table size), keeps those still open and
not started that this recipient may take (role, and for timed shifts the booking rules against
the shifts they hold), and composes the text from them. No shift left at all: the job is not
sent (``skipped_filled``); some left, none for this recipient: not sent either (``skipped``).
A typed message, or an item typed in the console, is sent as queued. A re-offer's job (a shift
whose waitlist ran out) offers only that shift.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from shiftsms.core.booking_rules import RuleSettings, ShiftToBook, check_booking, may_work
from shiftsms.core.campaign_text import compose
from shiftsms.core.campaigns import Campaign, SendJob, reoffered_shift
from shiftsms.core.catalogue import catalogue
from shiftsms.core.gsm import segment_info
from shiftsms.core.held_shifts import HeldShift, MalformedHeldShifts
from shiftsms.core.models import Shift, StaffMember
from shiftsms.core.shift_times import ShiftTimeError, Span, from_iso, has_started, listing_key

# How long the shifts read for one campaign serve later jobs: a booking stops the texts of
# the jobs after it within this long.
SHIFTS_MAX_AGE_SECONDS = 1.0


class OfferShifts(Protocol):
    """What live offers read of the shifts table and the person items."""

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The shifts that exist among ``shift_ids``."""
        ...

    def held(self, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
        """The timed shifts ``phone`` holds (with the person item's version, and whether it
        exists)."""
        ...


class CampaignLookup(Protocol):
    """Reads one campaign item."""

    def get(self, campaign_id: str) -> Campaign | None:
        """One campaign, or None."""
        ...


@dataclass(frozen=True)
class LiveText:
    """The text to send a recipient now; ``text`` None: nothing to send them."""

    text: str | None
    # Every shift of the campaign is gone (taken or started).
    filled: bool = False
    reason: str = ""


def span_of(shift: Shift) -> Span | None:
    """A shift's time as a span; None for an untimed (or unreadable) one."""
    if not shift.starts_at or not shift.ends_at:
        return None
    try:
        return Span(from_iso(shift.starts_at), from_iso(shift.ends_at))
    except (ShiftTimeError, ValueError):
        return None


@dataclass
class LiveOffers:
    """Composes each live campaign text at send time; see the module docstring."""

    campaigns: CampaignLookup
    shifts: OfferShifts
    rules: RuleSettings = field(default_factory=RuleSettings)
    monotonic: Callable[[], float] = time.monotonic
    max_age_seconds: float = SHIFTS_MAX_AGE_SECONDS
    _campaigns: dict[tuple[str, str], Campaign | None] = field(default_factory=dict)
    _open: dict[tuple[str, str], tuple[float, list[Shift]]] = field(default_factory=dict)

    def text_for(self, job: SendJob, member: StaffMember, now: datetime) -> LiveText:
        """What to send ``member`` for ``job`` at ``now`` (the queued text if not live)."""
        campaign = self._campaign(job)
        if campaign is None or not campaign.live or not campaign.shift_ids:
            return LiveText(job.text)
        open_now = [s for s in self._open_shifts(job, campaign) if not _started(s, now)]
        if job.reoffer:
            open_now = [s for s in open_now if s.shift_id == reoffered_shift(job.reoffer)]
        if not open_now:
            return LiveText(None, filled=True, reason="every shift offered is taken")
        mine = self._takeable(open_now, member, now)
        if not mine:
            return LiveText(None, reason="may book none of the shifts still open")
        segments = segment_info(campaign.text).segments if campaign.text else 1
        # In the member's language, within the segments approved at create.
        return LiveText(compose(mine, segments, catalogue(member.language)).text)

    def _campaign(self, job: SendJob) -> Campaign | None:
        key = (job.campaign_id, job.run)
        if key not in self._campaigns:
            found = self.campaigns.get(job.campaign_id)
            if found is not None and job.run and found.fanout_token != job.run:
                found = None  # a later campaign under the same id: send as queued
            self._campaigns[key] = found
        return self._campaigns[key]

    def _open_shifts(self, job: SendJob, campaign: Campaign) -> list[Shift]:
        """The campaign's shifts still available, soonest first (read at most once a
        ``max_age_seconds``)."""
        key = (job.campaign_id, job.run)
        cached = self._open.get(key)
        now = self.monotonic()
        if cached is not None and now - cached[0] < self.max_age_seconds:
            return cached[1]
        found = self.shifts.get_many(campaign.shift_ids)
        still = [found[i] for i in campaign.shift_ids if i in found and found[i].available]
        still.sort(key=lambda s: listing_key(span_of(s), s.shift_id))
        self._open[key] = (now, still)
        return still

    def _takeable(self, shifts: list[Shift], member: StaffMember, now: datetime) -> list[Shift]:
        """``shifts`` that ``member`` may book now (role; for timed ones, the rules)."""
        mine = [s for s in shifts if may_work(s.role, member.roles)]
        if not any(span_of(s) for s in mine):
            return mine
        try:
            held = self.shifts.held(member.phone)[0]
        except MalformedHeldShifts:
            return mine  # the booking itself refuses what the rules forbid
        return [
            s
            for s in mine
            if not check_booking(
                ShiftToBook(s.shift_id, span_of(s), s.role), member.roles, held, self.rules, now
            )
        ]


def _started(shift: Shift, now: datetime) -> bool:
    return has_started(span_of(shift), now)
