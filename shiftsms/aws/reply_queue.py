"""The reply queue (SQS) and the replies' send-once markers (state table).

A marker ``reply#<inbound message id>`` goes ``claimed`` (token, lease) -> ``sending`` -> ``sent``
or ``opted_out``; a reply that could not go is given back as ``queued``, which only a delivery
from the reply queue may claim. A ``claimed`` marker whose lease is past was never sent and is
taken over; a ``sending`` one is never claimed again. Markers hold no phone number.

Each reply settled ``rejected`` (refused for good by End User Messaging) also adds one to the
``reply-failures`` item, which ``shiftsms status`` reads (:func:`reply_failures`); a reply that
fails every try from the reply queue is counted by the reply DLQ's depth instead.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.reply_jobs import CLAIMED, QUEUED, REJECTED, SENDING, ReplyJob
from shiftsms.ports import ReplyMark

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("shiftsms.replies")

# Longer than either function's timeout (inbound 20 s, sender 60 s), shorter than the reply
# queue's visibility timeout (90 s): a redelivered reply finds a dead holder's claim stale.
CLAIM_LEASE_SECONDS = 75
# Longer than the reply queue keeps a message (4 days).
MARKER_SECONDS = 7 * 24 * 3600
NAMES = {"#s": "reply_state", "#t": "claim_token"}
# The state-table item counting replies refused for good; kept this long after the last one.
FAILURES_ID = "reply-failures"
FAILURES_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class ReplyFailures:
    """Replies refused for good (settled ``rejected``) within FAILURES_SECONDS of the last
    one, and when the last one was (ISO 8601 UTC; None: none)."""

    refused: int = 0
    last_at: str | None = None


def reply_failures(client: DynamoDBClient, table: str) -> ReplyFailures:
    """The ``reply-failures`` counter (one GetItem); none recorded: zero."""
    resp = client.get_item(TableName=table, Key={"id": {"S": FAILURES_ID}}, ConsistentRead=True)
    item = resp.get("Item") or {}
    raw = item.get("refused", {}).get("N", "0")
    try:
        refused = int(raw)
    except ValueError:
        refused = 0
    return ReplyFailures(refused, item.get("last_at", {}).get("S") or None)


class DynamoReplyMarkers:
    """ReplyMarkers on the state table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    @staticmethod
    def _key(ref: str) -> dict[str, Any]:
        return {"id": {"S": f"reply#{ref}"}}

    def _update(
        self, ref: str, expression: str, condition: str, **vals: Any
    ) -> dict[str, Any] | None:
        """One conditional update: None if it applied, else the item as it is."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(ref),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    k: v for k, v in NAMES.items() if k in expression + condition
                },
                ExpressionAttributeValues=values(**vals),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                item: dict[str, Any] = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
                return item
            raise
        return None

    def claim(self, ref: str, at: float, *, from_queue: bool = False) -> ReplyMark:
        """Claim a new marker, a stale claim, or (``from_queue``) a queued reply."""
        token = uuid.uuid4().hex
        condition = "attribute_not_exists(id) OR (#s = :claimed AND lease_until < :now)"
        kw: dict[str, Any] = {}
        if from_queue:
            condition += " OR #s = :queued"
            kw["queued"] = QUEUED
        found = self._update(
            ref,
            "SET #s = :claimed, #t = :token, lease_until = :lease, expiration = :exp",
            condition,
            claimed=CLAIMED,
            token=token,
            now=int(at),
            lease=int(at) + CLAIM_LEASE_SECONDS,
            exp=int(at) + MARKER_SECONDS,
            **kw,
        )
        if found is None:
            return ReplyMark(token, CLAIMED)
        return ReplyMark(
            None,
            str(found.get("reply_state", {}).get("S", "")),
            str(found.get("message_id", {}).get("S", "")),
        )

    def begin(self, ref: str, token: str) -> bool:
        """Our claim becomes ``sending``; False if it is no longer ours."""
        return (
            self._update(
                ref,
                "SET #s = :sending",
                "#t = :token AND #s = :claimed",
                sending=SENDING,
                token=token,
                claimed=CLAIMED,
            )
            is None
        )

    def settle(self, ref: str, token: str, state: str, message_id: str = "") -> None:
        """Record the final state on our claim (a lost claim is left as it is); a reply
        settled ``rejected`` is also counted on the ``reply-failures`` item."""
        lost = self._update(
            ref,
            "SET #s = :state, message_id = :mid REMOVE lease_until",
            "#t = :token",
            state=state,
            mid=message_id,
            token=token,
        )
        if lost is None and state == REJECTED:
            try:
                self._count_failure(time.time())
            except ClientError:
                log.exception("reply rejected, but the failure could not be counted")

    def _count_failure(self, at: float) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"id": {"S": FAILURES_ID}},
            UpdateExpression="ADD refused :one SET last_at = :at, expiration = :exp",
            ExpressionAttributeValues=values(
                one=1,
                at=datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds"),
                exp=int(at) + FAILURES_SECONDS,
            ),
        )

    def release(self, ref: str, token: str) -> None:
        """Give our claim (not sent) back as ``queued``."""
        self._update(
            ref,
            "SET #s = :queued REMOVE lease_until",
            "#t = :token",
            queued=QUEUED,
            token=token,
        )


class SqsReplyQueue:
    """ReplyQueue on SQS."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def enqueue(self, job: ReplyJob) -> None:
        """Send the job to the reply queue (SQS errors propagate: the inbound event is retried)."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=job.to_json())
