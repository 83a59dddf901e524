"""When a shift starts and ends: operator times read in a time zone, checked, stored with offset.

Pure: no I/O and no clock reads (``now`` is always passed in).

Rules, chosen so that a stored time is never a guess:

- A time with an offset (``2026-08-15T19:00+01:00``, ``...Z``) is taken as given. A time
  without one (``2026-08-15 19:00``) is read in the given IANA zone.
- A local time the clocks skip (``2026-03-29 01:30`` in Europe/London) is refused.
- A local time the clocks pass twice (``2026-10-25 01:30`` in Europe/London) is refused too,
  naming the two offsets that tell them apart: picking one silently would shift a shift by an
  hour, and the rest rules with it.
- Stored as ISO 8601 with the offset, to the minute (to the second when seconds are given).
  Strings with different offsets do not sort in time order, so an index sorts on
  :func:`sort_key` (UTC) instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shiftsms.errors import InvalidInput

MAX_SHIFT = timedelta(hours=24)

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(?::\d{2})?"
_OFFSET = r"Z|[+-]\d{2}(?::?\d{2})?"
_DATETIME = re.compile(rf"(?P<date>{_DATE})[T ](?P<time>{_TIME})\s*(?P<offset>{_OFFSET})?")
_DATE_ONLY = re.compile(_DATE)


class ShiftTimeError(InvalidInput):
    """A shift time cannot be used; the message is one line an operator can act on."""


class UnknownTimeZone(ShiftTimeError):
    """The name is not an IANA time zone known here."""


class UnreadableTime(ShiftTimeError):
    """The text is not a date and time in a form shiftsms reads."""


class NonexistentTime(ShiftTimeError):
    """The local time falls in a gap the clocks skip (spring forward)."""


class AmbiguousTime(ShiftTimeError):
    """The local time happens twice (clocks go back): an offset must say which."""


class EndNotAfterStart(ShiftTimeError):
    """The shift ends at or before its start."""


class ShiftTooLong(ShiftTimeError):
    """The shift ends more than 24 hours after it starts."""


class StartInPast(ShiftTimeError):
    """The shift has already started."""


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. ``Europe/London``); :class:`UnknownTimeZone` if none."""
    key = name.strip()
    if not key:
        raise UnknownTimeZone("time zone is empty: give an IANA name such as Europe/London")
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimeZone(
            f"unknown time zone {name!r}: give an IANA name such as Europe/London"
        ) from exc


def _offset_text(offset: timedelta | None) -> str:
    """``+01:00`` for one hour ahead of UTC."""
    total = int((offset or timedelta()).total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """``naive`` read as a wall-clock time in ``zone``; refuses skipped and repeated times."""
    early = naive.replace(tzinfo=zone, fold=0)
    late = naive.replace(tzinfo=zone, fold=1)
    shown = f"{naive:%Y-%m-%d %H:%M}"
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentTime(
            f"{shown} does not exist in {zone.key} (the clocks skip it): give another time"
        )
    if early.utcoffset() != late.utcoffset():
        raise AmbiguousTime(
            f"{shown} happens twice in {zone.key} (the clocks go back): add the offset, "
            f"{_offset_text(early.utcoffset())} for the first or "
            f"{_offset_text(late.utcoffset())} for the second"
        )
    return early


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """An operator's date and time as an aware datetime.

    Accepts ``YYYY-MM-DD HH:MM`` (or ``T`` between, optional ``:SS``), optionally followed by
    ``Z`` or an offset (``+01:00``, ``+0100``, ``+01``). Without an offset it is read in
    ``zone`` (see :func:`localize`).
    """
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise UnreadableTime(
            f"cannot read {text!r} as a time: use YYYY-MM-DD HH:MM, e.g. 2026-08-15 19:00"
        )
    offset = match["offset"]
    iso = f"{match['date']}T{match['time']}{'' if offset is None else offset}"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise UnreadableTime(f"cannot read {text!r} as a time: {exc}") from exc
    if parsed.tzinfo is None:
        return localize(parsed, zone)
    return parsed


def parse_date(text: str) -> date:
    """A calendar date ``YYYY-MM-DD`` (for ``--from``/``--to``)."""
    value = text.strip()
    if _DATE_ONLY.fullmatch(value) is None:
        raise UnreadableTime(f"cannot read {text!r} as a date: use YYYY-MM-DD, e.g. 2026-08-15")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UnreadableTime(f"cannot read {text!r} as a date: {exc}") from exc


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (later than 00:00 where the clocks skip it)."""
    midnight = datetime.combine(day, time(), tzinfo=zone)
    return midnight.astimezone(UTC).astimezone(zone)


@dataclass(frozen=True)
class Window:
    """Instants ``start <= t < end``; an open side is ``None``."""

    start: datetime | None = None
    end: datetime | None = None

    def __contains__(self, instant: datetime) -> bool:
        moment = _utc(instant)
        after_start = self.start is None or moment >= _utc(self.start)
        return after_start and (self.end is None or moment < _utc(self.end))


def date_window(first: str | None, last: str | None, zone: ZoneInfo) -> Window:
    """``--from FIRST --to LAST`` as instants: from FIRST's start to LAST's end, both included."""
    start = day_start(parse_date(first), zone) if first is not None else None
    last_day = parse_date(last) if last is not None else None
    end = day_start(last_day + timedelta(days=1), zone) if last_day is not None else None
    if start is not None and end is not None and _utc(end) <= _utc(start):
        raise EndNotAfterStart(f"--to {last} is before --from {first}")
    return Window(start, end)


def to_iso(instant: datetime) -> str:
    """``2026-08-15T19:00+01:00``: to the minute, to the second when seconds are set."""
    _require_aware(instant)
    spec = "minutes" if instant.second == 0 and instant.microsecond == 0 else "seconds"
    return instant.isoformat(timespec=spec)


def from_iso(text: str) -> datetime:
    """A stored time (ISO 8601 with offset) back as an aware datetime."""
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise UnreadableTime(f"stored time {text!r} is not ISO 8601") from exc
    if parsed.tzinfo is None:
        raise UnreadableTime(f"stored time {text!r} has no UTC offset")
    return parsed


def sort_key(instant: datetime) -> str:
    """``2026-08-15T18:00:00Z``: UTC, fixed width, so string order is time order."""
    _require_aware(instant)
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(instant: datetime) -> datetime:
    """``instant`` in UTC: aware datetimes sharing a zone compare and subtract by wall clock."""
    _require_aware(instant)
    return instant.astimezone(UTC)


def _require_aware(instant: datetime) -> None:
    if instant.utcoffset() is None:
        raise ValueError("a shift time must carry a UTC offset")


@dataclass(frozen=True)
class Span:
    """A stretch of real time ``start <= t < end`` with ``start < end`` (both aware)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start)
        _require_aware(self.end)
        if _utc(self.end) <= _utc(self.start):
            raise ValueError("a span must end after it starts")

    @property
    def length(self) -> timedelta:
        """Elapsed time from start to end (a DST change makes it differ from the wall clock)."""
        return _utc(self.end) - _utc(self.start)

    def overlaps(self, other: Span) -> bool:
        """True when the spans share time; spans that only touch do not."""
        return _utc(self.start) < _utc(other.end) and _utc(other.start) < _utc(self.end)

    def overlap(self, start: datetime, end: datetime) -> timedelta:
        """How much of ``[start, end)`` this span covers."""
        lo = max(_utc(self.start), _utc(start))
        hi = min(_utc(self.end), _utc(end))
        return max(hi - lo, timedelta())

    def starts_at(self) -> str:
        """The start as stored."""
        return to_iso(self.start)

    def ends_at(self) -> str:
        """The end as stored."""
        return to_iso(self.end)


