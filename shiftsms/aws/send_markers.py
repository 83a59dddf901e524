"""Send-once markers per (campaign, recipient) in the state table, settled with the counters.

A marker is claimed by a conditional put before the send, so a retried batch or a duplicate
SQS delivery finds it and sends nothing. After the send, the outcome is written on the marker
(conditional on the claim) and then counted on the campaign. A transient failure deletes the
claim again, so the retry can send.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.campaigns import SendOutcome
from shiftsms.core.phone import fingerprint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CLAIMED = "claimed"
# Long enough for `shiftsms campaign show` to time bookings from each recipient's text.
MARKER_DAYS = 30
COUNTER = {
    SendOutcome.SENT: "sent",
    SendOutcome.OPTED_OUT: "opted_out",
    SendOutcome.FAILED: "failed",
    SendOutcome.EXPIRED: "failed",
}


def marker_id(campaign_id: str, to: str) -> str:
    """The state-table key of the marker (the number itself is not stored)."""
    return f"campaign-send#{campaign_id}#{fingerprint(to)}"


class DynamoSendLedger:
    """SendLedger on the state table (markers) and the campaigns table (counters)."""

    def __init__(self, client: DynamoDBClient, state_table: str, campaigns_table: str) -> None:
        self.client = client
        self.state_table = state_table
        self.campaigns_table = campaigns_table

    def _key(self, campaign_id: str, to: str) -> dict[str, Any]:
        return {"id": {"S": marker_id(campaign_id, to)}}

    def _marker(self, campaign_id: str, to: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.state_table, Key=self._key(campaign_id, to), ConsistentRead=True
        )
        return resp.get("Item")

    def claim(self, campaign_id: str, to: str, at: datetime) -> str | None:
        """Conditional put of a fresh marker; None when one exists already."""
        token = uuid.uuid4().hex
        expiration = int((at + timedelta(days=MARKER_DAYS)).timestamp())
        try:
            self.client.put_item(
                TableName=self.state_table,
                Item={
                    **self._key(campaign_id, to),
                    "state": {"S": CLAIMED},
                    "token": {"S": token},
                    "claimed_at": {"N": str(int(at.timestamp()))},
                    "expiration": {"N": str(expiration)},
                },
                ConditionExpression="attribute_not_exists(id)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return token

    def settle(
        self,
        campaign_id: str,
        to: str,
        token: str,
        outcome: SendOutcome,
        at: datetime,
        *,
        message_id: str = "",
        reason: str = "",
    ) -> None:
        """The marker takes ``outcome``; then the campaign counts it (once, by the claimant)."""
        marker_update: dict[str, Any] = {
            "TableName": self.state_table,
            "Key": self._key(campaign_id, to),
            "UpdateExpression": (
                "SET #state = :outcome, settled_at = :at, message_id = :mid, reason = :reason"
            ),
            "ConditionExpression": "#state = :claimed AND #token = :token",
            "ExpressionAttributeNames": {"#state": "state", "#token": "token"},
            "ExpressionAttributeValues": values(
                outcome=outcome.value,
                at=int(at.timestamp()),
                mid=message_id,
                reason=reason[:500],
                claimed=CLAIMED,
                token=token,
            ),
        }
        counter_update: dict[str, Any] = {
            "TableName": self.campaigns_table,
            "Key": {"campaign_id": {"S": campaign_id}},
            "UpdateExpression": "ADD #counter :one",
            "ConditionExpression": "attribute_exists(campaign_id)",
            "ExpressionAttributeNames": {"#counter": COUNTER[outcome]},
            "ExpressionAttributeValues": values(one=1),
        }
        # Two writes, not a transaction: a transaction bills twice the write units, and the
        # marker stays the record of truth. The counter is added only by the settle that won
        # the marker, so a duplicate settle never counts twice; a crash between the two writes
        # can leave a counter one short, never a text sent twice.
        try:
            self.client.update_item(**marker_update)
        except ClientError as exc:
            if is_condition_failure(exc):
                return  # settled already, or not our claim: nothing to count
            raise
        try:
            self.client.update_item(**counter_update)
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            # The campaign item was deleted meanwhile: the marker keeps the outcome.

    def release(self, campaign_id: str, to: str, token: str) -> None:
        """Delete our own unsettled claim (a transient failure: the retry may send)."""
        try:
            self.client.delete_item(
                TableName=self.state_table,
                Key=self._key(campaign_id, to),
                ConditionExpression="#state = :claimed AND #token = :token",
                ExpressionAttributeNames={"#state": "state", "#token": "token"},
                ExpressionAttributeValues=values(claimed=CLAIMED, token=token),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def sent_at(self, campaign_id: str, to: str) -> datetime | None:
        """When the text to ``to`` was sent (settled as sent), if known."""
        item = self._marker(campaign_id, to)
        if not item or item.get("state", {}).get("S") != SendOutcome.SENT.value:
            return None
        raw = item.get("settled_at", {}).get("N")
        return datetime.fromtimestamp(int(raw), UTC) if raw else None
