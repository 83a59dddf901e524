"""Spend: the per-text price cap End User Messaging enforces, and campaign cost estimates."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# SendTextMessage's MaxPrice: US dollars as a string, this shape (the API model's pattern).
MAX_PRICE_PATTERN = re.compile(r"[0-9]{0,2}\.[0-9]{1,5}")
CENT = Decimal("0.01")


def max_price(raw: str) -> str | None:
    """The ``MaxPrice`` to send with (None: no cap); ValueError if AWS would refuse it."""
    value = raw.strip()
    if not value:
        return None
    if not MAX_PRICE_PATTERN.fullmatch(value):
        raise ValueError(f"a price in US dollars such as 0.20 (at most 99.99999), got {raw!r}")
    return value


def price(raw: str) -> Decimal | None:
    """A price in US dollars; None when it is empty, zero, negative or not a number."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def estimated_cost(segments: int, per_segment: Decimal) -> Decimal:
    """What ``segments`` billed segments cost at ``per_segment`` dollars each."""
    return per_segment * segments


def usd(amount: Decimal) -> str:
    """``$4.80``: dollars to the cent; ``under $0.01`` for a positive amount that rounds to 0."""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > 0 and cents == 0:
        return "under $0.01"
    return f"${cents}"


def over_max_price(segments: int, per_segment: Decimal, cap: str | None) -> Decimal | None:
    """One text's estimated price if it exceeds ``cap`` (AWS would refuse it), else None."""
    per_text = estimated_cost(segments, per_segment)
    return per_text if cap is not None and per_text > Decimal(cap) else None
