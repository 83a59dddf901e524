"""Deploy, inspect and remove a shiftsms stack: the library behind ``shiftsms deploy``.

No terminal output here: progress goes to an ``on_event`` callback (the CLI renders it) and
the decision to execute a change set to a ``confirm`` callback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from shiftsms import resources
from shiftsms.aws.alarms import AlarmState, alarms_in_alarm
from shiftsms.aws.clients import client as make_client
from shiftsms.aws.queues import QueueDepth, queue_depths
from shiftsms.aws.reply_queue import ReplyFailures, reply_failures
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.stack import DEFAULT_STACK, StackInfo, describe
from shiftsms.aws.staff_table import StaffTable
from shiftsms.aws.wiring import campaign_reports
from shiftsms.core.models import ShiftStatus, StaffMember
from shiftsms.core.phone import normalise
from shiftsms.deploy.bundle import Bundle, build_bundle
from shiftsms.deploy.protect import CountryRules, allowed_countries, apply_country_rules
from shiftsms.deploy.stack import (
    TEMPLATE_BODY_LIMIT,
    UPDATABLE,
    ChangeSet,
    StackEvent,
    StackOps,
)
from shiftsms.errors import (
    BucketNotOurs,
    DeployAborted,
    DeployError,
    StackBusy,
    StackNotFound,
)
from shiftsms.services.campaigns import CampaignSummary

TEMPLATE_KEY_PREFIX = "shiftsms/templates/"
# Data the stack keeps when it is deleted (DeletionPolicy: Retain); --delete-data removes it.
RETAINED_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::KMS::Key"})
KEY_DELETION_DAYS = 7
RECENT_CAMPAIGNS = 5


# The stack parameter (and output) that records the shiftsms version that deployed it.
VERSION_PARAMETER = "ShiftsmsVersion"
# S3 answers these codes to a request whose ExpectedBucketOwner is not the bucket's owner
# (403), and to a bucket this account may not reach.
_NOT_OURS = frozenset({"403", "AccessDenied", "Forbidden"})
_MISSING = frozenset({"404", "NoSuchBucket", "NotFound"})


def default_template() -> Traversable:
    """The CloudFormation template that ships with this shiftsms."""
    return resources.template_file()


# ---------------------------------------------------------------------------- options, events


@dataclass(frozen=True)
class ConnectOptions:
    """Amazon Connect call-backs (the template's ConnectEnable=YES and its ids)."""

    instance_id: str
    contact_flow_id: str
    queue_id: str = ""
    source_number: str = ""


@dataclass(frozen=True)
class DeployOptions:
    """What to deploy. ``None`` keeps the deployed stack's value on an update."""

    stack_name: str = DEFAULT_STACK
    origination_number: str | None = None
    approved_numbers: Sequence[str] | None = None
    connect: ConnectOptions | None = None
    s3_bucket: str | None = None
    template: Traversable | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    configure_number: bool = False


@dataclass(frozen=True)
class Progress:
    """A step has started (``message`` says which)."""

    message: str


@dataclass(frozen=True)
class BundleReady:
    """The bundle is built and in S3 (``uploaded`` False: it was there already)."""

    bundle: Bundle
    bucket: str
    uploaded: bool


@dataclass(frozen=True)
class ChangeSetReady:
    """A change set was created; ``change_set.changes`` lists what executing it would do."""

    change_set: ChangeSet


DeployEvent = Progress | BundleReady | ChangeSetReady | StackEvent


@dataclass(frozen=True)
class DeployResult:
    """What a deploy did."""

    stack: StackInfo
    changed: bool
    bundle: Bundle
    bucket: str
    uploaded: bool
    seeded: tuple[str, ...] = ()
    configured: str | None = None
    countries: CountryRules | None = None


@dataclass(frozen=True)
class DestroyResult:
    """What a destroy removed, and what it kept."""

    stack: str
    deleted_tables: tuple[str, ...] = ()
    kept_tables: tuple[str, ...] = ()
    key_scheduled_for_deletion: str | None = None


def _reply_failures(dynamodb: Any, table: str) -> ReplyFailures | None:
    """The replies refused for good; None when there is no state table or it cannot be read
    (``status`` then says unknown, and shows the rest)."""
    if not table:
        return None
    try:
        return reply_failures(dynamodb, table)
    except ClientError:
        return None


# The queue output (less ``Url``) where replies that failed every try end.
REPLY_DLQ = "ReplyDlq"


@dataclass(frozen=True)
class StackStatus:
    """``shiftsms status``: the stack, a summary of its data, and both versions."""

    stack: StackInfo
    shifts: dict[str, int]
    allow_list: int | None
    campaigns: list[CampaignSummary]
    queues: list[QueueDepth] = field(default_factory=list)
    cli_version: str = field(default_factory=resources.version)
    # The stack's alarms in ALARM (None: the caller may not read alarms).
    alarms: list[AlarmState] | None = field(default_factory=list)
    # Replies refused for good (None: the stack has no state table).
    reply_failures: ReplyFailures | None = None

    @property
    def reply_dlq_depth(self) -> int | None:
        """Replies in the reply DLQ (failed every try from the reply queue); None: unknown."""
        found = [q for q in self.queues if q.name == REPLY_DLQ]
        if not found or found[0].error is not None:
            return None
        return found[0].held

    @property
    def replies_failed(self) -> int | None:
        """Replies that failed for good: refused, plus those in the reply DLQ (None: either
        is unknown)."""
        dead = self.reply_dlq_depth
        if self.reply_failures is None or dead is None:
            return None
        return self.reply_failures.refused + dead

    def replies_dict(self) -> dict[str, Any]:
        """The ``replies`` part of ``--json``."""
        failures = self.reply_failures
        return {
            "failed_for_good": self.replies_failed,
            "refused": None if failures is None else failures.refused,
            "last_refused_at": None if failures is None else failures.last_at,
            "dead_lettered": self.reply_dlq_depth,
        }

    @property
    def stack_version(self) -> str | None:
        """The version that deployed the stack (None: a stack that does not record it)."""
        value = self.stack.outputs.get(VERSION_PARAMETER, "")
        return value if value and value != "unknown" else None

    @property
    def version_warning(self) -> str | None:
        """A warning when the stack was deployed by another shiftsms version than this one."""
        if self.stack_version is None or self.stack_version == self.cli_version:
            return None
        return (
            f"this shiftsms is {self.cli_version} but stack {self.stack.name} was deployed "
            f"by {self.stack_version}: run `shiftsms deploy` to update it"
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return {
            "stack": self.stack.name,
            "status": self.stack.status,
            "version": {
                "cli": self.cli_version,
                "stack": self.stack_version,
                "warning": self.version_warning,
            },
            "outputs": dict(sorted(self.stack.outputs.items())),
            "shifts": self.shifts,
            "allow_list": self.allow_list,
            "recent_campaigns": [
                {
                    "campaign_id": c.campaign_id,
                    "status": c.status,
                    "created_at": c.created_at,
                    "recipients": c.recipients,
                    "sent": c.sent,
                    "failed": c.failed,
                    "opted_out": c.opted_out,
                }
                for c in self.campaigns
            ],
            "queues": [q.as_dict() for q in self.queues],
            "replies": self.replies_dict(),
            "alarms": None if self.alarms is None else [a.as_dict() for a in self.alarms],
        }


def _ignore(_: DeployEvent) -> None:
    return None


def _yes(_: ChangeSet) -> bool:
    return True


# ---------------------------------------------------------------------------- helpers


def parse_numbers(raw: str | Sequence[str], default_region: str | None = "GB") -> list[str]:
    """Comma-separated (or listed) numbers as E.164, deduplicated, in the given order.

    Raises ``InvalidPhoneNumber`` (a usage error) for the first number that is not valid.
    """
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    numbers: list[str] = []
    for item in items:
        if item.strip():
            number = normalise(item, default_region)
            if number not in numbers:
                numbers.append(number)
    return numbers


def seed_allow_list(dynamodb: Any, table: str, numbers: Sequence[str]) -> tuple[str, ...]:
    """Add ``numbers`` to the allow list; entries already there are left exactly as they are.

    Idempotent, and never touches an existing entry's opt-out state, name or groups.
    Returns the numbers that were new.
    """
    staff = StaffTable(dynamodb, table)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    added = [n for n in numbers if staff.put(StaffMember(phone=n, added_at=now), replace=False)]
    return tuple(added)


def configure_two_way(sms: Any, identity: str, topic_arn: str) -> str:
    """Turn on two-way SMS on ``identity`` with ``topic_arn`` as its destination.

    ``identity`` is a phone number (E.164, id or ARN) or a pool (id or ARN). End User
    Messaging publishes with the topic's resource policy, so no TwoWayChannelRole is sent.
    Returns the phone number id or pool id that was updated.
    """
    if identity.startswith("pool-") or ":pool/" in identity:
        sms.update_pool(PoolId=identity, TwoWayEnabled=True, TwoWayChannelArn=topic_arn)
        return identity
    if identity.startswith("+"):
        number_id = _phone_number_id(sms, identity)
    elif identity.startswith("phone-") or ":phone-number/" in identity:
        number_id = identity
    else:
        raise DeployError(
            f"two-way SMS needs a phone number or a pool; {identity!r} is neither "
            "(a sender id cannot receive replies)"
        )
    sms.update_phone_number(PhoneNumberId=number_id, TwoWayEnabled=True, TwoWayChannelArn=topic_arn)
    return number_id


def _phone_number_id(sms: Any, number: str) -> str:
    """The End User Messaging id of the E.164 ``number`` in this account and region."""
    for page in sms.get_paginator("describe_phone_numbers").paginate():
        for phone in page.get("PhoneNumbers", []):
            if phone.get("PhoneNumber") == number:
                return str(phone["PhoneNumberId"])
    raise DeployError(
        f"{number} is not an End User Messaging phone number in this account and region"
    )


# ---------------------------------------------------------------------------- the deployer


class Deployer:
    """Deploys the stack (bundle, change set, wait), reports its status, destroys it."""

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        *,
        on_event: Callable[[DeployEvent], None] = _ignore,
        confirm: Callable[[ChangeSet], bool] = _yes,
        poll_seconds: float = 2.0,
        clients: Callable[[str], Any] | None = None,
    ) -> None:
        """``clients`` (service name -> boto3 client) replaces the session's clients."""
        self.session = session or boto3.session.Session()
        self.on_event = on_event
        self.confirm = confirm
        self._clients: dict[str, Any] = {}
        self._account: str | None = None
        self._factory = clients or (lambda service: make_client(service, self.session))
        self.ops = StackOps(self.client("cloudformation"), poll_seconds=poll_seconds)

    def client(self, service: str) -> Any:
        """One client per service for this deployer."""
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    @property
    def region(self) -> str:
        """The region the clients talk to."""
        return str(self.client("cloudformation").meta.region_name)

    # ------------------------------------------------------------------ deploy

    def deploy(self, options: DeployOptions) -> DeployResult:
        """Create or update the stack; seed the allow list; optionally configure the number."""
        stack = options.stack_name
        template_path = options.template or default_template()
        try:
            template_body = template_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DeployError(f"cannot read the template {template_path}: {exc}") from exc

        status = self.ops.status(stack)
        kind = self._change_set_kind(stack, status)
        deployed = self.ops.parameters(stack) if kind == "UPDATE" else {}
        region_code = (
            options.parameters.get("DefaultPhoneRegion")
            or deployed.get("DefaultPhoneRegion")
            or "GB"
        )
        approved = (
            None
            if options.approved_numbers is None
            else parse_numbers(options.approved_numbers, region_code)
        )
        if kind == "CREATE" and not options.origination_number:
            raise DeployError(
                "a first deploy needs --origination-number (the End User Messaging phone "
                "number, pool or origination identity that sends and receives)"
            )

        bucket = self.ensure_bucket(options.s3_bucket)
        self.on_event(Progress("Building the Lambda bundle"))
        bundle = build_bundle()
        uploaded = self.upload(bucket, bundle.key, bundle.data)
        self.on_event(BundleReady(bundle=bundle, bucket=bucket, uploaded=uploaded))

        given = self._given_parameters(options, approved, bucket, bundle)
        template = self._template_source(bucket, template_body)
        parameters = self._parameters(stack, kind, template, given)

        if kind == "UPDATE" and self._unchanged(stack, template_body, parameters):
            change_set = ChangeSet(name="", stack=stack, kind=kind, changes=(), no_op=True)
        else:
            self.on_event(Progress(f"Creating a change set for stack {stack}"))
            change_set = self.ops.create_change_set(stack, kind, template, parameters)
        self.on_event(ChangeSetReady(change_set))
        changed = not change_set.no_op
        if changed:
            if not self.confirm(change_set):
                self._discard(change_set)
                raise DeployAborted("deploy cancelled: nothing was changed")
            self.ops.execute(change_set, self.on_event)
        info = describe(self.client("cloudformation"), stack)
        countries = self.protect_destinations(info)

        seeded: tuple[str, ...] = ()
        if approved:
            self.on_event(Progress(f"Adding {len(approved)} approved number(s) to the allow list"))
            seeded = seed_allow_list(
                self.client("dynamodb"), _output(info, "StaffTableName"), approved
            )
        configured = None
        if options.configure_number:
            self.on_event(Progress("Turning on two-way SMS with the inbound topic"))
            configured = configure_two_way(
                self.client("pinpoint-sms-voice-v2"),
                _output(info, "OriginationIdentity"),
                _output(info, "InboundTopicArn"),
            )
        return DeployResult(
            stack=info,
            changed=changed,
            bundle=bundle,
            bucket=bucket,
            uploaded=uploaded,
            seeded=seeded,
            configured=configured,
            countries=countries,
        )

    def protect_destinations(self, info: StackInfo) -> CountryRules | None:
        """Block every destination country but the stack's AllowedCountries.

        Runs on every deploy (a rule changed in the console is put back); None for a stack
        whose template has no protect configuration.
        """
        protect_id = info.outputs.get("ProtectConfigurationId")
        if not protect_id:
            return None
        deployed = self.ops.parameters(info.name)
        allowed = allowed_countries(
            deployed.get("AllowedCountries", ""),
            deployed.get("OriginationNumber", ""),
            deployed.get("DefaultPhoneRegion", "") or "GB",
        )
        self.on_event(Progress(f"Blocking texts to every country but {', '.join(allowed)}"))
        return apply_country_rules(self.client("pinpoint-sms-voice-v2"), protect_id, allowed)

    def _change_set_kind(self, stack: str, status: str | None) -> str:
        if status is None or status == "REVIEW_IN_PROGRESS":
            return "CREATE"
        if status in UPDATABLE:
            return "UPDATE"
        if status.endswith("_IN_PROGRESS"):
            raise StackBusy(f"stack {stack} is busy ({status}): wait for it to finish")
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"):
            raise StackBusy(
                f"stack {stack} is {status} after a failed create or delete and cannot be "
                "updated: run `shiftsms destroy`, then deploy again"
            )
        raise StackBusy(
            f"stack {stack} is {status}: finish or roll back the last update in the "
            "CloudFormation console, then deploy again"
        )

    def _given_parameters(
        self,
        options: DeployOptions,
        approved: list[str] | None,
        bucket: str,
        bundle: Bundle,
    ) -> dict[str, str]:
        given = {
            **options.parameters,
            "CodeBucket": bucket,
            "CodeKey": bundle.key,
            VERSION_PARAMETER: resources.version(),
        }
        if options.origination_number:
            given["OriginationNumber"] = options.origination_number.strip()
        if approved is not None:
            given["ApprovedNumbers"] = ",".join(approved)
        if options.connect is not None:
            given.update(
                ConnectEnable="YES",
                InstanceId=options.connect.instance_id,
                ContactFlowID=options.connect.contact_flow_id,
                QueueID=options.connect.queue_id,
                SourcePhoneNumber=options.connect.source_number,
            )
        return given

    def _template_source(self, bucket: str, body: str) -> dict[str, str]:
        """TemplateBody, or (past CloudFormation's inline limit) a TemplateURL in the bucket."""
        if len(body.encode("utf-8")) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        key = f"{TEMPLATE_KEY_PREFIX}{hashlib.sha256(body.encode()).hexdigest()}.yaml"
        self.upload(bucket, key, body.encode("utf-8"))
        domain = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        return {"TemplateURL": f"https://{bucket}.s3.{self.region}.{domain}/{key}"}

    def _parameters(
        self, stack: str, kind: str, template: Mapping[str, str], given: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Given values; on an update every other deployed parameter keeps its value."""
        try:
            summary = self.client("cloudformation").get_template_summary(**template)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "ValidationError":
                raise
            raise DeployError(
                f"CloudFormation rejected the template: {error.get('Message')}"
            ) from exc
        declared = {p["ParameterKey"] for p in summary.get("Parameters", [])}
        unknown = sorted(set(given) - declared)
        if unknown:
            raise DeployError(f"the template has no parameter {', '.join(unknown)}")
        params: list[dict[str, Any]] = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(given.items())
        ]
        if kind == "UPDATE":
            previous = self.ops.parameters(stack)
            params += [
                {"ParameterKey": k, "UsePreviousValue": True}
                for k in sorted(previous)
                if k in declared and k not in given
            ]
        return params

    def _unchanged(self, stack: str, body: str, parameters: list[dict[str, Any]]) -> bool:
        """True if the stack already has this template body and these parameter values
        (whether the body goes inline or, past the inline limit, by URL).

        Such an update changes nothing, so no change set is made for it (the body is compared
        whether it travels inline or, past the inline limit, through S3).
        """
        deployed = self.client("cloudformation").get_template(
            StackName=stack, TemplateStage="Original"
        )["TemplateBody"]
        if deployed != body:
            return False
        previous = self.ops.parameters(stack)
        return all(
            p.get("UsePreviousValue") or previous.get(p["ParameterKey"]) == p["ParameterValue"]
            for p in parameters
        )

    def _discard(self, change_set: ChangeSet) -> None:
        """Delete a declined change set (and the empty stack a declined create leaves)."""
        self.ops.delete_change_set(change_set.stack, change_set.name)
        if change_set.kind == "CREATE":
            self.client("cloudformation").delete_stack(StackName=change_set.stack)

    # ------------------------------------------------------------------ artifacts

    @property
    def account(self) -> str:
        """The AWS account these credentials act in (from STS, asked once)."""
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account

    def default_bucket(self) -> str:
        """``shiftsms-artifacts-<account>-<region>``: one per account and region."""
        return f"shiftsms-artifacts-{self.account}-{self.region}"

    def ensure_bucket(self, bucket: str | None) -> str:
        """Use ``bucket``, or the default artifacts bucket, created if it does not exist.

        Either way the bucket must belong to this account: every S3 request names the
        account as ``ExpectedBucketOwner``, and a bucket owned by another is never used. The
        default bucket, found already there (made by an earlier version, say), is set up as a
        new one would be; a bucket given with ``--s3-bucket`` is left as its owner set it.
        """
        s3 = self.client("s3")
        given = bucket is not None
        bucket = bucket or self.default_bucket()
        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=self.account)
            if not given:
                s3.put_bucket_ownership_controls(
                    Bucket=bucket,
                    ExpectedBucketOwner=self.account,
                    OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                )
                self._harden(bucket)
            return bucket
        except ClientError as exc:
            code = _code(exc)
            if code in _NOT_OURS:
                raise self._not_ours(bucket, code) from exc
            if given or code not in _MISSING:
                raise DeployError(f"cannot use bucket {bucket} ({code or exc})") from exc
        self.on_event(Progress(f"Creating artifacts bucket {bucket}"))
        self.create_bucket(bucket)
        return bucket

    def _not_ours(self, bucket: str, code: str) -> BucketNotOurs:
        return BucketNotOurs(
            f"bucket {bucket} is not owned by account {self.account} ({code}): it is never "
            "used; pass --s3-bucket with a bucket of this account"
        )

    def create_bucket(self, bucket: str) -> None:
        """A private bucket of this account: owner-enforced, TLS only, encrypted, versioned.

        The TLS-only policy is left out when the S3 endpoint itself is plain HTTP (a local
        emulator), since every request of this deploy would then be refused.
        """
        s3 = self.client("s3")
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            s3.create_bucket(**kwargs)
        except ClientError as exc:
            code = _code(exc)
            if code == "BucketAlreadyExists":  # another account took the name meanwhile
                raise self._not_ours(bucket, code) from exc
            if code != "BucketAlreadyOwnedByYou":
                raise
        self._harden(bucket)

    def _harden(self, bucket: str) -> None:
        """Private, encrypted, versioned and (on an HTTPS endpoint) TLS only; idempotent."""
        s3 = self.client("s3")
        owner = {"Bucket": bucket, "ExpectedBucketOwner": self.account}
        s3.put_public_access_block(
            **owner,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            **owner,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_bucket_versioning(**owner, VersioningConfiguration={"Status": "Enabled"})
        if str(s3.meta.endpoint_url).startswith("https://"):
            s3.put_bucket_policy(**owner, Policy=json.dumps(tls_only_policy(bucket, self.region)))
        else:  # a plain-HTTP endpoint (an emulator): a TLS-only bucket would refuse this deploy
            self.on_event(Progress(f"Not requiring TLS on {bucket}: the S3 endpoint is HTTP"))

    def upload(self, bucket: str, key: str, data: bytes) -> bool:
        """Put ``data`` at ``key`` unless it is there already; True if it was uploaded."""
        s3 = self.client("s3")
        owner = {"Bucket": bucket, "Key": key, "ExpectedBucketOwner": self.account}
        try:
            s3.head_object(**owner)
            return False
        except ClientError as exc:
            code = _code(exc)
            if code in _NOT_OURS:
                raise self._not_ours(bucket, code) from exc
            if code not in ("404", "NoSuchKey", "NotFound"):
                raise
        self.on_event(Progress(f"Uploading s3://{bucket}/{key}"))
        s3.put_object(**owner, Body=data)
        return True

    # ------------------------------------------------------------------ status, destroy

    def status(self, stack_name: str = DEFAULT_STACK) -> StackStatus:
        """The stack, shifts by status, allow-list size, the five latest campaigns, the depth
        of every queue (dead-letter queues included) the stack outputs, and alarms in ALARM."""
        info = describe(self.client("cloudformation"), stack_name)
        dynamodb = self.client("dynamodb")
        out = info.outputs
        shifts: dict[str, int] = {}
        if out.get("ShiftsTableName"):
            table = ShiftsTable(dynamodb, out["ShiftsTableName"])
            shifts = {state: table.count_status(state) for state in ShiftStatus}
        allow_list = (
            sum(1 for _ in StaffTable(dynamodb, out["StaffTableName"]).all())
            if out.get("StaffTableName")
            else None
        )
        campaigns: list[CampaignSummary] = []
        if all(out.get(k) for k in ("CampaignsTableName", "StaffTableName", "StateTableName")):
            campaigns = campaign_reports(self.client, info).list()[:RECENT_CAMPAIGNS]
        return StackStatus(
            stack=info,
            shifts=shifts,
            allow_list=allow_list,
            campaigns=campaigns,
            queues=queue_depths(self.client("sqs"), out),
            alarms=alarms_in_alarm(self.client("cloudwatch"), info.name),
            reply_failures=_reply_failures(dynamodb, out.get("StateTableName", "")),
        )

    def destroy(
        self, stack_name: str = DEFAULT_STACK, *, delete_data: bool = False
    ) -> DestroyResult:
        """Delete the stack; with ``delete_data``, then its retained tables and key too."""
        status = self.ops.status(stack_name)
        if status is None:
            raise StackNotFound(f"stack {stack_name!r} not found")
        if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
            raise StackBusy(f"stack {stack_name} is busy ({status}): wait for it to finish")
        retained = self._retained(stack_name)
        tables = tuple(pid for rtype, pid in retained if rtype == "AWS::DynamoDB::Table")
        keys = [pid for rtype, pid in retained if rtype == "AWS::KMS::Key"]
        self.on_event(Progress(f"Deleting stack {stack_name}"))
        self.ops.delete(stack_name, self.on_event)
        dynamodb = self.client("dynamodb")
        tables = tuple(t for t in tables if _table_exists(dynamodb, t))  # the retained ones
        if not delete_data:
            return DestroyResult(stack=stack_name, kept_tables=tables)
        for table in tables:
            self.on_event(Progress(f"Deleting table {table}"))
            try:
                dynamodb.delete_table(TableName=table)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
        scheduled = None
        for key in keys:
            self.on_event(Progress(f"Scheduling deletion of KMS key {key}"))
            self.client("kms").schedule_key_deletion(
                KeyId=key, PendingWindowInDays=KEY_DELETION_DAYS
            )
            scheduled = key
        return DestroyResult(
            stack=stack_name, deleted_tables=tables, key_scheduled_for_deletion=scheduled
        )

    def _retained(self, stack_name: str) -> list[tuple[str, str]]:
        """(type, physical id) of the stack's resources that outlive it."""
        found = []
        paginator = self.client("cloudformation").get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack_name):
            for summary in page.get("StackResourceSummaries", []):
                rtype = summary.get("ResourceType", "")
                pid = summary.get("PhysicalResourceId")
                if rtype in RETAINED_TYPES and pid:
                    found.append((rtype, str(pid)))
        return found


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def tls_only_policy(bucket: str, region: str) -> dict[str, Any]:
    """A bucket policy that denies every request not made over TLS."""
    partition = (
        "aws-cn"
        if region.startswith("cn-")
        else "aws-us-gov"
        if region.startswith("us-gov-")
        else "aws"
    )
    arn = f"arn:{partition}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def _output(info: StackInfo, key: str) -> str:
    value = info.outputs.get(key)
    if not value:
        raise DeployError(f"stack {info.name} ({info.status}) has no output {key}")
    return value


def _table_exists(dynamodb: Any, table: str) -> bool:
    try:
        dynamodb.describe_table(TableName=table)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True
