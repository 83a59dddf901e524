"""The sandbox's emulator: End User Messaging and Connect at the API level, moto behind them,
and the event pump's delivery rules (filters, batches, partial failures, redrive)."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from shiftsms.aws.connect import ConnectCaller
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.errors import RecipientOptedOut
from shiftsms.local.aws import client
from shiftsms.local.emulator import Emulator, Names, PortInUse
from shiftsms.local.pump import (
    AsyncConfig,
    FunctionPool,
    FunctionRunner,
    Invocation,
    QueuePoller,
    SnsTapPoller,
    Stats,
    StreamPoller,
    load_template,
    matches,
)
from shiftsms.local.state import Journal, StateDirInUse, lock_state_dir, state_dir_locked
from shiftsms.settings import ConnectSettings

SERVICE = "+447700900000"
ANA = "+447700900123"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    em = Emulator(port=0).start()
    em.telecom.add_number(SERVICE)
    try:
        yield em
    finally:
        em.stop()


def test_send_text_message_is_parsed_and_lands_in_the_outbox(emulator: Emulator) -> None:
    sms = client("pinpoint-sms-voice-v2", emulator.endpoint)
    resp = sms.send_text_message(
        DestinationPhoneNumber=ANA,
        OriginationIdentity=SERVICE,
        MessageBody="Booked: XYZ123. Thank you!",
        MessageType="TRANSACTIONAL",
        TimeToLive=300,
        Context={"campaign": "c1"},
    )
    assert resp["MessageId"]
    [text] = emulator.telecom.texts()
    assert (text.origination, text.destination, text.body) == (
        SERVICE,
        ANA,
        "Booked: XYZ123. Thank you!",
    )
    assert text.message_id == resp["MessageId"]
    assert (text.segments, text.encoding, text.context) == (1, "GSM-7", {"campaign": "c1"})
    # 161 GSM-7 characters bill two segments; one non-GSM character switches to UCS-2.
    sms.send_text_message(
        DestinationPhoneNumber=ANA, OriginationIdentity=SERVICE, MessageBody="x" * 161
    )
    sms.send_text_message(
        DestinationPhoneNumber=ANA, OriginationIdentity=SERVICE, MessageBody="ok ✓"
    )
    assert [(t.segments, t.encoding) for t in emulator.telecom.texts()[1:]] == [
        (2, "GSM-7"),
        (1, "UCS-2"),
    ]


def test_opted_out_destination_is_refused_as_end_user_messaging_does(emulator: Emulator) -> None:
    result = emulator.telecom.receive(ANA, SERVICE, "stop")
    assert result["auto_reply"] and ANA in emulator.telecom.opted_out
    sms = client("pinpoint-sms-voice-v2", emulator.endpoint)
    with pytest.raises(ClientError) as caught:
        sms.send_text_message(
            DestinationPhoneNumber=ANA, OriginationIdentity=SERVICE, MessageBody="hello"
        )
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert caught.value.response["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"
    # The project's adapter reads that error as a permanent opt-out.
    with pytest.raises(RecipientOptedOut):
        EndUserMessagingSms(sms).send(ANA, "hello", SERVICE)
    emulator.telecom.receive(ANA, SERVICE, "UNSTOP")
    assert EndUserMessagingSms(sms).send(ANA, "hello again", SERVICE)
    assert [t.body for t in emulator.telecom.texts(to=ANA)][-1] == "hello again"


def test_requests_are_checked_against_the_service_model(emulator: Emulator) -> None:
    sms = client("pinpoint-sms-voice-v2", emulator.endpoint)
    loose = boto3.session.Session().client(  # no client-side validation: the server checks
        "pinpoint-sms-voice-v2",
        endpoint_url=emulator.endpoint,
        region_name="eu-west-2",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False),
    )
    with pytest.raises(ClientError) as caught:
        loose.send_text_message(
            DestinationPhoneNumber=ANA,
            OriginationIdentity=SERVICE,
            MessageBody="hi",
            MessageType="URGENT",
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "MessageType" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        sms.send_text_message(
            DestinationPhoneNumber=ANA, OriginationIdentity="+447700900001", MessageBody="hi"
        )
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert emulator.telecom.texts() == []


def test_two_way_channel_is_configured_through_the_api(emulator: Emulator) -> None:
    sms = client("pinpoint-sms-voice-v2", emulator.endpoint)
    [number] = sms.describe_phone_numbers()["PhoneNumbers"]
    assert number["PhoneNumber"] == SERVICE and number["TwoWayEnabled"] is False
    topic = client("sns", emulator.endpoint).create_topic(Name="inbound")["TopicArn"]
    updated = sms.update_phone_number(
        PhoneNumberId=number["PhoneNumberId"], TwoWayEnabled=True, TwoWayChannelArn=topic
    )
    assert updated["TwoWayChannelArn"] == topic
    # An inbound text is now published to the topic, as End User Messaging publishes it.
    sqs = client("sqs", emulator.endpoint)
    url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns", emulator.endpoint).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    emulator.telecom.receive(ANA, SERVICE, "XYZ123")
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    inbound = json.loads(json.loads(message["Body"])["Message"])
    assert inbound["originationNumber"] == ANA
    assert inbound["destinationNumber"] == SERVICE
    assert inbound["messageBody"] == "XYZ123"
    assert inbound["inboundMessageId"]


def test_connect_call_back_is_recorded_once_per_client_token(emulator: Emulator) -> None:
    connect = client("connect", emulator.endpoint)
    caller = ConnectCaller(connect, ConnectSettings("inst-1", "flow-1", "queue-1", "+447700900999"))
    first = caller.call_back(ANA, "swap Friday", token="m-1")
    again = caller.call_back(ANA, "swap Friday", token="m-1")
    assert first and first == again
    [call] = emulator.telecom.calls
    assert (call.destination, call.instance_id, call.contact_flow_id, call.queue_id) == (
        ANA,
        "inst-1",
        "flow-1",
        "queue-1",
    )
    assert call.attributes == {"note": "swap Friday", "source": "shiftsms"}
    resp = connect.start_outbound_voice_contact(
        DestinationPhoneNumber=ANA, ContactFlowId="flow-1", InstanceId="inst-1"
    )
    assert resp["ContactId"] not in ("", first)
    with pytest.raises(ClientError) as caught:
        connect.start_outbound_voice_contact(
            DestinationPhoneNumber="not a number", ContactFlowId="f", InstanceId="i"
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert len(emulator.telecom.calls) == 2


def test_moto_still_serves_everything_else(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"id": {"S": "1"}})
    assert ddb.get_item(TableName="t", Key={"id": {"S": "1"}})["Item"] == {"id": {"S": "1"}}


def test_a_taken_port_is_a_clear_error(emulator: Emulator) -> None:
    sqs = client("sqs", emulator.endpoint)
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    with pytest.raises(PortInUse, match=f"port {emulator.port} .* in use"):
        Emulator(port=emulator.port).start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(PortInUse):
            Emulator(port=sock.getsockname()[1]).start()
    # The failed starts left the running emulator and its state alone.
    assert sqs.list_queues()["QueueUrls"] == [url]


def test_filter_patterns() -> None:
    insert = {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"S": "c1"}}}}
    assert matches({"eventName": ["INSERT"]}, insert)
    assert not matches({"eventName": ["MODIFY", "REMOVE"]}, insert)
    assert matches({"dynamodb": {"NewImage": {"id": {"S": [{"prefix": "c"}]}}}}, insert)
    assert not matches({"dynamodb": {"OldImage": {"id": {"S": ["c1"]}}}}, insert)
    assert matches({"eventName": [{"anything-but": ["REMOVE"]}]}, insert)
    assert matches({"userIdentity": [{"exists": False}]}, insert)


# -- the pump's delivery rules, with a recording function ------------------------------------


class RecordingFunction:
    """Stands in for a FunctionRunner: records events, answers from a script."""

    name = "fn"

    def __init__(self, answers: list[Invocation] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answers = answers or []

    def invoke(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return self.answers.pop(0) if self.answers else Invocation(ok=True, result=None)


def _stream_table(ddb: Any, name: str) -> str:
    """Create a table keyed ``id`` with a NEW_IMAGE stream; return the stream's ARN."""
    arn: str = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    return arn


