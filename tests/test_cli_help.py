"""``--help`` of every command as a user reads it, and usage errors as one line."""

from __future__ import annotations

import re

import pytest

from tests.clitools import command_paths, invoke

COMMANDS = [" ".join(path) for path in command_paths()]
GROUPS = sorted({" ".join(path[:-1]) for path in command_paths() if len(path) > 1})


def help_text(*words: str) -> str:
    result = invoke(*words, "--help")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_loops_below_see_every_command() -> None:
    assert len(COMMANDS) == 27
    assert {"shifts add", "allowlist update", "campaign create", "local up", "demo"} <= set(
        COMMANDS
    )
    assert GROUPS == ["allowlist", "campaign", "local", "shifts"]


@pytest.mark.parametrize("words", ["", *GROUPS, *COMMANDS])
def test_help_shows_no_bool_placeholder(words: str) -> None:
    text = help_text(*words.split())
    assert "<bool>" not in text
    assert "--help " in text


@pytest.mark.parametrize("command", COMMANDS)
def test_arguments_are_named_in_upper_case(command: str) -> None:
    usage = next(line for line in help_text(*command.split()).splitlines() if "Usage:" in line)
    named = re.findall(r"[\[{]([^\]}]+)[\]}]", usage.split(command, 1)[1])
    assert named, usage
    assert [n for n in named if n.rstrip(".") != n.rstrip(".").upper()] == [], usage


@pytest.mark.parametrize(
    ("command", "argument"),
    [
        ("shifts add", "{SHIFT_ID}"),
        ("shifts release", "{SHIFT_ID}"),
        ("shifts remove", "{SHIFT_ID}"),
        ("shifts import", "{FILE}"),
        ("allowlist add", "{PHONE}"),
        ("allowlist update", "{PHONE}"),
        ("allowlist remove", "{PHONE}"),
        ("allowlist import", "{FILE}"),
        ("campaign create", "[CAMPAIGN_ID]"),
        ("campaign show", "{CAMPAIGN_ID}"),
        ("local phone", "{PHONE}"),
        ("local sms", "{TEXT}"),
    ],
)
def test_one_name_per_kind_of_argument(command: str, argument: str) -> None:
    assert f"Usage: shiftsms {command} [OPTIONS] {argument}" in help_text(*command.split())


def test_flags_show_no_type_but_valued_options_do() -> None:
    rows = {
        cells[1]: line
        for line in help_text("campaign", "create").splitlines()
        if len(cells := line.split()) > 2 and cells[1].startswith("--")
    }
    assert rows["--dry-run"].split()[2] == "Show"
    assert "<str>" in rows["--shifts"]
    assert "<int range> [1<=x<=10]" in rows["--max-segments"]


def test_shifts_add_help_gives_the_id_rules() -> None:
    text = " ".join(help_text("shifts", "add").split())
    assert "2-20 letters, digits or '-', starting with a letter or digit" in text
    assert "stored in upper case" in text
    assert "cannot be an SMS keyword such as STOP, HELP, REQUEST or AGENT" in text


def test_campaign_create_help_says_which_options_exclude_each_other() -> None:
    text = " ".join(help_text("campaign", "create").split())
    assert "Give exactly one of --shifts, --all-available or --message" in text
    assert "Excludes --all-available and --message." in text
    assert "Excludes --shifts and --message." in text
    assert "Excludes --shifts and --all-available." in text


def test_allowlist_update_help_says_groups_options_exclude_each_other() -> None:
    text = " ".join(help_text("allowlist", "update").split())
    assert "Excludes --no-groups." in text
    assert "Excludes --group." in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["local", "up", "--port", "99999"],
            "Error: Invalid value for '--port' / '-p': Input should be less than or equal to "
            "65535 (see: shiftsms local up --help)",
        ),
        (
            ["local", "up", "--port", "-1"],
            "Error: Invalid value for '--port' / '-p': Input should be greater than or equal "
            "to 0 (see: shiftsms local up --help)",
        ),
        (
            ["local", "sms", "HELP", "--from", "+447700900123", "--timeout", "0"],
            "Error: Invalid value for '--timeout': Input should be greater than or equal to 1 "
            "(see: shiftsms local sms --help)",
        ),
        (
            ["campaign", "create", "--all-available", "--max-segments", "11"],
            "Error: Invalid value for '--max-segments': Input should be less than or equal to "
            "10 (see: shiftsms campaign create --help)",
        ),
        (
            ["shifts", "add"],
            "Error: Missing argument 'SHIFT_ID' (see: shiftsms shifts add --help)",
        ),
    ],
)
def test_a_value_out_of_range_is_a_one_line_usage_error(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message + "\n"
