"""Campaign fan-out: campaigns table stream (INSERT) -> one send job per recipient on SQS."""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from shiftsms.aws.campaigns_table import CampaignsTable, campaign_from_item
from shiftsms.aws.clients import client
from shiftsms.aws.dynamo import stamp_writes
from shiftsms.aws.send_queue import SqsSendQueue
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.metrics import OFFERED
from shiftsms.handlers.batch import process_batch
from shiftsms.handlers.logs import logger
from shiftsms.handlers.metrics import EmfMetrics
from shiftsms.services.campaigns import CampaignFanOut
from shiftsms.settings import FanOutSettings


class CampaignApp:
    """The fan-out service on AWS adapters, fed record by record with partial failures."""

    def __init__(self, settings: FanOutSettings) -> None:
        """Wire the adapters from ``settings`` (boto3 clients honour AWS_ENDPOINT_URL)."""
        dynamodb = stamp_writes(client("dynamodb"), {settings.campaigns_table})
        self.service = CampaignFanOut(
            settings=settings,
            campaigns=CampaignsTable(dynamodb, settings.campaigns_table),
            staff=StaffTable(dynamodb, settings.staff_table),
            queue=SqsSendQueue(client("sqs"), settings.send_queue_url),
        )
        self.metrics = EmfMetrics()
        self.processor = BatchProcessor(
            event_type=EventType.DynamoDBStreams,
            raise_on_entire_batch_failure=False,
            logger=logging.getLogger("shiftsms.batch"),
        )

    def record(self, record: DynamoDBRecord) -> dict[str, Any]:
        """Fan out one INSERT; other events and unreadable images are skipped."""
        if record.event_name is not DynamoDBRecordEventName.INSERT or record.dynamodb is None:
            return {"action": "ignored"}
        image = record.dynamodb.new_image
        campaign_id = image.get("campaign_id")
        if not isinstance(campaign_id, str) or not campaign_id:
            logger.warning("stream record without a campaign_id: skipped")
            return {"action": "ignored"}
        token = record.event_id or str(record.dynamodb.sequence_number)
        result = self.service.fan_out(campaign_from_item(image), token)
        if result.action == "queued":
            self.metrics.count(OFFERED, result.recipients)
        return asdict(result)

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Process a stream batch; failed records are reported for retry (bisected by Lambda)."""
        return process_batch(
            event, context, self.record, self.processor, metrics=self.metrics, function="campaign"
        )


@functools.cache
def app() -> CampaignApp:
    """The app for this container, built on first use from the environment."""
    return CampaignApp(FanOutSettings.from_env())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point body (see ``lambdas/campaign.py``)."""
    return app().handle(event, context)
