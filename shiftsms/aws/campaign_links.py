"""Which campaign offered a shift, and whether a campaign's filling was told (for ``--notify``).

``campaign create`` stores its id on each shift it offers (``offered_in``: the latest campaign
wins), so a booking or DROP finds the campaign with one GetItem. The campaign item records the
message that filled it (``filled_at``, ``filled_ref``) by a conditional write, so "filled" is
told once per filling even when two bookings complete it at once; a DROP clears it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OFFERED_IN = "offered_in"


class DynamoCampaignLinks:
    """CampaignLinks on the shifts and campaigns tables."""

    def __init__(self, client: DynamoDBClient, shifts_table: str, campaigns_table: str) -> None:
        self.client = client
        self.shifts_table = shifts_table
        self.campaigns_table = campaigns_table

    def tag(self, shift_ids: Sequence[str], campaign_id: str) -> None:
        """Mark each existing shift as offered by ``campaign_id`` (one UpdateItem each)."""
        for shift_id in shift_ids:
            try:
                self.client.update_item(
                    TableName=self.shifts_table,
                    Key={"shift_id": {"S": shift_id}},
                    UpdateExpression=f"SET {OFFERED_IN} = :campaign",
                    ConditionExpression="attribute_exists(shift_id)",
                    ExpressionAttributeValues=values(campaign=campaign_id),
                )
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                # deleted since it was offered: nothing to link

    def offered_in(self, shift_id: str) -> str | None:
        """The latest campaign that offered ``shift_id``, if any."""
        resp = self.client.get_item(
            TableName=self.shifts_table,
            Key={"shift_id": {"S": shift_id}},
            ProjectionExpression=OFFERED_IN,
            ConsistentRead=True,
        )
        raw = resp.get("Item", {}).get(OFFERED_IN, {}).get("S")
        return raw or None

    def mark_filled(self, campaign_id: str, ref: str, at: datetime) -> bool:
        """Record that message ``ref`` filled the campaign; False if another one did first."""
        try:
            self.client.update_item(
                TableName=self.campaigns_table,
                Key={"campaign_id": {"S": campaign_id}},
                UpdateExpression="SET filled_at = :at, filled_ref = :ref",
                ConditionExpression=(
                    "attribute_exists(campaign_id) AND "
                    "(attribute_not_exists(filled_ref) OR filled_ref = :ref)"
                ),
                ExpressionAttributeValues=values(at=at.isoformat(timespec="seconds"), ref=ref),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def clear_filled(self, campaign_id: str) -> None:
        """A shift of the campaign is open again: its next filling is told again."""
        try:
            self.client.update_item(
                TableName=self.campaigns_table,
                Key={"campaign_id": {"S": campaign_id}},
                UpdateExpression="REMOVE filled_at, filled_ref",
                ConditionExpression="attribute_exists(filled_ref)",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
