"""Rate limits on replies to unknown senders, kept in the state table with TTL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.phone import fingerprint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoReplyLimiter:
    """At most one "not authorised" reply per number per window, and a global hourly cap.

    Both checks are conditional writes, so concurrent deliveries cannot both pass. The
    per-number record expires by TTL; it is also compared with the clock, since TTL deletion
    is lazy.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        window_hours: int = 24,
        hourly_cap: int = 30,
    ) -> None:
        self.client = client
        self.table = table_name
        self.window = timedelta(hours=window_hours)
        self.hourly_cap = hourly_cap

    def allow_unauthorised_reply(
        self, sender: str, at: datetime, *, ref: str | None = None
    ) -> bool:
        """True if a "not authorised" reply to ``sender`` may be sent now.

        The slot is taken for ``ref`` (the inbound message id): when sending that reply failed
        and the message is retried, the retry gets through again rather than silence.
        """
        if self.hourly_cap <= 0:
            return False  # replies to unknown numbers are switched off
        now = int(at.timestamp())
        key = {"id": {"S": f"unauthorised#{fingerprint(sender)}"}}
        item = {**key, "expiration": {"N": str(int((at + self.window).timestamp()))}}
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
        hour = at.strftime("%Y%m%d%H")
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"id": {"S": f"unauthorised-cap#{hour}"}},
                UpdateExpression="ADD replies :one SET expiration = :exp",
                ConditionExpression="attribute_not_exists(replies) OR replies < :cap",
                ExpressionAttributeValues=values(one=1, cap=self.hourly_cap, exp=now + 2 * 3600),
            )
        except ClientError as exc:
            # Over the cap, this number got no reply: give back its slot so a later hour can.
            self.client.delete_item(TableName=self.table, Key=key)
            if is_condition_failure(exc):
                return False
            raise
        return True
