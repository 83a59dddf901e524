"""``shiftsms shifts``: post, import, list, release and remove shifts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.aws.staff_table import StaffTable
from shiftsms.cli.context import get_context
from shiftsms.cli.options import FullNumbersOpt, JsonOpt
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
from shiftsms.core import spend
from shiftsms.core.booking_rules import (
    DEFAULT_MAX_WEEKLY_HOURS,
    DEFAULT_MIN_REST_HOURS,
    RuleSettings,
)
from shiftsms.core.models import Shift, ShiftStatus
from shiftsms.core.phone import shown
from shiftsms.core.shift_times import date_window, from_iso, time_zone, to_iso
from shiftsms.core.waitlist import DEFAULT_HOLD_MINUTES
from shiftsms.errors import NotConfigured, ShiftExists
from shiftsms.services.shifts import (
    Cancelled,
    ShiftFilter,
    ShiftService,
    ShiftTerms,
    read_file,
    shift_span_of,
)
from shiftsms.services.waitlist import WaitlistService

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
TzOpt = Annotated[
    str | None,
    typer.Option(
        "--tz",
        metavar="ZONE",
        help="IANA time zone for times without an offset "
        "(default: the stack's TimeZone, Europe/London).",
    ),
]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="Only shifts starting on or after YYYY-MM-DD."),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="DATE", help="Only shifts starting on or before YYYY-MM-DD."),
]
LocationOpt = Annotated[
    str | None, typer.Option("--location", metavar="L", help='Where it is, e.g. "Ward 7".')
]
RoleOpt = Annotated[
    str | None, typer.Option("--role", metavar="R", help="The role needed, e.g. RN.")
]


def now() -> datetime:
    """The current time (what "in the past" is measured from)."""
    return datetime.now(UTC)


def stack_zone(ctx: typer.Context) -> ZoneInfo:
    """The stack's time zone: where times are shown and shift texts composed."""
    return time_zone(get_context(ctx).stack().settings().time_zone)


def _service(ctx: typer.Context, *, notify: bool = False, tz: str | None = None) -> ShiftService:
    """The shift service on the stack's table; times without an offset read in ``tz`` (the
    stack's zone when None), shown and composed in the stack's zone."""
    cli = get_context(ctx)
    table = ShiftsTable(
        cli.client("dynamodb"), cli.output("ShiftsTableName"), cli.output("StaffTableName")
    )
    read_in = time_zone(tz) if tz is not None else None
    service = ShiftService(table, zone=stack_zone(ctx), clock=now, read_in=read_in)
    if notify:
        service.sms = _stack_sms(ctx)
        service.origination = cli.output("OriginationIdentity")
        service.staff = StaffTable(cli.client("dynamodb"), cli.output("StaffTableName"))
    return service


def _stack_sms(ctx: typer.Context) -> EndUserMessagingSms:
    """Texts sent as the stack's functions send them: its configuration set (delivery
    receipts and cost), its protect configuration (countries) and MaxPricePerMessage."""
    cli = get_context(ctx)
    stack = cli.stack()
    try:
        max_price = spend.max_price(stack.parameters.get("MaxPricePerMessage", ""))
    except ValueError as exc:
        raise NotConfigured(f"the stack's MaxPricePerMessage must be {exc}") from exc
    return EndUserMessagingSms(
        cli.client("pinpoint-sms-voice-v2"),
        configuration_set=stack.outputs.get("ConfigurationSetName") or None,
        protect_configuration=stack.outputs.get("ProtectConfigurationId") or None,
        max_price=max_price,
    )


