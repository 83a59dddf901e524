"""Claim windows in the state table: ``window#<shift_id>``, one item per shift.

The item holds the campaign, ``closes_at`` (UTC, fixed width: string order is time order),
``window_state`` (``open`` -> ``closed``) and ``repliers`` (a map by phone fingerprint of the
number and the first reply's time). A reply registers only while the item is open and before
``closes_at`` (one conditional ``UpdateItem``); closing is a conditional ``UpdateItem`` that
returns the repliers, so every reply registered is in what the award sees, and a reply that
comes after the close is booked first come instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.due import parse_stamp, stamp
from shiftsms.core.phone import fingerprint
from shiftsms.ports import WindowReply

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OPEN = "open"
CLOSED = "closed"
KEEP_DAYS = 30


def window_id(shift_id: str) -> str:
    """The state-table id of a shift's window."""
    return f"window#{shift_id.upper()}"


class DynamoClaimWindows:
    """ClaimWindows on the state table."""

    def __init__(self, client: DynamoDBClient, state_table: str) -> None:
        self.client = client
        self.state_table = state_table

    def _key(self, shift_id: str) -> dict[str, Any]:
        return {"id": {"S": window_id(shift_id)}}

    def open(self, shift_id: str, campaign_id: str, closes_at: datetime) -> None:
        """Put a fresh open window (a new campaign's window replaces an old one)."""
        self.client.put_item(
            TableName=self.state_table,
            Item={
                **self._key(shift_id),
                "campaign_id": {"S": campaign_id},
                "closes_at": {"S": stamp(closes_at)},
                "window_state": {"S": OPEN},
                "repliers": {"M": {}},
                "expiration": {"N": str(int((closes_at + timedelta(days=KEEP_DAYS)).timestamp()))},
            },
        )

    def register(self, shift_id: str, phone: str, at: datetime) -> datetime | None:
        """Add the reply while the window is open; its closing time, or None."""
        entry = {"M": {"phone": {"S": phone}, "at": {"S": stamp(at)}}}
        try:
            resp = self.client.update_item(
                TableName=self.state_table,
                Key=self._key(shift_id),
                UpdateExpression="SET repliers.#who = if_not_exists(repliers.#who, :entry)",
                ConditionExpression="window_state = :open AND closes_at > :now",
                ExpressionAttributeNames={"#who": fingerprint(phone)},
                ExpressionAttributeValues={
                    ":entry": entry,
                    **values(open=OPEN, now=stamp(at)),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return parse_stamp(resp["Attributes"]["closes_at"]["S"])

    def close(self, shift_id: str, campaign_id: str) -> list[WindowReply]:
        """Mark the campaign's window closed and return its repliers (earliest first)."""
        try:
            resp = self.client.update_item(
                TableName=self.state_table,
                Key=self._key(shift_id),
                UpdateExpression="SET window_state = :closed",
                ConditionExpression="campaign_id = :campaign",
                ExpressionAttributeValues=values(closed=CLOSED, campaign=campaign_id),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return []
            raise
        found = []
        for entry in resp["Attributes"].get("repliers", {}).get("M", {}).values():
            fields = entry.get("M", {})
            try:
                found.append(WindowReply(fields["phone"]["S"], parse_stamp(fields["at"]["S"])))
            except (KeyError, ValueError):
                continue
        return sorted(found, key=lambda r: (r.replied_at, r.phone))