def test_stream_records_are_filtered_batched_and_retried_from_a_failure(
    emulator: Emulator,
) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    arn = _stream_table(ddb, "campaigns")
    for i in range(3):
        ddb.put_item(TableName="campaigns", Item={"id": {"S": f"c{i}"}})
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c0"}, "x": {"S": "changed"}})
    mapping = {
        "EventSourceArn": arn,
        "StartingPosition": "TRIM_HORIZON",
        "BatchSize": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
    }

    def ids(event: dict[str, Any]) -> list[str]:
        return [r["dynamodb"]["NewImage"]["id"]["S"] for r in event["Records"]]

    class FailsC1Once(RecordingFunction):
        def invoke(self, event: dict[str, Any]) -> Invocation:
            self.events.append(event)
            if len(self.events) > 1:
                return Invocation(ok=True, result={"batchItemFailures": []})
            failed = [
                r["dynamodb"]["SequenceNumber"]
                for r in event["Records"]
                if r["dynamodb"]["NewImage"]["id"]["S"] == "c1"
            ]
            return Invocation(
                ok=True, result={"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
            )

    function = FailsC1Once()
    poller = StreamPoller(
        mapping,
        function,  # type: ignore[arg-type]
        emulator.endpoint,
        "eu-west-2",
        threading.Event(),
        from_latest=False,
    )
    for _ in range(5):
        poller.poll()
    # Batches of two INSERTs; the MODIFY is filtered out; a reported failure is retried
    # from that record on (the records before it are checkpointed).
    assert [ids(e) for e in function.events] == [["c0", "c1"], ["c1", "c2"]]
    record = function.events[0]["Records"][0]
    assert (record["eventName"], record["eventSource"], record["eventSourceARN"]) == (
        "INSERT",
        "aws:dynamodb",
        arn,
    )
    # A handler error retries the same batch, up to MaximumRetryAttempts, then moves on.
    mapping["MaximumRetryAttempts"] = 1
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c3"}})
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c4"}})
    function.events.clear()
    function.answers = [Invocation(ok=False, error="boom"), Invocation(ok=False, error="boom")]
    function.invoke = RecordingFunction.invoke.__get__(function)  # type: ignore[method-assign]
    for _ in range(4):
        poller.poll()
    assert [ids(e) for e in function.events] == [["c3", "c4"], ["c3", "c4"]]
    assert poller.pending == []


def test_queue_messages_are_deleted_only_when_they_succeed(emulator: Emulator) -> None:
    sqs = client("sqs", emulator.endpoint)
    dlq = sqs.create_queue(QueueName="send-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="send",
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for body in ("ok-1", "poison", "ok-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    mapping = {
        "EventSourceArn": arn,
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }

    class FailsPoison(RecordingFunction):
        def invoke(self, event: dict[str, Any]) -> Invocation:
            self.events.append(event)
            bad = [r["messageId"] for r in event["Records"] if r["body"] == "poison"]
            return Invocation(
                ok=True, result={"batchItemFailures": [{"itemIdentifier": i} for i in bad]}
            )

    function = FailsPoison()
    poller = QueuePoller(
        mapping,
        function,
        emulator.endpoint,
        "eu-west-2",
        threading.Event(),  # type: ignore[arg-type]
    )
    assert poller.poll()
    assert sorted(r["body"] for r in function.events[0]["Records"]) == ["ok-1", "ok-2", "poison"]
    record = function.events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        poller.poll()  # the poison comes back after the visibility timeout, then goes to the DLQ
        if sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages"):
            break
    bodies = [[r["body"] for r in e["Records"]] for e in function.events]
    assert bodies[1:] == [["poison"]]  # retried once, alone: the successes were deleted
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "0"
    )


# -- functions run from their deployed bundle, with their deployed environment ---------------

PROBE = """
import importlib.util
import os
import sys
import time

import shiftsms


def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    time.sleep(event.get("sleep", 0))
    return {
        "pid": os.getpid(),
        "boto3": importlib.util.find_spec("boto3") is not None,
        "typer": importlib.util.find_spec("typer") is not None,
        "x": os.environ.get("X"),
        "leak": os.environ.get("SHIFTSMS_TEST_LEAK"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "shiftsms": shiftsms.WHERE,
        "task_root": sys.path[0],
        "remaining": context.get_remaining_time_in_millis(),
        "event": event,
    }
"""


def test_function_runs_from_its_bundle_with_its_own_environment(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIFTSMS_TEST_LEAK", "this process's environment")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as bundle:
        bundle.writestr("lambdas/__init__.py", "")
        bundle.writestr("lambdas/probe.py", PROBE)
        bundle.writestr("shiftsms/__init__.py", 'WHERE = "bundle"\n')
    s3 = client("s3", emulator.endpoint)
    s3.create_bucket(Bucket="code", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3.put_object(Bucket="code", Key="probe.zip", Body=buf.getvalue())
    role = client("iam", emulator.endpoint).create_role(
        RoleName="probe",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lam = client("lambda", emulator.endpoint)
    lam.create_function(
        FunctionName="probe",
        Runtime="python3.13",
        Role=role,
        Handler="lambdas.probe.handler",
        Code={"S3Bucket": "code", "S3Key": "probe.zip"},
        Timeout=20,
        Environment={"Variables": {"X": "1"}},
    )
    runner = FunctionRunner(
        "probe",
        emulator.endpoint,
        "eu-west-2",
        code_bucket="code",
        work_dir=tmp_path,
        stats=Stats(),
    )
    try:
        first = runner.invoke({"hello": "world"})
        assert first.ok, first.error
        assert first.result["x"] == "1"
        assert first.result["leak"] is None  # nothing of this process's environment
        assert first.result["endpoint"] == emulator.endpoint
        assert first.result["shiftsms"] == "bundle"  # the bundle's copy, not the installed one
        # The runtime's packages are there; this environment's others are not (as in Lambda).
        assert (first.result["boto3"], first.result["typer"]) == (True, False)
        assert Path(first.result["task_root"]).is_relative_to(tmp_path / "functions")
        assert 0 < first.result["remaining"] <= 20_000
        assert first.result["event"] == {"hello": "world"}
        failed = runner.invoke({"fail": True})
        assert not failed.ok and failed.error == "RuntimeError: asked to fail"
        # A new deployed environment is picked up (a fresh worker).
        lam.update_function_configuration(
            FunctionName="probe", Environment={"Variables": {"X": "2"}}
        )
        assert runner.invoke({}).result["x"] == "2"
        assert runner.stats.invocations == {"probe": 3}
        assert runner.stats.errors == {"probe": 1}
    finally:
        runner.close()

    # Overlapping invocations run on separate warm instances, at the same time.
    pool = FunctionPool(
        "probe",
        emulator.endpoint,
        "eu-west-2",
        code_bucket="code",
        work_dir=tmp_path,
        stats=Stats(),
    )
    results: list[Invocation] = []
    try:
        assert pool.invoke({}).ok  # one warm instance
        started = time.monotonic()
        threads = [
            threading.Thread(target=lambda: results.append(pool.invoke({"sleep": 1.5})))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        elapsed = time.monotonic() - started
        assert all(r.ok for r in results) and len(results) == 2
        assert len({r.result["pid"] for r in results}) == 2
        assert elapsed < 2.9  # one after the other would take at least 3 s
    finally:
        pool.close()


def test_local_commands_have_help() -> None:
    from typer.testing import CliRunner

    from shiftsms.cli import app

    cli = CliRunner()
    for args in (
        ["local", "--help"],
        ["local", "up", "--help"],
        ["local", "sms", "--help"],
        ["local", "phone", "--help"],
        ["local", "outbox", "--help"],
        ["demo", "--help"],
    ):
        result = cli.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_old_stream_iterators_are_forgotten_and_the_newest_still_reads(
    emulator: Emulator,
) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    arn = _stream_table(ddb, "t")
    streams = client("dynamodbstreams", emulator.endpoint)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    first = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    iterator = first
    for _ in range(20):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    assert emulator.prune_stream_iterators(keep=5) == 16
    ddb.put_item(TableName="t", Item={"id": {"S": "x"}})
    [record] = streams.get_records(ShardIterator=iterator)["Records"]
    assert record["dynamodb"]["Keys"] == {"id": {"S": "x"}}
    with pytest.raises(ClientError):
        streams.get_records(ShardIterator=first)


def test_sns_notifications_are_retried_then_sent_to_the_on_failure_destination(
    emulator: Emulator,
) -> None:
    sns = client("sns", emulator.endpoint)
    sqs = client("sqs", emulator.endpoint)
    topic = sns.create_topic(Name="inbound")["TopicArn"]
    tap = sqs.create_queue(QueueName="tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn)
    failures = sqs.create_queue(QueueName="inbound-failures")["QueueUrl"]
    function = RecordingFunction([Invocation(ok=False, error="RuntimeError: boom")] * 3)
    poller = SnsTapPoller(
        "arn:aws:sns:eu-west-2:123456789012:inbound:sub-1",
        tap,
        function,  # type: ignore[arg-type]
        emulator.endpoint,
        region="eu-west-2",
        stop=threading.Event(),
        config=AsyncConfig(retries=2, on_failure_url=failures, function_arn="arn:fn"),
    )
    sns.publish(TopicArn=topic, Message='{"messageBody": "XYZ123"}')
    deadline = time.monotonic() + 15
    while len(function.events) < 3 and time.monotonic() < deadline:
        poller.poll()
    assert len(function.events) == 3  # the first try and two retries
    record = function.events[0]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == "arn:aws:sns:eu-west-2:123456789012:inbound:sub-1"
    assert (record["Sns"]["TopicArn"], record["Sns"]["Message"]) == (
        topic,
        '{"messageBody": "XYZ123"}',
    )
    [failed] = sqs.receive_message(QueueUrl=failures, WaitTimeSeconds=2)["Messages"]
    body = json.loads(failed["Body"])
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["requestPayload"] == function.events[0]
    assert body["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": "boom"}
    assert not sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=0).get("Messages")


def test_the_templates_async_invoke_settings_are_read() -> None:
    template = load_template(
        (Path(__file__).resolve().parent.parent / "cloudformation" / "template.yaml").read_text()
    )
    configs = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    ]
    assert configs, "the template has no EventInvokeConfig: the sandbox reads none"
    with_destination = [p for p in configs if "DestinationConfig" in p]
    assert with_destination, "no EventInvokeConfig names an on-failure destination"
    for props in configs:
        assert list(props["FunctionName"]) == ["Ref"]
    for props in with_destination:
        destination = props["DestinationConfig"]["OnFailure"]["Destination"]
        assert list(destination) == ["Fn::GetAtt"] and destination["Fn::GetAtt"][1] == "Arn"


# -- durability ------------------------------------------------------------------------------


def test_a_change_is_answered_only_after_it_is_committed(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    sqs = client("sqs", emulator.endpoint)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    entered, release = threading.Event(), threading.Event()
    commits: list[int] = []

    def commit() -> None:
        commits.append(emulator.changes)
        entered.set()
        assert release.wait(10)

    emulator.on_change = commit
    answered: list[Any] = []
    put = threading.Thread(
        target=lambda: answered.append(ddb.put_item(TableName="t", Item={"id": {"S": "a"}}))
    )
    put.start()
    assert entered.wait(10), "the write was never committed"
    time.sleep(0.2)
    assert answered == []  # held until the commit returns...
    release.set()
    put.join(10)
    assert len(answered) == 1  # ...then answered
    # Reads commit nothing; every write does, and so does a receive that returned messages
    # (they are in flight now: a restart brings them back after their visibility timeout).
    ddb.get_item(TableName="t", Key={"id": {"S": "a"}})
    ddb.scan(TableName="t")
    sqs.send_message(QueueUrl=url, MessageBody="job")
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert len(commits) == 3
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    ddb.delete_item(TableName="t", Key={"id": {"S": "a"}})
    assert len(commits) == 5


NAMED_TEMPLATE = """
Resources:
  Shifts:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
  Jobs:
    Type: AWS::SQS::Queue
  Inbound:
    Type: AWS::SNS::Topic
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy: {Version: "2012-10-17", Statement: []}
Outputs:
  Shifts: {Value: !Ref Shifts}
  Jobs: {Value: !Ref Jobs}
  Inbound: {Value: !Ref Inbound}
  Key: {Value: !GetAtt Key.Arn}
"""


def _deployed_outputs(names: Names) -> dict[str, str]:
    with Emulator(port=0, names=names) as em:
        cf = client("cloudformation", em.endpoint)
        cf.create_stack(StackName="shiftsms", TemplateBody=NAMED_TEMPLATE)
        outputs = cf.describe_stacks(StackName="shiftsms")["Stacks"][0]["Outputs"]
        return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def test_generated_names_and_key_ids_come_back_on_the_next_start() -> None:
    first = Names()
    before = _deployed_outputs(first)
    assert before["Shifts"].startswith("shiftsms-Shifts-")
    again = _deployed_outputs(Names(json.loads(json.dumps(first.to_json()))))
    assert again == before
    # Without the saved names, CloudFormation makes up new ones.
    fresh = _deployed_outputs(Names())
    assert fresh["Shifts"] != before["Shifts"] and fresh["Key"] != before["Key"]


def test_a_state_folder_is_locked_for_its_sandboxs_life(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    fd = lock_state_dir(folder)
    assert state_dir_locked(folder)
    with pytest.raises(StateDirInUse, match=rf"in use by another sandbox \(pid {os.getpid()}\)"):
        lock_state_dir(folder)
    os.close(fd)
    assert not state_dir_locked(folder)
    # A holder killed with SIGKILL leaves no stale lock behind.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from shiftsms.local.state import lock_state_dir;"
            "lock_state_dir(Path(sys.argv[1])); print('locked', flush=True); time.sleep(60)",
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    assert state_dir_locked(folder)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    holder.stdout.close()
    assert not state_dir_locked(folder)
    os.close(lock_state_dir(folder))


def test_a_stream_pollers_backlog_is_what_it_has_not_processed(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    streams = client("dynamodbstreams", emulator.endpoint)
    arn = _stream_table(ddb, "campaigns")
    mapping = {"EventSourceArn": arn, "StartingPosition": "TRIM_HORIZON", "BatchSize": 1}
    checkpoints: list[int] = []
    function = RecordingFunction()
    poller = StreamPoller(
        mapping,
        function,  # type: ignore[arg-type]
        emulator.endpoint,
        "eu-west-2",
        threading.Event(),
        from_latest=False,
        on_checkpoint=lambda: checkpoints.append(len(function.events)),
    )
    assert poller.key == "campaigns>fn"
    for i in range(2):
        ddb.put_item(TableName="campaigns", Item={"id": {"S": f"c{i}"}})
    poller.poll()  # fetches c0 and c1, delivers c0
    assert checkpoints == [1]
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c2"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    raw = streams.get_records(ShardIterator=iterator)["Records"]
    backlog = poller.backlog(raw)
    assert [r["dynamodb"]["NewImage"]["id"]["S"] for r in backlog] == ["c1", "c2"]
    # A poller of the next run given that backlog delivers it before anything newer.
    function.events.clear()
    restarted = StreamPoller(
        mapping,
        function,  # type: ignore[arg-type]
        emulator.endpoint,
        "eu-west-2",
        threading.Event(),
        from_latest=True,
    )
    restarted.pending = backlog
    for _ in range(3):
        restarted.poll()
    delivered = [
        r["dynamodb"]["NewImage"]["id"]["S"] for e in function.events for r in e["Records"]
    ]
    assert delivered == ["c1", "c2"]


def test_a_dynamodb_write_is_logged_before_it_is_answered(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    logged: list[tuple[str, dict[str, Any]]] = []
    snapshots: list[int] = []
    emulator.journal = lambda target, body: logged.append((target, json.loads(body)))
    emulator.on_change = lambda: snapshots.append(1)
    ddb.put_item(
        TableName="t", Item={"id": {"S": "a"}}, ConditionExpression="attribute_not_exists(id)"
    )
    assert logged == [
        (
            "DynamoDB_20120810.PutItem",
            {
                "TableName": "t",
                "Item": {"id": {"S": "a"}},
                "ConditionExpression": "attribute_not_exists(id)",
            },
        )
    ]
    # A refused write changed nothing and is not logged; nor are reads; nothing is snapshotted.
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.put_item(
            TableName="t", Item={"id": {"S": "a"}}, ConditionExpression="attribute_not_exists(id)"
        )
    ddb.get_item(TableName="t", Key={"id": {"S": "a"}})
    assert len(logged) == 1 and snapshots == []


def test_the_journal_numbers_entries_and_drops_a_torn_last_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "changes.log", seq=4)
    journal.append({"target": "DynamoDB_20120810.PutItem", "body": "{}"})
    journal.append({"target": "DynamoDB_20120810.DeleteItem", "body": "{}"})
    journal.close()
    with (tmp_path / "changes.log").open("a") as log:
        log.write('{"target": "DynamoDB_20120810.Upd')  # the process died mid-append
    entries = Journal.read(tmp_path / "changes.log")
    assert [(e["seq"], e["target"]) for e in entries] == [
        (5, "DynamoDB_20120810.PutItem"),
        (6, "DynamoDB_20120810.DeleteItem"),
    ]
    journal.truncate()
    assert Journal.read(tmp_path / "changes.log") == []