def check_span(start: datetime, end: datetime, now: datetime) -> Span:
    """The shift ``start``-``end`` if an operator may post it at ``now``.

    Refused: an end at or before the start, an end more than 24 h after it (elapsed time, so a
    19:00-19:00 night over the October change is 25 h and refused), a start before ``now``.
    """
    if _utc(end) <= _utc(start):
        raise EndNotAfterStart(f"the shift ends ({to_iso(end)}) before it starts ({to_iso(start)})")
    span = Span(start, end)
    if span.length > MAX_SHIFT:
        hours = span.length.total_seconds() / 3600
        raise ShiftTooLong(f"the shift lasts {hours:g} h: at most 24 h from start to end")
    if _utc(start) < _utc(now):
        raise StartInPast(f"the shift starts in the past ({to_iso(start)})")
    return span


def shift_span(start: str, end: str, zone: ZoneInfo, now: datetime) -> Span:
    """``--start``/``--end`` as the operator typed them, read in ``zone`` and checked at ``now``."""
    return check_span(parse_time(start, zone), parse_time(end, zone), now)


def span_from_item(item: Mapping[str, Any]) -> Span | None:
    """A stored shift's ``starts_at``/``ends_at`` as a span; ``None`` for an untimed shift.

    An item typed in the console with neither attribute is untimed. One without the other, or
    a value that is not ISO 8601 with offset, or an end not after the start, is refused
    (:class:`UnreadableTime`): the rules must not treat a damaged shift as untimed.
    """
    starts, ends = item.get("starts_at"), item.get("ends_at")
    if starts is None and ends is None:
        return None
    shift = item.get("shift_id", "?")
    if not isinstance(starts, str) or not isinstance(ends, str):
        raise UnreadableTime(f"shift {shift} needs both starts_at and ends_at as text")
    start, end = from_iso(starts), from_iso(ends)
    if _utc(end) <= _utc(start):
        raise UnreadableTime(f"shift {shift} ends at or before its start")
    return Span(start, end)


def listing_key(span: Span | None, shift_id: str) -> tuple[int, str, str]:
    """Sort key for lists of shifts: timed ones soonest first, then untimed ones, by code."""
    if span is None:
        return (1, "", shift_id)
    return (0, sort_key(span.start), shift_id)


def has_started(span: Span | None, now: datetime) -> bool:
    """True when a timed shift's start is not after ``now`` (an untimed shift never starts)."""
    return span is not None and _utc(span.start) <= _utc(now)
