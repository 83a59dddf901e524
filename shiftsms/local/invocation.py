"""What the event pump records about running a function: outcomes, counts, failures."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


class PumpError(Exception):
    """A function could not be prepared or run."""


@dataclass
class Invocation:
    """What one invoke returned: the handler's result, or its error."""

    ok: bool
    result: Any = None
    error: str = ""


@dataclass
class Stats:
    """Invocations and errors per function (for status and the demo)."""

    invocations: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, function: str, ok: bool) -> None:
        """Record one invocation."""
        with self.lock:
            self.invocations[function] = self.invocations.get(function, 0) + 1
            if not ok:
                self.errors[function] = self.errors.get(function, 0) + 1
