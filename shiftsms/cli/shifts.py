"""``shiftsms shifts``: post, import, list, release and remove shifts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.cli.context import get_context
from shiftsms.cli.output import (
    confirm,
    handle_errors,
    print_json,
    progress,
    read_text,
    say,
    stdout,
    warn,
)
from shiftsms.core.models import Shift, ShiftStatus
from shiftsms.errors import ShiftExists
from shiftsms.services.shifts import Cancelled, ShiftService, read_file

app = typer.Typer(
    name="shifts",
    help="Post open shifts, list them, release or remove them.",
    no_args_is_help=True,
)

MAX_LISTED = 20
MAX_TABLE_ROWS = 50


ShiftIdArg = Annotated[
    str, typer.Argument(metavar="SHIFT_ID", help="Shift code staff text back, e.g. XYZ123.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _service(ctx: typer.Context, *, notify: bool = False) -> ShiftService:
    cli = get_context(ctx)
    table = ShiftsTable(
        cli.client("dynamodb"), cli.output("ShiftsTableName"), cli.output("StaffTableName")
    )
    service = ShiftService(table)
    if notify:
        service.sms = EndUserMessagingSms(cli.client("pinpoint-sms-voice-v2"))
        service.origination = cli.output("OriginationIdentity")
    return service


def _report_holder_text(done: Cancelled) -> None:
    told = done.told
    if told is None:
        return
    if told.error is None:
        say(f"Texted {told.to}: {told.text}")
    else:
        warn(f"could not text {told.to} that their booking is cancelled ({told.error}): tell them")


def _as_json(shift: Shift) -> dict[str, Any]:
    return {
        "shift_id": shift.shift_id,
        "shift_info": shift.shift_info,
        "shift_status": shift.shift_status,
        "employee": shift.employee,
        "booked_at": shift.booked_at,
    }


def _rewritten(given: str, stored: str) -> str:
    return f'info changed for SMS (GSM-7): "{given}" -> "{stored}"'


def _some(ids: list[str]) -> str:
    more = len(ids) - MAX_LISTED
    return ", ".join(ids[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


@app.command("add")
@handle_errors
def add(
    ctx: typer.Context,
    shift_id: ShiftIdArg,
    info: Annotated[
        str, typer.Option("--info", "-i", help='What staff see, e.g. "15/08 5h nightshift".')
    ],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Change the info of an existing shift (keeps its booking)."),
    ] = False,
) -> None:
    """Post one available shift.

    SHIFT_ID is what staff text back to book it: 2-20 letters, digits or '-', starting with
    a letter or digit, e.g. XYZ123 or NIGHT-0815. It is stored in upper case (staff may text
    it in any case) and cannot be an SMS keyword such as STOP, HELP, REQUEST or AGENT.
    """
    try:
        result = _service(ctx).add(shift_id, info, replace=replace)
    except ShiftExists as exc:
        raise ShiftExists(f"{exc}: use --replace to change its info") from exc
    shift = result.shift
    if result.info_changed:
        say("I" + _rewritten(result.given_info, shift.shift_info)[1:])
    if result.replaced:
        say(f"Replaced the info of shift {shift.shift_id}: {shift.shift_info}")
        if shift.employee:
            say(f"It stays taken by {shift.employee}.")
    else:
        say(f"Added shift {shift.shift_id}: {shift.shift_info}")


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="CSV with a header: shift_id,shift_info[,shift_status].",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Add shifts from a CSV file; ids that already exist are skipped.

    Every row is checked first: if any row is bad, each bad line is reported and nothing
    is written.
    """
    parsed = read_file(read_text(file))
    service = _service(ctx)
    with progress("Importing shifts", len(parsed.rows)) as advance:
        result = service.import_rows(parsed.rows, on_row=lambda _row: advance())
    if as_json:
        print_json(
            {
                "added": result.added,
                "skipped": result.skipped,
                "rewritten": [
                    {
                        "line": r.line,
                        "shift_id": r.shift.shift_id,
                        "given": r.given_info,
                        "stored": r.shift.shift_info,
                    }
                    for r in parsed.rewritten
                ],
                "ignored_columns": parsed.ignored_columns,
            }
        )
        return
    if parsed.ignored_columns:
        warn(f"ignored columns: {', '.join(parsed.ignored_columns)}")
    for row in parsed.rewritten[:MAX_LISTED]:
        change = _rewritten(row.given_info, row.shift.shift_info)
        say(f"Line {row.line}: {row.shift.shift_id} {change}")
    if len(parsed.rewritten) > MAX_LISTED:
        say(f"... and {len(parsed.rewritten) - MAX_LISTED} more rewritten")
    say(
        f"Added {len(result.added)} shift{'s' if len(result.added) != 1 else ''}, "
        f"skipped {len(result.skipped)} that already existed."
    )
    if result.skipped:
        say(f"Skipped: {_some(result.skipped)}")


@app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    status: Annotated[
        ShiftStatus | None,
        typer.Option("--status", case_sensitive=False, help="Only shifts with this status."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List shifts (available first, then taken), read through the status index."""
    service = _service(ctx)
    wanted = status.value if status else None
    if as_json:
        print_json([_as_json(s) for s in service.listing(wanted)])
        return
    shifts, more = service.first(wanted, limit=MAX_TABLE_ROWS)
    if not shifts:
        say(f"No {status.value} shifts." if status else "No shifts.")
        return
    table = Table("Shift", "Info", "Status", "Employee", "Booked at")
    for s in shifts:
        style = "green" if s.available else None
        table.add_row(
            s.shift_id,
            s.shift_info,
            s.status_text,
            s.employee or "",
            s.booked_at or "",
            style=style,
        )
    stdout().print(table)
    if more:
        hint = "use --json" if status else "use --json or --status"
        say(f"... and {more:,} more: {hint}")


@app.command("release")
@handle_errors
def release(
    ctx: typer.Context,
    shift_id: ShiftIdArg,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="Do not text the holder that it is cancelled.")
    ] = False,
) -> None:
    """Make a taken shift available again (staff can book it by SMS)."""
    done = _service(ctx, notify=not no_notify).release(shift_id, notify=not no_notify)
    before = done.before
    held = f" (it was taken by {before.employee})" if before.employee else ""
    say(f"Shift {before.shift_id} is available again{held}.")
    _report_holder_text(done)


@app.command("remove")
@handle_errors
def remove(
    ctx: typer.Context,
    shift_id: ShiftIdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="Do not text the holder that it is cancelled.")
    ] = False,
) -> None:
    """Delete a shift (asks first unless --yes)."""
    service = _service(ctx, notify=not no_notify)
    shift = service.get(shift_id)
    if not yes:
        held = f", taken by {shift.employee}" if shift.employee else ""
        confirm(f"Remove shift {shift.shift_id} ({shift.shift_info}{held})?", abort=True)
    done = service.remove(shift, notify=not no_notify)
    say(f"Removed shift {shift.shift_id}.")
    _report_holder_text(done)
