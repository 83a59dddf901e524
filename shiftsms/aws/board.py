"""What the live board shows, read in a bounded number of requests.

Shifts: the ``by-start`` index, open and taken ones starting from now on, soonest first, at
most ``limit`` of each (one Query a status). Campaigns still sending: the campaigns table
(few items; read whole, as ``campaign list`` does) and their shifts by key. Queues: one
GetQueueAttributes each.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shiftsms.aws.campaigns_table import campaign_from_item
from shiftsms.aws.dynamo import from_item, values
from shiftsms.aws.queues import QueueDepth, queue_depths
from shiftsms.aws.shifts_table import START_INDEX, START_KEY, ShiftsTable, shift_from_item
from shiftsms.core.campaigns import CampaignStatus
from shiftsms.core.models import Shift
from shiftsms.core.shift_times import sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

RUNNING = (CampaignStatus.NEW, CampaignStatus.FANNING_OUT, CampaignStatus.SENDING)


@dataclass(frozen=True)
class RunningCampaign:
    """A campaign still sending: texts sent, delivered (receipts so far), shifts booked."""

    campaign_id: str
    status: str
    recipients: int | None
    sent: int
    delivered: int | None
    booked: int
    shifts: int


@dataclass(frozen=True)
class Board:
    """One refresh of the board."""

    at: datetime
    shifts: list[Shift]
    more: bool
    campaigns: list[RunningCampaign]
    queues: list[QueueDepth]


def _number(raw: Any) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class BoardReader:
    """Reads a :class:`Board` from the stack's tables and queues."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        sqs: SQSClient,
        outputs: Mapping[str, str],
        limit: int = 20,
    ) -> None:
        self.dynamodb = dynamodb
        self.sqs = sqs
        self.outputs = outputs
        self.limit = limit

    def _starting(self, status: str, now: datetime) -> tuple[list[tuple[str, Shift]], bool]:
        resp = self.dynamodb.query(
            TableName=self.outputs["ShiftsTableName"],
            IndexName=START_INDEX,
            KeyConditionExpression="shift_status = :s AND start_key > :k",
            ExpressionAttributeValues=values(s=status, k=sort_key(now)),
            Limit=self.limit,
        )
        items = [from_item(i) for i in resp.get("Items", [])]
        shifts = [(str(i[START_KEY]), shift_from_item(i)) for i in items]
        return shifts, "LastEvaluatedKey" in resp

    def _campaigns(self) -> list[RunningCampaign]:
        table = self.outputs["CampaignsTableName"]
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": table}
        while True:
            page = self.dynamodb.scan(**request)
            items += [from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        running = []
        for item in items:
            campaign = campaign_from_item(item)
            if campaign.effective_status in RUNNING:
                running.append((campaign, _number(item.get("delivered"))))
        ids = sorted({s for c, _ in running for s in c.shift_ids})
        taken = self._taken(ids)
        return [
            RunningCampaign(
                campaign_id=c.campaign_id,
                status=c.effective_status.value,
                recipients=c.recipients,
                sent=c.sent,
                delivered=delivered,
                booked=sum(1 for s in c.shift_ids if s in taken),
                shifts=len(c.shift_ids),
            )
            for c, delivered in sorted(running, key=lambda r: r[0].campaign_id)
        ]

    def _taken(self, ids: list[str]) -> set[str]:
        shifts = ShiftsTable(self.dynamodb, self.outputs["ShiftsTableName"])
        return {i for i, s in shifts.get_many(ids).items() if not s.available and s.employee}

    def read(self, now: datetime) -> Board:
        """The board at ``now``."""
        open_, more_open = self._starting("available", now)
        taken, more_taken = self._starting("taken", now)
        merged = [s for _, s in heapq.merge(open_, taken, key=lambda p: (p[0], p[1].shift_id))]
        return Board(
            at=now,
            shifts=merged[: self.limit],
            more=more_open or more_taken or len(merged) > self.limit,
            campaigns=self._campaigns(),
            queues=queue_depths(self.sqs, self.outputs),
        )
