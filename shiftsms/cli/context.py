"""Options every command shares (stack, region, profile) and the AWS session they define."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any

import boto3
import typer
from botocore.exceptions import BotoCoreError, ClientError

from shiftsms import resources
from shiftsms.aws import clients
from shiftsms.aws.dynamo import stamp_writes
from shiftsms.aws.stack import DEFAULT_STACK, StackInfo, describe
from shiftsms.cli.output import fail, show_item_warnings
from shiftsms.core.actor import cli_actor

# The tables whose items carry who changed them (the audit trail reads it).
AUDITED_OUTPUTS = ("ShiftsTableName", "StaffTableName", "CampaignsTableName")


@dataclass
class CliContext:
    """Where the CLI points: a stack in a region, through a profile (or AWS_ENDPOINT_URL)."""

    stack_name: str = DEFAULT_STACK
    region: str | None = None
    profile: str | None = None
    _session: boto3.session.Session | None = field(default=None, repr=False)
    _stack: StackInfo | None = field(default=None, repr=False)
    _actor: str | None = field(default=None, repr=False)

    @property
    def session(self) -> boto3.session.Session:
        """A boto3 session for the chosen profile and region (created once)."""
        if self._session is None:
            self._session = boto3.session.Session(
                profile_name=self.profile, region_name=self.region
            )
        return self._session

    def client(self, service: str) -> Any:
        """A boto3 client in this session (honours AWS_ENDPOINT_URL).

        A DynamoDB client stamps its writes of the shifts, staff and campaigns tables with
        the caller's IAM identity (``cli:<ARN>``, from STS once per command).
        """
        made = clients.client(service, self.session)
        if service == "dynamodb":
            stamp_writes(made, self._audited_tables, self.actor)
        return made

    def _audited_tables(self) -> set[str]:
        outputs = self._stack.outputs if self._stack else {}
        return {outputs[k] for k in AUDITED_OUTPUTS if outputs.get(k)}

    def actor(self) -> str:
        """``cli:<caller ARN>`` (STS GetCallerIdentity, asked once per command)."""
        if self._actor is None:
            try:
                arn = self.client("sts").get_caller_identity()["Arn"]
            except (ClientError, BotoCoreError):
                arn = "unknown identity"
            self._actor = cli_actor(str(arn))
        return self._actor

    def stack(self) -> StackInfo:
        """The stack's status and outputs (read once per command)."""
        if self._stack is None:
            self._stack = describe(self.client("cloudformation"), self.stack_name)
        return self._stack

    def output(self, key: str) -> str:
        """One stack output; NotConfigured (a clear message) if the stack lacks it."""
        return self.stack().output(key)


# Commands that run the embedded emulator, and what they import from the ``local`` extra.
LOCAL_COMMANDS = frozenset({"demo", "local"})
LOCAL_EXTRA_MODULES = ("moto", "yaml", "werkzeug")
LOCAL_EXTRA_HINT = "pip install 'shiftsms[local]'"


def _importable(name: str) -> bool:
    if name in sys.modules:
        return sys.modules[name] is not None
    return importlib.util.find_spec(name) is not None


def missing_local_extra() -> list[str]:
    """The ``local`` extra's modules that cannot be imported here (none when installed)."""
    return [name for name in LOCAL_EXTRA_MODULES if not _importable(name)]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"shiftsms {resources.version()}")
        raise typer.Exit()


# An AWS region's shape (eu-west-2, us-gov-west-1, cn-north-1): anything else is a typo.
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


def _check_region(value: str | None) -> str | None:
    if value is not None and not _REGION.fullmatch(value):
        raise typer.BadParameter(f"{value!r} is not an AWS region (like eu-west-2)")
    return value


def common_options(
    ctx: typer.Context,
    stack_name: Annotated[
        str,
        typer.Option(
            "--stack-name", envvar="SHIFTSMS_STACK", help="CloudFormation stack to work on."
        ),
    ] = DEFAULT_STACK,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", callback=_check_region, help="AWS region (default: your AWS config)."
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS named profile to use.")
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the shiftsms version and exit.",
        ),
    ] = False,
) -> None:
    """Fill open shifts by SMS on AWS End User Messaging.

    Every command finds its tables from the stack's outputs. Point boto3's standard
    AWS_ENDPOINT_URL at an emulator (see `shiftsms local up`) to work without AWS.
    """
    if ctx.invoked_subcommand in LOCAL_COMMANDS and missing_local_extra():
        fail(f"`shiftsms {ctx.invoked_subcommand}` needs the local sandbox: {LOCAL_EXTRA_HINT}")
    show_item_warnings()
    ctx.obj = CliContext(stack_name=stack_name, region=region, profile=profile)


def get_context(ctx: typer.Context) -> CliContext:
    """The CliContext the root callback stored."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliContext):
        obj = CliContext()
        ctx.find_root().obj = obj
    return obj
