"""Inbound SMS: End User Messaging two-way SMS -> SNS -> this function -> one reply."""

from __future__ import annotations

import functools
import traceback
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)

from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.clients import client
from shiftsms.aws.connect import ConnectCaller
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.dynamo import stamp_writes
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.reply_limiter import DynamoReplyLimiter
from shiftsms.aws.reply_queue import DynamoReplyMarkers, SqsReplyQueue
from shiftsms.aws.send_rate import DynamoSendRateLimiter
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.actor import acting_as, sms_actor
from shiftsms.core.booking_rules import RuleSettings
from shiftsms.core.events import MalformedEvent, parse_inbound
from shiftsms.core.metrics import BOOKED
from shiftsms.core.models import InboundSms
from shiftsms.core.phone import redact
from shiftsms.core.shift_times import time_zone
from shiftsms.handlers.logs import logger
from shiftsms.handlers.metrics import EmfMetrics
from shiftsms.handlers.notices import manager_notifier
from shiftsms.handlers.texts import stack_sms
from shiftsms.ports import Caller, SmsSender
from shiftsms.services.inbound import Action, Allowed, InboundService
from shiftsms.services.reply_outbox import ReplyOutbox
from shiftsms.services.waitlist import WaitlistService
from shiftsms.settings import Settings


class InboundApp:
    """The inbound service with AWS adapters, and once-per-message processing."""

    def __init__(
        self,
        settings: Settings,
        *,
        sms: SmsSender | None = None,
        caller: Caller | None = None,
    ) -> None:
        """Wire AWS adapters; ``sms`` and ``caller`` replace End User Messaging and Connect."""
        dynamodb = stamp_writes(client("dynamodb"), {settings.shifts_table, settings.staff_table})
        if caller is None and settings.connect:
            caller = ConnectCaller(client("connect"), settings.connect)
        self.metrics = EmfMetrics()
        # Each text sent (a reply, a notice, a held offer) counts once, in TextsSent/Segments.
        sms = stack_sms(settings, client, self.metrics, sms)
        outbox = None
        if settings.reply_queue_url and settings.state_table:
            outbox = ReplyOutbox(
                sms=sms,
                rate=DynamoSendRateLimiter(
                    dynamodb, settings.state_table, settings.send_rate_per_second
                ),
                markers=DynamoReplyMarkers(dynamodb, settings.state_table),
                queue=SqsReplyQueue(client("sqs"), settings.reply_queue_url),
            )
        shifts = ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table)
        staff = StaffTable(dynamodb, settings.staff_table)
        waitlist = None
        if settings.state_table:
            waitlist = WaitlistService(
                shifts=shifts,
                staff=staff,
                sms=sms,
                offers=DynamoOfferLog(dynamodb, settings.state_table),
                origination=settings.origination_identity,
                zone=time_zone(settings.time_zone),
                rules=RuleSettings(settings.min_rest_hours, settings.max_weekly_hours),
                hold_minutes=settings.hold_minutes,
                schedule=DynamoDueWork(dynamodb, settings.state_table).schedule,
            )
        self.service = InboundService(
            settings=settings,
            shifts=shifts,
            staff=staff,
            waitlist=waitlist,
            sms=sms,
            outbox=outbox,
            limiter=DynamoReplyLimiter(
                dynamodb,
                settings.state_table,
                window_hours=settings.unauthorised_reply_window_hours,
                hourly_cap=settings.unauthorised_replies_per_hour,
                agent_cooldown_minutes=settings.agent_cooldown_minutes,
            ),
            caller=caller,
            notifier=manager_notifier(dynamodb, settings),
            due=DynamoDueWork(dynamodb, settings.state_table) if settings.state_table else None,
            windows=DynamoClaimWindows(dynamodb, settings.state_table)
            if settings.state_table
            else None,
        )
        self.config = IdempotencyConfig(
            event_key_jmespath="message_id",
            expires_after_seconds=settings.idempotency_ttl_seconds,
            raise_on_no_idempotency_key=True,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.state_table, boto3_client=dynamodb
        )
        self._once = idempotent_function(
            self._process,
            data_keyword_argument="sms",
            persistence_store=persistence,
            config=self.config,
        )

    def _process(self, sms: dict[str, Any], allowed: Allowed) -> dict[str, Any]:
        """An allowed sender's message, once per message id (the key is ``sms`` only)."""
        result = self.service.handle_allowed(InboundSms(**sms), allowed)
        if result.action is Action.BOOKED:
            self.metrics.count(BOOKED)  # once per message: a retry returns the stored result
        return asdict(result)

    def _handle_one(self, sms: InboundSms) -> None:
        """The allow list first: only allowed senders' messages cost an idempotency record.

        Any other message takes the unknown-sender path, whose writes are bounded by the
        reply limiter (a slot per answered number, one count per hour) however many arrive.
        """
        with acting_as(sms_actor(sms.sender, sms.message_id)):
            screened = self.service.screen(sms)
            if isinstance(screened, Allowed):
                self._once(sms=asdict(sms), allowed=screened)

    def handle(self, event: Any, context: Any) -> dict[str, int]:
        """Handle every record; drop malformed ones; re-raise only what a retry can fix."""
        try:
            return self._handle(event, context)
        finally:
            self.metrics.flush()

    def _handle(self, event: Any, context: Any) -> dict[str, int]:
        if context is not None:
            self.config.register_lambda_context(context)
        if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
            logger.warning("dropped: event has no Records list")
            return {"handled": 0, "dropped": 1}
        handled = dropped = 0
        retry: Exception | None = None
        for record in SNSEvent(event).records:
            try:
                sms = parse_inbound(record.sns.message, record.sns.raw_event.get("Timestamp"))
            except (MalformedEvent, KeyError, TypeError) as exc:
                logger.warning("dropped malformed record", extra={"reason": str(exc)})
                dropped += 1
                continue
            try:
                self._handle_one(sms)
                handled += 1
            except IdempotencyAlreadyInProgressError as exc:
                logger.info("same message in progress elsewhere; retry later")
                retry = exc
            except Exception as exc:
                # Error texts (AWS's included) may quote a phone number: log them redacted.
                trace = "".join(traceback.format_exception(exc))
                logger.error(
                    "record failed; it will be retried",
                    extra={"error": redact(f"{type(exc).__name__}: {exc}"), "trace": redact(trace)},
                )
                retry = exc
        if retry is not None:
            raise retry
        return {"handled": handled, "dropped": dropped}


@functools.cache
def app() -> InboundApp:
    """The app for this container, built on first use from the environment."""
    return InboundApp(Settings.from_env())


def handle(event: Any, context: Any) -> dict[str, int]:
    """Lambda entry point body (see ``lambdas/inbound.py``)."""
    return app().handle(event, context)
