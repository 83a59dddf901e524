"""The latest offer sent to each number, in the state table (``offer#<fingerprint>``).

Written when a held offer or a campaign text goes out; read by YES. The number itself is not
stored, only its fingerprint. A record expires (TTL) after :data:`KEEP_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, is_condition_failure, to_item, values
from shiftsms.core.phone import fingerprint
from shiftsms.core.waitlist import Offer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEEP_SECONDS = 7 * 24 * 3600


def _stamp(at: datetime) -> str:
    """A UTC time to the microsecond: string order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def offer_key(phone: str) -> dict[str, Any]:
    """The state-table key of ``phone``'s offer record."""
    return {"id": {"S": f"offer#{fingerprint(phone)}"}}


class DynamoOfferLog:
    """OfferLog on the state table: one item per number, the newest offer wins."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        """``table``: the state table."""
        self.client = client
        self.table = table

    def record(self, phone: str, shift_ids: Sequence[str], kind: str, at: datetime) -> None:
        """Remember that an offer of ``shift_ids`` went to ``phone`` at ``at``; an older one
        arriving late does not replace a newer one."""
        item = to_item(
            {
                "shift_ids": list(shift_ids),
                "kind": kind,
                "sent_at": _stamp(at),
                "expiration": int((at + timedelta(seconds=KEEP_SECONDS)).timestamp()),
            }
        )
        try:
            self.client.put_item(
                TableName=self.table,
                Item={**offer_key(phone), **item},
                ConditionExpression="attribute_not_exists(id) OR sent_at <= :at",
                ExpressionAttributeValues=values(at=_stamp(at)),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def latest(self, phone: str, now: datetime) -> Offer | None:
        """The newest offer sent to ``phone``, or None (none, or expired by ``now``: TTL
        deletion may lag by days)."""
        resp = self.client.get_item(TableName=self.table, Key=offer_key(phone), ConsistentRead=True)
        item = from_item(resp.get("Item") or {})
        if not item or int(item.get("expiration", 0)) <= now.timestamp():
            return None
        ids = item.get("shift_ids")
        return Offer(
            tuple(str(i) for i in ids) if isinstance(ids, list) else (),
            str(item.get("kind", "")),
            datetime.fromisoformat(str(item["sent_at"])),
        )
