"""Staff self-service rules: snoozes, quiet hours, the daily offer cap, DROP cutoff, reminders.

Pure: no I/O. Every instant is timezone-aware; wall-clock rules (quiet hours, the cap's day)
are read in the stack's time zone, so they follow daylight saving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_SNOOZE_DAYS = 7
MAX_SNOOZE_DAYS = 60

_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
_QUIET = re.compile(rf"{_CLOCK}-{_CLOCK}")


class BadSnooze(ValueError):
    """``SNOOZE`` followed by something that is not 1-60 days."""


def snooze_days(note: str) -> int:
    """The days a ``SNOOZE [N]`` asks for: 7 without N; :class:`BadSnooze` unless 1-60."""
    text = note.strip().rstrip(".!")
    if not text:
        return DEFAULT_SNOOZE_DAYS
    if not text.isdigit() or not 1 <= int(text) <= MAX_SNOOZE_DAYS:
        raise BadSnooze(f"snooze for 1-{MAX_SNOOZE_DAYS} days, not {text!r}")
    return int(text)


def snoozed(until: datetime | None, now: datetime) -> bool:
    """True while a snooze ending at ``until`` still holds at ``now``."""
    return until is not None and now < until


@dataclass(frozen=True)
class QuietHours:
    """A nightly quiet period on the wall clock, e.g. 22:00-07:00 (it may cross midnight)."""

    start: time
    end: time

    @classmethod
    def parse(cls, raw: str) -> QuietHours | None:
        """``22:00-07:00`` as quiet hours; "" is none; ValueError for anything else."""
        text = raw.strip()
        if not text:
            return None
        match = _QUIET.fullmatch(text)
        if match is None:
            raise ValueError(f"quiet hours are HH:MM-HH:MM, e.g. 22:00-07:00, not {raw!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if (h1, m1) == (h2, m2):
            raise ValueError(f"quiet hours {raw!r} start and end at the same time")
        return cls(time(h1, m1), time(h2, m2))

    def _windows(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period that starts on local ``day``, as UTC instants."""
        end_day = day if self.start < self.end else day + timedelta(days=1)
        start = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        end = datetime.combine(end_day, self.end, tzinfo=zone).astimezone(UTC)
        return start, end

    def ends_after(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """When the quiet period ``now`` falls in ends (UTC); None when ``now`` is not quiet.

        A wall-clock time that a daylight-saving change skips is read with the offset before
        the change (02:30 on a spring-forward night is 03:30 new time); one that occurs twice
        is its first occurrence.
        """
        today = now.astimezone(zone).date()
        for offset in (-1, 0):
            start, end = self._windows(today + timedelta(days=offset), zone)
            if start <= now < end:
                return end
        return None


def hold_offer_until(
    now: datetime, quiet: QuietHours | None, zone: ZoneInfo, first_start: datetime | None
) -> datetime | None:
    """When a campaign text due ``now`` may go, if it must wait; None: send it now.

    It waits for the end of quiet hours, unless a shift it offers starts before then (an
    urgent offer goes out at once).
    """
    if quiet is None:
        return None
    end = quiet.ends_after(now, zone)
    if end is None or (first_start is not None and first_start < end):
        return None
    return end


def cap_day(now: datetime, zone: ZoneInfo) -> str:
    """The local day an offer counts against in the daily cap (``2026-08-15``)."""
    return now.astimezone(zone).date().isoformat()


def drop_too_late(start: datetime | None, now: datetime, cutoff_hours: float) -> bool:
    """True when a DROP at ``now`` is closer than ``cutoff_hours`` to ``start`` (0 = never)."""
    if not cutoff_hours or start is None:
        return False
    return start - now < timedelta(hours=cutoff_hours)


def reminder_at(start: datetime, booked: datetime, hours: float) -> datetime | None:
    """When to remind the holder of a shift starting at ``start``; None for none.

    None when reminders are off (0) or the shift was booked inside the reminder window.
    """
    if not hours:
        return None
    due = start - timedelta(hours=hours)
    return due if booked < due else None


def reminder_key(shift_id: str, holder_fingerprint: str, start: datetime) -> str:
    """The due-work key of one reminder: the shift, its holder and its start, so a moved
    shift or a new holder gets a reminder of its own."""
    stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{shift_id}#{holder_fingerprint}#{stamp}"
