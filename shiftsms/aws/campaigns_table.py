"""The campaigns table: ``campaign_id``, ``campaign_message`` (as the sample), status, counters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, is_condition_failure, to_item, values
from shiftsms.core.campaigns import Campaign, CampaignStatus
from shiftsms.errors import CampaignExists

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS = "campaign_status"
# Counters the sender adds to, one per final outcome.
COUNTERS = (
    "sent",
    "failed",
    "opted_out",
    "skipped",
    "dead_lettered",
    "skipped_filled",
    "skipped_capped",
    "reoffered",
)
# Live offers (composed at send time from shift_ids) and the numbers told of bookings.
LIVE = "live_offers"
NOTIFY = "notify"
# The roles a campaign's shifts need (absent: everyone): the fan-out texts only those who
# hold one of them, without reading the shifts.
OFFER_ROLES = "offer_roles"


def campaign_from_item(item: dict[str, Any]) -> Campaign:
    """A stored item (as plain values) to a Campaign; tolerant of items added by hand.

    An attribute that cannot be read (a counter that is not a number, an unknown status) is
    left at its default and named in ``problems``, so one bad item never breaks a listing.
    """
    problems: list[str] = []

    def number(name: str) -> int | None:
        raw = item.get(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except (TypeError, ValueError):
            problems.append(f"{name} is not a number ({str(raw)[:40]!r}): shown as unknown")
            return None

    def text(name: str) -> str | None:
        raw = item.get(name)
        return str(raw) if raw not in (None, "") else None

    raw_status = item.get(STATUS)
    status = CampaignStatus.parse(raw_status)
    if status is None:
        problems.append(f"{STATUS} {str(raw_status)[:40]!r} is not a campaign status")
        status = CampaignStatus.UNKNOWN
    raw_ids = item.get("shift_ids") or ()
    if isinstance(raw_ids, str):
        raw_ids = (raw_ids,)
    elif not isinstance(raw_ids, list | set | tuple):
        problems.append("shift_ids is not a list: ignored")
        raw_ids = ()
    offer_roles = _offer_roles(item.get(OFFER_ROLES), problems)
    return Campaign(
        campaign_id=str(item.get("campaign_id", "")),
        campaign_message=str(item.get("campaign_message") or ""),
        status=status,
        shift_ids=tuple(str(s) for s in raw_ids),
        created_at=text("created_at"),
        text=text("sms_text"),
        fanout_at=text("fanout_at"),
        fanout_cursor=text("fanout_cursor"),
        queued_at=text("queued_at"),
        expires_at=number("expires_at"),
        recipients=number("recipients"),
        sent=number("sent") or 0,
        failed=number("failed") or 0,
        opted_out=number("opted_out") or 0,
        skipped=number("skipped") or 0,
        dead_lettered=number("dead_lettered") or 0,
        skipped_capped=number("skipped_capped") or 0,
        reoffered=number("reoffered") or 0,
        reason=text("reason"),
        fanout_token=text("fanout_token"),
        offer_roles=offer_roles,
        live=item.get(LIVE) is True,
        skipped_filled=number("skipped_filled") or 0,
        notify=_numbers(item.get(NOTIFY), problems),
        first_start=text("first_start"),
        mode=text("offer_mode") or "first-come",
        award=text("award") or "fewest-hours",
        window_closes_at=text("window_closes_at"),
        waves=number("waves") or 1,
        wave_gap_seconds=number("wave_gap_seconds"),
        waves_sent=number("waves_sent"),
        delivered=number("delivered") or 0,
        delivery_failed=number("delivery_failed") or 0,
        parts=number("parts") or 0,
        cost_usd=_money(item.get("cost_usd"), problems),
        problems=tuple(problems),
    )


def _numbers(raw: Any, problems: list[str]) -> tuple[str, ...]:
    """The stored numbers to notify (none when absent or not a list of text)."""
    if raw is None:
        return ()
    if not isinstance(raw, list | set | tuple) or not all(isinstance(n, str) for n in raw):
        problems.append(f"{NOTIFY} is not a list of numbers: nobody notified")
        return ()
    return tuple(sorted(raw))


def _money(raw: Any, problems: list[str]) -> Decimal:
    """The stored cost in US dollars (0 when absent or unreadable, which is named)."""
    if raw is None:
        return Decimal(0)
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite():
        problems.append(f"cost_usd is not a number ({str(raw)[:40]!r}): shown as 0")
        return Decimal(0)
    return value


def _offer_roles(raw: Any, problems: list[str]) -> tuple[str, ...] | None:
    """The stored roles offered; None (everyone) when absent or not a list of text."""
    if raw is None:
        return None
    if not isinstance(raw, list | set | tuple) or not all(isinstance(r, str) for r in raw):
        problems.append(f"{OFFER_ROLES} is not a list of roles: sent to everyone")
        return None
    return tuple(sorted(raw))


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


class CampaignsTable:
    """CampaignStore on DynamoDB. Every state change is one conditional write."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def _key(self, campaign_id: str) -> dict[str, Any]:
        return {"campaign_id": {"S": campaign_id}}

    def create(self, campaign: Campaign) -> None:
        """Write a new campaign item (its INSERT starts the fan-out)."""
        item = to_item(
            {
                "campaign_id": campaign.campaign_id,
                "campaign_message": campaign.campaign_message,
                STATUS: campaign.status.value,
                "shift_ids": list(campaign.shift_ids) or None,
                "created_at": campaign.created_at,
                "sms_text": campaign.text,
                OFFER_ROLES: list(campaign.offer_roles) if campaign.offer_roles else None,
                LIVE: True if campaign.live else None,
                NOTIFY: list(campaign.notify) or None,
                "first_start": campaign.first_start,
                # (left out for first come in one wave: the sample's item stays as it was)
                "offer_mode": campaign.mode if campaign.mode != "first-come" else None,
                "award": campaign.award
                if campaign.mode != "first-come" or campaign.waves > 1
                else None,
                "window_closes_at": campaign.window_closes_at,
                "waves": campaign.waves if campaign.waves > 1 else None,
                "wave_gap_seconds": campaign.wave_gap_seconds,
            }
        )
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(campaign_id)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise CampaignExists(f"campaign {campaign.campaign_id} already exists") from exc
            raise

    def get(self, campaign_id: str) -> Campaign | None:
        """One campaign (strongly consistent, so counters are current)."""
        resp = self.client.get_item(
            TableName=self.table, Key=self._key(campaign_id), ConsistentRead=True
        )
        item = resp.get("Item")
        return campaign_from_item(from_item(item)) if item else None

    def all(self) -> Iterator[Campaign]:
        """Every campaign, page by page (an operator listing)."""
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table):
            for item in page.get("Items", []):
                yield campaign_from_item(from_item(item))

    def claim_fan_out(
        self, campaign_id: str, token: str, text: str, at: datetime, expires_at: int
    ) -> Campaign | None:
        """new (or no status) -> fanning_out under ``token``; the same token may resume."""
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key=self._key(campaign_id),
                UpdateExpression=(
                    "SET #st = :fanning, fanout_token = :token, "
                    "sms_text = if_not_exists(sms_text, :text), "
                    "fanout_at = if_not_exists(fanout_at, :at), "
                    "expires_at = if_not_exists(expires_at, :exp)"
                ),
                ConditionExpression=(
                    "attribute_exists(campaign_id) AND (attribute_not_exists(#st) OR #st = :new "
                    "OR (#st = :fanning AND fanout_token = :token))"
                ),
                ExpressionAttributeNames={"#st": STATUS},
                ExpressionAttributeValues=values(
                    fanning=CampaignStatus.FANNING_OUT.value,
                    new=CampaignStatus.NEW.value,
                    token=token,
                    text=text,
                    at=_stamp(at),
                    exp=expires_at,
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return campaign_from_item(from_item(resp["Attributes"]))

    def save_progress(self, campaign_id: str, token: str, cursor: str) -> None:
        """Remember the last recipient queued, while the fan-out under ``token`` runs."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(campaign_id),
                UpdateExpression="SET fanout_cursor = :cursor",
                ConditionExpression="#st = :fanning AND fanout_token = :token",
                ExpressionAttributeNames={"#st": STATUS},
                ExpressionAttributeValues=values(
                    cursor=cursor, fanning=CampaignStatus.FANNING_OUT.value, token=token
                ),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def finish_fan_out(self, campaign_id: str, token: str, recipients: int, at: datetime) -> None:
        """fanning_out -> sending, with the number of jobs queued."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(campaign_id),
                UpdateExpression="SET #st = :sending, recipients = :n, queued_at = :at",
                ConditionExpression="#st = :fanning AND fanout_token = :token",
                ExpressionAttributeNames={"#st": STATUS},
                ExpressionAttributeValues=values(
                    sending=CampaignStatus.SENDING.value,
                    fanning=CampaignStatus.FANNING_OUT.value,
                    token=token,
                    n=recipients,
                    at=_stamp(at),
                ),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            # Another delivery of the same record finished first: its count stands.

    def add_wave(self, campaign_id: str, token: str, wave: int, recipients: int) -> bool:
        """waves_sent wave-1 -> wave (adding the wave's recipients), on the run's item."""
        previous = values(prev=wave - 1) if wave > 1 else {}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(campaign_id),
                UpdateExpression="SET waves_sent = :wave ADD recipients :n",
                ConditionExpression="fanout_token = :token AND "
                + ("waves_sent = :prev" if wave > 1 else "attribute_not_exists(waves_sent)"),
                ExpressionAttributeValues={
                    **values(wave=wave, n=recipients, token=token),
                    **previous,
                },
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def reject(self, campaign_id: str, reason: str) -> None:
        """new (or no status) -> rejected, with the reason."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(campaign_id),
                UpdateExpression="SET #st = :rejected, reason = :reason",
                ConditionExpression=(
                    "attribute_exists(campaign_id) AND (attribute_not_exists(#st) OR #st = :new)"
                ),
                ExpressionAttributeNames={"#st": STATUS},
                ExpressionAttributeValues=values(
                    rejected=CampaignStatus.REJECTED.value,
                    new=CampaignStatus.NEW.value,
                    reason=reason,
                ),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