def _with_waitlist(ctx: typer.Context, service: ShiftService) -> ShiftService:
    """``service`` offering a released shift down its waitlist, as the inbound function does
    after a DROP (same hold length and booking rules, from the stack's parameters)."""
    cli = get_context(ctx)
    stack = cli.stack()
    assert isinstance(service.store, ShiftsTable)
    dynamodb = cli.client("dynamodb")
    params = stack.parameters
    service.waitlist = WaitlistService(
        shifts=service.store,
        staff=StaffTable(dynamodb, stack.output("StaffTableName")),
        sms=_stack_sms(ctx),
        offers=DynamoOfferLog(dynamodb, stack.output("StateTableName")),
        origination=stack.output("OriginationIdentity"),
        zone=service.zone,
        rules=RuleSettings(
            float(params.get("MinRestHours") or DEFAULT_MIN_REST_HOURS),
            float(params.get("MaxWeeklyHours") or DEFAULT_MAX_WEEKLY_HOURS),
        ),
        hold_minutes=float(params.get("HoldMinutes") or DEFAULT_HOLD_MINUTES),
        schedule=DynamoDueWork(dynamodb, stack.output("StateTableName")).schedule,
    )
    return service


def _number(number: str | None, full_numbers: bool) -> str | None:
    """A holder's number as shown (None stays None)."""
    return shown(number, full_numbers) if number else None


def _report_holder_text(done: Cancelled, full_numbers: bool) -> None:
    told = done.told
    if told is None:
        return
    to = _number(told.to, full_numbers)
    if told.error is None:
        say(f"Texted {to}: {told.text}")
    else:
        warn(f"could not text {to} that their booking is cancelled ({told.error}): tell them")


def _local(stored: str | None, zone: ZoneInfo) -> str | None:
    """A stored time as ISO 8601 on the wall clock of ``zone`` (as stored if unreadable)."""
    if stored is None:
        return None
    try:
        return to_iso(from_iso(stored).astimezone(zone))
    except ValueError:
        return stored


def _shown(stored: str | None, zone: ZoneInfo) -> str:
    """A stored time for the table: ``2026-08-15 19:00 BST`` in ``zone``."""
    if stored is None:
        return ""
    try:
        return f"{from_iso(stored).astimezone(zone):%Y-%m-%d %H:%M %Z}"
    except ValueError:
        return stored


