"""``shiftsms audit``: every change to a shift, an allow-list entry or a campaign, and by whom."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shiftsms.aws.audit_table import AuditTable
from shiftsms.cli.context import get_context
from shiftsms.cli.options import FullNumbersOpt, JsonOpt
from shiftsms.cli.output import handle_errors, print_json, say, stdout, writable_file
from shiftsms.core.audit import SHIFT, STAFF, AuditEntry, staff_subject, subject_key
from shiftsms.core.periods import parse_period
from shiftsms.core.phone import InvalidPhoneNumber, normalise, shown
from shiftsms.core.shift_times import time_zone
from shiftsms.errors import InvalidInput

DEFAULT_SINCE = "7d"


def now() -> datetime:
    """The current time (``--since`` counts back from it)."""
    return datetime.now(UTC)


def _since(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_period(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    return value


def entry_rows(entry: AuditEntry, full_numbers: bool) -> list[dict[str, str]]:
    """One row per attribute changed (one row for a change that names none)."""
    show = entry.unmasked if full_numbers else (lambda text: text)
    base = {
        "at": entry.at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "kind": entry.kind,
        "subject": subject_label(entry, full_numbers),
        "action": entry.action,
        "by": show(entry.by),
    }
    changes = entry.changes or {"": (None, None)}
    return [
        {**base, "attribute": name, "old": show(old or ""), "new": show(new or "")}
        for name, (old, new) in changes.items()
    ]


def subject_label(entry: AuditEntry, full_numbers: bool) -> str:
    """What the entry is about, for people: a shift id, a (masked) number, a campaign id."""
    if entry.kind != STAFF:
        return entry.subject_id
    phone = next((n for n in entry.numbers if staff_subject(n) == entry.subject_id), None)
    if phone is None:
        return f"#{entry.subject_id[:8]}"
    return shown(phone, full_numbers)


def as_json(entry: AuditEntry, full_numbers: bool) -> dict[str, Any]:
    """The entry for scripts."""
    show = entry.unmasked if full_numbers else (lambda text: text)
    return {
        "at": entry.at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "kind": entry.kind,
        "subject": subject_label(entry, full_numbers),
        "action": entry.action,
        "by": show(entry.by),
        "changes": {
            name: {"old": show(old) if old else old, "new": show(new) if new else new}
            for name, (old, new) in entry.changes.items()
        },
    }


def _render(entries: list[AuditEntry], zone: str, full_numbers: bool) -> None:
    if not entries:
        say("No changes recorded.")
        return
    table = Table(show_lines=False)
    for column in ("When", "What", "Change", "By"):
        table.add_column(column)
    tz = time_zone(zone)
    for entry in entries:
        show = entry.unmasked if full_numbers else (lambda text: text)
        lines = [
            f"{name}: {show(old or '-')} -> {show(new or '-')}"
            for name, (old, new) in entry.changes.items()
        ]
        table.add_row(
            entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            f"{entry.kind} {subject_label(entry, full_numbers)}",
            "\n".join([entry.action, *lines]),
            show(entry.by),
        )
    stdout().print(table)
    say(f"{len(entries)} change{'' if len(entries) == 1 else 's'}.")


def _write_csv(path: Path, entries: Iterable[AuditEntry], full_numbers: bool) -> int:
    fields = ["at", "kind", "subject", "action", "attribute", "old", "new", "by"]
    count = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for entry in entries:
            for row in entry_rows(entry, full_numbers):
                writer.writerow(row)
                count += 1
    return count


@handle_errors
def audit(
    ctx: typer.Context,
    *,
    shift: Annotated[str | None, typer.Option("--shift", help="Only this shift's changes.")] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="Only this allow-list entry's changes.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            callback=_since,
            help="How far back, like 12h, 7d or 2w (default 7d; with --shift/--phone: all).",
        ),
    ] = None,
    as_json_: JsonOpt = False,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv", callback=writable_file, help="Write one row per attribute changed to FILE."
        ),
    ] = None,
    full_numbers: FullNumbersOpt = False,
) -> None:
    """Every change to a shift, an allow-list entry or a campaign: what, when and by whom.

    By whom: `sms:<number>:<message id>` for a text, `cli:<IAM identity>` for this CLI,
    `fn:<function>` for an automatic step, or unknown (a console edit, or a removal).
    """
    if shift and phone:
        raise InvalidInput("give --shift or --phone, not both")
    if as_json_ and csv_file:
        raise InvalidInput("give --json or --csv, not both")
    cli = get_context(ctx)
    stack = cli.stack()
    settings = stack.settings()
    trail = AuditTable(cli.client("dynamodb"), stack.output("AuditTableName"))
    start = now() - parse_period(since) if since else None
    if shift:
        subject = subject_key(SHIFT, shift.strip().upper())
        entries = list(trail.for_subject(subject, start))
    elif phone:
        try:
            number = normalise(phone, settings.default_region)
        except InvalidPhoneNumber as exc:
            raise InvalidInput(f"--phone: {exc}") from exc
        entries = list(trail.for_subject(subject_key(STAFF, staff_subject(number)), start))
    else:
        start = start or now() - parse_period(DEFAULT_SINCE)
        entries = list(trail.between(start, now()))
    if csv_file:
        rows = _write_csv(csv_file, entries, full_numbers)
        say(f"Wrote {rows} row{'' if rows == 1 else 's'} ({len(entries)} changes) to {csv_file}.")
    elif as_json_:
        print_json([as_json(e, full_numbers) for e in entries])
    else:
        _render(entries, settings.time_zone, full_numbers)


def register(app: typer.Typer) -> None:
    """Add ``audit`` to the root app."""
    app.command("audit")(audit)
