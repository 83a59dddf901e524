"""How the CLI reports AWS and configuration problems: one red line, an exit code, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shiftsms.aws.stack import StackInfo
from shiftsms.cli.context import CliContext
from shiftsms.services.shifts import ShiftService
from tests.clitools import invoke
from tests.conftest import REGION, Deployed

COMMANDS = [
    ["shifts", "list"],
    ["shifts", "add", "XYZ123", "--info", "15/08"],
    ["allowlist", "list"],
    ["allowlist", "add", "+447700900123"],
]


def assert_one_error_line(stderr: str, line: str) -> None:
    assert stderr == line + "\n"
    assert "Traceback" not in stderr


@pytest.fixture
def empty_aws() -> Iterator[None]:
    """An emulated account with no stack in it."""
    with mock_aws():
        yield


@pytest.mark.parametrize("args", COMMANDS)
def test_no_stack(empty_aws: None, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert_one_error_line(
        result.stderr,
        "Error: stack 'shiftsms' not found: deploy it first, or check --stack-name, "
        "--region and --profile",
    )


def test_stack_name_option_and_env(deployed: Deployed) -> None:
    result = invoke("--stack-name", "other", "shifts", "list")
    assert result.exit_code == 1
    assert "stack 'other' not found" in result.stderr
    result = invoke("shifts", "list", env={"SHIFTSMS_STACK": "other"})
    assert result.exit_code == 1
    assert "stack 'other' not found" in result.stderr
    assert invoke("--stack-name", "shiftsms", "shifts", "list").exit_code == 0


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks (and no instance metadata service to ask)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("args", COMMANDS)
def test_no_credentials(no_credentials: None, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr,
        "Error: no AWS credentials found: configure a profile (--profile, AWS_PROFILE) or set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    )


def test_unknown_profile_is_a_usage_error(no_credentials: None) -> None:
    result = invoke("--profile", "nope", "shifts", "list")
    assert result.exit_code == 2
    assert_one_error_line(
        result.stderr,
        "Error: The config profile (nope) could not be found: check --profile or AWS_PROFILE",
    )


def test_no_region_is_a_usage_error(no_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    result = invoke("allowlist", "list")
    assert result.exit_code == 2
    assert_one_error_line(
        result.stderr,
        "Error: no AWS region: pass --region, set AWS_DEFAULT_REGION, or set one in your "
        "AWS config",
    )
    result = invoke("--region", REGION, "allowlist", "list")
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.stderr


@pytest.mark.parametrize("region", ["nowhere-1", "eu west 2", "EU-WEST-2"])
def test_a_region_that_is_no_region_is_a_usage_error(region: str) -> None:
    result = invoke("--region", region, "shifts", "list")
    assert result.exit_code == 2
    assert_one_error_line(
        result.stderr,
        f"Error: Invalid value for '--region': {region!r} is not an AWS region (like eu-west-2)"
        " (see: shiftsms --help)",
    )


def test_unreachable_endpoint() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = invoke("shifts", "list", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr,
        "Error: cannot reach http://127.0.0.1:9/: check your network, --region, "
        "or AWS_ENDPOINT_URL",
    )


def stubbed_client(operation: str, code: str, message: str) -> Any:
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_client_error(operation, service_error_code=code, service_message=message)
    stubber.activate()
    return client


def test_access_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    message = "User: arn:aws:iam::123456789012:user/op is not authorized to perform: x"
    client = stubbed_client("describe_stacks", "AccessDenied", message)
    monkeypatch.setattr(CliContext, "client", lambda self, service: client)
    result = invoke("shifts", "list")
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr,
        f"Error: access denied: your AWS identity may not call DescribeStacks ({message})",
    )


def test_other_aws_errors_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    client = stubbed_client("describe_stacks", "ThrottlingException", "Rate exceeded")
    monkeypatch.setattr(CliContext, "client", lambda self, service: client)
    result = invoke("allowlist", "list")
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr, "Error: AWS error ThrottlingException in DescribeStacks: Rate exceeded"
    )


def test_stack_without_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    info = StackInfo(name="shiftsms", status="CREATE_COMPLETE", outputs={}, parameters={})
    monkeypatch.setattr(CliContext, "stack", lambda self: info)
    result = invoke("shifts", "list")
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr,
        "Error: stack 'shiftsms' has no output ShiftsTableName: is it a shiftsms stack, "
        "fully deployed? Deploy it again",
    )


def test_unexpected_error_is_one_line_unless_debugging(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: ShiftService, status: str | None = None) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(ShiftService, "matching", lambda self, *_, **__: boom(self))
    result = invoke("shifts", "list")
    assert result.exit_code == 1
    assert_one_error_line(
        result.stderr,
        "Error: internal error: RuntimeError: boom (set SHIFTSMS_DEBUG=1 for details)",
    )
    result = invoke("shifts", "list", env={"SHIFTSMS_DEBUG": "1"})
    assert isinstance(result.exception, RuntimeError)


def test_file_that_is_not_utf8(deployed: Deployed, tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes("phone,name\n+447700900123,Zo\xe9\n".encode("latin-1"))
    result = invoke("allowlist", "import", str(path))
    assert result.exit_code == 2
    assert_one_error_line(
        result.stderr, f"Error: {path} is not UTF-8 text (save it as 'CSV UTF-8')"
    )


def test_python_dash_m_runs_the_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "shiftsms", "shifts", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "200", "PATH": "", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "Usage: python -m shiftsms shifts [OPTIONS] COMMAND" in done.stdout
    for command in ("add", "import", "list", "release", "remove"):
        assert f"│ {command} " in done.stdout
