"""Shift keys: shifts table stream (console items inserted) -> an alias item for each whose id
is not in upper case, so the code staff text finds it however its id was typed."""

from __future__ import annotations

import functools
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from shiftsms.aws.clients import client
from shiftsms.aws.shifts_table import ShiftsTable, key_of
from shiftsms.core.commands import is_alias
from shiftsms.settings import ShiftKeySettings


class ShiftKeyApp:
    """Writes the alias of each inserted item whose id is not as staff text it."""

    def __init__(self, settings: ShiftKeySettings) -> None:
        """Wire the shifts table from ``settings`` (boto3 clients honour AWS_ENDPOINT_URL)."""
        self.shifts = ShiftsTable(client("dynamodb"), settings.shifts_table)
        self.processor = BatchProcessor(
            event_type=EventType.DynamoDBStreams,
            raise_on_entire_batch_failure=False,
            logger=logging.getLogger("shiftsms.batch"),
        )

    def record(self, record: DynamoDBRecord) -> dict[str, Any]:
        """One inserted item: its alias written (or none needed, or the item gone since)."""
        image = record.dynamodb.new_image if record.dynamodb else {}
        shift_id = image.get("shift_id")
        if not isinstance(shift_id, str) or is_alias(shift_id) or shift_id == key_of(shift_id):
            return {"action": "ignored"}
        return {"action": "aliased" if self.shifts.set_alias(shift_id) else "gone"}

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Process a stream batch; failed records are reported for retry (bisected by Lambda)."""
        return dict(
            process_partial_response(
                event=event, record_handler=self.record, processor=self.processor, context=context
            )
        )


@functools.cache
def app() -> ShiftKeyApp:
    """The app for this container, built on first use from the environment."""
    return ShiftKeyApp(ShiftKeySettings.from_env())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/shift_keys.py``)."""
    return app().handle(event, context)
