"""``shiftsms report``: shifts posted and filled, time to fill, texts and cost, per person."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shiftsms.aws.audit_table import AuditTable
from shiftsms.aws.delivery_records import DynamoSendRecords
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.cli.context import CliContext, get_context
from shiftsms.cli.options import JsonOpt
from shiftsms.cli.output import handle_errors, print_json, say, stdout, writable_file
from shiftsms.core.periods import parse_period
from shiftsms.core.shift_times import time_zone
from shiftsms.errors import InvalidInput
from shiftsms.services.report import (
    FillReport,
    Report,
    SendRecordsLike,
    bars,
    people_by_bookings,
)


def now() -> datetime:
    """The current time (``--since`` counts back from it)."""
    return datetime.now(UTC)


def send_records(cli: CliContext) -> SendRecordsLike:
    """The stack's send records (what the delivery function recorded of each text)."""
    stack = cli.stack()
    return DynamoSendRecords(
        cli.client("dynamodb"), stack.output("StateTableName"), stack.output("CampaignsTableName")
    )


def _since(value: str) -> str:
    try:
        parse_period(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return value


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    hours, minutes = divmod(round(value), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def as_json(report: Report) -> dict[str, Any]:
    """The report for scripts (people by masked number)."""
    rate = report.fill_rate
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "shifts_posted": report.posted,
        "shifts_filled": report.filled,
        "fill_rate": None if rate is None else round(rate, 4),
        "time_to_fill_minutes": {
            "median": report.fill_time(0.5),
            "p90": report.fill_time(0.9),
            "filled_after_an_offer": len(report.fill_minutes),
        },
        "texts": report.texts,
        "segments": report.segments,
        "cost_usd": str(report.cost_usd),
        "cost_per_filled_shift_usd": (
            None if report.cost_per_filled is None else str(report.cost_per_filled)
        ),
        "opt_outs": report.opt_outs,
        "per_day": [
            {"day": d.isoformat(), "posted": p, "filled": f} for d, (p, f) in report.per_day.items()
        ],
        "people": [
            {
                "person": p.label,
                "name": p.name or None,
                "offers": p.offers,
                "bookings": p.bookings,
                "hours": round(p.hours, 2),
            }
            for p in people_by_bookings(report)
        ],
    }


def _render(report: Report, title: str) -> None:
    out = stdout()
    rate = report.fill_rate
    summary = Table(title=title, show_header=False)
    summary.add_column("what")
    summary.add_column("value")
    summary.add_row("Shifts posted", str(report.posted))
    summary.add_row("Shifts filled", str(report.filled))
    summary.add_row(
        "Fill rate",
        "-" if rate is None else f"{rate:.0%} ({report.filled_of_posted} of {report.posted})",
    )
    summary.add_row(
        "Time to fill (from the first offer)",
        f"median {_minutes(report.fill_time(0.5))}, p90 {_minutes(report.fill_time(0.9))}",
    )
    summary.add_row("Texts sent", f"{report.texts} ({report.segments} segments)")
    summary.add_row(
        "Cost", f"{_money(report.cost_usd)} ({_money(report.cost_per_filled)} per filled shift)"
    )
    summary.add_row("Opt-outs", str(report.opt_outs))
    out.print(summary)
    if report.per_day:
        days = Table(title="Per day")
        for column in ("Day", "Posted", "Filled", ""):
            days.add_column(column)
        filled = bars([f for _, f in report.per_day.values()])
        for (day, (posted, count)), bar in zip(report.per_day.items(), filled, strict=True):
            days.add_row(day.strftime("%a %d/%m"), str(posted), str(count), bar)
        out.print(days)
    people = people_by_bookings(report)
    if people:
        table = Table(title="Per person")
        for column in ("Person", "Name", "Offers", "Bookings", "Hours", ""):
            table.add_column(column)
        booked = bars([p.bookings for p in people])
        for p, bar in zip(people, booked, strict=True):
            table.add_row(p.label, p.name, str(p.offers), str(p.bookings), f"{p.hours:g}", bar)
        out.print(table)


def _write_csv(path: Path, report: Report) -> int:
    people = people_by_bookings(report)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["person", "name", "offers", "bookings", "hours"])
        for p in people:
            writer.writerow([p.label, p.name, p.offers, p.bookings, round(p.hours, 2)])
    return len(people)


@handle_errors
def report(
    ctx: typer.Context,
    *,
    since: Annotated[
        str, typer.Option("--since", callback=_since, help="How far back, like 7d or 30d.")
    ] = "30d",
    location: Annotated[
        str | None, typer.Option("--location", help="Only shifts at L (any case).")
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="Only shifts needing R.")] = None,
    as_json_: JsonOpt = False,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", callback=writable_file, help="Write the per-person numbers to FILE."),
    ] = None,
) -> None:
    """Shifts posted and filled, fill rate, time to fill, texts, cost, opt-outs, per person.

    Reads the audit trail and the send records for the period (one query per day), never a
    Scan. Days are the stack's time zone; numbers are masked.
    """
    if as_json_ and csv_file:
        raise InvalidInput("give --json or --csv, not both")
    cli = get_context(ctx)
    stack = cli.stack()
    settings = stack.settings()
    dynamodb = cli.client("dynamodb")
    builder = FillReport(
        AuditTable(dynamodb, stack.output("AuditTableName")),
        send_records(cli),
        ShiftsTable(dynamodb, settings.shifts_table),
        StaffTable(dynamodb, settings.staff_table),
    )
    end = now()
    zone = time_zone(settings.time_zone)
    built = builder.build(end - parse_period(since), end, zone, location=location, role=role)
    if as_json_:
        print_json(as_json(built))
        return
    scope = "".join(
        f", {label} {value}" for label, value in (("location", location), ("role", role)) if value
    )
    start_day = built.start.astimezone(zone).date()
    title = f"Fill report {start_day} to {end.astimezone(zone).date()} ({zone.key}{scope})"
    _render(built, title)
    if csv_file:
        rows = _write_csv(csv_file, built)
        say(f"Wrote {rows} {'person' if rows == 1 else 'people'} to {csv_file}.")


def register(app: typer.Typer) -> None:
    """Add ``report`` to the root app."""
    app.command("report")(report)
