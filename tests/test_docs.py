"""The README documents every command of the CLI (walks the real command tree)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clitools import command_paths, invoke

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
COMMANDS = [" ".join(path) for path in command_paths()]


def test_the_command_tree_is_walked() -> None:
    assert "shifts add" in COMMANDS
    assert "allowlist import" in COMMANDS
    assert all(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command: str) -> None:
    mentioned = re.compile(rf"(?<![\w-])shiftsms {re.escape(command)}(?![\w-])")
    assert mentioned.search(README), f"README.md: document `shiftsms {command}` (Command line)"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = invoke(*command.split(), "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: shiftsms {command}" in result.stdout
