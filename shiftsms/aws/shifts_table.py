"""The shifts table (``shift_id``, ``shift_info``, ``shift_status``, ``employee``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item, is_condition_failure, to_item, values
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, ShiftStatus
from shiftsms.errors import ShiftExists, ShiftNotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_INDEX = "by-status"
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
    )


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
