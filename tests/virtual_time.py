"""Deterministic concurrency on a virtual clock: actors are threads that run one at a time.

An actor runs until it sleeps; then the actor with the earliest wake-up time (ties: the one
that went to sleep first) runs, with the clock set to that time. No real time passes, and the
interleaving is the same on every run.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable


class VirtualTime:
    """A clock and a ``sleep`` for actors run by :meth:`run`."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, threading.Event]] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._running = 0
        self.errors: list[BaseException] = []

    def __call__(self) -> float:
        return self.now

    def _park(self, wake: float) -> threading.Event:
        event = threading.Event()
        heapq.heappush(self._sleepers, (wake, next(self._seq), event))
        return event

    def _pass_on(self) -> None:
        """Run the next sleeper, or say that everyone is done."""
        with self._lock:
            if not self._sleepers:
                self._done.set()
                return
            wake, _, event = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
        event.set()

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        with self._lock:
            event = self._park(self.now + seconds)
        self._pass_on()
        event.wait()

    def run(self, *actors: Callable[[], None], timeout: float = 30.0) -> None:
        """Run ``actors`` to the end, interleaved on the virtual clock; re-raise a failure."""

        def body(fn: Callable[[], None], start: threading.Event) -> None:
            start.wait()
            try:
                fn()
            except BaseException as exc:  # reported to the test below
                self.errors.append(exc)
            finally:
                self._pass_on()

        threads = []
        for fn in actors:
            with self._lock:
                start = self._park(self.now)
            threads.append(threading.Thread(target=body, args=(fn, start), daemon=True))
        for t in threads:
            t.start()
        self._pass_on()
        assert self._done.wait(timeout), "actors did not finish"
        for t in threads:
            t.join(timeout)
        if self.errors:
            raise self.errors[0]