def _as_json(shift: Shift, service: ShiftService, full_numbers: bool) -> dict[str, Any]:
    zone = service.zone
    return {
        "shift_id": shift.shift_id,
        "shift_info": shift.shift_info,
        "shift_status": shift.shift_status,
        "employee": _number(shift.employee, full_numbers),
        "booked_at": shift.booked_at,
        "starts_at": _local(shift.starts_at, zone),
        "ends_at": _local(shift.ends_at, zone),
        "location": shift.location,
        "role": shift.role,
        "past": service.started(shift),
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
    *,
    info: Annotated[
        str | None,
        typer.Option(
            "--info",
            "-i",
            help='What staff see, e.g. "15/08 5h nightshift" (default: composed from '
            "--start, --end, --location and --role).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", metavar="TIME", help='When it starts: "2026-08-15 19:00".'),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", metavar="TIME", help='When it ends: "2026-08-16 07:00".'),
    ] = None,
    location: LocationOpt = None,
    role: RoleOpt = None,
    tz: TzOpt = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Change the info of an existing shift (keeps its booking)."),
    ] = False,
) -> None:
    """Post one available shift.

    SHIFT_ID is what staff text back to book it: 2-20 letters, digits or '-', starting with
    a letter or digit, e.g. XYZ123 or NIGHT-0815. It is stored in upper case (staff may text
    it in any case) and cannot be an SMS keyword such as STOP, HELP, REQUEST or AGENT.

    A timed shift has --start and --end (read in the stack's time zone unless they carry an
    offset); it lasts at most 24 h and cannot start in the past. Only someone on the allow
    list with --role may book it; without --role, anyone on the list may.
    """
    terms = ShiftTerms(start, end, location, role)
    try:
        result = _service(ctx, tz=tz).add(shift_id, info, terms=terms, replace=replace)
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
            help="CSV with a header: shift_id,shift_info[,shift_status]"
            "[,starts_at,ends_at,location,role].",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add shifts from a CSV file; ids that already exist are skipped.

    Every row is checked first: if any row is bad, each bad line is reported and nothing
    is written. starts_at and ends_at are checked as shifts add checks --start and --end;
    an empty shift_info is then composed from the row's times, location and role.
    """
    service = _service(ctx, tz=tz)
    parsed = read_file(read_text(file), service.zone, service.clock(), read_in=service.read_in)
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
    *,
    status: Annotated[
        ShiftStatus | None,
        typer.Option("--status", case_sensitive=False, help="Only shifts with this status."),
    ] = None,
    first: FromOpt = None,
    last: ToOpt = None,
    location: LocationOpt = None,
    role: RoleOpt = None,
    as_json: JsonOpt = False,
    full_numbers: FullNumbersOpt = False,
) -> None:
    """List shifts: available first, then taken; each soonest first, shifts without a time
    after those with one. Console items count whatever case their status is typed in.

    Times are shown in the stack's time zone; a shift whose start has passed shows as past
    (its stored status is unchanged). --from/--to keep the shifts starting on those days.
    Holders' numbers are masked unless --full-numbers.
    """
    service = _service(ctx)
    wanted = status.value if status else None
    only = ShiftFilter(date_window(first, last, service.zone), location, role)
    shifts = service.matching(wanted, only)
    if as_json:
        print_json([_as_json(s, service, full_numbers) for s in shifts])
        return
    if not shifts:
        filtered = only != ShiftFilter()
        what = f"{status.value} shifts" if status else "shifts"
        say(f"No {what} match." if filtered else f"No {what}.")
        return
    shown, more = shifts[:MAX_TABLE_ROWS], len(shifts) - MAX_TABLE_ROWS
    timed = any(s.starts_at or s.location or s.role for s in shown)
    columns = ["Shift", *(("Starts", "Ends", "Location", "Role") if timed else ()), "Info"]
    table = Table(*columns, "Status", "Employee", "Booked at")
    for s in shown:
        past = service.started(s)
        style = "green" if s.available and not past else None
        when = (
            (_shown(s.starts_at, service.zone), _shown(s.ends_at, service.zone))
            if shift_span_of(s) is not None
            else (s.starts_at or "", s.ends_at or "")
        )
        table.add_row(
            s.shift_id,
            *((*when, s.location or "", s.role or "") if timed else ()),
            s.shift_info,
            f"past ({s.status_text})" if past else s.status_text,
            _number(s.employee, full_numbers) or "",
            s.booked_at or "",
            style=style,
        )
    stdout().print(table)
    if more > 0:
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
    full_numbers: FullNumbersOpt = False,
) -> None:
    """Make a taken shift available again (staff can book it by SMS)."""
    service = _with_waitlist(ctx, _service(ctx, notify=not no_notify))
    done = service.release(shift_id, notify=not no_notify)
    before = done.before
    holder = _number(before.employee, full_numbers)
    held = f" (it was taken by {holder})" if holder else ""
    say(f"Shift {before.shift_id} is available again{held}.")
    _report_holder_text(done, full_numbers)
    if done.offered_to:
        say(
            f"Held for {_number(done.offered_to, full_numbers)}, the first on its waitlist "
            "who may take it."
        )


@app.command("remove")
@handle_errors
def remove(
    ctx: typer.Context,
    shift_id: ShiftIdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="Do not text the holder that it is cancelled.")
    ] = False,
    full_numbers: FullNumbersOpt = False,
) -> None:
    """Delete a shift (asks first unless --yes)."""
    service = _service(ctx, notify=not no_notify)
    shift = service.get(shift_id)
    if not yes:
        holder = _number(shift.employee, full_numbers)
        held = f", taken by {holder}" if holder else ""
        confirm(f"Remove shift {shift.shift_id} ({shift.shift_info}{held})?", abort=True)
    done = service.remove(shift, notify=not no_notify)
    say(f"Removed shift {shift.shift_id}.")
    _report_holder_text(done, full_numbers)
