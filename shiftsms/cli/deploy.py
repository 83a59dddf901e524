"""``shiftsms deploy``, ``status`` and ``destroy``: the stack's life cycle, rendered with rich."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from shiftsms.cli.context import get_context
from shiftsms.cli.options import JsonOpt
from shiftsms.cli.output import confirm, fail, handle_errors, print_json, say, stderr, stdout, warn
from shiftsms.core import spend
from shiftsms.core.phone import InvalidPhoneNumber, normalise
from shiftsms.deploy.deployer import (
    BundleReady,
    ChangeSetReady,
    ConnectOptions,
    Deployer,
    DeployEvent,
    DeployOptions,
    DeployResult,
    Progress,
    StackStatus,
    parse_numbers,
)
from shiftsms.deploy.protect import country_codes, every_region
from shiftsms.deploy.stack import ChangeSet, StackEvent
from shiftsms.errors import InvalidInput, StackFailed

RECENT_EVENTS = 12
_STATUS_STYLE = {"COMPLETE": "green", "IN_PROGRESS": "yellow", "FAILED": "bold red"}


def _style(status: str) -> str:
    for suffix, style in _STATUS_STYLE.items():
        if status.endswith(suffix):
            return "red" if "ROLLBACK" in status or "DELETE_FAILED" in status else style
    return ""


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} kB"


class DeployView:
    """Renders deploy events on stderr: steps as lines, stack events in a live table."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or stderr()
        self.resources: dict[str, StackEvent] = {}
        self.recent: list[StackEvent] = []
        self.live: Live | None = None

    def __call__(self, event: DeployEvent) -> None:
        """Show one event."""
        if isinstance(event, Progress):
            self.console.print(Text(f"• {event.message}"), soft_wrap=True)
        elif isinstance(event, BundleReady):
            b = event.bundle
            where = "uploaded to" if event.uploaded else "unchanged, already in"
            self.console.print(
                Text(
                    f"• Bundle {b.sha256[:12]} ({_size(b.size)} zipped, "
                    f"{_size(b.unzipped_bytes)} unzipped, {b.files} files) "
                    f"{where} s3://{event.bucket}"
                ),
                soft_wrap=True,
            )
        elif isinstance(event, ChangeSetReady):
            self.show_changes(event.change_set)
        else:
            self.stack_event(event)

    def show_changes(self, change_set: ChangeSet) -> None:
        """The change set as a table (or that there is nothing to change)."""
        if change_set.no_op:
            return
        if not change_set.changes:
            self.console.print(Text("• No resource changes (parameters or outputs only)"))
            return
        table = Table("Action", "Resource", "Type", "Replacement", title="Changes")
        for c in change_set.changes:
            style = {"Add": "green", "Remove": "red", "Modify": "yellow"}.get(c.action, "")
            table.add_row(Text(c.action, style=style), c.logical_id, c.resource_type, c.replacement)
        self.console.print(table)

    def stack_event(self, event: StackEvent) -> None:
        """Update the live table of resources with one stack event."""
        self.resources[event.logical_id] = event
        self.recent = [*self.recent, event][-RECENT_EVENTS:]
        if not self.console.is_terminal:
            line = Text(f"  {event.logical_id:<28} ") + Text(
                event.status, style=_style(event.status)
            )
            if event.reason:
                line += Text(f"  {event.reason}")
            self.console.print(line, soft_wrap=True)
            return
        if self.live is None:
            self.live = Live(self._render(), console=self.console, refresh_per_second=4)
            self.live.start()
        self.live.update(self._render())

    def _render(self) -> Group:
        table = Table("Resource", "Type", "Status", "Reason", title="Stack events")
        for logical_id, event in sorted(self.resources.items()):
            table.add_row(
                logical_id,
                event.resource_type,
                Text(event.status, style=_style(event.status)),
                event.reason,
            )
        return Group(table)

    def stop(self) -> None:
        """Stop the live view (leaving its last state on screen)."""
        if self.live is not None:
            self.live.stop()
            self.live = None


def _confirm(yes: bool, question: str) -> Any:
    def ask(change_set: ChangeSet) -> bool:
        if yes:
            return True
        return bool(confirm(question.format(n=len(change_set.changes) or "the")))

    return ask


