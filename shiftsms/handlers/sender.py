"""Sender: send queue and reply queue (SQS) -> End User Messaging ``SendTextMessage``, paced, once.

Two event source mappings feed this function: campaign jobs from the send queue and queued
replies from the reply queue, so a reply never waits behind campaign jobs; a reply also books
its send time ahead of campaign texts (see :mod:`shiftsms.core.send_schedule`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.clients import client
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.dynamo import stamp_writes
from shiftsms.aws.offer_cap import DynamoOfferCap
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.reply_queue import DynamoReplyMarkers
from shiftsms.aws.send_markers import DynamoSendLedger
from shiftsms.aws.send_rate import DynamoSendRateLimiter
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.campaigns import SendJob
from shiftsms.core.phone import redact
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.core.self_service import QuietHours
from shiftsms.handlers.batch import process_batch
from shiftsms.handlers.metrics import EmfMetrics
from shiftsms.handlers.texts import stack_sms
from shiftsms.ports import ReplyRate, SendRateLimiter, SmsSender
from shiftsms.services.campaigns import CampaignSender
from shiftsms.services.live_offers import LiveOffers
from shiftsms.services.reminders import offer_item
from shiftsms.services.reply_outbox import ReplyOutbox
from shiftsms.settings import SenderSettings

log = logging.getLogger("shiftsms.sender")

# Stop taking send slots this long before the invocation's timeout; later jobs are retried.
DEADLINE_MARGIN_SECONDS = 5.0


class SenderApp:
    """The campaign sender on AWS adapters, fed one SQS message at a time."""

    def __init__(
        self,
        settings: SenderSettings,
        *,
        sms: SmsSender | None = None,
        limiter: SendRateLimiter | None = None,
        reply_rate: ReplyRate | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """Wire adapters; ``sms``, ``limiter`` and ``reply_rate`` replace their AWS ones."""
        dynamodb = stamp_writes(
            client("dynamodb"), {settings.campaigns_table, settings.staff_table}
        )
        self.now = now
        self.metrics = EmfMetrics()
        # Each text sent (a campaign text or a queued reply) counts once, in TextsSent/Segments.
        sms = stack_sms(settings, client, self.metrics, sms)
        schedule = DynamoSendRateLimiter(
            dynamodb, settings.state_table, settings.send_rate_per_second, clock=now
        )
        limiter = limiter or schedule
        due = DynamoDueWork(dynamodb, settings.state_table)
        self.sender = CampaignSender(
            settings=settings,
            sms=sms,
            ledger=DynamoSendLedger(
                dynamodb,
                settings.state_table,
                settings.campaigns_table,
                claim_timeout_seconds=settings.send_claim_timeout_seconds,
            ),
            limiter=limiter,
            staff=StaffTable(dynamodb, settings.staff_table),
            clock=lambda: datetime.fromtimestamp(self.now(), UTC),
            offers=live_offers(dynamodb, settings),
            offer_log=DynamoOfferLog(dynamodb, settings.state_table),
            cap=DynamoOfferCap(dynamodb, settings.state_table),
            quiet=QuietHours.parse(settings.quiet_hours),
            defer=lambda job, until: due.schedule(offer_item(job, until)),
        )
        self.replies = ReplyOutbox(
            sms=sms,
            rate=reply_rate or schedule,
            markers=DynamoReplyMarkers(dynamodb, settings.state_table),
            clock=now,
        )
        self.processor = BatchProcessor(
            event_type=EventType.SQS,
            raise_on_entire_batch_failure=False,
            logger=logging.getLogger("shiftsms.batch"),
        )
        self.deadline: float | None = None
        self.max_receive_count = settings.send_max_receive_count

    def record(self, record: SQSRecord) -> str:
        """Send one job or queued reply. A malformed body raises, so it reaches a DLQ."""
        if ReplyJob.is_reply(record.body):
            reply = ReplyJob.from_json(record.body)
            return self.replies.deliver(reply, self.deadline)
        job = SendJob.from_json(record.body)
        try:
            return self.sender.send(job, self.deadline).value
        except Exception as exc:
            if self._last_receive(record):
                self._dead_letter(job, exc)
            raise

    def _last_receive(self, record: SQSRecord) -> bool:
        """True if SQS moves this message to the send DLQ rather than deliver it again."""
        limit = self.max_receive_count
        try:
            received = int(record.attributes.approximate_receive_count)
        except (KeyError, TypeError, ValueError):
            return False
        return limit > 0 and received >= limit

    def _dead_letter(self, job: SendJob, exc: Exception) -> None:
        """Count the failed job on its campaign; a failure to count leaves ``exc`` to raise."""
        try:
            self.sender.dead_letter(job, redact(f"{type(exc).__name__}: {exc}"))
        except Exception:
            log.exception("dead-lettered job could not be counted on its campaign")

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Process an SQS batch; failed jobs are reported for retry (ReportBatchItemFailures)."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self.deadline = (
            self.now() + remaining() / 1000 - DEADLINE_MARGIN_SECONDS if remaining else None
        )
        return process_batch(
            event, context, self.record, self.processor, metrics=self.metrics, function="sender"
        )


def live_offers(dynamodb: Any, settings: SenderSettings) -> LiveOffers | None:
    """Live offers on the stack's tables (None when the sender is not given the shifts)."""
    if not settings.shifts_table:
        return None
    return LiveOffers(
        campaigns=CampaignsTable(dynamodb, settings.campaigns_table),
        shifts=ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table),
        rules=RuleSettings(settings.min_rest_hours, settings.max_weekly_hours),
    )


@functools.cache
def app() -> SenderApp:
    """The app for this container, built on first use from the environment."""
    return SenderApp(SenderSettings.from_env())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/sender.py``)."""
    return app().handle(event, context)
