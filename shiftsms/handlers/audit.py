"""Audit trail: the shifts, staff and campaigns tables' streams -> the audit table."""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from shiftsms.aws.audit_table import AuditTable
from shiftsms.aws.clients import client
from shiftsms.core.audit import CAMPAIGN, SHIFT, STAFF
from shiftsms.handlers.logs import logger
from shiftsms.services.audit import AuditRecorder
from shiftsms.settings import AuditSettings


def table_of(arn: str | None) -> str:
    """The table a stream ARN belongs to (``...:table/NAME/stream/LABEL``)."""
    return str(arn or "").split(":table/", 1)[-1].split("/", 1)[0]


class AuditApp:
    """The recorder on the audit table, fed record by record with partial failures."""

    def __init__(self, settings: AuditSettings) -> None:
        """Wire the audit table from ``settings``."""
        self.recorder = AuditRecorder(
            AuditTable(client("dynamodb"), settings.audit_table, settings.audit_retention_days),
            {
                settings.shifts_table: SHIFT,
                settings.staff_table: STAFF,
                settings.campaigns_table: CAMPAIGN,
            },
        )
        self.processor = BatchProcessor(
            event_type=EventType.DynamoDBStreams,
            raise_on_entire_batch_failure=False,
            logger=logging.getLogger("shiftsms.batch"),
        )

    def record(self, record: DynamoDBRecord) -> str:
        """Record one change; a record without images is logged and dropped."""
        stream = record.dynamodb
        if stream is None or not record.event_id:
            logger.warning("stream record without a change: dropped")
            return "dropped"
        # Seconds since the epoch (AWS sends whole seconds; keep a fraction if one is given).
        created = datetime.fromtimestamp(float(stream.get("ApproximateCreationDateTime") or 0), UTC)
        entry = self.recorder.record(
            table_of(record.event_source_arn),
            record.event_id,
            created,
            stream.old_image,
            stream.new_image,
        )
        return entry.action if entry else "ignored"

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Process a stream batch; failed records are reported for retry."""
        return dict(
            process_partial_response(
                event=event, record_handler=self.record, processor=self.processor, context=context
            )
        )


@functools.cache
def app() -> AuditApp:
    """The app for this container, built on first use from the environment."""
    return AuditApp(AuditSettings.from_env())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/audit.py``)."""
    return app().handle(event, context)
