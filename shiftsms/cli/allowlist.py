"""``shiftsms allowlist``: who may book shifts by SMS and who gets campaigns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.cli.context import get_context
from shiftsms.cli.options import JsonOpt
from shiftsms.cli.output import handle_errors, print_json, progress, read_text, say, stdout, warn
from shiftsms.core.catalogue import CATALOGUES, DEFAULT_LANGUAGE
from shiftsms.core.models import Shift, StaffChange, StaffMember
from shiftsms.errors import InvalidInput
from shiftsms.services.allowlist import AllowlistService, check_region

app = typer.Typer(
    name="allowlist",
    help="The allow list: staff numbers that may book shifts by SMS and get campaigns.",
    no_args_is_help=True,
)

MAX_LISTED = 20

NumberArg = Annotated[
    str,
    typer.Argument(metavar="PHONE", help='Phone number, e.g. "+44 7700 900123" (stored as E.164).'),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--default-region",
        help="Region for numbers written without +, e.g. GB "
        "(default: the stack's DefaultPhoneRegion, else GB).",
    ),
]


def _service(ctx: typer.Context, region: str | None) -> AllowlistService:
    checked = check_region(region) if region is not None else None
    cli = get_context(ctx)
    store = StaffTable(cli.client("dynamodb"), cli.output("StaffTableName"))
    return AllowlistService(store, checked or cli.stack().settings().default_region)


def _who(member: StaffMember) -> str:
    return f"{member.phone} ({member.name})" if member.name else member.phone


def _as_json(member: StaffMember, snoozed_until: str | None = None) -> dict[str, Any]:
    return {
        "phone": member.phone,
        "name": member.name,
        "campaigns": member.campaigns,
        "opted_out": member.opted_out,
        "groups": list(member.groups),
        "roles": list(member.roles),
        "language": member.language,
        "added_at": member.added_at,
        "snoozed_until": snoozed_until,
    }


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


NameOpt = Annotated[str | None, typer.Option("--name", "-n", help="Who this is.")]
CampaignsOpt = Annotated[
    bool | None,
    typer.Option(
        "--campaigns/--no-campaigns",
        help="Whether they get campaign texts (a new number: yes).",
        show_default=False,
    ),
]
GroupOpt = Annotated[
    list[str] | None,
    typer.Option("--group", "-g", help="A group they belong to (repeat for several)."),
]


RoleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        "-r",
        help="A role they may work, e.g. RN (repeat for several). A shift without a role "
        "needs none.",
    ),
]


LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="The language their texts are sent in: "
        + ", ".join(f"{c} ({cat.name})" for c, cat in CATALOGUES.items())
        + " (a new number: en).",
        show_default=False,
    ),
]


def _groups(groups: tuple[str, ...]) -> str:
    return ", ".join(groups) or "none"


def _changes(change: StaffChange) -> str:
    before, after = change.before, change.after
    assert before is not None
    said = {
        "name": f'name "{before.name}" -> "{after.name}"',
        "campaigns": f"campaigns {_yes(before.campaigns)} -> {_yes(after.campaigns)}",
        "groups": f"groups {_groups(before.groups)} -> {_groups(after.groups)}",
        "roles": f"roles {_groups(before.roles)} -> {_groups(after.roles)}",
        "language": f"language {before.language} -> {after.language}",
    }
    return "; ".join(said[f] for f in change.changed)


def _report(change: StaffChange, unchanged: str) -> None:
    member = change.after
    if change.created:
        notes = [] if member.campaigns else ["no campaigns"]
        if member.groups:
            notes.append(f"groups: {_groups(member.groups)}")
        if member.roles:
            notes.append(f"roles: {_groups(member.roles)}")
        if member.language != DEFAULT_LANGUAGE:
            notes.append(f"language: {member.language}")
        extra = f" [{'; '.join(notes)}]" if notes else ""
        say(f"Added {_who(member)} to the allow list{extra}.")
    elif change.changed:
        say(f"Updated {_who(member)}: {_changes(change)}.")
    else:
        say(f"{_who(member)} {unchanged}; nothing changed.")
    if member.opted_out:
        warn(f"{member.phone} has opted out of texts; they get none until they text START.")


@app.command("add")
@handle_errors
def add(
    ctx: typer.Context,
    number: NumberArg,
    *,
    name: NameOpt = None,
    campaigns: CampaignsOpt = None,
    group: GroupOpt = None,
    role: RoleOpt = None,
    lang: LangOpt = None,
    default_region: RegionOpt = None,
) -> None:
    """Add a number to the allow list.

    A number already on the list keeps everything not given here: its name, campaigns,
    groups, roles, language and opt-out state. Use `allowlist update` to change an entry.
    """
    change = _service(ctx, default_region).add(
        number, name, campaigns=campaigns, groups=group, roles=role, language=lang
    )
    _report(change, "is already on the allow list")


@app.command("update")
@handle_errors
def update(
    ctx: typer.Context,
    number: NumberArg,
    *,
    name: NameOpt = None,
    campaigns: CampaignsOpt = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            "-g",
            help="Their groups become these (repeat for several). Excludes --no-groups.",
        ),
    ] = None,
    no_groups: Annotated[
        bool, typer.Option("--no-groups", help="Take them out of every group. Excludes --group.")
    ] = False,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            "-r",
            help="Their roles become these (repeat for several). Excludes --no-roles.",
        ),
    ] = None,
    no_roles: Annotated[
        bool,
        typer.Option(
            "--no-roles", help="Take every role away (shifts without a role only). Excludes --role."
        ),
    ] = False,
    lang: LangOpt = None,
    default_region: RegionOpt = None,
) -> None:
    """Change an entry: only the fields given; says what changed (opt-out state is kept)."""
    if group and no_groups:
        raise InvalidInput("--group and --no-groups exclude each other")
    if role and no_roles:
        raise InvalidInput("--role and --no-roles exclude each other")
    groups: list[str] | None = [] if no_groups else group
    roles: list[str] | None = [] if no_roles else role
    change = _service(ctx, default_region).update(
        number, name, campaigns=campaigns, groups=groups, roles=roles, language=lang
    )
    _report(change, "already has those values")


@app.command("remove")
@handle_errors
def remove(ctx: typer.Context, number: NumberArg, default_region: RegionOpt = None) -> None:
    """Take a number off the allow list."""
    phone = _service(ctx, default_region).remove(number)
    say(f"Removed {phone} from the allow list.")


@app.command("list")
@handle_errors
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the allow list: who gets campaigns, who opted out, who is snoozed until when."""
    service = _service(ctx, None)
    members = service.members()
    at = datetime.now(UTC)
    if as_json:
        print_json([_as_json(m, service.snoozed_until(m, at)) for m in members])
        return
    if not members:
        say("The allow list is empty.")
        return
    table = Table(
        "Phone",
        "Name",
        "Campaigns",
        "Opted out",
        "Snoozed until",
        "Groups",
        "Roles",
        "Language",
        "Added",
    )
    for m in members:
        table.add_row(
            m.phone,
            m.name,
            _yes(m.campaigns),
            _yes(m.opted_out),
            service.snoozed_until(m, at) or "",
            ", ".join(m.groups),
            ", ".join(m.roles),
            m.language,
            m.added_at or "",
            style="dim" if m.opted_out else None,
        )
    stdout().print(table)


