"""``shiftsms deploy / status / destroy`` against a moto server, through AWS_ENDPOINT_URL.

moto 5.2.5 executes a change set without rebuilding the stack's outputs (its
``ChangeSet.apply`` updates resources only); ``moto_server`` adds that step, as
CloudFormation does, so the deploy code under test is the code that runs against AWS.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto.cloudformation import models as cfn_models
from moto.kms.models import kms_backends
from moto.server import ThreadedMotoServer

from shiftsms import resources
from shiftsms.aws.clients import client as make_client
from shiftsms.aws.staff_table import StaffTable
from shiftsms.cli import deploy as deploy_cli
from shiftsms.core.models import StaffMember
from shiftsms.deploy import deployer as deployer_module
from shiftsms.deploy.bundle import KEY_PREFIX
from shiftsms.deploy.deployer import Deployer, DeployOptions
from shiftsms.errors import DeployAborted
from tests.clitools import invoke, table_rows
from tests.conftest import REGION, TEMPLATE

pytestmark = pytest.mark.slow  # a threaded moto server, full deploys

ORIGINATION = "+447700900000"
ACCOUNT = "123456789012"  # moto's
ANA, BEN = "+447700900123", "+447700900124"
# What the Lambda Python runtime provides besides the standard library.
TEMPLATE_TEXT = TEMPLATE.read_text(encoding="utf-8")
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def _apply_with_outputs(self: Any) -> None:
    """moto's ChangeSet.apply, plus what CloudFormation also does: template, outputs."""
    _original_apply(self)
    stack = self.stack
    stack.template = self.template
    stack._parse_template()
    stack.parameters = self.parameters
    stack.output_map = stack._create_output_map()


_original_apply = cfn_models.ChangeSet.apply


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh moto server on 127.0.0.1; boto3 reaches it through AWS_ENDPOINT_URL."""
    monkeypatch.setattr(cfn_models.ChangeSet, "apply", _apply_with_outputs)
    # The server's request log would land in the CLI's captured stderr.
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # The server keeps its state in this process's moto backends, shared by every server.
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    try:
        yield url
    finally:
        urllib.request.urlopen(reset, timeout=10).close()
        server.stop()


def aws(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def deploy(*extra: str) -> Any:
    return invoke("deploy", "--origination-number", ORIGINATION, "--yes", *extra)


def stack_functions(stack: str = "shiftsms") -> dict[str, dict[str, Any]]:
    """Every function the stack deployed, with its configuration."""
    cf, lam = aws("cloudformation"), aws("lambda")
    summaries = cf.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {
        s["LogicalResourceId"]: lam.get_function(FunctionName=s["PhysicalResourceId"])
        for s in summaries
        if s["ResourceType"] == "AWS::Lambda::Function"
    }


def stack_parameters(stack: str = "shiftsms") -> dict[str, str]:
    (info,) = aws("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    return {p["ParameterKey"]: p["ParameterValue"] for p in info["Parameters"]}


def runtime_dir(tmp_path: Path) -> Path:
    """A directory holding only what the Lambda runtime adds to the standard library."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        origin = Path(__import__(name).__file__ or "")
        if origin.name == "__init__.py":
            (runtime / name).symlink_to(origin.parent, target_is_directory=True)
        else:
            (runtime / origin.name).symlink_to(origin)
    return runtime


IMPORT_CHECK = """
import importlib, os, sys
bundle, runtime, handler = sys.argv[1:4]
sys.path[:0] = [bundle, runtime]
module, name = handler.rsplit(".", 1)
fn = getattr(importlib.import_module(module), name)
assert callable(fn), handler
# The function's own app, built from its own settings: a variable it reads but was not given fails.
app_module = importlib.import_module("shiftsms.handlers." + module.rsplit(".", 1)[1])
app_module.app()
checked = []
for pkg in ("shiftsms", "lambdas", "phonenumbers", "aws_lambda_powertools", "typing_extensions"):
    if pkg not in sys.modules:  # a function that does not use it (checked where it is used)
        continue
    where = sys.modules[pkg].__file__
    assert where.startswith(bundle), (pkg, where)
    checked.append(pkg)
print("ok", handler, " ".join(checked))
"""
EVERY_PACKAGE = "shiftsms lambdas phonenumbers aws_lambda_powertools typing_extensions"


