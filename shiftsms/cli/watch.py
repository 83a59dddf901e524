"""``shiftsms watch``: a live board of shifts, running campaigns and queues."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shiftsms.aws.board import Board, BoardReader
from shiftsms.cli.context import get_context
from shiftsms.cli.output import handle_errors, stdout
from shiftsms.core.phone import mask
from shiftsms.core.shift_times import from_iso, time_zone


def now() -> datetime:
    """The current time (shifts that started before it are not shown)."""
    return datetime.now(UTC)


def _when(starts_at: str | None, zone: str) -> str:
    if not starts_at:
        return "untimed"
    try:
        return from_iso(starts_at).astimezone(time_zone(zone)).strftime("%a %d/%m %H:%M")
    except ValueError:
        return starts_at


def render(board: Board, zone: str) -> Group:
    """The board as rich renderables: shifts, campaigns, queues."""
    local = board.at.astimezone(time_zone(zone)).strftime("%Y-%m-%d %H:%M:%S")
    shifts = Table(title="Shifts, soonest first")
    for column in ("Shift", "Starts", "Where", "Status", "Held by"):
        shifts.add_column(column)
    for shift in board.shifts:
        shifts.add_row(
            shift.shift_id,
            _when(shift.starts_at, zone),
            shift.location or "",
            shift.status_text,
            mask(shift.employee) if shift.employee else "",
            style=None if shift.available else "dim",
        )
    if board.more:
        shifts.caption = "more shifts follow"
    campaigns = Table(title="Campaigns sending")
    for column in ("Campaign", "Status", "Sent", "Delivered", "Booked"):
        campaigns.add_column(column)
    for c in board.campaigns:
        of = f"/{c.recipients}" if c.recipients is not None else ""
        campaigns.add_row(
            c.campaign_id,
            c.status,
            f"{c.sent}{of}",
            "-" if c.delivered is None else str(c.delivered),
            f"{c.booked}/{c.shifts}",
        )
    queues = Table(title="Queues")
    for column in ("Queue", "Waiting", "In flight"):
        queues.add_column(column)
    for q in board.queues:
        queues.add_row(
            q.name,
            "?" if q.visible is None else str(q.visible),
            "?" if q.in_flight is None else str(q.in_flight),
            style="bold red" if q.alarming else None,
        )
    return Group(Text(f"shiftsms watch: {local} (Ctrl-C to leave)"), shifts, campaigns, queues)


@handle_errors
def watch(
    ctx: typer.Context,
    *,
    interval: Annotated[
        float, typer.Option("--interval", min=1.0, help="Seconds between refreshes.")
    ] = 3.0,
    once: Annotated[bool, typer.Option("--once", help="Print the board once and exit.")] = False,
) -> None:
    """A live board: open and taken shifts soonest first (holders masked), the campaigns
    still sending with sent / delivered / booked, and every queue's depth."""
    cli = get_context(ctx)
    stack = cli.stack()
    zone = stack.settings().time_zone
    reader = BoardReader(cli.client("dynamodb"), cli.client("sqs"), stack.outputs)
    console = stdout()
    if once:
        console.print(render(reader.read(now()), zone))
        return
    try:
        with Live(render(reader.read(now()), zone), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                live.update(render(reader.read(now()), zone), refresh=True)
    except KeyboardInterrupt:
        if not console.is_terminal:
            console.line()  # a live display off a terminal ends its last frame mid-line
        console.print("Stopped watching.")


def register(app: typer.Typer) -> None:
    """Add ``watch`` to the root app."""
    app.command("watch")(watch)
