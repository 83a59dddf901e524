"""Send-once markers per (campaign run, recipient) in the state table, settled with the counters.

A marker is claimed by a conditional put before the send, so a retried batch or a duplicate
SQS delivery finds it and sends nothing. Right before the text goes, the claim becomes
``sending``; after it, the outcome is written on the marker (conditional on the claim) and then
counted on the campaign. A transient failure deletes the claim again, so the retry can send.

A sender that dies leaves its marker behind. A ``claimed`` marker older than the claim
timeout (:data:`CLAIM_LEASE_SECONDS` by default; longer than a sender invocation can live) was
never sent: the job's redelivery takes the claim over and sends. A ``sending`` marker that old
may have been sent: it is settled ``unconfirmed`` (counted as failed, with the reason) and
never sent again.
Markers carry the fan-out's run id, so a campaign id reused after its item was deleted starts
clean, and a late settle of the old run never counts on the new item. A re-offer (a shift
whose waitlist ran out, offered again) has markers of its own round, in a group of their own,
and counts only its texts sent (``reoffered``): the campaign's counters stay per recipient.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import is_condition_failure, values
from shiftsms.core.campaigns import SendJob, SendOutcome
from shiftsms.core.phone import fingerprint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The state table's sparse index of send records: a campaign run's markers, a day's texts.
# The state table's one sparse index (``by-group``), shared with due work: a send record
# carries its group (a campaign run, or a UTC day of texts) and, as the sort key, its id.
RECORDS_INDEX = "by-group"
RECORD_GROUP = "group_id"
RECORD_KEY = "group_key"
CLAIMED = "claimed"
SENDING = "sending"
# The default claim timeout (the sender's SEND_CLAIM_TIMEOUT_SECONDS): longer than the sender
# function's timeout (60 s), shorter than the send queue's visibility timeout (360 s), so a job
# redelivered after its invocation died finds the claim stale.
CLAIM_LEASE_SECONDS = 120
UNCONFIRMED_REASON = "the sender stopped while sending: not sent again (it may have arrived)"
# Long enough for `shiftsms campaign show` to time bookings from each recipient's text.
MARKER_DAYS = 30
COUNTER = {
    SendOutcome.SENT: "sent",
    SendOutcome.OPTED_OUT: "opted_out",
    SendOutcome.FAILED: "failed",
    SendOutcome.EXPIRED: "failed",
    SendOutcome.UNCONFIRMED: "failed",
    SendOutcome.SKIPPED: "skipped",
    SendOutcome.DEAD_LETTERED: "dead_lettered",
    SendOutcome.SKIPPED_FILLED: "skipped_filled",
    SendOutcome.CAPPED: "skipped_capped",
}
# A re-offer's texts sent, counted apart from the campaign's own.
REOFFERED = "reoffered"


def counted_as(job: SendJob, outcome: SendOutcome) -> str | None:
    """The campaign counter ``job`` settled with ``outcome`` adds to; None: none (a
    re-offer counts only its texts sent, its marker keeps every other outcome)."""
    if job.reoffer:
        return REOFFERED if outcome is SendOutcome.SENT else None
    return COUNTER[outcome]


def marker_id(campaign_id: str, to: str, run: str = "", reoffer: str = "") -> str:
    """The state-table key of the marker (the number itself is not stored)."""
    return marker_id_for(campaign_id, fingerprint(to), run, reoffer)


def marker_id_for(campaign_id: str, recipient: str, run: str = "", reoffer: str = "") -> str:
    """The marker's key from the recipient's fingerprint (as a delivery event's Context has
    it); ``reoffer``: the re-offer round, "" for the campaign's own offer."""
    run_part = f"{run}#" if run else ""
    round_part = f"reoffer#{reoffer}#" if reoffer else ""
    return f"campaign-send#{campaign_id}#{run_part}{round_part}{recipient}"


def campaign_group(campaign_id: str, run: str = "", reoffer: str = "") -> str:
    """The ``records`` index partition holding a campaign run's markers (or a re-offer's)."""
    return f"campaign#{campaign_id}#{run}" + (f"#reoffer#{reoffer}" if reoffer else "")


def _job_marker(job: SendJob) -> str:
    return marker_id(job.campaign_id, job.to, job.run, job.reoffer)


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


