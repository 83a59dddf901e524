"""Shared fixtures: AWS resources come from deploying the real template into moto."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftsms.aws.stack import StackInfo, describe
from shiftsms.deploy import deployer as deployer_module
from shiftsms.local.protect import register_with_moto
from tests.sms_voice import InProcessSmsVoice

# moto has no AWS::SMSVOICE::ProtectConfiguration: the sandbox's model stands in for it.
register_with_moto()

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "cloudformation" / "template.yaml"
REGION = "eu-west-2"
ORIGINATION = "+447700900000"


@pytest.fixture(autouse=True)
def sms_voice(monkeypatch: pytest.MonkeyPatch) -> InProcessSmsVoice:
    """The deploy's End User Messaging (protect configuration rules) answered in process."""
    fake = InProcessSmsVoice(REGION)
    original = deployer_module.make_client

    def make_client(service: str, session: Any = None) -> Any:
        made = original(service, session)
        return fake.attach(made) if service == "pinpoint-sms-voice-v2" else made

    monkeypatch.setattr(deployer_module, "make_client", make_client)
    return fake


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever reaches real AWS: fake credentials, a fixed region, no endpoint override."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "SHIFTSMS_STACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


def tiny_bundle() -> bytes:
    """A small zip standing in for the Lambda bundle (moto stores code, it does not run it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("lambdas/__init__.py", "")
    return buf.getvalue()


def deploy_template(name: str = "shiftsms", parameters: dict[str, str] | None = None) -> StackInfo:
    """Create the real template as a stack in the current moto backend; return its info."""
    s3 = boto3.client("s3", region_name=REGION)
    bucket = "shiftsms-test-artifacts"
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:  # a second stack
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key="bundle.zip", Body=tiny_bundle())
    params = {
        "OriginationNumber": ORIGINATION,
        "CodeBucket": bucket,
        "CodeKey": "bundle.zip",
        **(parameters or {}),
    }
    cf = boto3.client("cloudformation", region_name=REGION)
    cf.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    info = describe(cf, name)
    assert info.status == "CREATE_COMPLETE", info.status
    return info


def function_environment(name: str) -> dict[str, str]:
    """The environment a deployed function was given by the template."""
    cfg = boto3.client("lambda", region_name=REGION).get_function_configuration(FunctionName=name)
    return dict(cfg.get("Environment", {}).get("Variables", {}))


@dataclass
class Deployed:
    """A stack deployed into moto, with boto3 clients on it."""

    info: StackInfo
    dynamodb: Any

    @property
    def outputs(self) -> dict[str, str]:
        return self.info.outputs


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    """The real template deployed into an in-process moto."""
    with mock_aws():
        info = deploy_template()
        yield Deployed(info=info, dynamodb=boto3.client("dynamodb", region_name=REGION))


EVENTS = Path(__file__).resolve().parent / "events"


def event_fixture(name: str) -> dict[str, Any]:
    """A real Lambda event from ``tests/events/`` (``name`` without ``.json``)."""
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def sns_event(*messages: dict[str, Any] | str, timestamp: datetime | None = None) -> dict[str, Any]:
    """The fixture SNS event with one record per message (dicts become JSON), ids made unique.

    ``timestamp``: when SNS published them (default: now); a retry redelivers the same event.
    """
    published = (timestamp or datetime.now(UTC)).astimezone(UTC)
    (template,) = event_fixture("sns_inbound_sms")["Records"]
    records = []
    for i, message in enumerate(messages):
        record = copy.deepcopy(template)
        record["Sns"]["Message"] = message if isinstance(message, str) else json.dumps(message)
        record["Sns"]["MessageId"] = f"{template['Sns']['MessageId'][:-2]}{i:02d}"
        record["Sns"]["Timestamp"] = published.isoformat(timespec="milliseconds")[:-6] + "Z"
        records.append(record)
    return {"Records": records}
