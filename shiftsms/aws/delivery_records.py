"""Send records in the state table: delivery events recorded once, read by campaign and day.

Items (in the state table, found through its sparse ``by-group`` index on ``group_id``):

- a text record per message, ``text#<message id>`` in group ``day#<UTC day sent>``: kind,
  campaign and run, recipient fingerprint, the last status and whether it is final, parts,
  price, carrier fee; written from the events alone, so replies have one too;
- the campaign send marker (:mod:`shiftsms.aws.send_markers`, group
  ``campaign#<id>#<run>``) gets the same delivery fields;
- a day's totals, ``day-totals#<UTC day>``: texts, parts, cost, delivered, failed;
- the campaign item's counters ``delivered``, ``delivery_failed``, ``parts``, ``cost_usd``.

One event is one ``TransactWriteItems``, conditional on the text record's version as read, so
a duplicate or a late non-final event changes nothing, a final status is never overwritten,
and the counters move with the text's first record (``texts``), with its first final status
(``delivered``/``failed``), and with each event reporting parts or a price beyond what was
counted for that text before (so ``cost_usd`` is the cost reported so far, not only once final).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, values
from shiftsms.aws.send_markers import (
    RECORD_GROUP,
    RECORD_KEY,
    RECORDS_INDEX,
    campaign_group,
    marker_id_for,
)
from shiftsms.core.delivery import DayTotals, DeliveryEvent, SendRecord
from shiftsms.ports import DeliveryChange

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Kept long enough for a year's reports; then DynamoDB's TTL removes them.
RECORD_DAYS = 400
# Rounds of read-then-write a racing event may cost before the event is given up (retried).
MAX_ROUNDS = 5
PENDING_STATES = frozenset({"claimed", "sending"})
# On a text record: the parts and cost already added to its day's and campaign's counters.
COUNTED_PARTS, COUNTED_COST = "counted_parts", "counted_cost_usd"


def text_id(message_id: str) -> str:
    """The state-table key of a text's record."""
    return f"text#{message_id}"


def day_group(day: date) -> str:
    """The ``by-group`` index partition holding the texts sent on ``day`` (UTC)."""
    return f"day#{day.isoformat()}"


def totals_id(day: date) -> str:
    """The state-table key of a day's totals."""
    return f"day-totals#{day.isoformat()}"


# A value that is not a number (an item edited by hand) reads as absent, never as a crash.


def _num(item: Mapping[str, Any], name: str) -> Decimal | None:
    try:
        value = Decimal(str(item[name]))
    except (KeyError, InvalidOperation):
        return None
    return value if value.is_finite() else None


def _int(item: Mapping[str, Any], name: str) -> int | None:
    value = _num(item, name)
    return int(value) if value is not None else None


def _millis(item: Mapping[str, Any], name: str) -> datetime | None:
    value = _int(item, name)
    try:
        return datetime.fromtimestamp(value / 1000, UTC) if value is not None else None
    except (OverflowError, OSError, ValueError):
        return None


def _str(item: Mapping[str, Any], name: str) -> str | None:
    raw = item.get(name)
    return str(raw) if raw else None


