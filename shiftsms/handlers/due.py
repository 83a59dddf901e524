"""Due work: an EventBridge schedule (every minute) -> each due item, run once."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from shiftsms.aws.clients import client
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.reply_queue import SqsReplyQueue
from shiftsms.aws.send_queue import SqsSendQueue
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.self_service import QuietHours
from shiftsms.core.shift_times import time_zone
from shiftsms.core.waitlist import HOLD_EXPIRY
from shiftsms.handlers.logs import logger
from shiftsms.services.due_runner import DueHandler, DueRunner
from shiftsms.services.reminders import Reminders
from shiftsms.services.waitlist import WaitlistService, due_schedule
from shiftsms.settings import DueSettings


def handlers(settings: DueSettings, dynamodb: Any) -> dict[str, DueHandler]:
    """The handler for each kind of due work (see ``shiftsms.core.due``)."""
    found: dict[str, DueHandler] = {}
    if settings.shifts_table and settings.staff_table:
        found[HOLD_EXPIRY] = waitlist_service(settings, dynamodb).on_hold_expiry
    if settings.shifts_table and settings.staff_table and settings.reply_queue_url:
        sqs = client("sqs")
        found.update(
            Reminders(
                shifts=ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table),
                staff=StaffTable(dynamodb, settings.staff_table),
                replies=SqsReplyQueue(sqs, settings.reply_queue_url),
                send_queue=SqsSendQueue(sqs, settings.send_queue_url),
                due=DynamoDueWork(dynamodb, settings.state_table),
                origination=settings.origination_identity,
                time_zone=settings.time_zone,
                quiet=QuietHours.parse(settings.quiet_hours),
            ).handlers()
        )
    return found


def waitlist_service(settings: DueSettings, dynamodb: Any) -> WaitlistService:
    """Held offers as the inbound function makes them: a lapsed hold goes to the next."""
    return WaitlistService(
        shifts=ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table),
        staff=StaffTable(dynamodb, settings.staff_table),
        sms=EndUserMessagingSms(
            client("pinpoint-sms-voice-v2"),
            protect_configuration=settings.protect_configuration_id or None,
            max_price=settings.max_price_per_message or None,
        ),
        offers=DynamoOfferLog(dynamodb, settings.state_table),
        origination=settings.origination_identity,
        zone=time_zone(settings.time_zone),
        rules=RuleSettings(settings.min_rest_hours, settings.max_weekly_hours),
        hold_minutes=settings.hold_minutes,
        schedule=due_schedule(DynamoDueWork(dynamodb, settings.state_table)),
    )


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
