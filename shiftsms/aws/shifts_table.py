"""The shifts table (``shift_id``, ``shift_info``, ``shift_status``, ``employee``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, is_condition_failure, to_item, values
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, ShiftStatus
from shiftsms.core.shift_times import from_iso, sort_key
from shiftsms.errors import ShiftChanged, ShiftExists, ShiftNotFound, ShiftsmsError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_INDEX = "by-status"
# Open shifts soonest first: HASH shift_status, RANGE START_KEY (see start_key), projection ALL.
START_INDEX = "by-start"
START_KEY = "start_key"
# Sorts after every UTC start ("2026-...Z"): untimed shifts written by shiftsms list last.
UNTIMED_KEY = "~untimed"
# When the inbound message that last changed the shift was sent (see InboundSms.sent_at).
MESSAGE_AT = "message_at"
_NOT_CHANGED_SINCE = f" AND (attribute_not_exists({MESSAGE_AT}) OR {MESSAGE_AT} < :sent)"


# Items typed in the console write the status as people do. The status index holds the stored
# text, so each spelling is its own partition: these are the ones read and booked. A shift
# with no status (or another word) is not offered: REQUEST cannot see it on the index.
SPELLINGS: dict[ShiftStatus, tuple[str, ...]] = {
    s: (s.value, s.value.capitalize(), s.value.upper()) for s in ShiftStatus
}


def _spelled(status: ShiftStatus, prefix: str) -> dict[str, str]:
    """``{prefix0: "available", prefix1: "Available", ...}`` for expression values."""
    return {f"{prefix}{i}": text for i, text in enumerate(SPELLINGS[status])}


def _is(status: ShiftStatus, prefix: str) -> str:
    names = ", ".join(f":{name}" for name in _spelled(status, prefix))
    return f"shift_status IN ({names})"


def id_spellings(code: str) -> list[str]:
    """Other ways an operator may have typed the id ``code`` staff text (upper case)."""
    if code != code.upper():
        return []  # already one of the other spellings
    return [i for i in dict.fromkeys([code.lower(), code.capitalize()]) if i != code]


def shift_from_item(item: dict[str, Any]) -> Shift:
    """A stored item (as plain values) to a Shift; tolerant of items added by hand."""
    return Shift(
        shift_id=str(item["shift_id"]),
        shift_info=str(item.get("shift_info", "")),
        shift_status=ShiftStatus.read(item.get("shift_status")),
        employee=str(item["employee"]) if item.get("employee") else None,
        booked_at=str(item["booked_at"]) if item.get("booked_at") else None,
        starts_at=_text(item, "starts_at"),
        ends_at=_text(item, "ends_at"),
        location=_text(item, "location"),
        role=_text(item, "role"),
    )


def _text(item: dict[str, Any], name: str) -> str | None:
    """An optional text attribute; absent or empty reads as None."""
    value = item.get(name)
    return str(value) if value else None


def start_key(shift: Shift) -> str:
    """The ``by-start`` index sort key: the UTC start of a timed shift (string order is time
    order), :data:`UNTIMED_KEY` for an untimed one, so untimed shifts sort after timed ones."""
    if shift.starts_at is None:
        return UNTIMED_KEY
    return sort_key(from_iso(shift.starts_at))


class ShiftsTable:
    """ShiftStore on DynamoDB: bookings are single conditional writes."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def book(
        self, shift_id: str, employee: str, booking_ref: str, at: datetime, *, sent: str = ""
    ) -> BookingOutcome:
        """Available -> taken by one conditional update; on a lost race, say why.

        With ``sent`` (when the message was sent), only if no later message changed the shift:
        a booking retried after the sender's DROP does not book again.
        """
        update = (
            "SET shift_status = :taken, employee = :employee, booked_at = :at, booking_ref = :ref"
        )
        condition = f"attribute_exists(shift_id) AND {_is(ShiftStatus.AVAILABLE, 'available')}"
        vals: dict[str, Any] = {
            "taken": ShiftStatus.TAKEN,
            **_spelled(ShiftStatus.AVAILABLE, "available"),
            "employee": employee,
            "at": at.isoformat(timespec="seconds"),
            "ref": booking_ref,
        }
        if sent:
            update += f", {MESSAGE_AT} = :sent"
            condition += _NOT_CHANGED_SINCE
            vals["sent"] = sent
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"shift_id": {"S": shift_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values(**vals),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = from_item(exc.response.get("Item", {}))  # type: ignore[arg-type]
            if not old:
                stored = self._stored_id(shift_id)
                if stored is None:
                    return BookingOutcome.UNKNOWN
                return self.book(stored, employee, booking_ref, at, sent=sent)
            if old.get("employee") == employee:
                same = old.get("booking_ref") == booking_ref
                return BookingOutcome.BOOKED if same else BookingOutcome.ALREADY_YOURS
            return BookingOutcome.TAKEN
        return BookingOutcome.BOOKED

    def release(
        self,
        shift_id: str,
        employee: str | None = None,
        *,
        ref: str | None = None,
        sent: str = "",
    ) -> DropOutcome:
        """Taken -> available (only by its holder when ``employee`` is given).

        ``ref`` (the inbound message id) is stored on the shift, so a retried DROP reports
        RELEASED again rather than "not yours". With ``sent``, only if no later message
        changed the shift: an old DROP retried after a new booking leaves that booking.
        """
        condition = f"attribute_exists(shift_id) AND {_is(ShiftStatus.TAKEN, 'taken')}"
        vals: dict[str, Any] = {
            "available": ShiftStatus.AVAILABLE,
            **_spelled(ShiftStatus.TAKEN, "taken"),
        }
        update = "SET shift_status = :available"
        if employee is not None:
            condition += " AND employee = :employee"
            vals["employee"] = employee
        if ref is not None:
            update += ", release_ref = :ref"
            vals["ref"] = ref
        if sent:
            update += f", {MESSAGE_AT} = :sent"
            condition += _NOT_CHANGED_SINCE
            vals["sent"] = sent
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"shift_id": {"S": shift_id}},
                UpdateExpression=f"{update} REMOVE employee, booked_at, booking_ref",
                ConditionExpression=condition,
                ExpressionAttributeValues=values(**vals),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = from_item(exc.response.get("Item", {}))  # type: ignore[arg-type]
            if not old:
                stored = self._stored_id(shift_id)
                if stored is None:
                    return DropOutcome.UNKNOWN
                return self.release(stored, employee, ref=ref, sent=sent)
            if ref is not None and old.get("release_ref") == ref:
                return DropOutcome.RELEASED
            return DropOutcome.NOT_YOURS
        return DropOutcome.RELEASED

    def _stored_id(self, code: str) -> str | None:
        """The id of the shift typed as ``code`` in another case (``xyz123``), if there is one."""
        others = id_spellings(code)
        found = self.get_many(others) if others else {}
        return next((i for i in others if i in found), None)

    def _query_status(self, status: str, after: str | None, **extra: Any) -> dict[str, Any]:
        key = "shift_status = :status"
        vals: dict[str, Any] = {"status": status}
        if after is not None:
            key += " AND shift_id > :after"
            vals["after"] = after
        return dict(
            TableName=self.table,
            IndexName=STATUS_INDEX,
            KeyConditionExpression=key,
            ExpressionAttributeValues=values(**vals),
            **extra,
        )

    def open_page(self, after: str | None, limit: int) -> tuple[list[Shift], bool]:
        """Up to ``limit`` available shifts after ``after``, in id order (a Query a spelling)."""
        shifts: list[Shift] = []
        more = False
        for spelling in SPELLINGS[ShiftStatus.AVAILABLE]:
            resp = self.client.query(**self._query_status(spelling, after, Limit=limit))
            shifts += [shift_from_item(from_item(i)) for i in resp.get("Items", [])]
            more = more or "LastEvaluatedKey" in resp
        shifts.sort(key=lambda s: s.shift_id)
        return shifts[:limit], more or len(shifts) > limit

    def count_open(self, after: str | None) -> int:
        """Available shifts after ``after``, counted on the index (no items returned)."""
        return self._count(ShiftStatus.AVAILABLE, after)

    def count_status(self, status: str) -> int:
        """Every shift with ``status``, counted on the index (no items returned)."""
        return self._count(status, None)

    def _count(self, status: str, after: str | None) -> int:
        total = 0
        for spelling in SPELLINGS[ShiftStatus(status)]:
            kwargs = self._query_status(spelling, after, Select="COUNT")
            while True:
                resp = self.client.query(**kwargs)
                total += resp.get("Count", 0)
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return total

    def by_status(self, status: str) -> Iterator[Shift]:
        """Every shift stored with exactly ``status``, through the status index, page by page."""
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(**self._query_status(status, None)):
            for item in page.get("Items", []):
                yield shift_from_item(from_item(item))

    def get(self, shift_id: str) -> Shift | None:
        """One shift by id (strongly consistent)."""
        resp = self.client.get_item(
            TableName=self.table, Key={"shift_id": {"S": shift_id}}, ConsistentRead=True
        )
        item = resp.get("Item")
        return shift_from_item(from_item(item)) if item else None

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The existing shifts among ``shift_ids`` (BatchGetItem, 100 keys a call)."""
        found: dict[str, Shift] = {}
        ids = list(dict.fromkeys(shift_ids))
        for start in range(0, len(ids), 100):
            keys: list[Any] = [{"shift_id": {"S": i}} for i in ids[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    shift = shift_from_item(from_item(item))
                    found[shift.shift_id] = shift
                request = dict(resp.get("UnprocessedKeys") or {})
        return found

    def put(self, shift: Shift, *, replace: bool = False) -> None:
        """Write a shift; refuse to overwrite an existing id unless ``replace``."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": _shift_item(shift)}
        if not replace:
            kwargs["ConditionExpression"] = "attribute_not_exists(shift_id)"
        try:
            self.client.put_item(**kwargs)
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ShiftExists(f"shift {shift.shift_id} already exists") from exc
            raise

    def delete(self, shift_id: str) -> None:
        """Delete a shift that exists."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"shift_id": {"S": shift_id}},
                ConditionExpression="attribute_exists(shift_id)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ShiftNotFound(f"no shift {shift_id}") from exc
            raise

    def set_info(self, shift_id: str, shift_info: str) -> Shift:
        """Change an existing shift's text only, keeping any booking; return the new shift."""
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key={"shift_id": {"S": shift_id}},
                UpdateExpression="SET shift_info = :info",
                ConditionExpression="attribute_exists(shift_id)",
                ExpressionAttributeValues=values(info=shift_info),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ShiftNotFound(f"no shift {shift_id}") from exc
            raise
        return shift_from_item(from_item(resp["Attributes"]))

    # -- operator changes: conditional on the shift as it was read -----------------------------

    def release_as_seen(self, seen: Shift) -> None:
        """Taken -> available, only while the shift is as ``seen`` (same status, holder and
        booking time); raise ShiftChanged (with the shift as it is now) or ShiftNotFound."""
        condition, vals = _as_seen(seen)
        vals["available"] = ShiftStatus.AVAILABLE.value
        self._write_as_seen(
            seen,
            self.client.update_item,
            UpdateExpression="SET shift_status = :available "
            "REMOVE employee, booked_at, booking_ref",
            ConditionExpression=condition,
            ExpressionAttributeValues=values(**vals),
        )

    def delete_as_seen(self, seen: Shift) -> None:
        """Delete the shift, only while it is as ``seen`` (status, holder, booking time and
        info); raise ShiftChanged (with the shift as it is now) or ShiftNotFound."""
        condition, vals = _as_seen(seen)
        condition += " AND shift_info = :info"
        vals["info"] = seen.shift_info
        self._write_as_seen(
            seen,
            self.client.delete_item,
            ConditionExpression=condition,
            ExpressionAttributeValues=values(**vals),
        )

    def _write_as_seen(self, seen: Shift, call: Any, **request: Any) -> None:
        try:
            call(
                TableName=self.table,
                Key={"shift_id": {"S": seen.shift_id}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **request,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = from_item(exc.response.get("Item", {}))  # type: ignore[arg-type]
            if not old:
                raise ShiftNotFound(f"no shift {seen.shift_id}") from exc
            raise ShiftChanged(f"shift {seen.shift_id} changed", shift_from_item(old)) from exc

    # -- bulk import ----------------------------------------------------------------------------

    backoff_seconds: float = 0.05
    max_tries: int = 8

    def existing_ids(self, shift_ids: Sequence[str]) -> set[str]:
        """Which of ``shift_ids`` exist: strongly consistent BatchGetItem, 100 keys a call,
        only the key projected; unprocessed keys are asked again with backoff."""
        found: set[str] = set()
        ids = list(dict.fromkeys(shift_ids))
        for start in range(0, len(ids), BATCH_GET):
            keys: list[Any] = [{"shift_id": {"S": i}} for i in ids[start : start + BATCH_GET]]
            request: dict[str, Any] = {
                self.table: {
                    "Keys": keys,
                    "ConsistentRead": True,
                    "ProjectionExpression": "shift_id",
                }
            }
            for attempt in range(self.max_tries):
                if attempt:
                    self._pause(attempt)
                resp = self.client.batch_get_item(RequestItems=request)
                found.update(i["shift_id"]["S"] for i in resp["Responses"].get(self.table, []))
                request = dict(resp.get("UnprocessedKeys") or {})
                if not request:
                    break
            else:
                left = len(request[self.table]["Keys"])
                raise ShiftsmsError(f"DynamoDB left {left} reads unprocessed (throttled)")
        return found

    def put_many(
        self, shifts: Sequence[Shift], on_written: Callable[[list[str]], None] | None = None
    ) -> None:
        """Write ``shifts`` with BatchWriteItem, 25 a call, retrying unprocessed items with
        backoff; ``on_written`` gets the ids each call wrote.

        Unconditional (BatchWriteItem has no conditions): check that the ids are new first
        (``existing_ids``); an id created by someone else in between is overwritten.
        """
        for start in range(0, len(shifts), BATCH_WRITE):
            pending: list[Any] = [
                {"PutRequest": {"Item": _shift_item(s)}}
                for s in shifts[start : start + BATCH_WRITE]
            ]
            for attempt in range(self.max_tries):
                if attempt:
                    self._pause(attempt)
                resp = self.client.batch_write_item(RequestItems={self.table: pending})
                left = list((resp.get("UnprocessedItems") or {}).get(self.table, []))
                left_ids = {r["PutRequest"]["Item"]["shift_id"]["S"] for r in left}
                done = [
                    r["PutRequest"]["Item"]["shift_id"]["S"]
                    for r in pending
                    if r["PutRequest"]["Item"]["shift_id"]["S"] not in left_ids
                ]
                if on_written is not None and done:
                    on_written(done)
                pending = left
                if not pending:
                    break
            else:
                raise ShiftsmsError(f"DynamoDB left {len(pending)} writes unprocessed (throttled)")

    def _pause(self, attempt: int) -> None:
        time.sleep(min(2.0, self.backoff_seconds * 2 ** (attempt - 1)))

    # -- listing --------------------------------------------------------------------------------

    def first_by_status(self, status: str, limit: int) -> tuple[list[Shift], bool]:
        """Up to ``limit`` shifts with ``status`` in id order, and whether more may follow."""
        kwargs = self._query_status(status, None, Limit=limit)
        shifts: list[Shift] = []
        while True:
            resp = self.client.query(**kwargs)
            shifts.extend(shift_from_item(from_item(i)) for i in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp or len(shifts) >= limit:
                return shifts, "LastEvaluatedKey" in resp
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            kwargs["Limit"] = limit - len(shifts)

    def count_by_status(self, status: str, after: str | None = None) -> int:
        """Shifts with ``status`` (ids after ``after``), counted on the index."""
        total = 0
        kwargs = self._query_status(status, after, Select="COUNT")
        while True:
            resp = self.client.query(**kwargs)
            total += resp.get("Count", 0)
            if "LastEvaluatedKey" not in resp:
                return total
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


BATCH_GET = 100
BATCH_WRITE = 25


def _shift_item(shift: Shift) -> dict[str, Any]:
    """The stored item: the sample's attributes, the optional time, place and role, and the
    ``by-start`` index key (absent values are not written)."""
    return to_item(
        {
            "shift_id": shift.shift_id,
            "shift_info": shift.shift_info,
            "shift_status": shift.shift_status,
            "employee": shift.employee,
            "booked_at": shift.booked_at,
            "starts_at": shift.starts_at,
            "ends_at": shift.ends_at,
            "location": shift.location,
            "role": shift.role,
            START_KEY: start_key(shift),
        }
    )


def _as_seen(seen: Shift) -> tuple[str, dict[str, Any]]:
    """A condition (and its values) that holds while the stored shift is as ``seen``:
    same status (in any spelling read as it), holder and booking time."""
    parts = ["attribute_exists(shift_id)"]
    vals: dict[str, Any] = {}
    if seen.shift_status is None:  # neither status (or none): still neither
        parts += [f"NOT {_is(s, f'seen_{s.value}')}" for s in ShiftStatus]
        for s in ShiftStatus:
            vals.update(_spelled(s, f"seen_{s.value}"))
    else:
        parts.append(_is(seen.shift_status, "seen_status"))
        vals.update(_spelled(seen.shift_status, "seen_status"))
    for name, value in (("employee", seen.employee), ("booked_at", seen.booked_at)):
        if value is None:
            parts.append(f"attribute_not_exists({name})")
        else:
            parts.append(f"{name} = :seen_{name}")
            vals[f"seen_{name}"] = value
    return " AND ".join(parts), vals
