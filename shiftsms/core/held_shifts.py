"""The timed shifts a person holds, as kept on their person-level item.

A booking checks the rules against this list and writes the new list back in the same
transaction as the shift, conditioned on the person item's version, so two bookings at once
cannot both pass against the same old list. Stored as a DynamoDB list of maps
``{shift_id, starts_at, ends_at}`` (ISO 8601 with offset), soonest first. Intervals that ended
more than :data:`RETENTION` before now can no longer affect a rule and are pruned. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shiftsms.core.shift_times import ShiftTimeError, Span, from_iso, to_iso

# Rules look back at most one rolling week (MaxWeeklyHours) or one rest period (MinRestHours)
# from a shift that has not started; keep at least the larger of the two.
RETENTION = timedelta(days=7)


class MalformedHeldShifts(ValueError):
    """The stored list cannot be read; rules must not run on a partial view of it."""


@dataclass(frozen=True)
class HeldShift:
    """One timed shift a person holds."""

    shift_id: str
    span: Span

    def to_item(self) -> dict[str, str]:
        """The map stored for this shift."""
        return {
            "shift_id": self.shift_id,
            "starts_at": to_iso(self.span.start),
            "ends_at": to_iso(self.span.end),
        }


def _order(held: Iterable[HeldShift]) -> tuple[HeldShift, ...]:
    return tuple(
        sorted(held, key=lambda h: (h.span.start.astimezone(UTC), h.shift_id)),
    )


def from_item(raw: Sequence[Mapping[str, Any]] | None) -> tuple[HeldShift, ...]:
    """The held shifts from a stored list (absent: none); :class:`MalformedHeldShifts` if bad."""
    held: list[HeldShift] = []
    for index, entry in enumerate(raw or ()):
        try:
            shift_id = entry["shift_id"]
            span = Span(from_iso(entry["starts_at"]), from_iso(entry["ends_at"]))
        except (KeyError, TypeError, ValueError, ShiftTimeError) as exc:
            raise MalformedHeldShifts(f"held shift {index} cannot be read: {exc}") from exc
        if not isinstance(shift_id, str) or not shift_id:
            raise MalformedHeldShifts(f"held shift {index} has no shift_id")
        held.append(HeldShift(shift_id, span))
    return _order(held)


def to_item(held: Iterable[HeldShift]) -> list[dict[str, str]]:
    """The list to store, soonest first."""
    return [h.to_item() for h in _order(held)]


def add(held: Iterable[HeldShift], new: HeldShift) -> tuple[HeldShift, ...]:
    """``held`` with ``new``, replacing an entry with its shift id (a retry changes nothing)."""
    return _order([*(h for h in held if h.shift_id != new.shift_id), new])


def remove(held: Iterable[HeldShift], shift_id: str) -> tuple[HeldShift, ...]:
    """``held`` without ``shift_id`` (unchanged when it is not there)."""
    return _order(h for h in held if h.shift_id != shift_id)


def prune(
    held: Iterable[HeldShift], now: datetime, keep: timedelta = RETENTION
) -> tuple[HeldShift, ...]:
    """``held`` without the shifts that ended more than ``keep`` before ``now``."""
    cutoff = now.astimezone(UTC) - keep
    return _order(h for h in held if h.span.end.astimezone(UTC) >= cutoff)
