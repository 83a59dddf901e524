"""GSM-7 text: which characters an SMS can carry cheaply, and how many segments a text bills.

A text made only of GSM 03.38 characters is sent 7 bits a character: 160 characters in one
segment, 153 a segment when it is split (the rest carries the concatenation header). One
character outside that alphabet switches the whole text to UCS-2: 70 characters in one segment,
67 a segment when split. Characters of the extension table (``^{}\\[~]|€`` and form feed) take two
septets each.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67

# Common look-alikes that phones and word processors produce, mapped to GSM-7.
_TRANSLITERATIONS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "«": '"',
    "»": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "*",
    "·": "*",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "\u00d7": "x",
    "\u2192": "->",
    "ç": "Ç",
    "`": "'",
    "´": "'",
}

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    """How a text is billed: its encoding, length in code units, and segment count."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(ch in _BASIC or ch in _EXTENSION for ch in text)


def septets(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters count two)."""
    return sum(2 if ch in _EXTENSION else 1 for ch in text)


def _costs(text: str, gsm: bool) -> list[int]:
    """Code units each character takes: septets in GSM-7, UTF-16 units in UCS-2."""
    if gsm:
        return [2 if ch in _EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _split_count(costs: list[int], part: int) -> int:
    """Segments of ``part`` units needed when no character may straddle two segments.

    An extension character's escape pair, and a UTF-16 surrogate pair, stay in one segment.
    """
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def segment_info(text: str) -> SegmentInfo:
    """Encoding and segment count of ``text`` as an SMS carrier bills it."""
    gsm = is_gsm7(text)
    costs = _costs(text, gsm)
    units = sum(costs)
    encoding: Encoding = "GSM-7" if gsm else "UCS-2"
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    if units <= single:
        return SegmentInfo(encoding, units, 1 if units else 0)
    return SegmentInfo(encoding, units, _split_count(costs, part))


def segments(text: str) -> int:
    """Segments billed for ``text``."""
    return segment_info(text).segments


def to_gsm7(text: str, replacement: str = "?") -> str:
    """Return ``text`` rewritten in GSM-7 only, so it never forces UCS-2.

    Typographic quotes and dashes become their plain forms, accented letters lose accents the
    alphabet lacks, control characters and anything else unrepresentable become ``replacement``
    (empty string to drop them).
    """
    out: list[str] = []
    for ch in text:
        if ch in _BASIC or ch in _EXTENSION:
            out.append(ch)
            continue
        mapped = _TRANSLITERATIONS.get(ch)
        if mapped is not None:
            out.append(mapped)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and is_gsm7(base) and base.isprintable():
            out.append(base)
        elif unicodedata.category(ch).startswith("C") or unicodedata.category(ch) == "Zs":
            out.append(" " if unicodedata.category(ch) == "Zs" else replacement)
        else:
            out.append(replacement)
    return "".join(out)


def truncate_septets(text: str, limit: int, ellipsis: str = "..") -> str:
    """Cut a GSM-7 ``text`` to at most ``limit`` septets, marking the cut with ``ellipsis``."""
    if septets(text) <= limit:
        return text
    budget = limit - septets(ellipsis)
    out: list[str] = []
    used = 0
    for ch in text:
        cost = 2 if ch in _EXTENSION else 1
        if used + cost > budget:
            break
        out.append(ch)
        used += cost
    return "".join(out).rstrip() + ellipsis
