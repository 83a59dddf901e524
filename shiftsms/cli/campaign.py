"""``shiftsms campaign``: offer open shifts to staff by SMS and follow who books them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from shiftsms.aws.stack import StackInfo
from shiftsms.aws.wiring import campaign_planner, campaign_reports
from shiftsms.cli.context import get_context
from shiftsms.cli.options import FullNumbersOpt, JsonOpt
from shiftsms.cli.output import confirm, handle_errors, print_json, say, stdout, warn
from shiftsms.core import spend
from shiftsms.core.award import AwardRule, CampaignMode, parse_duration
from shiftsms.core.models import ShiftStatus
from shiftsms.core.phone import shown
from shiftsms.core.shift_times import date_window, time_zone
from shiftsms.deploy.protect import allowed_countries
from shiftsms.errors import InvalidInput
from shiftsms.services.campaigns import (
    CampaignDraft,
    CampaignPlanner,
    CampaignReports,
    CampaignSummary,
    OfferOptions,
    RecipientLine,
    ShiftFill,
)
from shiftsms.services.shifts import ShiftFilter

app = typer.Typer(
    name="campaign",
    help="Text open shifts to everyone on the allow list; see who booked what.",
    no_args_is_help=True,
)

EXIT_DECLINED = 1


def now() -> datetime:
    """The current time (a shift that started before it is never offered)."""
    return datetime.now(UTC)


def _planner(ctx: typer.Context) -> CampaignPlanner:
    cli = get_context(ctx)
    planner = campaign_planner(cli.client, cli.stack())
    planner.clock = now
    planner.default_region = cli.stack().settings().default_region
    return planner


def _reports(ctx: typer.Context) -> CampaignReports:
    cli = get_context(ctx)
    return campaign_reports(cli.client, cli.stack())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _show_draft(draft: CampaignDraft, stack: StackInfo) -> None:
    info = draft.info
    say(f"Campaign:   {draft.campaign_id}")
    say(f"Text:       {draft.text}")
    say(
        f"Encoding:   {info.encoding}, {_plural(info.units, 'character')}, "
        f"{_plural(info.segments, 'segment')}"
    )
    if draft.shift_ids:
        say(f"Shifts:     {', '.join(draft.shift_ids)}")
    if draft.live and not draft.fits_one_text:
        listed = len(draft.shift_ids) - draft.left_out
        warn(
            f"the {len(draft.shift_ids)} shifts do not all fit one text: each text lists the "
            f"soonest {listed} still open and says how many more (REQUEST lists them); the "
            "campaign tracks all of them"
        )
    if draft.notify:
        say(f"Notify:     {', '.join(draft.notify)} (bookings, drops, filled)")
    if draft.roles is not None:
        say(f"Roles:      {', '.join(draft.roles)} (only staff with one of them get it)")
    say(f"Recipients: {draft.recipients}")
    per_segment = spend.price(stack.outputs.get("PricePerSegment", ""))
    cost = (
        f", about {spend.usd(spend.estimated_cost(draft.billed_segments, per_segment))}"
        if per_segment is not None
        else ""
    )
    say(
        f"Billed:     {_plural(draft.billed_segments, 'segment')} "
        f"({_plural(draft.recipients, 'recipient')} x {_plural(info.segments, 'segment')}){cost}"
    )
    _warn_over_max_price(draft, stack, per_segment)
    _warn_blocked_countries(draft, stack)


def _warn_blocked_countries(draft: CampaignDraft, stack: StackInfo) -> None:
    """Warn when some recipients are in countries the stack's protect configuration blocks
    (their texts are refused by End User Messaging, and counted failed)."""
    settings = stack.settings()
    allowed = allowed_countries(
        stack.parameters.get("AllowedCountries", ""),
        stack.outputs.get("OriginationIdentity", ""),
        settings.default_region,
    )
    outside = draft.outside(allowed)
    if not outside:
        return
    count = sum(n for _, n in outside)
    where = ", ".join(f"{c or 'unknown'} {n}" for c, n in outside)
    warn(
        f"{_plural(count, 'recipient')} outside the stack's countries ({', '.join(allowed)}): "
        f"{where}; their texts will be refused and counted failed (shiftsms deploy "
        "--allowed-countries adds countries)"
    )


def _warn_over_max_price(
    draft: CampaignDraft, stack: StackInfo, per_segment: Decimal | None
) -> None:
    """Warn when each text would cost more than the stack's MaxPricePerMessage."""
    try:
        cap = spend.max_price(stack.parameters.get("MaxPricePerMessage", ""))
    except ValueError:
        return
    if per_segment is None or cap is None:
        return
    per_text = spend.over_max_price(draft.info.segments, per_segment, cap)
    if per_text is not None:
        warn(
            f"at {spend.usd(per_segment)} a segment each text costs about {spend.usd(per_text)}, "
            f"over the stack's MaxPricePerMessage ${cap}: AWS would refuse every text"
        )


