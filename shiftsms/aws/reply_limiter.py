"""Rate limits on replies to unknown senders and on call-backs, in the state table with TTL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, is_condition_failure, values
from shiftsms.core.phone import fingerprint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoReplyLimiter:
    """Bounds on what unknown senders and call-backs can make us spend, in the state table.

    At most one "not authorised" reply per number per window, within a global hourly cap, and
    one open call-back per person per cooldown. Every slot is a conditional write, so
    concurrent deliveries cannot both pass; records expire by TTL and are also compared with
    the clock, since TTL deletion is lazy.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        window_hours: int = 24,
        hourly_cap: int = 30,
        agent_cooldown_minutes: int = 30,
    ) -> None:
        self.client = client
        self.table = table_name
        self.window = timedelta(hours=window_hours)
        self.hourly_cap = hourly_cap
        self.agent_cooldown = timedelta(minutes=agent_cooldown_minutes)

    def allow_unauthorised_reply(
        self, sender: str, at: datetime, *, ref: str | None = None
    ) -> bool:
        """True if a "not authorised" reply to ``sender`` may be sent now.

        Reads first, so a number still in its window, or any number once the hour's cap is
        spent, costs no write. The slot is kept for ``ref`` (the inbound message id): when
        sending that reply failed and the message is retried, the retry gets through again
        and is not counted against the cap a second time.
        """
        if self.hourly_cap <= 0:
            return False  # replies to unknown numbers are switched off
        now = int(at.timestamp())
        key = {"id": {"S": f"unauthorised#{fingerprint(sender)}"}}
        held = self._get(key)
        if held is not None and int(held.get("expiration", 0)) >= now:
            return ref is not None and held.get("message_ref") == ref
        cap_key = {"id": {"S": f"unauthorised-cap#{at.strftime('%Y%m%d%H')}"}}
        counted = self._get(cap_key)
        if counted is not None and int(counted.get("replies", 0)) >= self.hourly_cap:
            return False
        try:
            self.client.update_item(
                TableName=self.table,
                Key=cap_key,
                UpdateExpression="ADD replies :one SET expiration = :exp",
                ConditionExpression="attribute_not_exists(replies) OR replies < :cap",
                ExpressionAttributeValues=values(one=1, cap=self.hourly_cap, exp=now + 2 * 3600),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        if self._take(key, at + self.window, now, ref):
            return True
        # Another delivery took this number's slot first: give the counted reply back.
        self.client.update_item(
            TableName=self.table,
            Key=cap_key,
            UpdateExpression="ADD replies :less",
            ExpressionAttributeValues=values(less=-1),
        )
        return False

    def allow_call_back(self, employee: str, at: datetime, *, ref: str) -> bool:
        """True if no other call-back to ``employee`` was placed within the cooldown.

        A retry of the same message (``ref``) is let through again.
        """
        key = {"id": {"S": f"agent#{fingerprint(employee)}"}}
        return self._take(key, at + self.agent_cooldown, int(at.timestamp()), ref)

    def end_call_back(self, employee: str, *, ref: str) -> None:
        """Give back the cooldown taken for ``ref`` (the call-back could not be placed)."""
        key = {"id": {"S": f"agent#{fingerprint(employee)}"}}
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=key,
                ConditionExpression="message_ref = :ref",
                ExpressionAttributeValues=values(ref=ref),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def _take(self, key: dict[str, Any], until: datetime, now: int, ref: str | None) -> bool:
        """Hold ``key`` until ``until`` unless held by another message; True if now held."""
        item: dict[str, Any] = {**key, "expiration": {"N": str(int(until.timestamp()))}}
        condition = "attribute_not_exists(id) OR expiration < :now"
        vals = values(now=now)
        if ref is not None:
            item["message_ref"] = {"S": ref}
            condition += " OR message_ref = :ref"
            vals.update(values(ref=ref))
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeValues=vals,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
