"""The shifts table (``shift_id``, ``shift_info``, ``shift_status``, ``employee``)."""

from __future__ import annotations

import dataclasses
import heapq
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.decode import ItemReader, is_e164, warn
from shiftsms.aws.dynamo import RemovalMark, from_item, is_condition_failure, to_item, values
from shiftsms.core.booking_rules import may_work
from shiftsms.core.commands import ALIAS_PREFIX, InvalidShiftId, is_alias, validate_shift_id
from shiftsms.core.held_shifts import RETENTION, HeldShift, add, prune, remove
from shiftsms.core.held_shifts import from_item as held_from_item
from shiftsms.core.held_shifts import to_item as held_item
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, ShiftStatus
from shiftsms.core.phone import redact
from shiftsms.core.shift_times import (
    ShiftTimeError,
    from_iso,
    has_started,
    sort_key,
    span_from_item,
    to_iso,
)
from shiftsms.core.waitlist import WAITLIST_CAP, JoinOutcome, JoinResult, WaitView, join
from shiftsms.errors import ShiftChanged, ShiftExists, ShiftNotFound, ShiftsmsError
from shiftsms.ports import BookingCheck, BookingResult, OpenPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger("shiftsms.shifts")

STATUS_INDEX = "by-status"
# Open shifts soonest first: HASH shift_status, RANGE START_KEY (see start_key), projection ALL.
START_INDEX = "by-start"
START_KEY = "start_key"
# Sorts after every UTC start ("2026-...Z"): untimed shifts written by shiftsms list last.
UNTIMED_KEY = "~untimed"
# On the person (allow-list) item: the timed shifts they hold, and a version every change bumps.
HELD_SHIFTS = "held_shifts"
HELD_VERSION = "held_version"
# Transactions tried before giving up when the person item keeps changing under them.
TRANSACT_ATTEMPTS = 5
# Console items (no start_key) are found on by-status, this many index items at a time, at
# most CONSOLE_WINDOWS windows a listing: the cost of a REQUEST stays bounded however many
# shifts are past.
CONSOLE_WINDOW = 25
CONSOLE_WINDOWS = 2

# A console item whose id is typed in another case than staff text it (``xYz123``) is found
# through its alias item, ``key#XYZ123`` with ``stored_id`` = ``xYz123``: one GetItem whatever
# the case. The shift-key function writes it from the table's stream when a console item (one
# without start_key) is inserted (``shiftsms.handlers.shift_keys``); shiftsms's own ids are
# upper case and need none. An alias has no status and no start_key: no index, listing or
# count reads it, and its id is no shift code staff could text.
ALIAS_TARGET = "stored_id"

# When the inbound message that last changed the shift was sent (see InboundSms.sent_at).
MESSAGE_AT = "message_at"
_NOT_CHANGED_SINCE = f" AND (attribute_not_exists({MESSAGE_AT}) OR {MESSAGE_AT} < :sent)"

# The waitlist of a taken shift (E.164 numbers in joining order), the person an available shift
# is held for and until when (ISO 8601 UTC), and a version every waitlist or hold change bumps.
WAITLIST = "waitlist"
HELD_FOR = "held_for"
HELD_UNTIL = "held_until"
WAIT_VERSION = "wait_version"
# Only the holder may book a held shift; one given back with a waitlist not yet offered down
# is booked by nobody until it is (see shiftsms.core.waitlist).
_NOT_RESERVED = (
    f"({HELD_FOR} = :employee OR (attribute_not_exists({HELD_FOR})"
    f" AND (attribute_not_exists({WAITLIST}) OR size({WAITLIST}) = :none)))"
)
# Waitlist changes retried when the item keeps changing under them.
WAIT_ATTEMPTS = 8


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


def key_of(shift_id: str) -> str:
    """The code staff text for a shift id: the id in upper case."""
    return shift_id.upper()


def alias_id(shift_id: str) -> str:
    """The id of the alias item that finds ``shift_id`` from the code staff text."""
    return ALIAS_PREFIX + key_of(shift_id)


def id_spellings(code: str) -> list[str]:
    """Other ways an operator may have typed the id ``code`` staff text (upper case)."""
    if code != code.upper():
        return []  # already one of the other spellings
    return [i for i in dict.fromkeys([code.lower(), code.capitalize()]) if i != code]


# The attributes a Shift is read from (what a listing asks DynamoDB for): its fields are
# stored under their own names, the sample's among them.
SHIFT_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(Shift))


