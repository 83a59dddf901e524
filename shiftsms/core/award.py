"""Who gets a shift when a claim window closes, and who is texted in which wave. Pure.

A window collects repliers per shift; when it closes each shift goes to one eligible replier
by the campaign's award rule:

- ``fewest-hours`` (default): fewest hours booked in the last 28 days, then earliest reply,
  then a random draw;
- ``earliest``: earliest reply, then a random draw;
- ``random``: a random draw.

The draw is a hash of the campaign's seed and the person's fingerprint: random across people,
but the same on every run, so a retried award tries the same people in the same order. The
same rule orders the waves of a campaign's recipients (reply time does not apply there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shiftsms.core.held_shifts import HeldShift

LOOKBACK = timedelta(days=28)


class AwardRule(StrEnum):
    """How a window's shift is awarded (and waves are ordered)."""

    FEWEST_HOURS = "fewest-hours"
    EARLIEST = "earliest"
    RANDOM = "random"


class CampaignMode(StrEnum):
    """First come, first served (booked on the reply), or a claim window then an award."""

    FIRST_COME = "first-come"
    WINDOW = "window"


@dataclass(frozen=True)
class Replier:
    """Someone who replied during a window: who (``who``: the fingerprint), when, their hours."""

    who: str
    replied_at: datetime
    hours: float = 0.0


def booked_hours(held: Iterable[HeldShift], now: datetime, lookback: timedelta = LOOKBACK) -> float:
    """Hours of the held shifts that overlap the ``lookback`` before ``now`` (and later ones).

    The person item keeps shifts until a week after they end, so what it holds of the last
    28 days is the last week's and every booked shift still to come.
    """
    since = now - lookback
    total = 0.0
    for shift in held:
        start = max(shift.span.start, since)
        if shift.span.end > start:
            total += (shift.span.end - start).total_seconds() / 3600
    return round(total, 4)


def draw(seed: str, who: str) -> str:
    """The random draw for ``who`` under ``seed`` (stable, uniform over people)."""
    return hashlib.sha256(f"{seed}\x00{who}".encode()).hexdigest()


def award_order(repliers: Sequence[Replier], rule: AwardRule, seed: str) -> list[Replier]:
    """``repliers`` in the order the award tries them (the first eligible one gets it)."""
    if rule is AwardRule.FEWEST_HOURS:
        return sorted(repliers, key=lambda r: (r.hours, r.replied_at, draw(seed, r.who)))
    if rule is AwardRule.EARLIEST:
        return sorted(repliers, key=lambda r: (r.replied_at, draw(seed, r.who)))
    return sorted(repliers, key=lambda r: draw(seed, r.who))


def wave_order(hours: dict[str, float], rule: AwardRule, seed: str) -> list[str]:
    """Recipients (by fingerprint, with their hours) in the order waves reach them."""
    if rule is AwardRule.FEWEST_HOURS:
        return sorted(hours, key=lambda who: (hours[who], draw(seed, who)))
    return sorted(hours, key=lambda who: draw(seed, who))


def wave_slices(count: int, waves: int) -> list[range]:
    """Positions of each wave among ``count`` ordered recipients: the first 1/N, the next...

    The first waves take the extra one when ``count`` does not divide; no wave is empty
    unless there are fewer recipients than waves.
    """
    waves = max(1, waves)
    size, extra = divmod(count, waves)
    slices: list[range] = []
    start = 0
    for index in range(waves):
        end = start + size + (1 if index < extra else 0)
        slices.append(range(start, end))
        start = end
    return slices


_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``10m``, ``1h`` (or ``1h30m``) as a duration; ValueError if it is none."""
    raw = text.strip().lower()
    total, number = 0, ""
    for char in raw:
        if char.isdigit():
            number += char
        elif char in _UNITS and number:
            total += int(number) * _UNITS[char]
            number = ""
        else:
            raise ValueError(f"not a duration: {text!r} (say 90s, 10m or 1h)")
    if number or total <= 0:
        raise ValueError(f"not a duration: {text!r} (say 90s, 10m or 1h)")
    return timedelta(seconds=total)
