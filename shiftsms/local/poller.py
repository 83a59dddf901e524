"""The shared poller base: a daemon thread polling one event source, and what it delivers to."""

from __future__ import annotations

import base64
import logging
import threading
from datetime import datetime
from typing import Any, Protocol

from shiftsms.local.invocation import Invocation

log = logging.getLogger("shiftsms.local.pump")

LONG_POLL_SECONDS = 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class Invoker(Protocol):
    """What a poller delivers to: a function by name."""

    name: str

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run the function on ``event``."""
        ...


class Poller(threading.Thread):
    """A daemon thread that polls one event source until stopped."""

    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stop_event = stop
        self.removed = False
        self.idle_wait = 0.05
        self.max_idle_wait = 0.5

    def run(self) -> None:
        """Poll until stopped; an error in a round is logged and the round retried."""
        while not self.stop_event.is_set() and not self.removed:
            try:
                busy = self.poll()
            except Exception:
                if self.stop_event.is_set():
                    return
                log.exception("%s: poll failed", self.name)
                self.stop_event.wait(0.5)
                continue
            if busy:
                self.idle_wait = 0.05
            else:
                self.stop_event.wait(self.idle_wait)
                self.idle_wait = min(self.max_idle_wait, self.idle_wait * 2)

    def poll(self) -> bool:
        """One round; True if there was work."""
        raise NotImplementedError