class DynamoSendLedger:
    """SendLedger on the state table (markers) and the campaigns table (counters)."""

    def __init__(
        self,
        client: DynamoDBClient,
        state_table: str,
        campaigns_table: str,
        claim_timeout_seconds: int = CLAIM_LEASE_SECONDS,
    ) -> None:
        self.client = client
        self.state_table = state_table
        self.campaigns_table = campaigns_table
        self.claim_timeout_seconds = claim_timeout_seconds

    def _key(self, job: SendJob) -> dict[str, Any]:
        return {"id": {"S": _job_marker(job)}}

    def claim(self, job: SendJob, at: datetime) -> str | None:
        """Put a fresh marker, or take over a stale unsent claim; None when neither."""
        token = uuid.uuid4().hex
        expiration = int((at + timedelta(days=MARKER_DAYS)).timestamp())
        try:
            self.client.put_item(
                TableName=self.state_table,
                Item={
                    **self._key(job),
                    # the campaign run's records (``by-group`` index), without the number
                    RECORD_GROUP: {"S": campaign_group(job.campaign_id, job.run, job.reoffer)},
                    RECORD_KEY: {"S": _job_marker(job)},
                    "campaign_id": {"S": job.campaign_id},
                    "run": {"S": job.run},
                    **({"reoffer": {"S": job.reoffer}} if job.reoffer else {}),
                    "recipient": {"S": fingerprint(job.to)},
                    "state": {"S": CLAIMED},
                    "token": {"S": token},
                    "claimed_at": {"N": str(_epoch(at))},
                    "expiration": {"N": str(expiration)},
                },
                ConditionExpression=(
                    "attribute_not_exists(id) OR (#state = :claimed AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values(
                    claimed=CLAIMED, stale=_epoch(at) - self.claim_timeout_seconds
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return token

    def begin(self, job: SendJob, token: str, at: datetime) -> bool:
        """Our claim -> ``sending``, right before the text goes; False if it is not ours."""
        try:
            self.client.update_item(
                TableName=self.state_table,
                Key=self._key(job),
                UpdateExpression="SET #state = :sending, sending_at = :at",
                ConditionExpression="#state = :claimed AND #token = :token",
                ExpressionAttributeNames={"#state": "state", "#token": "token"},
                ExpressionAttributeValues=values(
                    sending=SENDING, at=_epoch(at), claimed=CLAIMED, token=token
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def settle(
        self,
        job: SendJob,
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
            "Key": self._key(job),
            "UpdateExpression": (
                "SET #state = :outcome, settled_at = :at, message_id = :mid, reason = :reason"
            ),
            "ConditionExpression": "#state IN (:claimed, :sending) AND #token = :token",
            "ExpressionAttributeNames": {"#state": "state", "#token": "token"},
            "ExpressionAttributeValues": values(
                outcome=outcome.value,
                at=_epoch(at),
                mid=message_id,
                reason=reason[:500],
                claimed=CLAIMED,
                sending=SENDING,
                token=token,
            ),
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
        self._count(job, outcome)

    def close_abandoned(self, job: SendJob, at: datetime) -> bool:
        """Settle a stale ``sending`` marker as unconfirmed and count it; False if none."""
        try:
            self.client.update_item(
                TableName=self.state_table,
                Key=self._key(job),
                UpdateExpression="SET #state = :outcome, settled_at = :at, reason = :reason",
                ConditionExpression="#state = :sending AND sending_at < :stale",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values(
                    outcome=SendOutcome.UNCONFIRMED.value,
                    at=_epoch(at),
                    reason=UNCONFIRMED_REASON,
                    sending=SENDING,
                    stale=_epoch(at) - self.claim_timeout_seconds,
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        self._count(job, SendOutcome.UNCONFIRMED)
        return True

    def _count(self, job: SendJob, outcome: SendOutcome) -> None:
        counter = counted_as(job, outcome)
        if counter is None:
            return
        condition = "attribute_exists(campaign_id)"
        extra: dict[str, Any] = {}
        if job.run:
            # Only the campaign instance this run fanned out (not a new item of the same id).
            condition += " AND fanout_token = :run"
            extra = values(run=job.run)
        try:
            self.client.update_item(
                TableName=self.campaigns_table,
                Key={"campaign_id": {"S": job.campaign_id}},
                UpdateExpression="ADD #counter :one",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#counter": counter},
                ExpressionAttributeValues={**values(one=1), **extra},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            # The campaign item was deleted (or replaced) meanwhile: the marker keeps it.

    def release(self, job: SendJob, token: str) -> None:
        """Delete our own unsettled claim (a transient failure: the retry may send)."""
        try:
            self.client.delete_item(
                TableName=self.state_table,
                Key=self._key(job),
                ConditionExpression="#state IN (:claimed, :sending) AND #token = :token",
                ExpressionAttributeNames={"#state": "state", "#token": "token"},
                ExpressionAttributeValues=values(claimed=CLAIMED, sending=SENDING, token=token),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def sent_at(self, campaign_id: str, to: str, run: str = "") -> datetime | None:
        """When the text to ``to`` was sent (settled as sent), if known."""
        resp = self.client.get_item(
            TableName=self.state_table,
            Key={"id": {"S": marker_id(campaign_id, to, run)}},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        if not item or item.get("state", {}).get("S") != SendOutcome.SENT.value:
            return None
        raw = item.get("settled_at", {}).get("N")
        return datetime.fromtimestamp(int(raw), UTC) if raw else None
