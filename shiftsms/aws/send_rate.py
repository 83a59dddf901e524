"""A send-rate limit shared by every concurrent sender: one schedule item in the state table.

The item holds ``next_at``, the earliest time (in microseconds) the next text may go. A sender
reserves that time and moves it on by ``1 / rate`` in one conditional update, then waits until
its time comes. DynamoDB serialises writes to one item, so however many senders run, no two
get the same time and sends are at least ``1 / rate`` apart: no second-long stretch, aligned or
not, holds more than the rate (rounded up, for a fractional rate): a generic cell rate
algorithm. When nobody has sent for a while
the schedule restarts at the present.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MICROS = 1_000_000
# Without a deadline, never book a time more than this far ahead (then wait and try again).
MAX_AHEAD_SECONDS = 30.0
KEEP_SECONDS = 3600


class DynamoSendRateLimiter:
    """SendRateLimiter on the state table (item ``send-rate``, with a TTL)."""

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
        if rate_per_second <= 0:
            raise ValueError("send rate must be positive")
        self.client = client
        self.table = table_name
        # Rounded up: the schedule may run a hair slow, never fast.
        self.step = max(1, math.ceil(MICROS / rate_per_second))
        self.clock = clock
        self.sleep = sleep
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

    def reserve(self, now: float, limit: float) -> float | None:
        """Book the next send time, before ``limit``; return it, or None if none is free."""
        now_us, limit_us = int(now * MICROS), int(limit * MICROS)
        exp = int(now) + KEEP_SECONDS
        while True:
            # Busy: the schedule is at or ahead of now; take its time and move it on.
            ok, item = self._update(
                "SET next_at = next_at + :step, expiration = :exp",
                "next_at >= :now AND next_at < :limit",
                step=self.step,
                now=now_us,
                limit=limit_us,
                exp=exp,
            )
            if ok:
                return int(item["next_at"]["N"]) / MICROS
            if "next_at" in item and int(item["next_at"]["N"]) >= now_us:
                return None  # booked up to the limit
            # Idle (or first use): restart the schedule at now.
            ok, _ = self._update(
                "SET next_at = :next, expiration = :exp",
                "attribute_not_exists(next_at) OR next_at < :now",
                next=now_us + self.step,
                now=now_us,
                exp=exp,
            )
            if ok:
                return now
            # Another sender restarted it first: take the next time from the new schedule.

    def acquire(self, deadline: float | None = None) -> bool:
        """Wait for a send time; False if none is free before ``deadline`` (epoch seconds)."""
        while True:
            now = self.clock()
            if deadline is not None and now >= deadline:
                return False
            limit = deadline if deadline is not None else now + MAX_AHEAD_SECONDS
            at = self.reserve(now, limit)
            if at is not None:
                if at > now:
                    self.sleep(at - now)
                return True
            if deadline is not None:
                return False
            self.sleep(MAX_AHEAD_SECONDS / 2)