def _shift_json(shift: Shift) -> dict[str, Any]:
    return {
        "shift_id": shift.shift_id,
        "shift_info": shift.shift_info,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "location": shift.location,
    }


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    number: NumberArg,
    default_region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One person: entry, roles, language, snooze, upcoming shifts, hours in the last 28 days."""
    cli = get_context(ctx)
    shifts = ShiftsTable(
        cli.client("dynamodb"), cli.output("ShiftsTableName"), cli.output("StaffTableName")
    )
    found = _service(ctx, default_region).profile(number, shifts, datetime.now(UTC))
    m = found.member
    if as_json:
        print_json(
            {
                **_as_json(m, found.snoozed_until),
                "language": found.language,
                "upcoming": [_shift_json(s) for s in found.upcoming],
                "hours_last_28_days": found.hours_last_28_days,
            }
        )
        return
    say(f"Phone:      {m.phone}")
    say(f"Name:       {m.name or '-'}")
    say(f"Campaigns:  {_yes(m.campaigns)}{' (opted out)' if m.opted_out else ''}")
    say(f"Groups:     {_groups(m.groups)}")
    say(f"Roles:      {_groups(m.roles)}")
    say(f"Language:   {found.language or 'default'}")
    say(f"Snoozed:    {'until ' + found.snoozed_until if found.snoozed_until else 'no'}")
    say(f"Hours booked, last 28 days: {found.hours_last_28_days:g}")
    if not found.upcoming:
        say("Upcoming:   none")
        return
    say(f"Upcoming:   {len(found.upcoming)}")
    for shift in found.upcoming:
        say(f"  {shift.shift_id}  {shift.shift_info}")


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A phone,name[,roles][,lang] CSV (roles: RN;HCA; lang: es), or the Pinpoint "
            "segment export "
            "(Id,ChannelType,Address,User.UserId).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    default_region: RegionOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add numbers from a CSV file; numbers already on the list are skipped.

    Every row is checked first: if any number is invalid (or repeated), each bad line is
    reported with the reason and nothing is written. Pinpoint rows of other channels than
    SMS are left out; the name comes from User.UserId.
    """
    text = read_text(file)
    service = _service(ctx, default_region)
    parsed = service.read_file(text)
    with progress("Importing numbers", len(parsed.rows)) as advance:
        result = service.import_rows(parsed.rows, on_row=lambda _row: advance())
    if as_json:
        print_json(
            {
                "format": parsed.format,
                "added": result.added,
                "skipped": result.skipped,
                "not_sms": parsed.not_sms,
            }
        )
        return
    if parsed.not_sms:
        say(
            f"Left out {parsed.not_sms} row{'s' if parsed.not_sms != 1 else ''} of other "
            "channels than SMS."
        )
    added = len(result.added)
    say(
        f"Added {added} number{'s' if added != 1 else ''}, "
        f"skipped {len(result.skipped)} already on the allow list."
    )
    if result.skipped:
        more = len(result.skipped) - MAX_LISTED
        listed = ", ".join(result.skipped[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")
        say(f"Skipped: {listed}")
