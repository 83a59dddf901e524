"""Due work in the state table, found through its sparse ``by-group`` index.

An item is ``due#<kind>#<key>`` with ``group_id`` = ``"due"`` (the index's partition: only due
items carry it) and ``group_key`` = ``<UTC time>#<kind>#<key>`` (its sort key, time order). A run
queries the index up to now, claims each item with a conditional lease (``lease_token``,
``lease_until``) on the item as it was scheduled (same ``group_key``), and deletes it when done,
on its token. A timer that fires twice finds the lease held; one that fires late finds the
item gone. A run that dies leaves a lease that lapses after :data:`LEASE_SECONDS`, and the
next run retries the item: handlers make their own writes conditional.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.due import DueItem, due_bound, parse_stamp, stamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INDEX = "by-group"
POOL = "due"
# Longer than the due function's timeout (60 s): a live run never loses its lease.
LEASE_SECONDS = 120
# A due item nobody ran (its kind unknown, its run failing) is dropped by TTL after this.
KEEP_DAYS = 30


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def item_from_record(item: dict[str, Any]) -> DueItem | None:
    """The due item a state-table record holds; None if it is not readable as one."""
    try:
        data = {k: v["S"] for k, v in item.get("data", {}).get("M", {}).items() if "S" in v}
        return DueItem(
            kind=item["kind"]["S"],
            key=item["key"]["S"],
            due_at=parse_stamp(item["due_at"]["S"]),
            data=data,
        )
    except (KeyError, ValueError):
        return None


class DynamoDueWork:
    """DueWork on the state table."""

    def __init__(
        self, client: DynamoDBClient, state_table: str, lease_seconds: int = LEASE_SECONDS
    ) -> None:
        self.client = client
        self.state_table = state_table
        self.lease_seconds = lease_seconds

    def _key(self, kind: str, key: str) -> dict[str, Any]:
        return {"id": {"S": f"due#{kind}#{key}"}}

    def schedule(self, item: DueItem) -> None:
        """Put the item (unconditionally: the same kind and key replace, lease and all)."""
        expiration = _epoch(item.due_at + timedelta(days=KEEP_DAYS))
        self.client.put_item(
            TableName=self.state_table,
            Item={
                "id": {"S": item.item_id},
                "kind": {"S": item.kind},
                "key": {"S": item.key},
                "due_at": {"S": stamp(item.due_at)},
                "data": {"M": {k: {"S": v} for k, v in item.data.items()}},
                "group_id": {"S": POOL},
                "group_key": {"S": item.sort_key},
                "expiration": {"N": str(expiration)},
            },
        )

    def cancel(self, kind: str, key: str) -> None:
        """Delete the item, whatever its state."""
        self.client.delete_item(TableName=self.state_table, Key=self._key(kind, key))

    def due(self, now: datetime, limit: int) -> list[DueItem]:
        """Items due by ``now`` whose lease (if any) has lapsed, soonest first."""
        found: list[DueItem] = []
        request: dict[str, Any] = {
            "TableName": self.state_table,
            "IndexName": INDEX,
            "KeyConditionExpression": "group_id = :pool AND group_key <= :bound",
            "FilterExpression": "attribute_not_exists(lease_until) OR lease_until < :now",
            "ExpressionAttributeValues": values(pool=POOL, bound=due_bound(now), now=_epoch(now)),
        }
        while len(found) < limit:
            resp = self.client.query(**request, Limit=max(limit, 25))
            for record in resp.get("Items", []):
                item = item_from_record(record)
                if item is not None and len(found) < limit:
                    found.append(item)
            if "LastEvaluatedKey" not in resp:
                break
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return found

    def claim(self, item: DueItem, now: datetime) -> str | None:
        """Lease the item as scheduled; None if gone, replaced, or leased by a live run."""
        token = uuid.uuid4().hex
        try:
            self.client.update_item(
                TableName=self.state_table,
                Key=self._key(item.kind, item.key),
                UpdateExpression="SET lease_token = :token, lease_until = :until",
                ConditionExpression=(
                    "group_key = :due_key AND "
                    "(attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeValues=values(
                    token=token,
                    until=_epoch(now) + self.lease_seconds,
                    due_key=item.sort_key,
                    now=_epoch(now),
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return token

    def finish(self, item: DueItem, token: str) -> None:
        """Delete the item on our lease (a replacement, or a run that took over, keeps it)."""
        try:
            self.client.delete_item(
                TableName=self.state_table,
                Key=self._key(item.kind, item.key),
                ConditionExpression="lease_token = :token",
                ExpressionAttributeValues=values(token=token),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
