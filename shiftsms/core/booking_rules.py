"""Whether a person may book a shift: role, start, overlap, rest and weekly-hour rules.

:func:`check_booking` returns the reasons a booking is refused (none: it may go ahead), each a
typed value that renders to a short GSM-7 fragment for the reply (``XYZ123 needs RN``). Pure:
no I/O, ``now`` is passed in; the caller holds the person's booked shifts
(:mod:`shiftsms.core.held_shifts`) and writes them back in the booking's transaction.

The rules, for a shift with a time (an untimed shift has no time rules; a shift with no role may
be booked by anyone):

- role: the shift's role is one of the person's roles (case does not matter);
- started: a shift whose start is not after ``now`` is refused, and no other time rule is
  checked for it;
- overlap: the shift shares time with one the person holds (shifts that only touch do not);
- rest: between the shift and each held shift that does not overlap it, at least
  ``MinRestHours`` (0 turns the rule off); exactly the minimum is enough;
- weekly hours: for every rolling 168-hour window ``[t, t+168h)`` that shares time with the
  shift, the hours of all the person's shifts inside the window, the new one included and a
  shift partly inside counted for the part inside, are at most ``MaxWeeklyHours`` (0 = off).
  The largest such total is reported.

All arithmetic is on UTC instants, so a night over a daylight-saving change counts the hours
actually worked (11 h or 13 h for a 19:00-07:00 in Europe/London), not the wall-clock ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shiftsms.core.catalogue import ENGLISH, Catalogue
from shiftsms.core.gsm import GSM7_SINGLE, to_gsm7, truncate_septets
from shiftsms.core.held_shifts import RETENTION, HeldShift
from shiftsms.core.shift_info import MAX_ROLE_SEPTETS, role_key, span_text
from shiftsms.core.shift_times import Span, has_started

WEEK = timedelta(hours=168)
DEFAULT_MIN_REST_HOURS = 11.0
DEFAULT_MAX_WEEKLY_HOURS = 48.0


@dataclass(frozen=True)
class RuleSettings:
    """``MinRestHours`` and ``MaxWeeklyHours``; 0 turns a rule off."""

    min_rest_hours: float = DEFAULT_MIN_REST_HOURS
    max_weekly_hours: float = DEFAULT_MAX_WEEKLY_HOURS

    def __post_init__(self) -> None:
        for name in ("min_rest_hours", "max_weekly_hours"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be 0 (off) or a positive number of hours")

    @property
    def min_rest(self) -> timedelta | None:
        """The minimum rest, or ``None`` when the rule is off."""
        return timedelta(hours=self.min_rest_hours) if self.min_rest_hours else None

    @property
    def max_weekly(self) -> timedelta | None:
        """The weekly cap, or ``None`` when the rule is off."""
        return timedelta(hours=self.max_weekly_hours) if self.max_weekly_hours else None

    @property
    def lookback(self) -> timedelta:
        """How long after a held shift ends it can still affect a booking."""
        return max(RETENTION, self.min_rest or timedelta())


@dataclass(frozen=True)
class ShiftToBook:
    """The shift being booked: its code, and its time and role when it has them."""

    shift_id: str
    span: Span | None = None
    role: str | None = None


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def hours_text(length: timedelta, round_up: bool = False) -> str:
    """``9h``, ``10h59m``: whole minutes, rounded down (or up)."""
    seconds = length.total_seconds()
    minutes = math.ceil(seconds / 60) if round_up else math.floor(seconds / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest}m" if rest else f"{hours}h"


def held_text(held: HeldShift, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
    """``19:00-07:00 on 15/08``: a held shift as the person knows it."""
    day = f"{held.span.start.astimezone(zone):%d/%m}"
    return texts.text("HELD", span=span_text(held.span, zone), day=day)


@dataclass(frozen=True)
class Refusal:
    """Why one shift cannot be booked; :meth:`render` gives the reply fragment."""

    shift_id: str

    def reason(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        """The fragment without the code (``needs RN``), in the language of ``texts``."""
        raise NotImplementedError

    def render(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        """``XYZ123 needs RN``, times on the wall clock of ``zone``."""
        return f"{self.shift_id} {self.reason(zone, texts)}"


@dataclass(frozen=True)
class HasStarted(Refusal):
    """The shift's start is not after the moment of booking."""

    def reason(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        return texts.text("HAS_STARTED")


@dataclass(frozen=True)
class LacksRole(Refusal):
    """The person does not have the shift's role."""

    role: str

    def reason(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        role = truncate_septets(
            " ".join(to_gsm7(self.role, replacement="").split()), MAX_ROLE_SEPTETS
        )
        return texts.text("NEEDS_ROLE", role=role)


@dataclass(frozen=True)
class Overlaps(Refusal):
    """The shift shares time with one the person holds."""

    held: HeldShift

    def reason(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        return texts.text("OVERLAPS", held=held_text(self.held, zone, texts))


@dataclass(frozen=True)
class TooLittleRest(Refusal):
    """Less than the minimum rest between the shift and a held one it is ``after`` (or before)."""

    rest: timedelta
    held: HeldShift
    after: bool

    def reason(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        side = "AFTER" if self.after else "BEFORE"
        held = held_text(self.held, zone, texts)
        if self.rest > timedelta():
            return texts.text(f"REST_{side}", hours=hours_text(self.rest), held=held)
        return texts.text(f"NO_REST_{side}", held=held)


@dataclass(frozen=True)
class OverWeeklyHours(Refusal):
    """Booking it puts more than the cap in a rolling 7 days starting at ``window_start``."""

    hours: timedelta
    cap: timedelta
    window_start: datetime

    def reason(self, zone: ZoneInfo, texts: Catalogue = ENGLISH) -> str:
        total, cap = hours_text(self.hours, round_up=True), hours_text(self.cap)
        return texts.text("OVER_WEEKLY", total=total, cap=cap)


def may_work(role: str | None, roles: Iterable[str]) -> bool:
    """True when a person with ``roles`` may work a shift needing ``role`` (``None``: anyone)."""
    return role is None or role_key(role) in {role_key(r) for r in roles}


def _window_total(spans: Sequence[Span], start: datetime) -> timedelta:
    end = start + WEEK
    return sum((s.overlap(start, end) for s in spans), timedelta())


def weekly_peak(span: Span, held: Iterable[Span]) -> tuple[timedelta, datetime]:
    """The most hours in a 168-hour window sharing time with ``span``, and that window's start.

    The hours in ``[t, t+168h)`` change linearly in ``t`` between the moments where either
    edge meets a shift's start or end, so the largest total is at one of those moments or at
    an end of the range of windows that share time with ``span`` (a window there only touches
    ``span``, but the windows just inside it hold all but an instant of its total, so a cap is
    exceeded by one exactly when by the other). The earliest such window is returned.
    """
    spans = [span, *held]
    low, high = _utc(span.start) - WEEK, _utc(span.end)
    candidates = {low, high}
    for s in spans:
        for edge in (_utc(s.start), _utc(s.end)):
            candidates.update(t for t in (edge, edge - WEEK) if low <= t <= high)
    best = min(candidates, key=lambda t: (-_window_total(spans, t), t))
    return _window_total(spans, best), best


def _time_refusals(
    shift: ShiftToBook, span: Span, held: Sequence[HeldShift], settings: RuleSettings
) -> list[Refusal]:
    found: list[Refusal] = []
    overlapping = [h for h in held if h.span.overlaps(span)]
    if overlapping:
        found.append(Overlaps(shift.shift_id, overlapping[0]))
    min_rest = settings.min_rest
    if min_rest is not None:
        clear = [h for h in held if not h.span.overlaps(span)]
        start, end = _utc(span.start), _utc(span.end)
        earlier = [(start - _utc(h.span.end), h) for h in clear if _utc(h.span.end) <= start]
        later = [(_utc(h.span.start) - end, h) for h in clear if _utc(h.span.start) >= end]
        # After an earlier held shift, before a later one.
        for gaps, is_after in ((earlier, True), (later, False)):
            if gaps:
                gap, nearest = min(gaps, key=lambda g: g[0])
                if gap < min_rest:
                    found.append(TooLittleRest(shift.shift_id, gap, nearest, is_after))
    cap = settings.max_weekly
    if cap is not None:
        total, window = weekly_peak(span, [h.span for h in held])
        if total > cap:
            found.append(OverWeeklyHours(shift.shift_id, total, cap, window))
    return found


def check_booking(
    shift: ShiftToBook,
    roles: Iterable[str],
    held: Iterable[HeldShift],
    settings: RuleSettings,
    now: datetime,
) -> tuple[Refusal, ...]:
    """Why ``shift`` cannot be booked by a person with ``roles`` holding ``held``, at ``now``.

    Empty when the booking may go ahead. In order: started, role, overlap, rest (the nearest
    held shift before, then after), weekly hours. An entry of ``held`` with the shift's own
    code is ignored.
    """
    found: list[Refusal] = []
    span = shift.span
    started = has_started(span, now)
    if started:
        found.append(HasStarted(shift.shift_id))
    if shift.role is not None and not may_work(shift.role, roles):
        found.append(LacksRole(shift.shift_id, shift.role))
    if span is not None and not started:
        others = [h for h in held if h.shift_id != shift.shift_id]
        found.extend(_time_refusals(shift, span, others, settings))
    return tuple(found)


def refusal_text(
    refusals: Sequence[Refusal],
    zone: ZoneInfo,
    room: int = GSM7_SINGLE,
    texts: Catalogue = ENGLISH,
) -> str:
    """The refusals as one text of at most ``room`` units of ``texts``, one sentence per code.

    ``XYZ123 needs RN, overlaps your 19:00-07:00 on 15/08. XYZ124 has started.`` When that is
    too long each code keeps only its first reason, then the last codes give way to
    ``+N more refused.``
    """
    by_code: dict[str, list[Refusal]] = {}
    for refusal in refusals:
        by_code.setdefault(refusal.shift_id, []).append(refusal)

    def sentence(reasons: list[Refusal], keep: int) -> str:
        parts = [r.reason(zone, texts) for r in reasons[:keep]]
        return f"{reasons[0].shift_id} {', '.join(parts)}."

    groups = list(by_code.values())
    full = " ".join(sentence(g, len(g)) for g in groups)
    if texts.units(full) <= room:
        return full
    shown = [sentence(g, 1) for g in groups]
    for count in range(len(shown), 0, -1):
        rest = len(shown) - count
        more = [texts.text("MORE_REFUSED", n=rest)] if rest else []
        text = " ".join([*shown[:count], *more])
        if texts.units(text) <= room:
            return text
    return texts.fit(shown[0], room) if shown else ""
