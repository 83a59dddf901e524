"""Small helpers shared by the DynamoDB adapters."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shiftsms.core.actor import CHANGED_AT, CHANGED_BY, REMOVING, current_actor

_SER = TypeSerializer()
_DE = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values to a DynamoDB item (attributes that are None are left out)."""
    return {k: _SER.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item to plain values."""
    return {k: _DE.deserialize(v) for k, v in item.items()}


def values(**kw: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments (``:name`` for each)."""
    return {f":{k}": _SER.serialize(v) for k, v in kw.items()}


def is_condition_failure(exc: ClientError) -> bool:
    """True when a conditional write lost (the condition did not hold)."""
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# -- who changed an item ------------------------------------------------------------------

_SET = re.compile(r"(?<![#:\w])SET\s", re.IGNORECASE)
# The actor of each client stamp_writes set up (see RemovalMark).
_ACTORS: weakref.WeakKeyDictionary[Any, Callable[[], dict[str, str] | None]] = (
    weakref.WeakKeyDictionary()
)


def actor_fields(actor: str, now: datetime | None = None) -> dict[str, str]:
    """The plain attributes naming who changed an item and when (``changed_by``/``changed_at``).

    ``changed_at`` has microseconds, so every write sets a new value: the audit trail tells a
    write that set ``changed_by`` from one that left it as it was by comparing the two.
    """
    when = (now or datetime.now(UTC)).astimezone(UTC)
    return {CHANGED_BY: actor, CHANGED_AT: when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def _stamp_put(item: dict[str, Any], fields: Mapping[str, str]) -> None:
    if CHANGED_BY not in item:
        item.update(to_item(fields))


def _stamp_update(request: dict[str, Any], fields: Mapping[str, str]) -> None:
    expression = request.get("UpdateExpression")
    names = request.get("ExpressionAttributeNames") or {}
    if not isinstance(expression, str) or CHANGED_BY in names.values() or CHANGED_BY in expression:
        return
    sets = "#shiftsms_by = :shiftsms_by, #shiftsms_at = :shiftsms_at"
    match = _SET.search(expression)
    if match:
        expression = f"{expression[: match.end()]}{sets}, {expression[match.end() :]}"
    else:
        expression = f"SET {sets} {expression}"
    request["UpdateExpression"] = expression
    request["ExpressionAttributeNames"] = {
        **names,
        "#shiftsms_by": CHANGED_BY,
        "#shiftsms_at": CHANGED_AT,
    }
    request["ExpressionAttributeValues"] = {
        **(request.get("ExpressionAttributeValues") or {}),
        ":shiftsms_by": _SER.serialize(fields[CHANGED_BY]),
        ":shiftsms_at": _SER.serialize(fields[CHANGED_AT]),
    }


def stamp_writes(
    client: Any,
    tables: Callable[[], Collection[str]] | Collection[str],
    default_actor: Callable[[], str | None] | None = None,
) -> Any:
    """Make ``client`` add ``actor_fields`` to its writes of ``tables`` (and return it).

    The actor is the one in force (:func:`shiftsms.core.actor.acting_as`), else
    ``default_actor()`` (called at the first write only when needed); with neither, a write
    goes as it was. PutItem, UpdateItem (``UpdateExpression``), BatchWriteItem puts and
    TransactWriteItems Put/Update are stamped; a write that names ``changed_by`` itself is left
    alone. A delete cannot carry attributes: an adapter marks the item first
    (:class:`RemovalMark`), so the audit trail knows who removed it.
    """

    def names() -> Collection[str]:
        return tables() if callable(tables) else tables

    def fields() -> dict[str, str] | None:
        actor = current_actor() or (default_actor() if default_actor else None)
        return actor_fields(actor) if actor else None

    def on_put(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") in names() and (f := fields()):
            _stamp_put(params.setdefault("Item", {}), f)

    def on_update(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") in names() and (f := fields()):
            _stamp_update(params, f)

    def on_batch(params: dict[str, Any], **_: Any) -> None:
        chosen = [t for t in (params.get("RequestItems") or {}) if t in names()]
        if not chosen or not (f := fields()):
            return
        for table in chosen:
            for request in params["RequestItems"][table]:
                if "PutRequest" in request:
                    _stamp_put(request["PutRequest"].setdefault("Item", {}), f)

    def on_transact(params: dict[str, Any], **_: Any) -> None:
        writes = [
            (kind, entry[kind])
            for entry in params.get("TransactItems") or []
            for kind in ("Put", "Update")
            if kind in entry and entry[kind].get("TableName") in names()
        ]
        if not writes or not (f := fields()):
            return
        for kind, request in writes:
            if kind == "Put":
                _stamp_put(request.setdefault("Item", {}), f)
            else:
                _stamp_update(request, f)

    _ACTORS[client] = fields
    events = client.meta.events
    events.register("before-parameter-build.dynamodb.PutItem", on_put)
    events.register("before-parameter-build.dynamodb.UpdateItem", on_update)
    events.register("before-parameter-build.dynamodb.BatchWriteItem", on_batch)
    events.register("before-parameter-build.dynamodb.TransactWriteItems", on_transact)
    return client


class RemovalMark:
    """Who removes an item, written on it just before the delete (which cannot carry it).

    :meth:`request` is an UpdateItem that sets ``changed_by`` (the client's actor, or none),
    and ``changed_at`` and ``removing`` to one new time; :attr:`condition` makes the delete
    go only while that mark is on the item. The audit trail credits a removal to the old
    image's ``changed_by`` only when its ``removing`` equals its ``changed_at``, so a mark
    left by a delete that did not go is never credited once anything else wrote the item.
    """

    condition = "#shiftsms_rm = :shiftsms_rm"

    def __init__(self, client: Any) -> None:
        resolve = _ACTORS.get(client)
        stamp = resolve() if resolve else None
        self.actor = stamp[CHANGED_BY] if stamp else None
        self.at = stamp[CHANGED_AT] if stamp else actor_fields("")[CHANGED_AT]
        self.names = {"#shiftsms_rm": REMOVING}
        self.values = {":shiftsms_rm": _SER.serialize(self.at)}

    def request(self, condition: str, vals: Mapping[str, Any]) -> dict[str, Any]:
        """The UpdateItem parameters (no table or key) placing the mark under ``condition``
        (with its serialized ``vals``)."""
        names = {**self.names, "#shiftsms_at": CHANGED_AT, "#shiftsms_by": CHANGED_BY}
        expression = "SET #shiftsms_rm = :shiftsms_rm, #shiftsms_at = :shiftsms_rm"
        marks = dict(self.values)
        if self.actor:
            expression += ", #shiftsms_by = :shiftsms_by"
            marks[":shiftsms_by"] = _SER.serialize(self.actor)
        else:
            expression += " REMOVE #shiftsms_by"
        return {
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {**vals, **marks},
        }
