"""The ``shiftsms`` command line: one Typer sub-app per noun, a thin layer over the services."""

from __future__ import annotations

import typer

from shiftsms.cli import allowlist, audit, campaign, local, report, shifts, watch
from shiftsms.cli import demo as demo_command
from shiftsms.cli import deploy as stack_commands
from shiftsms.cli.context import common_options
from shiftsms.cli.usage import apply as apply_usage_style

apply_usage_style()

app = typer.Typer(
    name="shiftsms",
    help="Fill open shifts by SMS: post shifts, send campaigns, manage the allow list, deploy.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.callback()(common_options)
app.add_typer(shifts.app, name="shifts")
app.add_typer(allowlist.app, name="allowlist")
app.add_typer(campaign.app, name="campaign")
stack_commands.register(app)  # deploy, status, destroy
audit.register(app)
report.register(app)
watch.register(app)
app.add_typer(local.app, name="local")
demo_command.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