@app.command("create")
@handle_errors
def create(
    ctx: typer.Context,
    *,
    campaign_id: Annotated[
        str | None,
        typer.Argument(
            metavar="CAMPAIGN_ID",
            help="A unique id for the campaign (default: generated from the time).",
        ),
    ] = None,
    shifts: Annotated[
        str | None,
        typer.Option(
            "--shifts",
            help="Shift codes to offer, comma separated: XYZ123,XYZ124. "
            "Excludes --all-available and --message.",
        ),
    ] = None,
    all_available: Annotated[
        bool,
        typer.Option(
            "--all-available",
            help="Offer every open shift that has not started (or those --location, --role, "
            "--from and --to keep). Excludes --shifts and --message.",
        ),
    ] = False,
    location: Annotated[
        str | None,
        typer.Option("--location", metavar="L", help="With --all-available: only shifts at L."),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", metavar="R", help="With --all-available: only shifts needing R."),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="With --all-available: only shifts starting on or after YYYY-MM-DD.",
        ),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="DATE",
            help="With --all-available: only shifts starting on or before YYYY-MM-DD.",
        ),
    ] = None,
    message: Annotated[
        str | None,
        typer.Option(
            "--message",
            help="Your own list of shifts with their codes, as the sample's campaign_message. "
            "Excludes --shifts and --all-available.",
        ),
    ] = None,
    max_segments: Annotated[
        int,
        typer.Option(
            "--max-segments",
            min=1,
            max=10,
            help="Segments the text may use (--shifts, --all-available).",
        ),
    ] = 1,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            metavar="NUMBER",
            help="Text NUMBER when one of the campaign's shifts is booked or dropped, and when "
            "the campaign is filled (repeat for several).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the text and its cost; write nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    mode: Annotated[
        CampaignMode,
        typer.Option(
            "--mode",
            help="first-come: a reply books at once. window: replies during --window register "
            "interest; at its end each shift goes to one replier by --award.",
        ),
    ] = CampaignMode.FIRST_COME,
    window: Annotated[
        str | None,
        typer.Option("--window", metavar="DURATION", help="With --mode window: 10m, 90s, 1h."),
    ] = None,
    award: Annotated[
        AwardRule,
        typer.Option(
            "--award",
            help="Who gets a shift when a window closes: fewest hours booked in the last "
            "28 days (then earliest reply, then a draw), the earliest reply, or a draw.",
        ),
    ] = AwardRule.FEWEST_HOURS,
    waves: Annotated[
        int,
        typer.Option(
            "--waves",
            min=1,
            max=20,
            help="Text the first 1/N of the eligible staff (in --award order), the next 1/N "
            "after --wave-gap, and so on while shifts are open.",
        ),
    ] = 1,
    wave_gap: Annotated[
        str | None,
        typer.Option("--wave-gap", metavar="DURATION", help="With --waves: time between waves."),
    ] = None,
) -> None:
    """Compose a campaign, show its text and cost, and (once confirmed) send it.

    Give exactly one of --shifts, --all-available or --message: they exclude each other.
    A shift that has started is never offered. Only staff who may work at least one of the
    shifts offered get the text (their roles; a shift without a role: everyone).
    """
    offer = _offer(mode, window, award, waves, wave_gap)
    service = _planner(ctx)
    zone = time_zone(get_context(ctx).stack().settings().time_zone)
    draft = service.prepare(
        campaign_id,
        shift_ids=shifts.split(",") if shifts is not None else None,
        all_available=all_available,
        message=message,
        max_segments=max_segments,
        only=ShiftFilter(date_window(first, last, zone), location, role),
        notify=notify or (),
    )
    _show_draft(draft, get_context(ctx).stack())
    if draft.recipients == 0:
        warn("nobody on the allow list receives campaigns: this campaign would text no one")
    if dry_run:
        say("Dry run: nothing written.")
        return
    if not yes and not confirm("Send this campaign?"):
        say("Not sent.")
        raise typer.Exit(EXIT_DECLINED)
    created = service.create(draft, offer)
    say(
        f"Campaign {draft.campaign_id} created: texting {_plural(draft.recipients, 'recipient')}. "
        f"Follow it with: shiftsms campaign show {draft.campaign_id}"
    )
    if created.window_closes_at:
        closes = datetime.fromisoformat(created.window_closes_at).astimezone(zone)
        say(f"Claim window open until {closes:%H:%M:%S}; then each shift is awarded ({award}).")


def _offer(
    mode: CampaignMode, window: str | None, award: AwardRule, waves: int, wave_gap: str | None
) -> OfferOptions:
    """The campaign's offer options from the command line (InvalidInput when they clash)."""
    try:
        length = parse_duration(window) if window else None
        gap = parse_duration(wave_gap) if wave_gap else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if mode is CampaignMode.WINDOW and length is None:
        raise InvalidInput("--mode window needs --window, e.g. --window 10m")
    if mode is CampaignMode.FIRST_COME and length is not None:
        raise InvalidInput("--window needs --mode window")
    if waves > 1 and gap is None:
        raise InvalidInput("--waves needs --wave-gap, e.g. --wave-gap 15m")
    return OfferOptions(mode=mode, window=length, award=award, waves=waves, wave_gap=gap)


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


