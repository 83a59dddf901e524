"""Due work: an EventBridge schedule (every minute) -> each due item, run once.

The texts the due function sends itself (held offers) count in ``TextsSent`` and ``Segments``;
the invocation's metrics are flushed after each run, even one that raised.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from shiftsms.aws.campaign_links import DynamoCampaignLinks
from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.clients import client
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.dynamo import stamp_writes
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.reply_queue import SqsReplyQueue
from shiftsms.aws.send_queue import SqsSendQueue
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.actor import fn_actor
from shiftsms.core.award import booked_hours
from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.due import REOFFER, WAVE, WINDOW_CLOSE
from shiftsms.core.self_service import QuietHours
from shiftsms.core.shift_times import time_zone
from shiftsms.core.waitlist import HOLD_EXPIRY
from shiftsms.handlers.logs import logger
from shiftsms.handlers.metrics import EmfMetrics
from shiftsms.handlers.notices import manager_notifier
from shiftsms.handlers.texts import stack_sms
from shiftsms.ports import MetricSink
from shiftsms.services.due_runner import DueHandler, DueRunner
from shiftsms.services.reminders import Reminders
from shiftsms.services.reoffer import ShiftReoffer
from shiftsms.services.waitlist import WaitlistService
from shiftsms.services.waves import WaveSender
from shiftsms.services.windows import WindowAward
from shiftsms.settings import DueSettings


def handlers(
    settings: DueSettings, dynamodb: Any, *, metrics: MetricSink | None = None
) -> dict[str, DueHandler]:
    """The handler for each kind of due work (see ``shiftsms.core.due``); the texts they send
    count in ``metrics`` (None: not counted)."""
    sqs = client("sqs")
    shifts = ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table)
    staff = StaffTable(dynamodb, settings.staff_table)
    replies = SqsReplyQueue(sqs, settings.reply_queue_url)
    send_queue = SqsSendQueue(sqs, settings.send_queue_url)
    due = DynamoDueWork(dynamodb, settings.state_table)

    def hours(phone: str, now: datetime) -> float:
        return booked_hours(shifts.held(phone)[0], now)

    award = WindowAward(
        windows=DynamoClaimWindows(dynamodb, settings.state_table),
        shifts=shifts,
        staff=staff,
        replies=replies,
        hours=hours,
        origination=settings.origination_identity,
        rules=RuleSettings(settings.min_rest_hours, settings.max_weekly_hours),
        zone_name=settings.time_zone,
        due=due,
        reminder_hours=settings.reminder_hours,
        metrics=metrics,
        notifier=manager_notifier(dynamodb, settings),
    )
    campaigns = CampaignsTable(dynamodb, settings.campaigns_table)
    waves = WaveSender(
        campaigns=campaigns,
        staff=staff,
        shifts=shifts,
        queue=send_queue,
        due=due,
        hours=hours,
        message_ttl_seconds=settings.message_ttl_seconds,
    )
    reminders = Reminders(
        shifts=shifts,
        staff=staff,
        replies=replies,
        send_queue=send_queue,
        due=due,
        origination=settings.origination_identity,
        time_zone=settings.time_zone,
        quiet=QuietHours.parse(settings.quiet_hours),
    )
    return {
        HOLD_EXPIRY: waitlist_service(settings, dynamodb, metrics=metrics).on_hold_expiry,
        WINDOW_CLOSE: award,
        WAVE: waves,
        REOFFER: ShiftReoffer(
            links=DynamoCampaignLinks(dynamodb, settings.shifts_table, settings.campaigns_table),
            campaigns=campaigns,
            shifts=shifts,
            staff=staff,
            queue=send_queue,
            message_ttl_seconds=settings.message_ttl_seconds,
        ),
        **reminders.handlers(),
    }


def waitlist_service(
    settings: DueSettings, dynamodb: Any, *, metrics: MetricSink | None = None
) -> WaitlistService:
    """Held offers as the inbound function makes them: a lapsed hold goes to the next.

    Each held offer sent counts in ``metrics`` (None: not counted)."""
    sms = stack_sms(settings, client, metrics)
    return WaitlistService(
        shifts=ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table),
        staff=StaffTable(dynamodb, settings.staff_table),
        sms=sms,
        offers=DynamoOfferLog(dynamodb, settings.state_table),
        origination=settings.origination_identity,
        zone=time_zone(settings.time_zone),
        rules=RuleSettings(settings.min_rest_hours, settings.max_weekly_hours),
        hold_minutes=settings.hold_minutes,
        schedule=DynamoDueWork(dynamodb, settings.state_table).schedule,
    )


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


class DueApp:
    """The due-work runner on AWS adapters, its metrics flushed after every run."""

    def __init__(self, settings: DueSettings, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Wire the adapters from ``settings``; ``clock`` is when each run runs."""
        # Awards, holds and waves change shifts, people and campaigns: the audit credits this
        # function.
        audited = {settings.shifts_table, settings.staff_table, settings.campaigns_table}
        dynamodb = stamp_writes(client("dynamodb"), audited, lambda: fn_actor("due"))
        self.clock = clock
        self.metrics = EmfMetrics()
        self.runner = DueRunner(
            DynamoDueWork(dynamodb, settings.state_table),
            handlers(settings, dynamodb, metrics=self.metrics),
        )

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Run what is due now; write this invocation's metrics, even when some work failed."""
        try:
            report = self.runner.run(self.clock())
        finally:
            self.metrics.flush()
        logger.info("due work run", extra={"ran": len(report.ran), "skipped": len(report.skipped)})
        return {"ran": report.ran, "skipped": report.skipped, "unknown": report.unknown}


@functools.cache
def app() -> DueApp:
    """The app for this container, built on first use from the environment."""
    return DueApp(DueSettings.from_env())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/due.py``): run what is due now."""
    return app().handle(event, context)
