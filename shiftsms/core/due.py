"""Due work: something to do at a time (a window closing, a wave starting, a hold expiring). Pure.

A :class:`DueItem` is named by ``kind`` and ``key``: scheduling the same pair again replaces
the earlier item. A scheduled function runs each item once it is due (``shiftsms.services.
due_runner``); a run claims the item first, so a timer that fires twice or late runs it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Kinds of due work shiftsms schedules (handlers are registered by kind).
WINDOW_CLOSE = "window-close"
WAVE = "wave"
# A shift whose waitlist ran out, offered again to its campaign's recipients (key: shift id).
REOFFER = "reoffer"
# A re-offer's data: the fingerprint of who gave the shift back (not offered it again).
REOFFER_NOT_TO = "not_to"

_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(at: datetime) -> str:
    """``at`` in UTC, fixed width to the microsecond, so string order is time order."""
    if at.tzinfo is None:
        raise ValueError("a due time needs a time zone")
    return at.astimezone(UTC).strftime(_STAMP)


def parse_stamp(text: str) -> datetime:
    """The time :func:`stamp` wrote."""
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class DueItem:
    """One piece of due work: what (``kind``), for what (``key``), when, and its inputs."""

    kind: str
    key: str
    due_at: datetime
    data: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.kind or "#" in self.kind:
            raise ValueError(f"a due kind is a non-empty name without '#': {self.kind!r}")
        if not self.key:
            raise ValueError("a due item needs a key")
        stamp(self.due_at)  # aware, or ValueError

    @property
    def item_id(self) -> str:
        """The state-table id: ``due#<kind>#<key>``."""
        return f"due#{self.kind}#{self.key}"

    @property
    def sort_key(self) -> str:
        """Due order: the time, then kind and key (unique per scheduled instance)."""
        return f"{stamp(self.due_at)}#{self.kind}#{self.key}"


def due_bound(now: datetime) -> str:
    """The greatest sort key of an item due at ``now`` (compare ``sort_key <= due_bound``)."""
    return f"{stamp(now)}#~"


def first_wave(campaign_id: str, at: datetime) -> DueItem:
    """The due item that sends a waves campaign's first wave (due at once)."""
    return DueItem(WAVE, f"{campaign_id}#1", at, {"campaign": campaign_id, "wave": "1"})
