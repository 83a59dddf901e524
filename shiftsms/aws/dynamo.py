"""Small helpers shared by the DynamoDB adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

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
