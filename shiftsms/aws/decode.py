"""Tolerant reading of DynamoDB items, whatever was typed into them in the console.

An item is read attribute by attribute: a value of the expected type is taken as it is, a
value of another type is read as best it can be (a number or boolean where text is expected
becomes its text, ``"true"``/``"no"`` where a flag is expected becomes that flag) and a value
that cannot stand for the field at all (a map where text is expected, say) is left out. Each
such attribute is a *problem*; an item whose problems leave it unusable (a recipient whose
number is not E.164) is skipped. Either way one warning names the item (numbers masked) and
its problems on the ``shiftsms.items`` logger: a JSON log line in Lambda, one line on
stderr in the CLI. One bad item never breaks a listing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary

log = logging.getLogger("shiftsms.items")

_MISSING = object()
# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{5,14}")
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off", ""})


def is_e164(value: str) -> bool:
    """True for a number written as E.164 (``+447700900123``)."""
    return _E164.fullmatch(value) is not None


def _kind(value: Any) -> str:
    """What a stored value is, in the console's words (for warnings; never the value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Binary | bytes | bytearray):
        return "binary"
    if isinstance(value, set):
        return "a set"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    return type(value).__name__


def _number_text(value: Decimal) -> str:
    """``7`` for 7, ``2.5`` for 2.5, never ``7E+1``-style exponents for whole numbers."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


class ItemReader:
    """One item (as plain values), read field by field; :attr:`problems` says what did not fit."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.item = item
        self.problems: list[str] = []

    def value(self, name: str) -> Any:
        """The attribute's value (None for a stored NULL), or ``_MISSING`` when absent."""
        return self.item.get(name, _MISSING)

    def text(self, name: str, default: str | None = None) -> str | None:
        """A text field: text as stored; a number or boolean as its text; else ``default``."""
        value = self.value(name)
        if value is _MISSING:
            return default
        if value is None:
            self.problems.append(f"{name} is null (left out)")
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            self.problems.append(f"{name} is a boolean, not text (read as its text)")
            return "true" if value else "false"
        if isinstance(value, Decimal):
            self.problems.append(f"{name} is a number, not text (read as its text)")
            return _number_text(value)
        self.problems.append(f"{name} is {_kind(value)}, not text (left out)")
        return default

    def flag(self, name: str, default: bool) -> bool:
        """A yes/no field: a boolean; ``"true"``/``"no"``/1/0 and the like read as one."""
        value = self.value(name)
        if value is _MISSING or isinstance(value, bool):
            return default if value is _MISSING else bool(value)
        read = default
        if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
            read = value.strip().casefold() in _TRUE
        elif isinstance(value, Decimal) and value in (0, 1):
            read = bool(value)
        self.problems.append(
            f"{name} is {_kind(value)}, not a boolean (read as {'yes' if read else 'no'})"
        )
        return read

    def texts(self, name: str) -> tuple[str, ...]:
        """A set of labels: a string set (or a list of text); one text reads as one label."""
        value = self.value(name)
        if value is _MISSING or value is None:
            return ()
        if isinstance(value, str):
            self.problems.append(f"{name} is text, not a string set (read as one)")
            return (value,) if value else ()
        if isinstance(value, set | list) and all(isinstance(v, str | Decimal) for v in value):
            if not all(isinstance(v, str) for v in value):
                self.problems.append(f"{name} holds numbers, not text (read as their text)")
            labels = {v if isinstance(v, str) else _number_text(v) for v in value}
            return tuple(sorted(label for label in labels if label))
        self.problems.append(f"{name} is {_kind(value)}, not a string set (left out)")
        return ()


def warn(what: str, key: str, problems: list[str], *, skipped: bool = False) -> None:
    """Log one warning line for an item that did not fit (``key`` already safe to log)."""
    action = "skipped" if skipped else "shown as read"
    log.warning(
        "%s %s %s: %s",
        what,
        key,
        action,
        "; ".join(problems),
        extra={"item_problems": problems, "item_skipped": skipped},
    )
