"""Event filtering: the subset of EventBridge patterns Lambda ``FilterCriteria`` use."""

from __future__ import annotations

import contextlib
import json
from typing import Any

_MISSING = object()


def _match_rule(rule: Any, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if isinstance(rule, dict):
        if "exists" in rule:
            return (value is not _MISSING) == bool(rule["exists"])
        if value is _MISSING:
            return False
        if "prefix" in rule:
            return any(isinstance(v, str) and v.startswith(rule["prefix"]) for v in values)
        if "anything-but" in rule:
            banned = rule["anything-but"]
            banned = banned if isinstance(banned, list) else [banned]
            return all(v not in banned for v in values)
        return False
    return value is not _MISSING and rule in values


def matches(pattern: dict[str, Any], data: Any) -> bool:
    """True if ``data`` matches the filter ``pattern``."""
    for key, rule in pattern.items():
        value = data.get(key, _MISSING) if isinstance(data, dict) else _MISSING
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not any(_match_rule(r, value) for r in rule):
                return False
        elif value != rule:
            return False
    return True


def passes_filters(mapping: dict[str, Any], record: dict[str, Any]) -> bool:
    """True if ``record`` passes the mapping's FilterCriteria (any filter matches)."""
    filters = (mapping.get("FilterCriteria") or {}).get("Filters") or []
    if not filters:
        return True
    data = record
    if "body" in record:  # SQS: the body is matched as JSON when it is JSON
        with contextlib.suppress(ValueError):
            data = {**record, "body": json.loads(record["body"])}
    return any(matches(json.loads(f["Pattern"]), data) for f in filters if f.get("Pattern"))
