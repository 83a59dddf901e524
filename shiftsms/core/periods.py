"""Periods the operator names on the command line (``--since 7d``)."""

from __future__ import annotations

import re
from datetime import timedelta

_PERIOD = re.compile(r"\s*(\d{1,5})\s*([mhdw])\s*", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_period(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` as a timedelta; ValueError (saying how) otherwise."""
    match = _PERIOD.fullmatch(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a period: give a number and m, h, d or w (like 7d)")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