def _connect(
    instance_id: str | None, flow_id: str | None, queue_id: str | None, source: str | None
) -> ConnectOptions | None:
    if not any((instance_id, flow_id, queue_id, source)):
        return None
    if not (instance_id and flow_id):
        raise InvalidInput(
            "Amazon Connect call-backs need --connect-instance-id and --connect-contact-flow-id"
        )
    if not (queue_id or source):
        raise InvalidInput(
            "Amazon Connect call-backs need --connect-queue-id or --connect-source-number"
        )
    return ConnectOptions(
        instance_id=instance_id,
        contact_flow_id=flow_id,
        queue_id=queue_id or "",
        source_number=source or "",
    )


def _print_result(result: DeployResult) -> None:
    out = result.stack.outputs
    if result.changed:
        say(f"Stack {result.stack.name} is {result.stack.status}.", style="green")
    else:
        say(f"No changes: stack {result.stack.name} is up to date ({result.stack.status}).")
    table = Table("Output", "Value", title="Outputs")
    for key, value in sorted(out.items()):
        table.add_row(key, value)
    stdout().print(table)
    if result.seeded:
        say(f"Added to the allow list: {', '.join(result.seeded)}")
    if result.configured:
        say(f"Two-way SMS is on for {result.configured}, to {out.get('InboundTopicArn', '')}.")
    else:
        say(
            "Next step: turn on two-way SMS for "
            f"{out.get('OriginationIdentity', 'your number')} with the SNS topic "
            f"{out.get('InboundTopicArn', '')} as its destination (End User Messaging "
            "console: Phone numbers > your number > Two-way SMS), or run "
            "`shiftsms deploy --configure-number`."
        )


# A phone number or pool as End User Messaging names it: its id, or its ARN.
_ARN = r"arn:aws(-[a-z]+)*:sms-voice:[a-z0-9-]+:\d{12}:"
_IDENTITY = re.compile(rf"({_ARN}phone-number/)?phone-[0-9A-Za-z]+|({_ARN}pool/)?pool-[0-9A-Za-z]+")


def _origination(raw: str | None) -> str | None:
    """``--origination-number``: E.164 (normalised), a phone number or pool id or ARN, or None
    if not given or blank (InvalidInput if wrong)."""
    value = (raw or "").strip()
    if not value:
        return None
    if value.startswith("+"):
        try:
            return normalise(value)
        except InvalidPhoneNumber as exc:
            raise InvalidInput(f"--origination-number: {exc}") from exc
    if not _IDENTITY.fullmatch(value):
        raise InvalidInput(
            "--origination-number must be an E.164 number such as +447700900000, a phone "
            f"number id or ARN, or a pool id or ARN, got {raw!r}"
        )
    return value


def _allowed_countries(raw: str) -> str:
    """``--allowed-countries`` as the AllowedCountries parameter, blank for the default
    (InvalidInput if a code is not an ISO 3166-1 alpha-2 country phonenumbers knows)."""
    codes, known = country_codes(raw), every_region()
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(
            "--allowed-countries must be comma-separated ISO 3166-1 alpha-2 country codes "
            f"such as GB,IE (unknown: {', '.join(unknown)})"
        )
    return ",".join(codes)


def _alarm_and_spend_parameters(
    alarm_email: str | None, max_price: str | None, price_per_segment: str | None
) -> dict[str, str]:
    """The AlarmEmail, MaxPricePerMessage and PricePerSegment given (InvalidInput if wrong)."""
    given: dict[str, str] = {}
    if alarm_email is not None:
        email = alarm_email.strip()
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
            raise InvalidInput(f"--alarm-email: not an email address: {alarm_email!r}")
        given["AlarmEmail"] = email
    if max_price is not None:
        try:
            given["MaxPricePerMessage"] = spend.max_price(max_price) or ""
        except ValueError as exc:
            raise InvalidInput(f"--max-price-per-message must be {exc}") from exc
    if price_per_segment is not None:
        raw = price_per_segment.strip()
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,5})?", raw):
            raise InvalidInput(
                f"--price-per-segment must be US dollars such as 0.04, got {price_per_segment!r}"
            )
        given["PricePerSegment"] = raw
    return given


