"""Reading an inbound SMS body into a command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftsms.core.commands import (
    BY_WORD,
    CARRIER_KEYWORDS,
    COMMANDS,
    MAX_CODES_PER_TEXT,
    MAX_NOTE_LENGTH,
    OPT_OUT_KEYWORDS,
    RESERVED_WORDS,
    SHIFT_ID_PATTERN,
    Command,
    InvalidShiftId,
    Kind,
    parse,
    validate_shift_id,
)
from shiftsms.services.inbound import InboundService


@pytest.mark.parametrize(
    "body",
    ["REQUEST", "request", "  Request  ", "Request.", "REQUEST please", "list", "shifts\n"],
)
def test_request(body: str) -> None:
    assert parse(body) == Command(Kind.REQUEST)


@pytest.mark.parametrize("body", ["MORE", "more", " More! ", "next"])
def test_more(body: str) -> None:
    assert parse(body) == Command(Kind.MORE)


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ("XYZ123", ("XYZ123",)),
        (" xyz123 ", ("XYZ123",)),
        ("xyz123, XYZ124", ("XYZ123", "XYZ124")),
        ("xyz123,XYZ124", ("XYZ123", "XYZ124")),
        ("Xyz123 xYz124\txyz125", ("XYZ123", "XYZ124", "XYZ125")),
        ("xyz123 ,  , xyz124;xyz125", ("XYZ123", "XYZ124", "XYZ125")),
        ("XYZ123.", ("XYZ123",)),
        ("NIGHT-15-08", ("NIGHT-15-08",)),
        ("12345", ("12345",)),
        # duplicates count once, in the order first given
        ("xyz124 XYZ123 xyz124 xyz123", ("XYZ124", "XYZ123")),
    ],
)
def test_codes(body: str, codes: tuple[str, ...]) -> None:
    assert parse(body) == Command(Kind.BOOK, codes=codes)


def test_ten_codes_are_fine_eleven_are_too_many() -> None:
    ten = " ".join(f"S{i:03d}" for i in range(MAX_CODES_PER_TEXT))
    assert parse(ten).codes == tuple(f"S{i:03d}" for i in range(MAX_CODES_PER_TEXT))
    eleven = ten + " S999"
    assert parse(eleven) == Command(Kind.TOO_MANY)
    # Duplicates do not count towards the limit.
    assert parse(ten + " s000 S001").kind is Kind.BOOK


def test_too_many_drop_codes() -> None:
    codes = " ".join(f"S{i:03d}" for i in range(MAX_CODES_PER_TEXT + 1))
    assert parse(f"DROP {codes}") == Command(Kind.TOO_MANY)


@pytest.mark.parametrize(
    ("body", "note"),
    [
        ("AGENT", ""),
        ("agent", ""),
        ("AGENT please call me about Saturday", "please call me about Saturday"),
        ("Agent: can't do XYZ123", "can't do XYZ123"),
        ("call - back after 5", "back after 5"),
        (", agent  help ", "help"),
        ("AGENT \x00\x07 help", "help"),
    ],
)
def test_agent_with_note(body: str, note: str) -> None:
    assert parse(body) == Command(Kind.AGENT, note=note)


def test_agent_note_is_bounded() -> None:
    command = parse("AGENT " + "x" * 2000)
    assert command.kind is Kind.AGENT
    assert command.note == "x" * MAX_NOTE_LENGTH


@pytest.mark.parametrize(
    ("body", "codes"),
    [("DROP XYZ123", ("XYZ123",)), ("drop xyz123, xyz124", ("XYZ123", "XYZ124"))],
)
def test_drop(body: str, codes: tuple[str, ...]) -> None:
    assert parse(body) == Command(Kind.DROP, codes=codes)


@pytest.mark.parametrize("body", ["DROP 🙂", "drop XYZ_1"])
def test_drop_without_a_valid_code_is_unknown(body: str) -> None:
    assert parse(body) == Command(Kind.UNKNOWN)


@pytest.mark.parametrize(("body", "kind"), [("DROP", Kind.DROP), (" wait, ", Kind.WAIT)])
def test_a_bare_drop_or_wait_is_that_command_without_its_code(body: str, kind: Kind) -> None:
    assert parse(body) == Command(kind)


@pytest.mark.parametrize("word", sorted(OPT_OUT_KEYWORDS))
def test_opt_out_keywords_are_never_commands(word: str) -> None:
    for body in (word, word.lower(), f" {word.title()} ", f"{word}.", f"{word} XYZ123"):
        assert parse(body) == Command(Kind.OPT_OUT), body


def test_cancel_with_a_code_is_an_opt_out_not_a_drop() -> None:
    # End User Messaging unsubscribes a number whose text begins with CANCEL.
    assert parse("CANCEL XYZ123").kind is Kind.OPT_OUT


@pytest.mark.parametrize("body", ["START", "unstop"])
def test_opt_in(body: str) -> None:
    assert parse(body) == Command(Kind.OPT_IN)


def test_help() -> None:
    assert parse("help") == Command(Kind.HELP)
    assert parse("HELP me") == Command(Kind.HELP)


@pytest.mark.parametrize("word", sorted(CARRIER_KEYWORDS))
def test_carrier_keywords_are_never_shift_codes(word: str) -> None:
    assert parse(f"XYZ123 {word}").kind is Kind.UNKNOWN
    with pytest.raises(InvalidShiftId):
        validate_shift_id(word)


@pytest.mark.parametrize("body", ["", "   ", "\n\t ", "\x00\x01", ", ;", None, 42, b"XYZ123"])
def test_empty_or_not_text(body: object) -> None:
    assert parse(body) == Command(Kind.EMPTY)


@pytest.mark.parametrize(
    "body",
    [
        "🙂",
        "XYZ123 🙂",
        "what's free?",
        "X",
        "ABCDEFGHIJKLMNOPQRSTU",  # 21 characters: longer than any shift id
        "-XYZ",
        "XYZ_123",
        "x" * 1600,
        "XYZ\u200b123",
    ],
)
def test_anything_else_is_unknown(body: str) -> None:
    assert parse(body) == Command(Kind.UNKNOWN)


def test_plain_words_are_read_as_codes_and_answered_as_unknown_codes() -> None:
    # Any word shaped like a shift id may be one; the store answers "not a valid code".
    assert parse("hello there") == Command(Kind.BOOK, codes=("HELLO", "THERE"))


def test_full_width_letters_are_folded() -> None:
    assert parse("ＸＹＺ１２３") == Command(Kind.BOOK, codes=("XYZ123",))
    assert parse("ＳＴＯＰ").kind is Kind.OPT_OUT


def test_validate_shift_id() -> None:
    assert validate_shift_id(" xyz123 ") == "XYZ123"
    for bad in ("", "X", "XYZ 123", "XYZ_1", "-AB", "A" * 21, "REQUEST", "more", "Agent"):
        with pytest.raises(InvalidShiftId):
            validate_shift_id(bad)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=2000), st.none(), st.integers(), st.binary()))
def test_parse_never_raises_and_codes_are_valid_ids(body: object) -> None:
    command = parse(body)
    assert isinstance(command.kind, Kind)
    assert len(command.codes) <= MAX_CODES_PER_TEXT
    assert len(set(command.codes)) == len(command.codes)
    for code in command.codes:
        assert validate_shift_id(code) == code
    assert len(command.note) <= MAX_NOTE_LENGTH
    if command.kind not in (Kind.BOOK, Kind.DROP):
        assert command.codes == ()


VALID_IDS = st.from_regex(SHIFT_ID_PATTERN, fullmatch=True).filter(
    lambda c: c not in RESERVED_WORDS
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(VALID_IDS, min_size=1, max_size=MAX_CODES_PER_TEXT),
    st.sampled_from([" ", ",", ", ", " , ", "\n", ";"]),
)
def test_any_list_of_valid_codes_is_booked_as_given(codes: list[str], sep: str) -> None:
    command = parse(sep.join(c.lower() for c in codes))
    assert command == Command(Kind.BOOK, codes=tuple(dict.fromkeys(codes)))


# -- the command table ------------------------------------------------------------------------


def test_every_kind_has_one_command_and_every_handler_is_a_service_method() -> None:
    assert sorted(spec.kind for spec in COMMANDS) == sorted(Kind)
    for spec in COMMANDS:
        assert callable(getattr(InboundService, spec.handler, None)), spec


def test_no_word_starts_two_commands() -> None:
    words = [w for spec in COMMANDS for w in spec.words]
    assert len(words) == len(set(words))


def test_carrier_words_are_end_user_messagings_own() -> None:
    # End User Messaging's default opt-out, opt-in and help keywords.
    assert {
        *("ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD"),
        *("UNSUBSCRIBE", "START", "UNSTOP", "HELP"),
    } == CARRIER_KEYWORDS


def _readme_words() -> dict[str, str]:
    """Each upper-case word in the README's "What staff can text" table -> its row."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text.split("## What staff can text", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    found: dict[str, str] = {}
    for row in rows:
        for snippet in re.findall(r"`([^`]+)`", row.split(" | ")[0]):
            first = snippet.split()[0]
            if first.isupper() and not re.fullmatch(r"XYZ\d+,?", first):
                found[first] = row
    return found


def test_readme_lists_every_word_the_parser_accepts() -> None:
    listed = _readme_words()
    assert sorted(listed) == sorted(BY_WORD)
    for word, row in listed.items():
        assert parse(f"{word} XYZ123").kind is BY_WORD[word].kind, row
