"""Read an inbound SMS body into a command. Pure: no I/O, never raises."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

MAX_CODES_PER_TEXT = 10
MAX_NOTE_LENGTH = 300

# End User Messaging answers these itself (opt-out list, opt-in, help); shiftsms only records
# the opt-out state and never replies, so none of them can be a shiftsms command.
OPT_OUT_KEYWORDS = frozenset(
    {"ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP"})
CARRIER_KEYWORDS = OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS | HELP_KEYWORDS

REQUEST_WORDS = frozenset({"REQUEST", "LIST", "SHIFTS"})
MORE_WORDS = frozenset({"MORE", "NEXT"})
AGENT_WORDS = frozenset({"AGENT", "CALL"})
DROP_WORDS = frozenset({"DROP", "RELEASE"})
SHIFTSMS_KEYWORDS = REQUEST_WORDS | MORE_WORDS | AGENT_WORDS | DROP_WORDS
RESERVED_WORDS = CARRIER_KEYWORDS | SHIFTSMS_KEYWORDS

SHIFT_ID_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")
_TOKEN = re.compile(r"[^\s,;/&+]+")
# Punctuation people put after a word ("Request.", "AGENT:", "XYZ123!") is not part of it.
_TRAILING = ".!?:"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Kind(StrEnum):
    """What an employee asked for."""

    EMPTY = "empty"
    REQUEST = "request"
    MORE = "more"
    BOOK = "book"
    DROP = "drop"
    AGENT = "agent"
    TOO_MANY = "too_many"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    """A parsed inbound SMS: its kind, the shift codes it names, and a free-text note."""

    kind: Kind
    codes: tuple[str, ...] = field(default=())
    note: str = ""


class InvalidShiftId(ValueError):
    """A shift id staff could not text back (wrong characters, length, or a keyword)."""


def validate_shift_id(raw: str) -> str:
    """Return ``raw`` as a canonical shift id (upper case) or raise :class:`InvalidShiftId`."""
    code = (raw or "").strip().upper()
    if not SHIFT_ID_PATTERN.fullmatch(code):
        raise InvalidShiftId(
            f"{raw!r}: a shift id is 2-20 letters, digits or '-', starting with a letter or digit"
        )
    if code in RESERVED_WORDS:
        raise InvalidShiftId(f"{raw!r}: that word is an SMS keyword, so staff could not book it")
    return code


def clean_body(body: object) -> str:
    """The body as text with control characters removed and Unicode folded (NFKC)."""
    text = body if isinstance(body, str) else ""
    text = unicodedata.normalize("NFKC", text)
    return _CONTROL.sub(" ", text).strip()


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _codes(tokens: list[str]) -> tuple[str, ...] | None:
    """The tokens as shift codes, or None if any token cannot be one."""
    upper = [u for u in (t.upper().strip(_TRAILING) for t in tokens) if u]
    if not upper or not all(
        SHIFT_ID_PATTERN.fullmatch(t) and t not in RESERVED_WORDS for t in upper
    ):
        return None
    return _unique(upper)


_FIRST_WORD = {
    **dict.fromkeys(OPT_OUT_KEYWORDS, Kind.OPT_OUT),
    **dict.fromkeys(OPT_IN_KEYWORDS, Kind.OPT_IN),
    **dict.fromkeys(HELP_KEYWORDS, Kind.HELP),
    **dict.fromkeys(REQUEST_WORDS, Kind.REQUEST),
    **dict.fromkeys(MORE_WORDS, Kind.MORE),
}


def _with_codes(kind: Kind, tokens: list[str]) -> Command:
    codes = _codes(tokens)
    if codes is None:
        return Command(Kind.UNKNOWN)
    if len(codes) > MAX_CODES_PER_TEXT:
        return Command(Kind.TOO_MANY)
    return Command(kind, codes=codes)


def parse(body: object) -> Command:
    """Read an SMS body (any text, any length) into a :class:`Command`.

    Case and surrounding space are ignored; codes may be separated by spaces or commas. A
    carrier keyword counts when it is the first word, as End User Messaging matches them.
    """
    text = clean_body(body)
    first_match = _TOKEN.search(text)
    if first_match is None:
        return Command(Kind.EMPTY)
    tokens = _TOKEN.findall(text)
    first = first_match.group().upper().strip(_TRAILING)
    simple = _FIRST_WORD.get(first)
    if simple is not None:
        return Command(simple)
    if first in AGENT_WORDS:
        note = text[first_match.end() :].strip(" :,-")
        return Command(Kind.AGENT, note=note[:MAX_NOTE_LENGTH].rstrip())
    if first in DROP_WORDS:
        return _with_codes(Kind.DROP, tokens[1:])
    return _with_codes(Kind.BOOK, tokens)
