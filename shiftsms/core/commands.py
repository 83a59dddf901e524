"""Read an inbound SMS body into a command. Pure: no I/O, never raises."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

MAX_CODES_PER_TEXT = 10
MAX_NOTE_LENGTH = 300

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
    WAIT = "wait"
    YES = "yes"
    AGENT = "agent"
    TOO_MANY = "too_many"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    MINE = "mine"
    COMMANDS = "commands"
    SNOOZE = "snooze"
    RESUME = "resume"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    """A parsed inbound SMS: its kind, the shift codes it names, and a free-text note."""

    kind: Kind
    codes: tuple[str, ...] = field(default=())
    note: str = ""


class Args(StrEnum):
    """What a command reads after its word."""

    NONE = "none"
    CODES = "codes"
    NOTE = "note"


@dataclass(frozen=True)
class Spec:
    """One SMS command: its kind, the words that start it, what follows, who acts on it.

    ``handler`` names the InboundService method that acts on it (the pure core cannot import
    the service; a test checks each name is one). ``carrier``: End User Messaging answers the
    word itself, so shiftsms only records it and never replies.
    """

    kind: Kind
    words: tuple[str, ...]
    args: Args
    handler: str
    carrier: bool = False


# The carrier words are End User Messaging's (opt-out list, opt-in, help), so none of them can
# be a shiftsms command: someone who texts CANCEL to give a shift back would be unsubscribed.
# Kinds with no words come from what the text holds (codes alone, too many, nothing usable).
COMMANDS: tuple[Spec, ...] = (
    Spec(Kind.REQUEST, ("REQUEST", "LIST", "SHIFTS"), Args.NONE, "on_list"),
    Spec(Kind.MORE, ("MORE", "NEXT"), Args.NONE, "on_more"),
    Spec(Kind.BOOK, (), Args.CODES, "on_book"),
    Spec(Kind.DROP, ("DROP", "RELEASE"), Args.CODES, "on_drop"),
    Spec(Kind.WAIT, ("WAIT",), Args.CODES, "on_wait"),
    # YES is not one of End User Messaging's default keywords (HELP and the opt-out words).
    Spec(Kind.YES, ("YES",), Args.NONE, "on_yes"),
    Spec(Kind.AGENT, ("AGENT", "CALL"), Args.NOTE, "on_agent"),
    Spec(Kind.MINE, ("MINE",), Args.NONE, "on_mine"),
    Spec(Kind.COMMANDS, ("COMMANDS",), Args.NONE, "on_commands"),
    Spec(Kind.SNOOZE, ("SNOOZE",), Args.NOTE, "on_snooze"),
    Spec(Kind.RESUME, ("RESUME",), Args.NONE, "on_resume"),
    Spec(
        Kind.OPT_OUT,
        (
            "ARRET",
            "CANCEL",
            "END",
            "OPT-OUT",
            "OPTOUT",
            "QUIT",
            "REMOVE",
            "STOP",
            "TD",
            "UNSUBSCRIBE",
        ),
        Args.NONE,
        "on_opt_out",
        carrier=True,
    ),
    Spec(Kind.OPT_IN, ("START", "UNSTOP"), Args.NONE, "on_opt_in", carrier=True),
    Spec(Kind.HELP, ("HELP",), Args.NONE, "on_help", carrier=True),
    Spec(Kind.TOO_MANY, (), Args.NONE, "on_too_many"),
    Spec(Kind.EMPTY, (), Args.NONE, "on_invalid"),
    Spec(Kind.UNKNOWN, (), Args.NONE, "on_invalid"),
)
SPECS: dict[Kind, Spec] = {spec.kind: spec for spec in COMMANDS}
BY_WORD: dict[str, Spec] = {word: spec for spec in COMMANDS for word in spec.words}

OPT_OUT_KEYWORDS = frozenset(SPECS[Kind.OPT_OUT].words)
OPT_IN_KEYWORDS = frozenset(SPECS[Kind.OPT_IN].words)
HELP_KEYWORDS = frozenset(SPECS[Kind.HELP].words)
CARRIER_KEYWORDS = frozenset(w for spec in COMMANDS if spec.carrier for w in spec.words)
SHIFTSMS_KEYWORDS = frozenset(w for spec in COMMANDS if not spec.carrier for w in spec.words)
RESERVED_WORDS = CARRIER_KEYWORDS | SHIFTSMS_KEYWORDS


class InvalidShiftId(ValueError):
    """A shift id staff could not text back (wrong characters, length, or a keyword)."""


# The prefix of the shifts table's alias items (``key#XYZ123``), which find a console item
# whose id is typed in another case; a ``#`` is in no shift id (see shiftsms.aws.shifts_table).
ALIAS_PREFIX = "key#"


def is_alias(shift_id: str) -> bool:
    """True for the id of an alias item (never a shift)."""
    return shift_id.startswith(ALIAS_PREFIX)


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
    spec = BY_WORD.get(first)
    if spec is None:
        return _with_codes(Kind.BOOK, tokens)
    if spec.args is Args.NOTE:
        note = text[first_match.end() :].strip(" :,-")
        return Command(spec.kind, note=note[:MAX_NOTE_LENGTH].rstrip())
    if spec.args is Args.CODES:
        # a bare WAIT or DROP is that command missing its code (its reply says how to send it)
        return _with_codes(spec.kind, tokens[1:]) if tokens[1:] else Command(spec.kind)
    return Command(spec.kind)
