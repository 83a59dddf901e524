"""Delivery events: configuration set -> SNS topic -> SQS queue -> this function -> send records.

A record whose body is not an SNS notification of a text event is logged and dropped (never
retried); only a failure to write (AWS) fails the record, so SQS retries it and, after
``maxReceiveCount``, moves it to the delivery DLQ.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shiftsms.aws.clients import client
from shiftsms.aws.delivery_records import DynamoSendRecords
from shiftsms.handlers.batch import process_batch
from shiftsms.handlers.logs import logger  # noqa: F401 (JSON logs for shiftsms.*)
from shiftsms.handlers.metrics import EmfMetrics
from shiftsms.services.delivery import DeliveryRecorder
from shiftsms.settings import DeliverySettings


def sns_message(body: str) -> str:
    """The event JSON in an SQS body: an SNS notification's ``Message``, or the raw body."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        message = envelope.get("Message")
        return message if isinstance(message, str) else ""
    return body


class DeliveryApp:
    """The delivery recorder on AWS adapters, fed one SQS message at a time."""

    def __init__(self, settings: DeliverySettings) -> None:
        """Wire the adapters from ``settings``."""
        self.metrics = EmfMetrics()
        self.service = DeliveryRecorder(
            ledger=DynamoSendRecords(
                client("dynamodb"), settings.state_table, settings.campaigns_table
            ),
            metrics=self.metrics,
        )
        self.processor = BatchProcessor(
            event_type=EventType.SQS,
            raise_on_entire_batch_failure=False,
            logger=logging.getLogger("shiftsms.batch"),
        )

    def record(self, record: SQSRecord) -> str:
        """Record one event (malformed ones are dropped by the service)."""
        return self.service.handle(sns_message(record.body))

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Process an SQS batch; failed records are reported for retry."""
        return process_batch(
            event, context, self.record, self.processor, metrics=self.metrics, function="delivery"
        )


@functools.cache
def app() -> DeliveryApp:
    """The app for this container, built on first use from the environment."""
    return DeliveryApp(DeliverySettings.from_env())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/delivery.py``)."""
    return app().handle(event, context)