@handle_errors
def deploy(  # noqa: PLR0917 (Typer passes every option as a parameter)
    ctx: typer.Context,
    origination_number: Annotated[
        str | None,
        typer.Option(
            "--origination-number",
            help="End User Messaging phone number (E.164), phone number id/ARN or pool id/ARN "
            "that sends and receives. Needed on the first deploy.",
        ),
    ] = None,
    approved_numbers: Annotated[
        str | None,
        typer.Option(
            "--approved-numbers",
            help="Comma-separated numbers to add to the allow list (existing entries are kept).",
        ),
    ] = None,
    manager_numbers: Annotated[
        str | None,
        typer.Option(
            "--manager-numbers",
            help="Comma-separated numbers texted when a campaign's shift is booked or dropped "
            "and when a campaign is filled (every campaign; '' for none).",
        ),
    ] = None,
    allowed_countries: Annotated[
        str | None,
        typer.Option(
            "--allowed-countries",
            help="Comma-separated ISO country codes texts may go to (GB,IE); every other "
            "country is blocked. Default: the origination number's country.",
        ),
    ] = None,
    connect_instance_id: Annotated[
        str | None, typer.Option("--connect-instance-id", help="Amazon Connect instance id.")
    ] = None,
    connect_contact_flow_id: Annotated[
        str | None,
        typer.Option("--connect-contact-flow-id", help="Connect contact flow for call-backs."),
    ] = None,
    connect_queue_id: Annotated[
        str | None, typer.Option("--connect-queue-id", help="Connect queue for call-backs.")
    ] = None,
    connect_source_number: Annotated[
        str | None,
        typer.Option("--connect-source-number", help="Connect number the call-back comes from."),
    ] = None,
    s3_bucket: Annotated[
        str | None,
        typer.Option(
            "--s3-bucket",
            help="Bucket for the Lambda bundle (default: an artifacts bucket created for you).",
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Execute the change set without asking.")
    ] = False,
    configure_number: Annotated[
        bool,
        typer.Option(
            "--configure-number",
            help="Turn on two-way SMS on the origination number with the inbound topic.",
        ),
    ] = False,
    alarm_email: Annotated[
        str | None,
        typer.Option(
            "--alarm-email",
            help='Email address the alarm topic notifies (AWS asks it to confirm; "" removes it).',
        ),
    ] = None,
    max_price_per_message: Annotated[
        str | None,
        typer.Option(
            "--max-price-per-message",
            help="Most a text may cost, US dollars (default 0.20): AWS refuses a dearer text. "
            '"" is no cap.',
        ),
    ] = None,
    price_per_segment: Annotated[
        str | None,
        typer.Option(
            "--price-per-segment",
            help="US dollars per SMS segment, for campaign cost estimates (default 0.04; 0: none).",
        ),
    ] = None,
) -> None:
    """Build the Lambda bundle and create or update the stack through a change set."""
    cli = get_context(ctx)
    options = DeployOptions(
        stack_name=cli.stack_name,
        origination_number=_origination(origination_number),
        approved_numbers=None if approved_numbers is None else approved_numbers.split(","),
        connect=_connect(
            connect_instance_id, connect_contact_flow_id, connect_queue_id, connect_source_number
        ),
        s3_bucket=s3_bucket,
        configure_number=configure_number,
        parameters={
            **(
                {}
                if allowed_countries is None
                else {"AllowedCountries": _allowed_countries(allowed_countries)}
            ),
            **_alarm_and_spend_parameters(alarm_email, max_price_per_message, price_per_segment),
            **(
                {}
                if manager_numbers is None
                else {"ManagerNumbers": ",".join(parse_numbers(manager_numbers, None))}
            ),
        },
    )
    view = DeployView()
    deployer = Deployer(
        cli.session,
        on_event=view,
        confirm=_confirm(yes, "Execute {n} change(s) on the stack?"),
    )
    try:
        result = deployer.deploy(options)
    except StackFailed as exc:
        view.stop()
        fail(str(exc), details=[str(f) for f in exc.failures])
    finally:
        view.stop()
    _print_result(result)


@handle_errors
def status(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Stack status and outputs, both versions, shifts, allow list, queues, campaigns, alarms.

    Every queue's depth is shown; a dead-letter queue that holds messages is highlighted
    and named in a warning, and so is each alarm in ALARM.
    """
    cli = get_context(ctx)
    report = Deployer(cli.session).status(cli.stack_name)
    if report.version_warning:
        warn(report.version_warning)
    for queue in report.queues:
        if queue.alarming:
            noun = "message" if queue.held == 1 else "messages"
            warn(
                f"dead-letter queue {queue.name} holds {queue.held} {noun} that failed "
                f"every retry: {queue.url}"
            )
    refused = report.reply_failures.refused if report.reply_failures else 0
    if refused:
        noun = "reply was" if refused == 1 else "replies were"
        warn(f"{refused} {noun} refused for good by End User Messaging: never sent")
    _warn_alarms(report)
    if as_json:
        print_json(report.as_dict())
        return
    _print_status(report)


def _warn_alarms(report: StackStatus) -> None:
    """One red line on stderr per alarm of the stack in ALARM."""
    if report.alarms is None:
        warn("alarms unknown: not allowed to read CloudWatch alarms (cloudwatch:DescribeAlarms)")
        return
    console = stderr()
    for alarm in report.alarms:
        console.print(
            Text("Alarm: ", style="bold red") + Text(f"{alarm.name}: {alarm.reason}", style="red"),
            soft_wrap=True,
        )


def _print_status(report: StackStatus) -> None:
    info = report.stack
    say(Text(f"Stack {info.name}: ") + Text(info.status, style=_style(info.status)))
    say(
        f"Version: shiftsms {report.cli_version}, stack deployed by "
        f"{report.stack_version or 'an unknown version'}"
    )
    outputs = Table("Output", "Value", title="Outputs")
    for key, value in sorted(info.outputs.items()):
        outputs.add_row(key, value)
    console = stdout()
    console.print(outputs)
    shifts = ", ".join(f"{n} {state}" for state, n in report.shifts.items()) or "unknown"
    say(f"Shifts: {shifts}")
    say(f"Allow list: {report.allow_list if report.allow_list is not None else 'unknown'}")
    _print_queues(report)
    _print_replies(report)
    if report.alarms is not None:
        say(f"Alarms: {len(report.alarms) or 'none'} in ALARM")
    if not report.campaigns:
        say("Campaigns: none yet")
        return
    table = Table("Campaign", "Status", "Created", "Recipients", "Sent", "Failed", "Opted out")
    for c in report.campaigns:
        table.add_row(
            c.campaign_id,
            c.status,
            c.created_at or "",
            "" if c.recipients is None else str(c.recipients),
            str(c.sent),
            str(c.failed),
            str(c.opted_out),
        )
    console.print(table)


def _depth(value: int | None, error: str | None) -> str:
    return str(value) if value is not None else f"unknown ({error})"


def _print_queues(report: StackStatus) -> None:
    if not report.queues:
        say("Queues: none in the stack's outputs")
        return
    table = Table("Queue", "Kind", "Messages", "In flight", title="Queues")
    for q in report.queues:
        table.add_row(
            q.name,
            "dead-letter" if q.dead_letter else "work",
            _depth(q.visible, q.error),
            _depth(q.in_flight, q.error),
            style="bold red" if q.alarming else None,
        )
    stdout().print(table)


def _print_replies(report: StackStatus) -> None:
    failed = report.replies_failed
    failures, dead = report.reply_failures, report.reply_dlq_depth
    refused = "unknown" if failures is None else str(failures.refused)
    parts = [f"{refused} refused by End User Messaging"]
    parts.append(f"{dead if dead is not None else 'unknown'} in the reply DLQ")
    if failures is not None and failures.refused and failures.last_at:
        parts.append(f"last refused at {failures.last_at}")
    say(
        f"Replies failed for good: {'unknown' if failed is None else failed} ({', '.join(parts)})",
        style="bold red" if failed else None,
    )


@handle_errors
def destroy(
    ctx: typer.Context,
    delete_data: Annotated[
        bool,
        typer.Option(
            "--delete-data",
            help="Also delete the data tables (shifts, allow list, campaigns) and their key.",
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the stack. Data tables are kept unless --delete-data."""
    cli = get_context(ctx)
    what = (
        "and ALL its data (shifts, allow list, campaigns); this cannot be undone"
        if delete_data
        else "(the data tables and their key are kept)"
    )
    if not yes and not confirm(f"Delete stack {cli.stack_name} {what}?"):
        fail("destroy cancelled: nothing was deleted")
    view = DeployView()
    try:
        result = Deployer(cli.session, on_event=view).destroy(
            cli.stack_name, delete_data=delete_data
        )
    except StackFailed as exc:
        view.stop()
        fail(str(exc), details=[str(f) for f in exc.failures])
    finally:
        view.stop()
    say(f"Stack {result.stack} deleted.", style="green")
    if result.kept_tables:
        say(f"Kept tables: {', '.join(result.kept_tables)} (delete them with --delete-data).")
    if result.deleted_tables:
        say(f"Deleted tables: {', '.join(result.deleted_tables)}.")
    if result.key_scheduled_for_deletion:
        say(f"KMS key {result.key_scheduled_for_deletion} is scheduled for deletion.")


def register(app: typer.Typer) -> None:
    """Add ``deploy``, ``status`` and ``destroy`` to the root app."""
    app.command("deploy")(deploy)
    app.command("status")(status)
    app.command("destroy")(destroy)
