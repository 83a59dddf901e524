"""The audit table: append-only entries by subject, with a ``by-day`` index for ranges.

Key: ``subject`` (``shift#X``, ``staff#<fingerprint>``, ``campaign#X``) and ``at_event``
(``<UTC time with microseconds>Z#<stream event id>``), so a redelivered stream record
writes the same key and its conditional put changes nothing. The sparse-free ``by-day``
index (``day`` = UTC date, ``at_event``) serves ``--since`` and the report: one Query per
day in range, never a Scan. Entries expire ``AuditRetentionDays`` after they were made.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, is_condition_failure, to_item, values
from shiftsms.core.audit import AuditEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DAY_INDEX = "by-day"


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_item(entry: AuditEntry, retention_days: int) -> dict[str, Any]:
    """The stored item (plain values) for ``entry``."""
    changes = {
        name: {k: v for k, v in (("old", old), ("new", new)) if v is not None}
        for name, (old, new) in entry.changes.items()
    }
    return {
        "subject": entry.subject,
        "at_event": f"{_stamp(entry.at)}#{entry.event_id}",
        "day": entry.at.astimezone(UTC).date().isoformat(),
        "kind": entry.kind,
        "subject_id": entry.subject_id,
        "at": _stamp(entry.at),
        "event_id": entry.event_id,
        "action": entry.action,
        "changed_by": entry.by,
        "changes": changes,
        "numbers": list(entry.numbers) or None,
        "holder": entry.holder,
        "expires_at": int((entry.at + timedelta(days=retention_days)).timestamp()),
    }


def entry_from_item(item: dict[str, Any]) -> AuditEntry:
    """A stored item (plain values) back to an entry."""
    changes = {
        str(name): (change.get("old"), change.get("new"))
        for name, change in (item.get("changes") or {}).items()
        if isinstance(change, dict)
    }
    return AuditEntry(
        kind=str(item.get("kind", "")),
        subject_id=str(item.get("subject_id", "")),
        at=datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00")),
        event_id=str(item.get("event_id", "")),
        action=str(item.get("action", "")),
        by=str(item.get("changed_by", "")),
        changes=changes,
        numbers=tuple(str(n) for n in item.get("numbers") or ()),
        holder=item.get("holder"),
    )


log = logging.getLogger("shiftsms.audit")


def _readable(item: dict[str, Any]) -> AuditEntry | None:
    """The entry of a stored item; None (logged) for one edited out of shape by hand."""
    try:
        return entry_from_item(from_item(item))
    except (KeyError, TypeError, ValueError, AttributeError):
        log.warning("unreadable audit entry skipped")
        return None


class AuditTable:
    """Writes entries once (by stream event) and reads them by subject or by day."""

    def __init__(self, client: DynamoDBClient, table_name: str, retention_days: int = 400):
        self.client = client
        self.table_name = table_name
        self.retention_days = retention_days
        self.items_read = 0  # items returned by Queries so far (for the cost bench)

    def record(self, entry: AuditEntry) -> bool:
        """Store ``entry``; False if it was stored already (a redelivered record)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=to_item(entry_item(entry, self.retention_days)),
                ConditionExpression="attribute_not_exists(subject)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def _query(self, **request: Any) -> Iterator[AuditEntry]:
        while True:
            page = self.client.query(TableName=self.table_name, **request)
            self.items_read += len(page.get("Items", []))
            for item in page.get("Items", []):
                entry = _readable(item)
                if entry is not None:
                    yield entry
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def for_subject(self, subject: str, since: datetime | None = None) -> Iterator[AuditEntry]:
        """Entries for one subject, oldest first (from ``since`` when given)."""
        condition, vals = "subject = :s", {"s": subject}
        if since is not None:
            condition += " AND at_event >= :since"
            vals["since"] = _stamp(since)
        yield from self._query(
            KeyConditionExpression=condition, ExpressionAttributeValues=values(**vals)
        )

    def on_day(self, day: date, since: datetime | None = None) -> Iterator[AuditEntry]:
        """Entries made on one UTC ``day``, oldest first (from ``since`` when given)."""
        condition, vals = "#d = :d", {"d": day.isoformat()}
        if since is not None:
            condition += " AND at_event >= :since"
            vals["since"] = _stamp(since)
        yield from self._query(
            IndexName=DAY_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#d": "day"},
            ExpressionAttributeValues=values(**vals),
        )

    def between(self, start: datetime, end: datetime) -> Iterator[AuditEntry]:
        """Entries made in ``[start, end)``, oldest first: one Query per UTC day."""
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date():
            for entry in self.on_day(day, since=start):
                if entry.at >= end:
                    break
                yield entry
            day += timedelta(days=1)
