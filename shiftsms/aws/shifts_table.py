"""The shifts table (``shift_id``, ``shift_info``, ``shift_status``, ``employee``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.decode import ItemReader, is_e164, warn
from shiftsms.aws.dynamo import from_item, is_condition_failure, to_item, values
from shiftsms.core.commands import InvalidShiftId, validate_shift_id
from shiftsms.core.models import AVAILABLE, TAKEN, BookingOutcome, DropOutcome, Shift
from shiftsms.core.phone import redact
from shiftsms.errors import ShiftExists, ShiftNotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_INDEX = "by-status"


def shift_from_item(item: dict[str, Any]) -> Shift:
    """A stored item (as plain values) to a Shift, whatever was typed into it by hand.

    Fields of another type are read as best they can be or left out (see
    :mod:`shiftsms.aws.decode`), with one warning naming the shift; an ``employee`` that is
    not E.164 is shown as stored (and warned about: that holder cannot DROP it by SMS).
    """
    read = ItemReader(item)
    shift_id = read.text("shift_id") or ""
    info = read.text("shift_info", "") or ""
    status = read.text("shift_status", AVAILABLE) or AVAILABLE
    employee = read.text("employee")
    if employee and not is_e164(employee):
        read.problems.append("employee is not an E.164 number")
    shift = Shift(
        shift_id=shift_id,
        shift_info=info,
        shift_status=status,
        employee=employee or None,
        booked_at=read.text("booked_at") or None,
    )
    if read.problems:
        warn("shift", shift_id, read.problems)
    return shift


def _offerable(item: dict[str, Any]) -> Shift | None:
    """An open-shifts item to a Shift staff can book by text, or None (skipped, warned)."""
    shift = shift_from_item(item)
    try:
        validate_shift_id(shift.shift_id)
    except InvalidShiftId:
        why = "not a shift code staff can text back (2-20 letters, digits or '-', no keyword)"
        warn("shift", redact(shift.shift_id), [why], skipped=True)
        return None
    return shift


class ShiftsTable:
    """ShiftStore on DynamoDB: bookings are single conditional writes."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def book(self, shift_id: str, employee: str, booking_ref: str, at: datetime) -> BookingOutcome:
        """Available -> taken by one conditional update; on a lost race, say why."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"shift_id": {"S": shift_id}},
                UpdateExpression=(
                    "SET shift_status = :taken, employee = :employee, "
                    "booked_at = :at, booking_ref = :ref"
                ),
                ConditionExpression="attribute_exists(shift_id) AND shift_status = :available",
                ExpressionAttributeValues=values(
                    taken=TAKEN,
                    available=AVAILABLE,
                    employee=employee,
                    at=at.isoformat(timespec="seconds"),
                    ref=booking_ref,
                ),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old = from_item(exc.response.get("Item", {}))  # type: ignore[arg-type]
            if not old:
                return BookingOutcome.UNKNOWN
            if old.get("employee") == employee:
                same = old.get("booking_ref") == booking_ref
                return BookingOutcome.BOOKED if same else BookingOutcome.ALREADY_YOURS
            return BookingOutcome.TAKEN
        return BookingOutcome.BOOKED

    def release(
        self, shift_id: str, employee: str | None = None, *, ref: str | None = None
    ) -> DropOutcome:
        """Taken -> available (only by its holder when ``employee`` is given).

        ``ref`` (the inbound message id) is stored on the shift, so a retried DROP reports
        RELEASED again rather than "not yours".
        """
        condition = "attribute_exists(shift_id) AND shift_status = :taken"
        vals: dict[str, Any] = {"available": AVAILABLE, "taken": TAKEN}
        update = "SET shift_status = :available"
        if employee is not None:
            condition += " AND employee = :employee"
            vals["employee"] = employee
        if ref is not None:
            update += ", release_ref = :ref"
            vals["ref"] = ref
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
                return DropOutcome.UNKNOWN
            if ref is not None and old.get("release_ref") == ref:
                return DropOutcome.RELEASED
            return DropOutcome.NOT_YOURS
        return DropOutcome.RELEASED

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
        """Up to ``limit`` available shifts after ``after`` (a Query on the status index).

        A shift whose id staff could not text back (not a valid code, or an SMS keyword) is
        skipped with a warning, and the page is filled up from the items after it.
        """
        shifts: list[Shift] = []
        kwargs = self._query_status(AVAILABLE, after, Limit=limit)
        while True:
            resp = self.client.query(**kwargs)
            shifts += [s for i in resp.get("Items", []) if (s := _offerable(from_item(i)))]
            last = resp.get("LastEvaluatedKey")
            if last is None or len(shifts) >= limit:
                return shifts, last is not None
            kwargs.update(ExclusiveStartKey=last, Limit=limit - len(shifts))

    def count_open(self, after: str | None) -> int:
        """Available shifts after ``after``, counted on the index (no items returned)."""
        return self._count(AVAILABLE, after)

    def count_status(self, status: str) -> int:
        """Every shift with ``status``, counted on the index (no items returned)."""
        return self._count(status, None)

    def _count(self, status: str, after: str | None) -> int:
        total = 0
        kwargs = self._query_status(status, after, Select="COUNT")
        while True:
            resp = self.client.query(**kwargs)
            total += resp.get("Count", 0)
            if "LastEvaluatedKey" not in resp:
                return total
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def by_status(self, status: str) -> Iterator[Shift]:
        """Every shift with ``status``, through the status index, page by page."""
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
        item = to_item(
            {
                "shift_id": shift.shift_id,
                "shift_info": shift.shift_info,
                "shift_status": shift.shift_status,
                "employee": shift.employee,
                "booked_at": shift.booked_at,
            }
        )
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": item}
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
