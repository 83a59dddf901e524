"""Shared fixtures: AWS resources come from deploying the real template into moto.

A deploy costs about a second, so a module's tests share one deployed stack: each test gets
it with every table emptied and every queue purged, and the stack is deployed again only when
its parameters differ or something else changed moto's state in between.
"""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.loaders import Loader, create_loader
from moto import mock_aws
from moto.awslambda.models import LambdaBackend

from shiftsms.aws.stack import StackInfo, describe
from shiftsms.deploy import deployer as deployer_module
from shiftsms.handlers.metrics import EmfMetrics
from shiftsms.local.protect import REGISTRY, register_with_moto
from tests.sms_voice import InProcessSmsVoice

# moto has no AWS::SMSVOICE::ProtectConfiguration: the sandbox's model stands in for it.
register_with_moto()

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "cloudformation" / "template.yaml"
REGION = "eu-west-2"
ORIGINATION = "+447700900000"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` uses every core, except for a run of one test file: that stays in-process.

    Starting workers costs more than it saves when one file (one worker) has all the tests.
    """
    files = {str(arg).split("::", 1)[0] for arg in config.args}
    if len(files) == 1 and next(iter(files)).endswith(".py"):
        return 0
    return None


_LOADERS: dict[str | None, Loader] = {}


def _register_shared_data_loader(self: botocore.session.Session) -> None:
    def loader() -> Loader:
        path = self.get_config_variable("data_path")
        if path not in _LOADERS:
            _LOADERS[path] = create_loader(path)
        return _LOADERS[path]

    self._components.lazy_register_component("data_loader", loader)


@pytest.fixture(autouse=True, scope="session")
def _botocore_models_read_once() -> Iterator[None]:
    """Every botocore session of the run shares one loader of botocore's JSON data files.

    Each test (and each CLI run in-process) gets new sessions, and a new session parses the
    endpoint and service model files again: most of a moto test's time. The files are the
    same for the whole run, and a loader already hands the same parsed data to every client
    of its session, so sharing it changes nothing else.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(botocore.session.Session, "_register_data_loader", _register_shared_data_loader)
        yield


@pytest.fixture(autouse=True, scope="session")
def _stream_records_stay_in_the_stream() -> Iterator[None]:
    """moto hands every write to a table whose stream has a mapping to the function, run in
    Docker (absent here, and each try prints a warning). Tests deliver stream records
    themselves, as the sandbox's pump does: moto keeps them in the stream instead."""

    def keep(self: Any, function_arn: str, items: list[Any], source: str) -> None:
        """Returning None keeps the records for GetRecords."""

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LambdaBackend, "send_dynamodb_items", keep)
        yield


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


@pytest.fixture(autouse=True)
def _no_metrics_left_over() -> None:
    """Powertools Metrics keeps one metric set per process, shared by every instance: what a
    test counted (a text it sent) without its function's flush stays out of the next test's."""
    EmfMetrics().metrics.clear_metrics()


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
    # One attempt, however long it takes: a retried CreateStack (after a read timeout on a
    # loaded machine) would fail with AlreadyExists for the stack the first one created.
    once = Config(retries={"total_max_attempts": 1}, read_timeout=600)
    cf = boto3.client("cloudformation", region_name=REGION, config=once)
    cf.create_stack(
        StackName=name,
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    info = describe(cf, name)
    assert info.status == "CREATE_COMPLETE", info.status
    _detach_shift_stream(info)
    return info


def _detach_shift_stream(info: StackInfo) -> None:
    """Stop moto invoking the shift-key function (through Docker, absent here) on every write
    to the shifts table; the tests that need it deliver its stream records themselves."""
    from moto.dynamodb.models import dynamodb_backends

    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    table = dynamodb_backends[account][REGION].get_table(info.outputs["ShiftsTableName"])
    table.lambda_event_source_mappings.clear()


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


@contextmanager
def module_stack(parameters: dict[str, str] | None = None) -> Iterator[Deployed]:
    """The template deployed once into an in-process moto of its own, with test credentials
    (for a module-scoped fixture, which cannot use the function-scoped ``monkeypatch``)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            mp.setenv(name, value)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            info = deploy_template(parameters=parameters)
            yield Deployed(info=info, dynamodb=boto3.client("dynamodb", region_name=REGION))


def account_state() -> tuple[frozenset[str], ...]:
    """What exists in the emulated account: stacks, tables, queues, topics and buckets."""
    cf = boto3.client("cloudformation", region_name=REGION)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    return (
        frozenset(s["StackId"] for s in cf.describe_stacks()["Stacks"]),
        frozenset(dynamodb.list_tables()["TableNames"]),
        frozenset(sqs.list_queues().get("QueueUrls", [])),
        frozenset(t["TopicArn"] for t in sns.list_topics()["Topics"]),
        frozenset(b["Name"] for b in s3.list_buckets()["Buckets"]),
    )


def empty_account(state: tuple[frozenset[str], ...]) -> None:
    """Delete every item of every table and purge every queue in ``state``."""
    _stacks, tables, queues, _topics, _buckets = state
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in tables:
        keys = [
            k["AttributeName"]
            for k in dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        ]
        names = {f"#k{i}": key for i, key in enumerate(keys)}
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
        ):
            items = page["Items"]
            for start in range(0, len(items), 25):
                requests = [{"DeleteRequest": {"Key": i}} for i in items[start : start + 25]]
                while requests:
                    left = dynamodb.batch_write_item(RequestItems={table: requests})
                    requests = left.get("UnprocessedItems", {}).get(table, [])
    sqs = boto3.client("sqs", region_name=REGION)
    # AWS allows one purge a minute per queue; moto enforces that unless told not to.
    strict = "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"
    before = os.environ.get(strict)
    os.environ[strict] = "false"
    try:
        for url in queues:
            sqs.purge_queue(QueueUrl=url)
    finally:
        if before is None:
            del os.environ[strict]
        else:
            os.environ[strict] = before


@dataclass
class _Shared:
    """The stack kept deployed between tests, and the account state it was left with."""

    key: tuple[tuple[str, str], ...]
    info: StackInfo
    state: tuple[frozenset[str], ...]
    protect_rules: dict[str, dict[str, str]]


def protect_rules(info: StackInfo) -> dict[str, dict[str, str]]:
    """A copy of the country rules of the stack's protect configuration (moto's stand-in)."""
    item = REGISTRY.find(info.outputs["ProtectConfigurationId"])
    assert item is not None, "the stack's protect configuration is not registered"
    return copy.deepcopy(item.rules)


def restore_protect_rules(info: StackInfo, rules: dict[str, dict[str, str]]) -> None:
    """Put back the rules the stack's protect configuration had after the deploy."""
    item = REGISTRY.find(info.outputs["ProtectConfigurationId"])
    assert item is not None, "the stack's protect configuration is not registered"
    item.rules = copy.deepcopy(rules)


_shared: list[_Shared] = []  # at most one; kept for the tests of one module


@contextmanager
def shared_stack(
    parameters: dict[str, str] | None = None,
    prepare: Callable[[StackInfo], None] | None = None,
) -> Iterator[StackInfo]:
    """The real template in moto, deployed once and emptied for each test that reuses it.

    ``prepare`` runs once after a deploy (its name is part of what makes a stack reusable).
    The stack is deployed again, on a clean account, when the parameters or ``prepare``
    differ, or when the account holds anything else than what the deploy left. The protect
    configuration's country rules live outside moto (its stand-in's registry): a reused stack
    gets back the rules it was deployed with.
    """
    key = (
        *sorted((parameters or {}).items()),
        ("prepare", prepare.__qualname__ if prepare else ""),
    )
    mock = mock_aws()
    mock.start(reset=False)
    try:
        kept = _shared[0] if _shared else None
        state = account_state()
        if kept is not None and kept.key == key and kept.state == state:
            empty_account(state)
            restore_protect_rules(kept.info, kept.protect_rules)
        else:
            _shared.clear()
            mock.stop()  # clears every moto backend,
            mock.start()  # as a fresh mock_aws() would
            info = deploy_template(parameters=parameters)
            if prepare is not None:
                prepare(info)
            kept = _Shared(
                key=key, info=info, state=account_state(), protect_rules=protect_rules(info)
            )
            _shared.append(kept)
        yield kept.info
    finally:
        mock.stop(remove_data=False)


@pytest.fixture(autouse=True, scope="module")
def _clean_moto_after_a_shared_stack() -> Iterator[None]:
    """Leave moto's backends empty after a module that kept a stack, as mock_aws() would."""
    yield
    if _shared:
        _shared.clear()
        with mock_aws():
            pass


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    """The real template deployed into an in-process moto, every table and queue empty."""
    with shared_stack() as info:
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


# The last shifts-stream record delivered, by stream ARN.
_SHIFT_STREAM_AT: dict[str, int] = {}


def deliver_shift_keys(outputs: dict[str, str]) -> int:
    """Deliver the shifts table's stream records written since the last call (from the start,
    the first time) to the shift-key function, as its mapping would: only those its
    FilterCriteria pass. Returns how many it got."""
    from shiftsms.handlers.shift_keys import ShiftKeyApp
    from shiftsms.local.event_filter import passes_filters
    from shiftsms.settings import ShiftKeySettings

    name = outputs["ShiftKeyFunctionName"]
    lam = boto3.client("lambda", region_name=REGION)
    (mapping,) = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    arn = mapping["EventSourceArn"]
    # moto's in-process DescribeStream answers 404: its shard's records, as GetRecords gives them.
    from moto.dynamodb.models import dynamodb_backends

    account = boto3.client("sts", region_name=REGION).get_caller_identity()["Account"]
    table = dynamodb_backends[account][REGION].get_table(outputs["ShiftsTableName"])
    records: list[dict[str, Any]] = [i.to_json() for i in table.stream_shard.items]
    after = _SHIFT_STREAM_AT.get(arn, -1)
    new = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > after]
    if new:
        _SHIFT_STREAM_AT[arn] = int(new[-1]["dynamodb"]["SequenceNumber"])
    passed = [{**r, "eventSourceARN": arn} for r in new if passes_filters(mapping, r)]
    if passed:  # Lambda invokes nothing for a batch the filters emptied
        app = ShiftKeyApp(ShiftKeySettings.from_env(function_environment(name)))
        result = app.handle({"Records": passed}, None)
        assert result == {"batchItemFailures": []}, result
    return len(passed)
