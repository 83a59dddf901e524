"""Helpers for CLI tests: run a command as a user would, read rich tables back."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from shiftsms.cli import app
from shiftsms.cli.context import CliContext

# A wide, colourless, non-interactive terminal, whatever the machine running the tests has.
TERMINAL = {
    "COLUMNS": "200",
    "NO_COLOR": "1",
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "SHIFTSMS_DEBUG": None,
}


def invoke(
    *args: str, input: str | None = None, env: dict[str, str | None] | None = None
) -> Result:
    """Run ``shiftsms ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, list(args), input=input, env={**TERMINAL, **(env or {})})


def table_rows(output: str) -> list[list[str]]:
    """The cells of every row of a rich table in ``output`` (header row first)."""
    rows = []
    for line in output.splitlines():
        if line[:1] in ("│", "┃"):
            sep = line[0]
            rows.append([cell.strip() for cell in line.strip().strip(sep).split(sep)])
    return rows


def command_paths() -> list[list[str]]:
    """Every leaf command of the CLI as its words, e.g. ``["shifts", "add"]``."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        subcommands = getattr(cmd, "commands", None)
        if subcommands:
            for name, sub in sorted(subcommands.items()):
                walk(sub, [*path, name])
        else:
            paths.append(path)

    walk(root, [])
    return paths


def record_dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every DynamoDB operation the CLI makes (e.g. ``Query``)."""
    calls: list[str] = []
    original = CliContext.client

    def client(self: CliContext, service: str) -> Any:
        made = original(self, service)
        if service == "dynamodb":
            made.meta.events.register(
                "before-call.dynamodb.*",
                lambda model, **_: calls.append(model.name),
            )
        return made

    monkeypatch.setattr(CliContext, "client", client)
    return calls