def test_deploy_creates_the_stack_and_every_handler_imports_from_the_bundle(
    moto_server: str, tmp_path: Path
) -> None:
    result = deploy("--approved-numbers", f"{ANA}, 07700 900124")
    assert result.exit_code == 0, result.output
    assert "Stack shiftsms is CREATE_COMPLETE." in result.stdout
    assert "Next step: turn on two-way SMS for +447700900000" in result.stdout
    outputs = dict(row for row in table_rows(result.stdout) if len(row) == 2)
    assert outputs["StaffTableName"].startswith("shiftsms-StaffTable")

    params = stack_parameters()
    assert params["CodeKey"].startswith(KEY_PREFIX)
    zipped = aws("s3").get_object(Bucket=params["CodeBucket"], Key=params["CodeKey"])
    data = zipped["Body"].read()
    assert params["CodeKey"] == f"{KEY_PREFIX}{hashlib.sha256(data).hexdigest()}.zip"
    bundle = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(data)).extractall(bundle)
    runtime = runtime_dir(tmp_path)

    functions = stack_functions()
    assert {"InboundFunction", "CampaignFunction", "SenderFunction"} <= set(functions)
    code_sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    for logical_id, fn in functions.items():
        config = fn["Configuration"]
        assert config["CodeSha256"] == code_sha, logical_id
        env = {
            **{k: v for k, v in os.environ.items() if k.startswith(("AWS_", "PATH"))},
            # Lambda gives every value as a string (moto keeps Number parameters as numbers).
            **{k: str(v) for k, v in config["Environment"]["Variables"].items()},
        }
        env.pop("AWS_ENDPOINT_URL", None)
        check = subprocess.run(
            [
                sys.executable,
                "-S",
                "-c",
                IMPORT_CHECK,
                str(bundle),
                str(runtime),
                config["Handler"],
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, f"{logical_id}: {check.stderr}"
        line = check.stdout.strip()
        assert line.startswith(f"ok {config['Handler']} shiftsms lambdas"), (logical_id, line)
        if logical_id == "InboundFunction":
            assert line == f"ok {config['Handler']} {EVERY_PACKAGE}"


def test_the_import_check_catches_a_handler_missing_from_the_bundle(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "lambdas").mkdir(parents=True)
    (bundle / "lambdas" / "__init__.py").write_text("")
    check = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            IMPORT_CHECK,
            str(bundle),
            str(runtime_dir(tmp_path)),
            "lambdas.inbound.handler",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode != 0
    assert "No module named 'lambdas.inbound'" in check.stderr


def test_a_second_deploy_without_changes_changes_nothing(moto_server: str) -> None:
    assert deploy("--approved-numbers", ANA).exit_code == 0
    cf = aws("cloudformation")
    events_before = cf.describe_stack_events(StackName="shiftsms")["StackEvents"]
    params_before = stack_parameters()

    again = invoke("deploy", "--yes")
    assert again.exit_code == 0, again.output
    assert "No changes: stack shiftsms is up to date" in again.stdout
    assert "unchanged, already in" in again.stderr
    assert "Execute" not in again.output
    assert cf.describe_stack_events(StackName="shiftsms")["StackEvents"] == events_before
    assert stack_parameters() == params_before
    keys = aws("s3").list_objects_v2(Bucket=params_before["CodeBucket"], Prefix=KEY_PREFIX)
    assert [o["Key"] for o in keys["Contents"]] == [params_before["CodeKey"]]


def test_approved_numbers_are_added_without_touching_existing_entries(moto_server: str) -> None:
    assert deploy().exit_code == 0
    table = StackTable()
    table.staff.put(StaffMember(phone=ANA, name="Ana", campaigns=True))
    table.staff.set_opted_out(ANA, True, datetime.now(UTC))

    result = invoke("deploy", "--approved-numbers", f"{ANA},{BEN}", "--yes")
    assert result.exit_code == 0, result.output
    assert f"Added to the allow list: {BEN}" in result.stdout
    ana = table.staff.get(ANA)
    assert ana is not None and ana.opted_out and ana.name == "Ana"
    assert table.staff.get(BEN) is not None
    assert stack_parameters()["ApprovedNumbers"] == f"{ANA},{BEN}"

    # Seeding again is a no-op.
    again = invoke("deploy", "--approved-numbers", f"{ANA},{BEN}", "--yes")
    assert again.exit_code == 0, again.output
    assert "Added to the allow list" not in again.stdout
    assert sorted(m.phone for m in table.staff.all()) == [ANA, BEN]


class StackTable:
    """The deployed allow list."""

    def __init__(self) -> None:
        (info,) = aws("cloudformation").describe_stacks(StackName="shiftsms")["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in info["Outputs"]}
        self.staff = StaffTable(aws("dynamodb"), outputs["StaffTableName"])


def test_a_bad_number_is_a_usage_error_before_anything_is_created(moto_server: str) -> None:
    result = invoke(
        "deploy", "--origination-number", ORIGINATION, "--approved-numbers", "+44 12", "--yes"
    )
    assert result.exit_code == 2
    assert "Error: '+44 12'" in result.stderr
    assert "Traceback" not in result.output
    assert aws("cloudformation").describe_stacks()["Stacks"] == []


@pytest.fixture
def aws_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every AWS operation called from now on, through any boto3 session."""
    calls: list[str] = []
    original = boto3.session.Session.client

    def client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        made = original(self, *args, **kwargs)
        made.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    return calls


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("--origination-number", "abc"),
            "Error: --origination-number must be an E.164 number such as +447700900000, a "
            "phone number id or ARN, or a pool id or ARN, got 'abc'",
        ),
        (
            ("--origination-number", "+44 12"),
            "Error: --origination-number: '+44 12': too short",
        ),
        (
            ("--origination-number", ORIGINATION, "--allowed-countries", "ZZ"),
            "Error: --allowed-countries must be comma-separated ISO 3166-1 alpha-2 country "
            "codes such as GB,IE (unknown: ZZ)",
        ),
        (
            ("--origination-number", ORIGINATION, "--allowed-countries", "gb,GBR,ie,XX"),
            "Error: --allowed-countries must be comma-separated ISO 3166-1 alpha-2 country "
            "codes such as GB,IE (unknown: GBR, XX)",
        ),
    ],
    ids=["not an identity", "not a possible number", "unknown country", "alpha-3 and unknown"],
)
def test_a_bad_origination_or_country_is_a_usage_error_before_any_aws_call(
    moto_server: str, aws_requests: list[str], args: tuple[str, ...], error: str
) -> None:
    result = invoke("deploy", *args, "--yes")
    assert result.exit_code == 2
    assert result.stderr == error + "\n"
    assert result.stdout == ""
    assert aws_requests == []
    assert aws("cloudformation").describe_stacks()["Stacks"] == []
    assert aws_requests == ["DescribeStacks"]  # the hook counts what is asked


@pytest.mark.parametrize(
    ("given", "passed"),
    [
        ("+44 7700 900000", ORIGINATION),
        ("phone-0123456789abcdef0123456789abcdef", "phone-0123456789abcdef0123456789abcdef"),
        ("pool-0123456789abcdef0123456789abcdef", "pool-0123456789abcdef0123456789abcdef"),
        (
            "arn:aws:sms-voice:eu-west-2:123456789012:phone-number/phone-0123456789abcdef",
            "arn:aws:sms-voice:eu-west-2:123456789012:phone-number/phone-0123456789abcdef",
        ),
        (
            "arn:aws-us-gov:sms-voice:us-gov-west-1:123456789012:pool/pool-0123456789abcdef",
            "arn:aws-us-gov:sms-voice:us-gov-west-1:123456789012:pool/pool-0123456789abcdef",
        ),
    ],
)
def test_every_origination_identity_the_deploy_takes_gets_through(
    monkeypatch: pytest.MonkeyPatch, given: str, passed: str
) -> None:
    seen: list[DeployOptions] = []

    class Recording:
        def __init__(self, session: Any, **_: Any) -> None:
            pass

        def deploy(self, options: DeployOptions) -> Any:
            seen.append(options)
            raise DeployAborted("stopped here")

    monkeypatch.setattr(deploy_cli, "Deployer", Recording)
    result = invoke(
        "deploy", "--origination-number", given, "--allowed-countries", "gb, ie", "--yes"
    )
    assert result.stderr == "Error: stopped here\n"
    (options,) = seen
    assert options.origination_number == passed
    assert options.parameters["AllowedCountries"] == "GB,IE"


def test_a_first_deploy_needs_the_origination_number(moto_server: str) -> None:
    result = invoke("deploy", "--yes")
    assert result.exit_code == 1
    assert "a first deploy needs --origination-number" in result.stderr


def test_a_broken_template_is_a_cli_error(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    monkeypatch.setattr(deployer_module, "default_template", lambda: broken)
    result = deploy()
    assert result.exit_code == 1
    assert "the template has no parameter" in result.stderr
    assert "Traceback" not in result.output


def test_connect_needs_instance_and_flow(moto_server: str) -> None:
    result = deploy("--connect-instance-id", "i-1")
    assert result.exit_code == 2
    assert "--connect-contact-flow-id" in result.stderr


def test_connect_options_set_the_sample_parameters(moto_server: str) -> None:
    result = deploy(
        "--connect-instance-id",
        "inst-1",
        "--connect-contact-flow-id",
        "flow-1",
        "--connect-queue-id",
        "queue-1",
        "--connect-source-number",
        "+447700900999",
    )
    assert result.exit_code == 0, result.output
    params = stack_parameters()
    assert params["ConnectEnable"] == "YES"
    assert (params["InstanceId"], params["ContactFlowID"], params["QueueID"]) == (
        "inst-1",
        "flow-1",
        "queue-1",
    )
    env = stack_functions()["InboundFunction"]["Configuration"]["Environment"]["Variables"]
    assert env["CONNECT_INSTANCE_ID"] == "inst-1"
    assert env["CONNECT_SOURCE_NUMBER"] == "+447700900999"


def test_alarm_and_spend_options_set_their_parameters_and_are_kept_on_update(
    moto_server: str,
) -> None:
    result = deploy(
        "--alarm-email",
        "ward-ops@example.org",
        "--max-price-per-message",
        "0.05",
        "--price-per-segment",
        "0.0581",
    )
    assert result.exit_code == 0, result.output
    params = stack_parameters()
    assert (params["AlarmEmail"], params["MaxPricePerMessage"], params["PricePerSegment"]) == (
        "ward-ops@example.org",
        "0.05",
        "0.0581",
    )
    functions = stack_functions()
    for name in ("InboundFunction", "SenderFunction"):
        env = functions[name]["Configuration"]["Environment"]["Variables"]
        assert env["MAX_PRICE_PER_MESSAGE"] == "0.05", name
    assert deploy("--max-price-per-message", "").exit_code == 0
    params = stack_parameters()
    assert (params["AlarmEmail"], params["MaxPricePerMessage"], params["PricePerSegment"]) == (
        "ward-ops@example.org",
        "",
        "0.0581",
    )
    env = stack_functions()["SenderFunction"]["Configuration"]["Environment"]["Variables"]
    assert env["MAX_PRICE_PER_MESSAGE"] == ""


def test_declining_the_change_set_changes_nothing(moto_server: str) -> None:
    result = invoke("deploy", "--origination-number", ORIGINATION, input="n\n")
    assert result.exit_code == 1
    assert "deploy cancelled: nothing was changed" in result.stderr
    stacks = aws("cloudformation").describe_stacks()["Stacks"]
    assert [s["StackStatus"] for s in stacks] in ([], ["DELETE_COMPLETE"])


def test_status_json_reports_stack_shifts_allow_list_and_campaigns(moto_server: str) -> None:
    assert deploy("--approved-numbers", f"{ANA},{BEN}").exit_code == 0
    outputs = StackTable()
    shifts_table = json.loads(invoke("status", "--json").stdout)["outputs"]["ShiftsTableName"]
    aws("dynamodb").put_item(
        TableName=shifts_table,
        Item={"shift_id": {"S": "XYZ1"}, "shift_status": {"S": "available"}},
    )
    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "CREATE_COMPLETE"
    assert report["shifts"] == {"available": 1, "taken": 0}
    assert report["allow_list"] == 2
    assert report["recent_campaigns"] == []
    assert report["outputs"]["StaffTableName"] == outputs.staff.table

    human = invoke("status")
    assert human.exit_code == 0
    assert "Stack shiftsms: CREATE_COMPLETE" in human.stdout
    assert "Shifts: 1 available, 0 taken" in human.stdout
    assert "Allow list: 2" in human.stdout


def test_status_shows_the_cli_and_stack_versions(moto_server: str) -> None:
    version = importlib.metadata.version("shiftsms")
    assert deploy().exit_code == 0
    report = json.loads(invoke("status", "--json").stdout)
    assert report["outputs"]["ShiftsmsVersion"] == version
    assert report["version"] == {"cli": version, "stack": version, "warning": None}
    human = invoke("status")
    assert f"Version: shiftsms {version}, stack deployed by {version}" in human.stdout
    assert human.stderr == ""


def test_status_warns_when_the_stack_was_deployed_by_another_version(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = importlib.metadata.version("shiftsms")
    with monkeypatch.context() as patched:
        patched.setattr(resources, "version", lambda: "0.0.1")
        assert deploy().exit_code == 0
    warning = (
        f"this shiftsms is {version} but stack shiftsms was deployed by 0.0.1: "
        "run `shiftsms deploy` to update it"
    )
    as_json = invoke("status", "--json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["version"] == {
        "cli": version,
        "stack": "0.0.1",
        "warning": warning,
    }
    human = invoke("status")
    assert human.exit_code == 0
    assert human.stderr == f"Warning: {warning}\n"
    assert f"Version: shiftsms {version}, stack deployed by 0.0.1" in human.stdout


def test_status_of_a_missing_stack_is_a_clear_error(moto_server: str) -> None:
    result = invoke("--stack-name", "nope", "status")
    assert result.exit_code == 1
    assert "stack 'nope' not found" in result.stderr
    assert "Traceback" not in result.output


def test_destroy_keeps_the_data_unless_asked(moto_server: str) -> None:
    assert deploy("--approved-numbers", ANA).exit_code == 0
    staff_table = StackTable().staff.table
    result = invoke("destroy", "--yes")
    assert result.exit_code == 0, result.output
    assert "Stack shiftsms deleted." in result.stdout
    assert "Kept tables:" in result.stdout and staff_table in result.stdout
    tables = aws("dynamodb").list_tables()["TableNames"]
    assert staff_table in tables
    assert not any("StateTable" in t for t in tables)  # not retained
    assert aws("cloudformation").describe_stacks()["Stacks"] == []


def test_destroy_with_delete_data_removes_tables_and_schedules_the_key(moto_server: str) -> None:
    assert deploy().exit_code == 0
    (info,) = aws("cloudformation").describe_stacks(StackName="shiftsms")["Stacks"]
    key_arn = {o["OutputKey"]: o["OutputValue"] for o in info["Outputs"]}["EncryptionKeyArn"]
    result = invoke("destroy", "--delete-data", "--yes")
    assert result.exit_code == 0, result.output
    assert aws("dynamodb").list_tables()["TableNames"] == []
    key_id = key_arn.rsplit("/", 1)[1]
    assert f"KMS key {key_id} is scheduled for deletion." in result.stdout
    # Read the emulator's own record: moto's DescribeKey fails on keys made by its
    # CloudFormation (it stores their policy as a dict).
    key = kms_backends[ACCOUNT][REGION].keys[key_id]
    assert key.key_state == "PendingDeletion"


def test_destroy_asks_first(moto_server: str) -> None:
    assert deploy().exit_code == 0
    result = invoke("destroy", input="n\n")
    assert result.exit_code == 1
    assert "destroy cancelled" in result.stderr
    assert aws("cloudformation").describe_stacks(StackName="shiftsms")["Stacks"]


def test_no_credentials_is_a_clear_error(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = invoke("status")
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.stderr
    assert "Traceback" not in result.output


def test_configure_number_uses_the_deployed_topic_and_origination(moto_server: str) -> None:
    sms = aws("pinpoint-sms-voice-v2")

    def clients(service: str) -> Any:
        return sms if service == "pinpoint-sms-voice-v2" else make_client(service)

    sent: list[dict[str, Any]] = []
    sms.meta.events.register(
        "provide-client-params.pinpoint-sms-voice-v2.UpdatePhoneNumber",
        lambda params, **_: sent.append(dict(params)),
    )
    deployer = Deployer(clients=clients)
    with Stubber(sms) as stub:
        # the protect configuration's rules are already as they should be: no update
        stub.add_response(
            "get_protect_configuration_country_rule_set",
            {
                "ProtectConfigurationArn": f"arn:aws:sms-voice:{REGION}:1:protect-configuration/p",
                "ProtectConfigurationId": "p",
                "NumberCapability": "SMS",
                "CountryRuleSet": {
                    "GB": {"ProtectStatus": "ALLOW"},
                    "FR": {"ProtectStatus": "BLOCK"},
                },
            },
            {"ProtectConfigurationId": ANY, "NumberCapability": "SMS"},
        )
        stub.add_response(
            "update_phone_number",
            {"PhoneNumberId": "phone-1", "TwoWayEnabled": True},
            {
                "PhoneNumberId": "phone-1",
                "TwoWayEnabled": True,
                "TwoWayChannelArn": ANY,
            },
        )
        result = deployer.deploy(DeployOptions(origination_number="phone-1", configure_number=True))
        stub.assert_no_pending_responses()
    assert result.configured == "phone-1"
    topic = result.stack.outputs["InboundTopicArn"]
    assert topic.startswith(f"arn:aws:sns:{REGION}:{ACCOUNT}:shiftsms-InboundTopic")
    # Only these three: End User Messaging publishes through the topic policy, no role.
    assert sent == [{"PhoneNumberId": "phone-1", "TwoWayEnabled": True, "TwoWayChannelArn": topic}]


def test_a_template_past_the_inline_limit_goes_through_s3(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployer_module, "TEMPLATE_BODY_LIMIT", 1000)
    result = deploy()
    assert result.exit_code == 0, result.output
    bucket = stack_parameters()["CodeBucket"]
    listed = aws("s3").list_objects_v2(Bucket=bucket, Prefix="shiftsms/templates/")["Contents"]
    assert len(listed) == 1
    assert "Stack shiftsms is CREATE_COMPLETE." in result.stdout


def test_the_artifacts_bucket_is_private_encrypted_and_versioned(moto_server: str) -> None:
    assert deploy().exit_code == 0
    bucket = stack_parameters()["CodeBucket"]
    assert bucket == f"shiftsms-artifacts-{ACCOUNT}-{REGION}"
    s3 = aws("s3")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_a_given_bucket_is_used_and_must_exist(moto_server: str) -> None:
    aws("s3").create_bucket(
        Bucket="my-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    assert deploy("--s3-bucket", "my-artifacts").exit_code == 0
    assert stack_parameters()["CodeBucket"] == "my-artifacts"
    missing = invoke(
        "--stack-name",
        "other",
        "deploy",
        "--origination-number",
        ORIGINATION,
        "--s3-bucket",
        "no-such-bucket",
        "--yes",
    )
    assert missing.exit_code == 1
    assert "cannot use bucket no-such-bucket" in missing.stderr


def test_a_template_cloudformation_cannot_read_is_a_cli_error(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(TEMPLATE_TEXT.replace("Resources:\n", "Resources:\n  Broken: [\n", 1))
    monkeypatch.setattr(deployer_module, "default_template", lambda: broken)
    result = deploy()
    assert result.exit_code == 1
    # AWS answers ValidationError (see test_deploy_requests); moto answers 500. Either way:
    assert "\nError: " in result.stderr
    assert "Traceback" not in result.output
    assert aws("cloudformation").describe_stacks()["Stacks"] == []
