"""Run the due work: claim each item that is due and hand it to the handler for its kind.

Each item runs once per claim: a second timer finds it leased, a late one finds it finished.
A handler that raises leaves its lease to lapse, so a later run retries it; handlers make
their own state changes conditional, so a retry after a partial run does the rest only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shiftsms.core.due import DueItem
from shiftsms.errors import ShiftsmsError
from shiftsms.ports import DueWork

log = logging.getLogger("shiftsms.due")

DueHandler = Callable[[DueItem, datetime], None]
# Items one run takes on (the scheduled function runs every minute).
RUN_LIMIT = 50


class DueWorkFailed(ShiftsmsError):
    """Some due work raised; it is retried once its lease lapses."""


@dataclass
class DueRun:
    """What one run did, by item (``kind:key``)."""

    ran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # claimed by another run meanwhile, or replaced or cancelled since it was listed
    skipped: list[str] = field(default_factory=list)
    # no handler for the kind: left for a release that has one (lease lapses, TTL ends it)
    unknown: list[str] = field(default_factory=list)


class DueRunner:
    """Runs due items with the handler registered for each kind."""

    def __init__(
        self, due: DueWork, handlers: Mapping[str, DueHandler], *, limit: int = RUN_LIMIT
    ) -> None:
        self.due = due
        self.handlers = dict(handlers)
        self.limit = limit

    def run(self, now: datetime) -> DueRun:
        """Claim and run each item due by ``now``; raise DueWorkFailed after the rest ran."""
        report = DueRun()
        for item in self.due.due(now, self.limit):
            name = f"{item.kind}:{item.key}"
            handler = self.handlers.get(item.kind)
            if handler is None:
                log.warning("due work of unknown kind %s: left", item.kind)
                report.unknown.append(name)
                continue
            token = self.due.claim(item, now)
            if token is None:
                report.skipped.append(name)
                continue
            try:
                handler(item, now)
            except Exception:
                log.exception("due work %s failed: retried after its lease", name)
                report.failed.append(name)
                continue
            self.due.finish(item, token)
            report.ran.append(name)
        if report.failed:
            raise DueWorkFailed(f"due work failed: {', '.join(report.failed)}")
        return report