@app.command("list")
@handle_errors
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every campaign with its status and delivery counters, newest first."""
    summaries = _reports(ctx).list()
    if as_json:
        print_json([s.to_json() for s in summaries])
        return
    if not summaries:
        say("No campaigns yet. Create one with: shiftsms campaign create --all-available")
        return
    table = Table(
        "Campaign",
        "Status",
        "Created",
        "Recipients",
        "Sent",
        "Failed",
        "Opted out",
        "Skipped",
        "Filled",
        "Capped",
        "Pending",
    )
    for s in summaries:
        table.add_row(
            s.campaign_id,
            s.status,
            s.created_at or "-",
            _count(s.recipients),
            str(s.sent),
            str(s.failed),
            str(s.opted_out),
            str(s.skipped),
            str(s.skipped_filled),
            str(s.skipped_capped),
            _count(s.pending),
        )
        _warn_problems(s)
    stdout().print(table)


def _warn_problems(s: CampaignSummary) -> None:
    for problem in s.problems:
        warn(f"campaign {s.campaign_id}: {problem}")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _fill_line(fill: ShiftFill, full_numbers: bool = False) -> str:
    head = f"  {fill.shift_id}  {fill.shift_info}: "
    if fill.employee is None:
        return head + ("not booked" if fill.status == ShiftStatus.AVAILABLE else fill.status)
    number = shown(fill.employee, full_numbers)
    who = f"{fill.employee_name} ({number})" if fill.employee_name else number
    when = (
        f", {_duration(fill.seconds_to_book)} after the text"
        if fill.seconds_to_book is not None
        else ""
    )
    return head + f"booked by {who}{when}"


def _show_summary(s: CampaignSummary, full_numbers: bool = False) -> None:
    say(f"Campaign:   {s.campaign_id}")
    say(f"Status:     {s.status}")
    say(f"Created:    {s.created_at or '-'}")
    say(f"Sent at:    {s.sent_at or '-'}")
    say(f"Text:       {s.text or '-'}")
    # Jobs not texted because every shift was taken by their turn (live offers).
    filled = f"skipped (filled) {s.skipped_filled}, " if s.skipped_filled else ""
    say(
        f"Recipients: {_count(s.recipients)} (sent {s.sent}, failed {s.failed}, "
        f"opted out {s.opted_out}, skipped {s.skipped}, {filled}"
        + (f"over the daily cap {s.skipped_capped}, " if s.skipped_capped else "")
        + f"dead-lettered {s.dead_lettered}, pending {_count(s.pending)})"
    )
    if s.reoffered:
        say(f"Re-offered: {_plural(s.reoffered, 'text')} (shifts given back, open again)")
    if s.delivery is not None:
        d = s.delivery
        say(
            f"Delivery:   delivered {d.delivered}, failed {d.failed}, pending {d.pending} "
            f"({_plural(d.parts, 'part')}, cost ${d.cost_usd:.4f})"
        )
    if s.send_dlq_depth is not None:
        held = _plural(s.send_dlq_depth, "send job")
        say(f"Dead-lettered: {held} in the send DLQ (all campaigns)")
    if s.reason:
        say(f"Reason:     {s.reason}")
    _warn_problems(s)
    if not s.shifts:
        say("Shifts:     none recognised in the message")
        return
    booked = sum(1 for f in s.shifts if f.employee)
    say(f"Shifts:     {booked} of {len(s.shifts)} booked")
    for fill in s.shifts:
        say(_fill_line(fill, full_numbers))


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    campaign_id: Annotated[str, typer.Argument(metavar="CAMPAIGN_ID", help="The campaign's id.")],
    as_json: JsonOpt = False,
    recipients: Annotated[
        bool,
        typer.Option(
            "--recipients", help="List each recipient: status, parts and price of their text."
        ),
    ] = False,
    full_numbers: FullNumbersOpt = False,
) -> None:
    """One campaign: status, delivery receipts and cost, and who booked each shift, how soon."""
    reports = _reports(ctx)
    summary = reports.summarise(campaign_id)
    lines = reports.recipients(campaign_id, full_numbers=full_numbers) if recipients else None
    if as_json:
        data = summary.to_json(full_numbers=full_numbers)
        if lines is not None:
            data["recipients_list"] = [line.to_json() for line in lines]
        print_json(data)
        return
    _show_summary(summary, full_numbers)
    if lines is not None:
        _show_recipients(lines)


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def _show_recipients(lines: tuple[RecipientLine, ...]) -> None:
    if not lines:
        say("Recipients: no send records for this campaign")
        return
    table = Table("Recipient", "Name", "Sent", "Delivery", "Parts", "Price", "Carrier fee")
    for line in lines:
        table.add_row(
            line.recipient,
            line.name or "-",
            line.outcome,
            line.delivery_status or ("pending" if line.outcome == "sent" else "-"),
            "-" if line.parts is None else str(line.parts),
            _price(line.price_usd),
            _price(line.carrier_fee_usd),
        )
    stdout().print(table)