def _delivery_fields(event: DeliveryEvent, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the text record and the send marker say of the event: status, whether final,
    when, and parts, price and fee (an event without them keeps those reported before)."""
    parts, price, fee = event.parts, event.price_usd, event.carrier_fee_usd
    if current is not None:
        parts = parts if parts is not None else _int(current, "parts")
        price = price if price is not None else _num(current, "price_usd")
        fee = fee if fee is not None else _num(current, "carrier_fee_usd")
    fields: dict[str, Any] = {
        "delivery_status": event.status,
        "delivery_final": event.is_final,
        "delivery_at": int(event.at.timestamp() * 1000),
    }
    for name, value in (("parts", parts), ("price_usd", price), ("carrier_fee_usd", fee)):
        if value is not None:
            fields[name] = value
    return fields


def _counter_adds(
    event: DeliveryEvent, current: Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What the event adds to its day's and its campaign's counters, and what the text record
    then says was counted for it. Parts and cost count as soon as an event reports them (the
    cost so far), each by what it adds to what was counted for the text before: never twice."""
    parts = int(fields.get("parts") or 0)
    cost = Decimal(fields.get("price_usd") or 0) + Decimal(fields.get("carrier_fee_usd") or 0)
    counted_parts = (_int(current, COUNTED_PARTS) if current else None) or 0
    counted_cost = (_num(current, COUNTED_COST) if current else None) or Decimal(0)
    adds: dict[str, Any] = {}
    if parts != counted_parts:
        adds["parts"] = parts - counted_parts
    if cost != counted_cost:
        adds["cost_usd"] = cost - counted_cost
    day, campaign = dict(adds), dict(adds)
    if current is None:
        day["texts"] = 1
    if event.is_final:
        day.update(delivered=1 if event.delivered else 0, failed=1 if event.failed else 0)
        campaign["delivered" if event.delivered else "delivery_failed"] = 1
    return day, campaign, {COUNTED_PARTS: parts, COUNTED_COST: cost}


class Cancelled(Exception):
    """A transaction lost: which of its parts' conditions failed."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"conditions failed: {failed}")
        self.failed = failed


class DynamoSendRecords:
    """SendRecords and DeliveryLedger on the state table (and the campaigns table's counters)."""

    def __init__(self, client: DynamoDBClient, state_table: str, campaigns_table: str) -> None:
        self.client = client
        self.state_table = state_table
        self.campaigns_table = campaigns_table

    # -- recording -----------------------------------------------------------------------

    def record(self, event: DeliveryEvent) -> DeliveryChange:
        """Record ``event`` once; raise on a failure worth retrying."""
        optional = {"marker", "campaign"}
        for _ in range(MAX_ROUNDS):
            got = self.client.get_item(
                TableName=self.state_table,
                Key={"id": {"S": text_id(event.message_id)}},
                ConsistentRead=True,
            ).get("Item")
            current = from_item(got) if got else None
            if current is not None and current.get("delivery_final"):
                return DeliveryChange(applied=False)  # final already: never overwritten
            if (
                current is not None
                and not event.is_final
                and int(current.get("event_at", 0)) > int(event.at.timestamp() * 1000)
            ):
                return DeliveryChange(applied=False)  # older than the status recorded
            parts = self._transaction(event, current, optional)
            try:
                self._write([p for _, p in parts])
            except Cancelled as lost:
                names = [parts[i][0] for i in lost.failed]
                if "text" in names:
                    continue  # another event got in between: read again
                optional -= set(names)  # the marker or campaign item is gone: skip it
                continue
            return DeliveryChange(applied=True, settled=event.is_final)
        raise RuntimeError("delivery event lost the race too often: retried later")

    def _write(self, items: list[dict[str, Any]]) -> None:
        try:
            self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if not failed:
                raise  # a conflict or throttling: the record is retried
            raise Cancelled(failed) from exc

    def _transaction(
        self, event: DeliveryEvent, current: Mapping[str, Any] | None, optional: set[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The transaction's parts, each named (text, marker, day, campaign)."""
        fields = _delivery_fields(event, current)
        day_adds, campaign_adds, counted = _counter_adds(event, current, fields)
        expiration = int((event.requested_at + timedelta(days=RECORD_DAYS)).timestamp())
        text_fields = {
            **fields,
            **counted,
            RECORD_GROUP: day_group(event.day),
            RECORD_KEY: text_id(event.message_id),
            "kind": event.kind or "unknown",
            "campaign_id": event.campaign_id,
            "run": event.run,
            "recipient": event.recipient,
            "message_id": event.message_id,
            "sent_at": int(event.requested_at.timestamp() * 1000),
            "event_at": int(event.at.timestamp() * 1000),
            "version": int(current.get("version", 0)) + 1 if current else 1,
            "expiration": expiration,
        }
        if current is None:
            condition = "attribute_not_exists(id)"
            cond_values: dict[str, Any] = {}
        else:
            condition = "version = :seen"
            cond_values = values(seen=int(current.get("version", 0)))
        text_key = {"id": text_id(event.message_id)}
        parts = [
            ("text", self._set(self.state_table, text_key, text_fields, condition, cond_values))
        ]
        # only a campaign text has a send marker and counts on its campaign
        campaign = event.kind == "campaign" and bool(event.campaign_id and event.recipient)
        if campaign and "marker" in optional:
            marker = {
                "id": marker_id_for(event.campaign_id, event.recipient, event.run, event.reoffer)
            }
            parts.append(
                ("marker", self._set(self.state_table, marker, fields, "attribute_exists(id)", {}))
            )
        if day_adds:
            day = {"id": totals_id(event.day)}
            parts.append(("day", self._add(self.state_table, day, day_adds, expiration=expiration)))
        if campaign and campaign_adds and "campaign" in optional:
            condition = "attribute_exists(campaign_id)"
            cond_values = {}
            if event.run:
                condition += " AND fanout_token = :run"
                cond_values = values(run=event.run)
            parts.append(
                (
                    "campaign",
                    self._add(
                        self.campaigns_table,
                        {"campaign_id": event.campaign_id},
                        campaign_adds,
                        condition=condition,
                        cond_values=cond_values,
                    ),
                )
            )
        return parts

    @staticmethod
    def _set(
        table: str,
        key: Mapping[str, str],
        fields: Mapping[str, Any],
        condition: str,
        cond_values: Mapping[str, Any],
    ) -> dict[str, Any]:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        vals = {f":f{i}": v for i, v in enumerate(fields.values())}
        update: dict[str, Any] = {
            "TableName": table,
            "Key": {k: {"S": v} for k, v in key.items()},
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                **values(**{k[1:]: v for k, v in vals.items()}),
                **cond_values,
            },
        }
        return {"Update": update}

    @staticmethod
    def _add(
        table: str,
        key: Mapping[str, str],
        adds: Mapping[str, Any],
        *,
        expiration: int | None = None,
        condition: str = "",
        cond_values: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        counters = {k: v for k, v in adds.items() if v is not None}
        names = {f"#c{i}": k for i, k in enumerate(counters)}
        vals = values(**{f"c{i}": v for i, v in enumerate(counters.values())})
        expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counters)))
        if expiration is not None:
            expression = f"SET expiration = :exp {expression}"
            vals.update(values(exp=expiration))
        update: dict[str, Any] = {
            "TableName": table,
            "Key": {k: {"S": v} for k, v in key.items()},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {**vals, **(cond_values or {})},
        }
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}

    # -- reading -------------------------------------------------------------------------

    def _group(self, group: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.state_table,
            IndexName=RECORDS_INDEX,
            KeyConditionExpression="#g = :g",
            ExpressionAttributeNames={"#g": RECORD_GROUP},
            ExpressionAttributeValues=values(g=group),
        ):
            for item in page.get("Items", []):
                yield from_item(item)

    def for_campaign(self, campaign_id: str, run: str) -> Iterator[SendRecord]:
        """The run's markers, one per recipient, with what their events said."""
        for item in self._group(campaign_group(campaign_id, run)):
            state = str(item.get("state", ""))
            settled = _int(item, "settled_at")
            sent = state == "sent" and settled is not None
            yield SendRecord(
                campaign_id=str(item.get("campaign_id", campaign_id)),
                run=str(item.get("run", run)),
                recipient=str(item.get("recipient", "")),
                sent_at=datetime.fromtimestamp(settled, UTC) if sent and settled else None,
                outcome="pending" if state in PENDING_STATES else state,
                delivery_status=_str(item, "delivery_status"),
                parts=_int(item, "parts"),
                price_usd=_num(item, "price_usd"),
                carrier_fee_usd=_num(item, "carrier_fee_usd"),
                message_id=_str(item, "message_id"),
            )

    def sent_on(self, day: date) -> Iterator[SendRecord]:
        """Every text sent on ``day`` (UTC) that End User Messaging reported on."""
        for item in self._group(day_group(day)):
            yield SendRecord(
                campaign_id=str(item.get("campaign_id", "")),
                run=str(item.get("run", "")),
                recipient=str(item.get("recipient", "")),
                sent_at=_millis(item, "sent_at"),
                outcome="sent",
                delivery_status=_str(item, "delivery_status"),
                parts=_int(item, "parts"),
                price_usd=_num(item, "price_usd"),
                carrier_fee_usd=_num(item, "carrier_fee_usd"),
                message_id=_str(item, "message_id"),
            )

    def day_totals(self, day: date) -> DayTotals:
        """One GetItem: the day's counters (zeros when nothing was sent)."""
        got = self.client.get_item(
            TableName=self.state_table, Key={"id": {"S": totals_id(day)}}
        ).get("Item")
        item = from_item(got) if got else {}
        return DayTotals(
            day=day,
            texts=_int(item, "texts") or 0,
            parts=_int(item, "parts") or 0,
            cost_usd=_num(item, "cost_usd") or Decimal(0),
            delivered=_int(item, "delivered") or 0,
            failed=_int(item, "failed") or 0,
        )
