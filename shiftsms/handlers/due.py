"""Due work: an EventBridge schedule (every minute) -> each due item, run once."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from shiftsms.aws.clients import client
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.handlers.logs import logger
from shiftsms.services.due_runner import DueHandler, DueRunner
from shiftsms.settings import DueSettings


def handlers(settings: DueSettings, dynamodb: Any) -> dict[str, DueHandler]:
    """The handler for each kind of due work (see ``shiftsms.core.due``)."""
    return {}


@functools.cache
def app() -> DueRunner:
    """The runner for this container, built on first use from the environment."""
    settings = DueSettings.from_env()
    dynamodb = client("dynamodb")
    return DueRunner(DynamoDueWork(dynamodb, settings.state_table), handlers(settings, dynamodb))


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/due.py``): run what is due now."""
    report = app().run(datetime.now(UTC))
    logger.info("due work run", extra={"ran": len(report.ran), "skipped": len(report.skipped)})
    return {"ran": report.ran, "skipped": report.skipped, "unknown": report.unknown}
