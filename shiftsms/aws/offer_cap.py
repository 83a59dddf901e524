"""The daily offer cap: one counter item per person per local day in the state table.

``offer-cap#<fingerprint(phone)>#<day>`` holds ``offers``, the string set of the campaign runs
texted to that person that day. Taking a place is one conditional ``UpdateItem`` that adds the
run to the set only while the set is under the cap (or already holds the run, so a retried job
takes no second place); DynamoDB applies one item's writes one at a time, so however many
sender invocations run at once, no one gets more than the cap.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.phone import fingerprint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Kept two days past its day (TTL), so a late retry still finds the day's count.
KEEP_SECONDS = 3 * 24 * 3600


def cap_item_id(to: str, day: str) -> str:
    """The counter item's key: no number, only its fingerprint."""
    return f"offer-cap#{fingerprint(to)}#{day}"


class DynamoOfferCap:
    """OfferCap on the state table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def take(self, to: str, day: str, offer: str, cap: int, at: datetime) -> bool:
        """Count ``offer`` (a campaign run) for ``to`` on ``day``; False when ``cap`` is full."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"id": {"S": cap_item_id(to, day)}},
                UpdateExpression="ADD offers :offer SET expiration = :exp",
                ConditionExpression=(
                    "attribute_not_exists(offers) OR size(offers) < :cap OR contains(offers, :run)"
                ),
                ExpressionAttributeValues=values(
                    offer={offer}, run=offer, cap=cap, exp=int(at.timestamp()) + KEEP_SECONDS
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True