def shift_from_item(item: dict[str, Any]) -> Shift:
    """A stored item (as plain values) to a Shift, whatever was typed into it by hand.

    Fields of another type are read as best they can be or left out (see
    :mod:`shiftsms.aws.decode`), with one warning naming the shift; an ``employee`` that is
    not E.164 is shown as stored (and warned about: that holder cannot DROP it by SMS).
    """
    read = ItemReader(item)
    shift_id = read.text("shift_id") or ""
    info = read.text("shift_info", "") or ""
    # No status, or a word that is neither: None (not offered; shown as "no status").
    status = ShiftStatus.read(read.text("shift_status"))
    employee = read.text("employee")
    if employee and not is_e164(employee):
        read.problems.append("employee is not an E.164 number")
    shift = Shift(
        shift_id=shift_id,
        shift_info=info,
        shift_status=status,
        employee=employee or None,
        booked_at=read.text("booked_at") or None,
        starts_at=read.text("starts_at") or None,
        ends_at=read.text("ends_at") or None,
        location=read.text("location") or None,
        role=read.text("role") or None,
    )
    if read.problems:
        warn("shift", shift_id, read.problems)
    return shift


def _offerable(item: dict[str, Any]) -> Shift | None:
    """An open-shifts item to a Shift staff can book by text, or None (skipped, warned)."""
    shift = shift_from_item(item)
    return shift if textable(shift) else None


def textable(shift: Shift) -> bool:
    """True when staff could text ``shift``'s id back; False (warned: skipped) when not."""
    try:
        validate_shift_id(shift.shift_id)
    except InvalidShiftId:
        why = "not a shift code staff can text back (2-20 letters, digits or '-', no keyword)"
        warn("shift", redact(shift.shift_id), [why], skipped=True)
        return False
    return True


def start_key(shift: Shift) -> str:
    """The ``by-start`` index sort key: the UTC start of a timed shift (string order is time
    order), :data:`UNTIMED_KEY` for an untimed one, so untimed shifts sort after timed ones."""
    if shift.starts_at is None:
        return UNTIMED_KEY
    return sort_key(from_iso(shift.starts_at))


def _released_before(old: dict[str, Any], employee: str | None) -> DropOutcome:
    """A retried DROP whose first delivery released the shift: RELEASED, unless the sender
    has booked it again since (then it is still theirs, and the reply says so)."""
    rebooked = ShiftStatus.read(old.get("shift_status")) is ShiftStatus.TAKEN
    if rebooked and employee is not None and old.get("employee") == employee:
        return DropOutcome.STILL_YOURS
    return DropOutcome.RELEASED


