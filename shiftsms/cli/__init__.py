"""The ``shiftsms`` command line: one Typer sub-app per noun, a thin layer over the services."""

from __future__ import annotations

import typer

from shiftsms.cli.context import common_options

app = typer.Typer(
    name="shiftsms",
    help="Fill open shifts by SMS: post shifts, send campaigns, manage the allow list, deploy.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.callback()(common_options)


def main() -> None:
    """Console-script entry point."""
    app()
