"""One send schedule per origination number, shared by campaign texts and replies to staff.

The schedule is one value, ``next_at``: the earliest time (integer microseconds) the next text
may go. It changes only through two atomic conditional operations (:class:`ScheduleStore`; on
AWS each is one DynamoDB conditional update of one item, which DynamoDB applies one at a time):

- ``take_due(now)``: if ``next_at <= now`` (or unset), grant ``now`` and set ``next_at = now +
  step``;
- ``take_next(now, limit)``: if ``now <= next_at < limit``, grant ``next_at`` and set
  ``next_at = next_at + step``.

Within the rate. Each grant ``g`` is at least the ``next_at`` it was decided on and leaves
``next_at = g + step``, so by induction over the serial order of the updates every grant is at
least one ``step`` (``1 / rate``, rounded up) after the one before it, whichever lane and
invocation took it: no one-second stretch holds more than the rate (rounded up).

Replies first. Campaign texts use only ``take_due``: they are granted a time that is already
due, never one ahead. So campaigns alone never push ``next_at`` more than one ``step`` past the
present. Replies use ``take_next`` and book ahead: a reply asking at ``t`` is granted at most
``t + step`` however hard campaigns use the rate (plus one step per reply booked before it),
and once replies have booked ahead, campaign senders wait until those times are past. A
campaign therefore cannot starve a reply; replies delay campaigns, which is the point.

Cost: campaign senders poll the item (one conditional update per try), waking when its next
time falls due; a sender remembers the time after its own grant and sleeps until then first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

MICROS = 1_000_000
# Without a deadline, a campaign sender waits at most this long between tries.
MAX_WAIT_SECONDS = 30.0


class ScheduleStore(Protocol):
    """The schedule's one value, changed only by these two atomic conditional operations."""

    def take_due(self, now: int, step: int) -> int | None:
        """If ``next_at <= now`` or unset: make it ``now + step``, return None; else ``next_at``."""
        ...

    def take_next(self, now: int, limit: int, step: int) -> tuple[bool, int | None]:
        """If ``now <= next_at < limit``: add ``step``, return (True, old ``next_at``).

        Otherwise (False, ``next_at`` as it is, or None when unset).
        """
        ...


class SendSchedule:
    """SendRateLimiter (campaign texts) and ReplyRate (replies to staff) on a ScheduleStore."""

    def __init__(
        self,
        store: ScheduleStore,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("send rate must be positive")
        self.store = store
        # Rounded up: the schedule may run a hair slow, never fast.
        self.step = max(1, math.ceil(MICROS / rate_per_second))
        self.clock = clock
        self.sleep = sleep
        self._after_own = 0  # next_at right after this sender's last grant

    def _now(self) -> int:
        return round(self.clock() * MICROS)

    def _wait_until(self, at: int) -> None:
        """Sleep until ``at``; at least a microsecond, so a retry always finds time moved on."""
        self.sleep(max(at / MICROS - self.clock(), 1 / MICROS))

    def acquire(self, deadline: float | None = None) -> bool:
        """Campaign lane: wait for a due send time; False if none comes before ``deadline``."""
        limit = None if deadline is None else math.floor(deadline * MICROS)
        while True:
            now = self._now()
            if limit is not None and now >= limit:
                return False
            if now < self._after_own:
                # Nobody can be due before the time our own last grant set.
                due_at = self._after_own
            else:
                busy = self.store.take_due(now, self.step)
                if busy is None:
                    self._after_own = now + self.step
                    return True
                due_at = busy
            if limit is not None and due_at >= limit:
                return False
            if limit is None:
                due_at = min(due_at, now + int(MAX_WAIT_SECONDS * MICROS))
            self._wait_until(due_at)

    def acquire_reply(self, deadline: float) -> bool:
        """Reply lane: book the next send time, wait for it; False if none before ``deadline``."""
        now, limit = self._now(), math.floor(deadline * MICROS)
        at = self._book_ahead(now, limit)
        if at is None:
            return False
        if at > now:
            self._wait_until(at)
        return True

    def _book_ahead(self, now: int, limit: int) -> int | None:
        while now < limit:
            ok, next_at = self.store.take_next(now, limit, self.step)
            if ok:
                return next_at
            if next_at is not None and next_at >= now:
                return None  # booked up to the deadline
            if self.store.take_due(now, self.step) is None:
                return now
            # Someone moved the schedule between the two: read it again.
        return None