class ShiftsTable:
    """ShiftStore on DynamoDB: an untimed booking is one conditional write; a timed one is a
    transaction with the person item (see :meth:`book_checked`)."""

    def __init__(self, client: DynamoDBClient, table_name: str, staff_table: str = "") -> None:
        """``staff_table``: the allow list, whose items hold each person's booked timed shifts
        (written in the same transaction as the shift); empty: no person items are kept."""
        self.client = client
        self.table = table_name
        self.staff_table = staff_table

    def book(
        self, shift_id: str, employee: str, booking_ref: str, at: datetime, *, sent: str = ""
    ) -> BookingOutcome:
        """Available -> taken by one conditional update; on a lost race, say why.

        With ``sent`` (when the message was sent), only if no later message changed the shift:
        a booking retried after the sender's DROP does not book again.
        """
        update, condition, vals = _booking_write(employee, booking_ref, at, sent)
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
            return _lost(old, employee, booking_ref)
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
        request = {
            "UpdateExpression": f"{update} REMOVE employee, booked_at, booking_ref",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values(**vals),
        }
        old: dict[str, Any] | None
        if employee is not None and self.staff_table:
            # The holder's held list loses the shift in the same transaction.
            old = self._shift_write(
                "Update", shift_id, request, employee, lambda held: remove(held, shift_id)
            )
        else:
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key={"shift_id": {"S": shift_id}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **request,  # type: ignore[arg-type]
                )
                old = None
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                old = from_item(exc.response.get("Item", {}))  # type: ignore[arg-type]
        if old is not None:
            if not old:
                stored = self._stored_id(shift_id)
                if stored is None:
                    return DropOutcome.UNKNOWN
                return self.release(stored, employee, ref=ref, sent=sent)
            if ref is not None and old.get("release_ref") == ref:
                return _released_before(old, employee)
            return DropOutcome.NOT_YOURS
        return DropOutcome.RELEASED

    def _stored_id(self, code: str) -> str | None:
        """The id of the shift typed as ``code`` in another case (``xYz123``), if there is one."""
        return self._stored_ids([code]).get(code)

    def _stored_ids(self, codes: Sequence[str]) -> dict[str, str]:
        """The stored id of each of ``codes`` (as staff text them) whose shift was typed in
        another case, from one BatchGetItem of their lower case and capitalised spellings and
        their alias items: a spelling that exists first, else the id an alias names."""
        wanted = list(dict.fromkeys(codes))
        keys = [i for code in wanted for i in (*id_spellings(code), alias_id(code))]
        read = self._raw_many(keys, consistent=True) if keys else []
        items = {str(item["shift_id"]): item for item in read}
        found: dict[str, str] = {}
        for code in wanted:
            spelled = next((i for i in id_spellings(code) if i in items), None)
            target = items.get(alias_id(code), {}).get(ALIAS_TARGET)
            if spelled is not None:
                found[code] = spelled
            elif isinstance(target, str) and target != code and key_of(target) == key_of(code):
                found[code] = target
        return found

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
        """Up to ``limit`` available shifts after ``after``, in id order (a Query a spelling).

        A shift whose id staff could not text back (not a valid code, or an SMS keyword) is
        skipped with a warning, and the page is filled up from the items after it.
        """
        shifts: list[Shift] = []
        more = False
        for spelling in SPELLINGS[ShiftStatus.AVAILABLE]:
            kwargs = self._query_status(spelling, after, Limit=limit)
            found: list[Shift] = []
            while True:
                resp = self.client.query(**kwargs)
                found += [s for i in resp.get("Items", []) if (s := _offerable(from_item(i)))]
                last = resp.get("LastEvaluatedKey")
                if last is None or len(found) >= limit:
                    more = more or last is not None
                    break
                kwargs.update(ExclusiveStartKey=last, Limit=limit - len(found))
            shifts += found
        shifts.sort(key=lambda s: s.shift_id)
        return shifts[:limit], more or len(shifts) > limit

    def open_listing(
        self, roles: Sequence[str], now: datetime, cursor: str | None, limit: int
    ) -> OpenPage:
        """Up to ``limit`` open shifts a person with ``roles`` may book, after ``cursor``.

        Timed shifts that have not started come first, soonest first, then the untimed ones
        shiftsms wrote: both from the ``by-start`` index, whose key condition starts after
        ``now``, so past shifts are never read. Console items (no ``start_key``) follow, read
        from ``by-status`` in bounded windows. A shift whose id staff could not text back is
        skipped with a warning, as in :meth:`open_page`. ``cursor`` is one of
        :attr:`OpenPage.cursors` (``t:KEY ID`` on by-start, ``c:ID`` among console items);
        anything else starts over.
        """
        kind, key, after_id = _read_cursor(cursor)
        after: str | None = after_id
        picked: list[tuple[Shift, str]] = []
        beyond = 0
        known: set[str] = set()  # ids on by-start: not console items, no need to read them
        if kind == "t":
            for shift in self._by_start(now, key, after_id, roles, known):
                if len(picked) < limit:
                    picked.append((shift, f"t:{start_key(shift)} {shift.shift_id}"))
                else:
                    beyond += 1
            after = None
        console, more, last_read = self._console(after, roles, now, known)
        for shift in console:
            if len(picked) < limit:
                picked.append((shift, f"c:{shift.shift_id}"))
            else:
                beyond += 1
        cursors = [p[1] for p in picked]
        tail = cursors[-1] if cursors else ""
        if more and not beyond:
            # Console items may lie beyond the ids read: MORE goes on from the last one read.
            beyond = 1
            tail = f"c:{last_read or ''}"
        return OpenPage([p[0] for p in picked], cursors, beyond, tail, exact=not more)

    def _by_start(
        self, now: datetime, key: str, after: str, roles: Sequence[str], known: set[str]
    ) -> Iterator[Shift]:
        """Open shifts on by-start from (key, after) on, starting after ``now``, that
        ``roles`` may work, merged across the status spellings; ``known`` gets every id read."""
        now_key = sort_key(now)
        streams = [
            self._start_stream(spelling, now_key, key, after)
            for spelling in SPELLINGS[ShiftStatus.AVAILABLE]
        ]
        for _, shift in heapq.merge(*streams, key=lambda pair: pair[0]):
            known.add(shift.shift_id)
            if may_work(shift.role, roles) and textable(shift):
                yield shift

    def _start_stream(
        self, spelling: str, now_key: str, key: str, after: str
    ) -> Iterator[tuple[tuple[str, str], Shift]]:
        if key > now_key:
            cond, vals = "shift_status = :s AND start_key >= :k", {"s": spelling, "k": key}
        else:
            cond, vals = "shift_status = :s AND start_key > :k", {"s": spelling, "k": now_key}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": START_INDEX,
            "KeyConditionExpression": cond,
            "ExpressionAttributeValues": values(**vals),
        }
        while True:
            resp = self.client.query(**kwargs)
            for raw in resp.get("Items", []):
                item = from_item(raw)
                position = (str(item[START_KEY]), str(item["shift_id"]))
                if position > (key, after) and not _reserved(item):
                    yield position, shift_from_item(item)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _console(
        self, after: str | None, roles: Sequence[str], now: datetime, known: set[str]
    ) -> tuple[list[Shift], bool, str | None]:
        """Available console items (no start_key) with ids after ``after`` among the next
        CONSOLE_WINDOWS windows of by-status; whether it holds more beyond what was read, and
        the last id read. Ids in ``known`` (read on by-start) are not fetched."""
        found: list[Shift] = []
        cursor = after
        for _ in range(CONSOLE_WINDOWS):
            ids, more = self._status_window(cursor)
            if ids:
                for item in self._raw_many([i for i in ids if i not in known]):
                    if START_KEY in item or _reserved(item):
                        continue  # on by-start, or held for someone waiting
                    shift = shift_from_item(item)
                    if not may_work(shift.role, roles):
                        continue  # not theirs
                    try:
                        if has_started(span_from_item(item), now):
                            continue
                    except ShiftTimeError:
                        continue
                    if textable(shift):  # else skipped: staff could not text its id back
                        found.append(shift)
                cursor = ids[-1]
            if not more:
                return found, False, cursor
        return found, True, cursor

    def _status_window(self, after: str | None) -> tuple[list[str], bool]:
        """The next CONSOLE_WINDOW ids on by-status's available partitions after ``after``."""
        ids: list[str] = []
        cut: str | None = None
        for spelling in SPELLINGS[ShiftStatus.AVAILABLE]:
            resp = self.client.query(
                **self._query_status(
                    spelling, after, Limit=CONSOLE_WINDOW, ProjectionExpression="shift_id"
                )
            )
            got = [str(i["shift_id"]["S"]) for i in resp.get("Items", [])]
            ids += got
            if "LastEvaluatedKey" in resp and got:
                cut = got[-1] if cut is None else min(cut, got[-1])
        ordered = sorted(set(ids))
        if cut is not None:
            ordered = [i for i in ordered if i <= cut]
        return ordered, cut is not None

    def _raw_many(self, ids: Sequence[str], *, consistent: bool = False) -> list[dict[str, Any]]:
        """The items (plain values) among ``ids``, in id order (BatchGetItem)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), BATCH_GET):
            keys: list[Any] = [{"shift_id": {"S": i}} for i in ids[start : start + BATCH_GET]]
            # A list is eventually consistent (half the cost, and it may lag a write by a
            # moment); a lookup by code is not.
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": consistent}}
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for raw in resp.get("Responses", {}).get(self.table, []):
                    item = from_item(raw)
                    found[str(item["shift_id"])] = item
                request = dict(resp.get("UnprocessedKeys") or {})
        return [found[i] for i in sorted(found)]

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

    def ids_by_status(self, status: str) -> Iterator[str]:
        """The id of every shift stored with exactly ``status``, through the status index
        (only the key read), page by page."""
        paginator = self.client.get_paginator("query")
        request = self._query_status(status, None, ProjectionExpression="shift_id")
        for page in paginator.paginate(**request):
            for item in page.get("Items", []):
                yield item["shift_id"]["S"]

    def full_by_status(self, status: str) -> list[Shift]:
        """Every shift stored with exactly ``status``, with all its attributes, in id order.

        ``by-start`` projects every attribute of the shifts shiftsms wrote; ``by-status``
        (whose projection lacks times, place and role) is read for its keys only, to find the
        items typed in the console, which are then read by key. Reads grow with the shifts
        listed, not one request per 100 of them.
        """
        found: dict[str, Shift] = {}
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            IndexName=START_INDEX,
            KeyConditionExpression="shift_status = :s",
            ExpressionAttributeValues=values(s=status),
        )
        for page in pages:
            for item in page.get("Items", []):
                shift = shift_from_item(from_item(item))
                found[shift.shift_id] = shift
        ids = list(self.ids_by_status(status))
        console = [i for i in ids if i not in found]
        if console:
            found.update(self._exact_many(console))
        return [found[i] for i in ids if i in found]

    def every_shift(self) -> list[Shift]:
        """Every shift that has a status (in any spelling), in id order: one Scan, page by
        page, the alias items left out.

        For a listing of every shift, which reads each of them anyway: each item is read
        once (only the attributes a Shift is read from), where the two indexes (``by-start``
        in full, ``by-status`` for the console's items) read each twice. Never on a path that
        handles a message.
        """
        found: list[Shift] = []
        names = {f"#a{n}": name for n, name in enumerate(SHIFT_ATTRIBUTES)}
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        for page in pages:
            for item in page.get("Items", []):
                plain = from_item(item)
                if is_alias(str(plain.get("shift_id", ""))):
                    continue
                shift = shift_from_item(plain)
                if shift.shift_id and shift.shift_status is not None:
                    found.append(shift)
        return sorted(found, key=lambda s: s.shift_id)

    def get(self, shift_id: str) -> Shift | None:
        """One shift by id (strongly consistent), or by the code staff text for it when its
        id was typed in another case (``XYZ123`` finds ``xYz123``)."""
        resp = self.client.get_item(
            TableName=self.table, Key={"shift_id": {"S": shift_id}}, ConsistentRead=True
        )
        item = resp.get("Item")
        if item:
            return shift_from_item(from_item(item))
        stored = self._stored_id(shift_id)
        return self.get(stored) if stored is not None else None

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The existing shifts among ``shift_ids``, keyed by the id asked for; one whose id
        was typed in another case is found as :meth:`get` does."""
        found = self._exact_many(shift_ids)
        missing = [i for i in dict.fromkeys(shift_ids) if i not in found]
        if missing:
            stored = self._stored_ids(missing)
            others = self._exact_many(list(stored.values()))
            found.update({code: others[i] for code, i in stored.items() if i in others})
        return found

    def _exact_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The existing shifts among ``shift_ids``, ids matched exactly (BatchGetItem, 100
        keys a call)."""
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
        """Delete a shift that exists (marked first with who removes it)."""
        key = {"shift_id": {"S": shift_id}}
        mark = RemovalMark(self.client)
        try:
            self.client.update_item(
                TableName=self.table, Key=key, **mark.request("attribute_exists(shift_id)", {})
            )
            self.client.delete_item(
                TableName=self.table,
                Key=key,
                ConditionExpression=mark.condition,
                ExpressionAttributeNames=mark.names,
                ExpressionAttributeValues=mark.values,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise ShiftNotFound(f"no shift {shift_id}") from exc
            raise

    def set_alias(self, shift_id: str) -> bool:
        """Write the alias item that finds ``shift_id`` from the code staff text, only while
        that shift exists (one transaction); False when it does not (nothing written)."""
        items: list[Any] = [
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": {"shift_id": {"S": shift_id}},
                    "ConditionExpression": "attribute_exists(shift_id)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item({"shift_id": alias_id(shift_id), ALIAS_TARGET: shift_id}),
                }
            },
        ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons: list[Any] = list(exc.response.get("CancellationReasons") or [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

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
        request = {
            "UpdateExpression": "SET shift_status = :available "
            "REMOVE employee, booked_at, booking_ref",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values(**vals),
        }
        if seen.employee and self.staff_table:
            self._transact_as_seen(seen, "Update", request)
            return
        self._write_as_seen(seen, self.client.update_item, **request)

    def delete_as_seen(self, seen: Shift) -> None:
        """Delete the shift, only while it is as ``seen`` (status, holder, booking time and
        info); raise ShiftChanged (with the shift as it is now) or ShiftNotFound."""
        condition, vals = _as_seen(seen)
        condition += " AND shift_info = :info"
        vals["info"] = seen.shift_info
        # who removes it, marked under the same condition; the delete goes only while marked
        mark = RemovalMark(self.client)
        self._write_as_seen(
            seen, self.client.update_item, **mark.request(condition, values(**vals))
        )
        request = {
            "ConditionExpression": f"{condition} AND {mark.condition}",
            "ExpressionAttributeNames": mark.names,
            "ExpressionAttributeValues": {**values(**vals), **mark.values},
        }
        if seen.employee and self.staff_table:
            self._transact_as_seen(seen, "Delete", request)
            return
        self._write_as_seen(seen, self.client.delete_item, **request)

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

    def _transact_as_seen(self, seen: Shift, kind: str, request: dict[str, Any]) -> None:
        """The operator write ``kind`` with the holder's person item losing the shift, in one
        transaction; raise ShiftChanged (with the shift as it is now) or ShiftNotFound."""
        assert seen.employee is not None
        old = self._shift_write(
            kind, seen.shift_id, request, seen.employee, lambda held: remove(held, seen.shift_id)
        )
        if old is None:
            return
        if not old:
            raise ShiftNotFound(f"no shift {seen.shift_id}")
        raise ShiftChanged(f"shift {seen.shift_id} changed", shift_from_item(old))

    def _shift_write(
        self,
        kind: str,
        shift_id: str,
        request: dict[str, Any],
        phone: str,
        change: Callable[[tuple[HeldShift, ...]], tuple[HeldShift, ...]],
    ) -> dict[str, Any] | None:
        """A conditional ``kind`` (Update or Delete) of the shift, in one TransactWriteItems
        with ``change`` applied to ``phone``'s held shifts (conditioned on their version).

        None when written; otherwise the shift as it was when its condition failed (plain
        values, ``{}`` if there is none). A person item changed meanwhile is read again and
        the transaction retried.
        """
        shift_write = {
            "TableName": self.table,
            "Key": {"shift_id": {"S": shift_id}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **request,
        }
        for _ in range(TRANSACT_ATTEMPTS):
            held, version, exists = self.held(phone)
            person = _person_item(self.staff_table, phone, change(held), version, exists)
            try:
                items: list[Any] = [{kind: shift_write}, person]
                self.client.transact_write_items(TransactItems=items)
                return None
            except ClientError as exc:
                shift_reason, retry = _cancellation(exc)
                if shift_reason is not None:
                    return from_item(shift_reason.get("Item", {}))
                if not retry:
                    raise
        raise ShiftsmsError("the holder's booked shifts kept changing; try again")

    # -- person items: the timed shifts each person holds --------------------------------------

    def held(self, phone: str) -> tuple[tuple[HeldShift, ...], int, bool]:
        """The timed shifts ``phone`` holds, their version, and whether the person exists
        (one strongly consistent GetItem on the allow list)."""
        resp = self.client.get_item(
            TableName=self.staff_table,
            Key={"phone": {"S": phone}},
            ConsistentRead=True,
            ProjectionExpression="phone, held_shifts, held_version",
        )
        item = from_item(resp.get("Item") or {})
        version = int(item.get(HELD_VERSION, 0))
        return held_from_item(item.get(HELD_SHIFTS)), version, bool(item)

    def book_checked(
        self,
        shift_id: str,
        employee: str,
        booking_ref: str,
        at: datetime,
        *,
        check: BookingCheck,
        sent: str = "",
        keep: timedelta = RETENTION,
    ) -> BookingResult:
        """Book ``shift_id`` if ``check`` finds no reason against it, at the moment of booking.

        Reads the shift and (for a timed one) the person's held shifts, runs ``check``, then
        writes the shift's conditional update and the person's new held list (conditioned on
        the version read) in one transaction: two bookings racing for one person cannot both
        pass against the same list. An untimed shift is one conditional update, as before.
        ``keep``: how long after its end a held shift is still kept on the person item.
        """
        item = self._item(shift_id)
        if item is None:
            stored = self._stored_id(shift_id)
            if stored is None:
                return BookingResult(BookingOutcome.UNKNOWN)
            return self.book_checked(
                stored, employee, booking_ref, at, check=check, sent=sent, keep=keep
            )
        if not _bookable(item, sent, employee):
            return BookingResult(_lost(item, employee, booking_ref))
        shift = shift_from_item(item)
        try:
            span = span_from_item(item)
        except ShiftTimeError:
            log.warning("shift times cannot be read", extra={"shift": shift.shift_id})
            return BookingResult(BookingOutcome.UNKNOWN)
        if span is None or not self.staff_table:
            refusals = check(shift, span, ())
            if refusals:
                return BookingResult(None, refusals)
            return BookingResult(self.book(shift.shift_id, employee, booking_ref, at, sent=sent))
        update, condition, vals = _booking_write(employee, booking_ref, at, sent)
        request = {
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values(**vals),
        }
        shift_write: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"shift_id": {"S": shift.shift_id}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            **request,
        }
        entry = HeldShift(shift.shift_id, span)
        for _ in range(TRANSACT_ATTEMPTS):
            held, version, exists = self.held(employee)
            refusals = check(shift, span, held)
            if refusals:
                return BookingResult(None, refusals)
            new = prune(add(held, entry), at, keep)
            person = _person_item(self.staff_table, employee, new, version, exists)
            try:
                items: list[Any] = [{"Update": shift_write}, person]
                self.client.transact_write_items(TransactItems=items)
                return BookingResult(BookingOutcome.BOOKED)
            except ClientError as exc:
                shift_reason, retry = _cancellation(exc)
                if shift_reason is not None:
                    old = from_item(shift_reason.get("Item", {}))
                    if not old:
                        return BookingResult(BookingOutcome.UNKNOWN)
                    return BookingResult(_lost(old, employee, booking_ref))
                if not retry:
                    raise
        raise ShiftsmsError("the sender's booked shifts kept changing; try again")

    def _item(self, shift_id: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.table, Key={"shift_id": {"S": shift_id}}, ConsistentRead=True
        )
        item = resp.get("Item")
        return from_item(item) if item else None

    # -- waitlists and held offers (attributes on the shift item) -------------------------------

    def waitlist_view(self, shift_id: str) -> WaitView | None:
        """The shift with its waitlist and hold (strongly consistent), or None; a code typed
        in another case finds the stored id."""
        item = self._item(shift_id)
        if item is None:
            stored = self._stored_id(shift_id)
            item = self._item(stored) if stored else None
        return _wait_view(item) if item is not None else None

    def join_waitlist(
        self,
        shift_id: str,
        phone: str,
        cap: int = WAITLIST_CAP,
        *,
        roles: Sequence[str] | None = None,
    ) -> JoinResult:
        """Put ``phone`` at the end of the shift's waitlist (no duplicates, at most ``cap``,
        nobody lacking its role when ``roles`` are given).

        One conditional write on the version read, and only while the shift is still taken or
        reserved for its waitlist: a list joined as the shift opened would block it.
        """
        for _ in range(WAIT_ATTEMPTS):
            view = self.waitlist_view(shift_id)
            if view is None:
                return JoinResult(JoinOutcome.UNKNOWN)
            result, changes = join(view, phone, cap, roles)
            if not changes:
                return result
            condition, vals = _version_is(view.version)
            condition += (
                f" AND ({_is(ShiftStatus.TAKEN, 'taken')} OR attribute_exists({HELD_FOR})"
                f" OR size({WAITLIST}) > :none)"
            )
            vals.update(_spelled(ShiftStatus.TAKEN, "taken"), none=0)
            vals.update(waitlist=[*view.waitlist, phone], next=view.version + 1)
            update = f"SET {WAITLIST} = :waitlist"
            if self._wait_write(view.shift.shift_id, update, condition, vals):
                return result
        raise ShiftsmsError("the shift's waitlist kept changing; try again")

    def set_hold(
        self, seen: WaitView, holder: str | None, until: datetime | None, rest: Sequence[str]
    ) -> bool:
        """Hold the available shift for ``holder`` until ``until`` (None: nobody, it opens to
        all) with ``rest`` as its waitlist, only while it is as ``seen`` (still available, same
        hold and version); False when it changed."""
        condition, vals = _version_is(seen.version)
        condition += f" AND {_is(ShiftStatus.AVAILABLE, 'available')}"
        vals.update(_spelled(ShiftStatus.AVAILABLE, "available"))
        if seen.held_for is None:
            condition += f" AND attribute_not_exists({HELD_FOR})"
        else:
            condition += f" AND {HELD_FOR} = :seen_holder"
            vals["seen_holder"] = seen.held_for
        vals.update(waitlist=list(rest), next=seen.version + 1)
        update = f"SET {WAITLIST} = :waitlist"
        if holder is not None and until is not None:
            update += f", {HELD_FOR} = :holder, {HELD_UNTIL} = :until"
            vals.update(holder=holder, until=to_iso(until))
        else:
            update = f"{update} REMOVE {HELD_FOR}, {HELD_UNTIL}"
        return self._wait_write(seen.shift.shift_id, update, condition, vals)

    def _wait_write(self, shift_id: str, update: str, condition: str, vals: dict[str, Any]) -> bool:
        """A waitlist update that bumps the version; False when its condition failed."""
        set_part, _, remove_part = update.partition(" REMOVE ")
        expression = f"{set_part}, {WAIT_VERSION} = :next"
        if remove_part:
            expression += f" REMOVE {remove_part}"
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"shift_id": {"S": shift_id}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values(**vals),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            return False
        return True

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


def _read_cursor(cursor: str | None) -> tuple[str, str, str]:
    """(kind, start key, id) from a list cursor; an older cursor or none starts over."""
    if cursor and cursor.startswith("t:") and " " in cursor:
        key, _, after = cursor[2:].partition(" ")
        return "t", key, after
    if cursor and cursor.startswith("c:"):
        return "c", "", cursor[2:]
    return "t", "", ""


def _booking_write(
    employee: str, booking_ref: str, at: datetime, sent: str
) -> tuple[str, str, dict[str, Any]]:
    """The update, condition and values that book an available shift for ``employee``.

    With ``sent`` (when the message was sent), only if no later message changed the shift.
    """
    update = "SET shift_status = :taken, employee = :employee, booked_at = :at, booking_ref = :ref"
    condition = (
        f"attribute_exists(shift_id) AND {_is(ShiftStatus.AVAILABLE, 'available')}"
        f" AND {_NOT_RESERVED}"
    )
    vals: dict[str, Any] = {
        "taken": ShiftStatus.TAKEN,
        **_spelled(ShiftStatus.AVAILABLE, "available"),
        "employee": employee,
        "at": at.isoformat(timespec="seconds"),
        "ref": booking_ref,
        "none": 0,
    }
    if sent:
        update += f", {MESSAGE_AT} = :sent"
        condition += _NOT_CHANGED_SINCE
        vals["sent"] = sent
    return f"{update} REMOVE {HELD_FOR}, {HELD_UNTIL}", condition, vals


def _bookable(item: dict[str, Any], sent: str, employee: str) -> bool:
    """True when ``item`` (plain values) would pass the booking condition as read."""
    available = item.get("shift_status") in SPELLINGS[ShiftStatus.AVAILABLE]
    last = item.get(MESSAGE_AT)
    holder = item.get(HELD_FOR)
    reserved = holder != employee and (holder is not None or bool(item.get(WAITLIST)))
    return available and not reserved and not (sent and last is not None and str(last) >= sent)


def _wait_view(item: dict[str, Any]) -> WaitView:
    """A stored item (plain values) as a WaitView; a hold whose time cannot be read counts as
    lapsed (the next run moves it on)."""
    raw = item.get(WAITLIST)
    waitlist = tuple(str(p) for p in raw) if isinstance(raw, list) else ()
    holder = item.get(HELD_FOR)
    until = None
    if isinstance(item.get(HELD_UNTIL), str):
        try:
            until = from_iso(item[HELD_UNTIL])
        except (ShiftTimeError, ValueError):
            until = None
    return WaitView(
        shift_from_item(item),
        waitlist,
        str(holder) if isinstance(holder, str) else None,
        until,
        int(item.get(WAIT_VERSION, 0)),
    )


def _reserved(item: dict[str, Any]) -> bool:
    """True when an available item is held for, or kept for, someone on its waitlist: not
    listed as open (the holder got its own text)."""
    return HELD_FOR in item or bool(item.get(WAITLIST))


def _version_is(version: int) -> tuple[str, dict[str, Any]]:
    """A condition that the waitlist version is still ``version`` (0: never written)."""
    if version:
        return f"attribute_exists(shift_id) AND {WAIT_VERSION} = :version", {"version": version}
    return f"attribute_exists(shift_id) AND attribute_not_exists({WAIT_VERSION})", {}


def _lost(old: dict[str, Any], employee: str, booking_ref: str) -> BookingOutcome:
    """Why a booking did not go through, from the shift as it was (plain values)."""
    if old.get("employee") == employee:
        same = old.get("booking_ref") == booking_ref
        return BookingOutcome.BOOKED if same else BookingOutcome.ALREADY_YOURS
    return BookingOutcome.TAKEN


def _person_item(
    table: str, phone: str, held: Iterable[HeldShift], version: int, exists: bool
) -> dict[str, Any]:
    """A transaction item storing ``held`` on ``phone``'s person item if its version is still
    ``version``; for a person not on the list, a check that they are still not."""
    key = {"phone": {"S": phone}}
    if not exists:
        return {
            "ConditionCheck": {
                "TableName": table,
                "Key": key,
                "ConditionExpression": "attribute_not_exists(phone)",
            }
        }
    vals: dict[str, Any] = {"held": held_item(held), "next": version + 1}
    if version:
        condition = f"attribute_exists(phone) AND {HELD_VERSION} = :version"
        vals["version"] = version
    else:
        condition = f"attribute_exists(phone) AND attribute_not_exists({HELD_VERSION})"
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": f"SET {HELD_SHIFTS} = :held, {HELD_VERSION} = :next",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values(**vals),
        }
    }


def _cancellation(exc: ClientError) -> tuple[dict[str, Any] | None, bool]:
    """From a cancelled two-item transaction (shift first, person second): the shift's
    reason if its condition failed, and whether the person item changed (retry)."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        raise exc
    reasons: list[Any] = list(exc.response.get("CancellationReasons") or [])
    codes = [r.get("Code", "None") for r in reasons] + ["None", "None"]
    if codes[0] == "ConditionalCheckFailed":
        return dict(reasons[0]), False
    retry = codes[1] == "ConditionalCheckFailed" or "TransactionConflict" in codes
    return None, retry


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
