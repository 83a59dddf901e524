"""The number's send schedule as one item in the state table.

See :mod:`shiftsms.core.send_schedule` for the design.

The item ``send-rate`` holds ``next_at`` (microseconds). Each of the schedule's two operations is
one conditional ``UpdateItem``; DynamoDB applies an item's writes one at a time, so however many
senders and inbound functions run at once, the grants are one ``step`` apart or more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.send_schedule import MICROS, SendSchedule

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEEP_SECONDS = 3600


class DynamoSchedule:
    """ScheduleStore on the state table (item ``send-rate``, with a TTL)."""

    def __init__(self, client: DynamoDBClient, table_name: str, key: str = "send-rate") -> None:
        self.client = client
        self.table = table_name
        self.key = {"id": {"S": key}}

    def _update(self, expression: str, condition: str, **vals: Any) -> tuple[bool, dict[str, Any]]:
        """One conditional update: (True, the old values) or (False, the item as it is)."""
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key=self.key,
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values(**vals),
                ReturnValues="UPDATED_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False, dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
            raise
        return True, dict(resp.get("Attributes", {}))

    @staticmethod
    def _next_at(item: dict[str, Any]) -> int | None:
        return int(item["next_at"]["N"]) if "next_at" in item else None

    def take_due(self, now: int, step: int) -> int | None:
        """Grant ``now`` if the schedule is due (or new); else return its ``next_at``."""
        ok, item = self._update(
            "SET next_at = :next, expiration = :exp",
            "attribute_not_exists(next_at) OR next_at <= :now",
            next=now + step,
            now=now,
            exp=now // MICROS + KEEP_SECONDS,
        )
        return None if ok else self._next_at(item)

    def take_next(self, now: int, limit: int, step: int) -> tuple[bool, int | None]:
        """Grant ``next_at`` if it is in ``[now, limit)``, moving it on by ``step``."""
        ok, item = self._update(
            "SET next_at = next_at + :step, expiration = :exp",
            "next_at >= :now AND next_at < :limit",
            step=step,
            now=now,
            limit=limit,
            exp=now // MICROS + KEEP_SECONDS,
        )
        return ok, self._next_at(item)


class DynamoSendRateLimiter(SendSchedule):
    """The shared send schedule on the state table: campaign lane and reply lane."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        key: str = "send-rate",
    ) -> None:
        super().__init__(
            DynamoSchedule(client, table_name, key), rate_per_second, clock=clock, sleep=sleep
        )
