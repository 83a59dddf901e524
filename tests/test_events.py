"""The event fixtures in tests/events are real Lambda events, and the sandbox builds the same.

Each fixture is rebuilt from its parts by shiftsms.core.lambda_events (the module the sandbox's
pollers build their events with); then a message that went through (in-process) AWS services is
turned into an event by the sandbox's own poller code and must have the fixture's shape.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import SNSEvent, SQSEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBStreamEvent,
)
from moto import mock_aws

from shiftsms.aws.campaigns_table import campaign_from_item
from shiftsms.aws.dynamo import from_item
from shiftsms.core import lambda_events
from shiftsms.core.campaigns import SendJob
from shiftsms.core.events import parse_inbound
from shiftsms.core.models import InboundSms
from shiftsms.local.aws import client as local_client
from shiftsms.local.emulator import Emulator
from shiftsms.local.queue_poller import QueuePoller
from shiftsms.local.sns_delivery import SnsTapPoller
from shiftsms.local.stream_poller import StreamPoller
from tests.conftest import REGION, event_fixture, sns_event


def shape(value: Any) -> Any:
    """The keys and value types of ``value``, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_sns_fixture_is_the_inbound_sms_end_user_messaging_publishes() -> None:
    fixture = event_fixture("sns_inbound_sms")
    (record,) = fixture["Records"]
    sns = record["Sns"]
    rebuilt = lambda_events.sns_record(
        sns["Message"],
        topic_arn=sns["TopicArn"],
        subscription_arn=record["EventSubscriptionArn"],
        message_id=sns["MessageId"],
        timestamp=sns["Timestamp"],
        signing_cert_url=sns["SigningCertUrl"],
        unsubscribe_url=sns["UnsubscribeUrl"],
    )
    assert lambda_events.event([rebuilt]) == fixture
    (typed,) = SNSEvent(fixture).records
    assert parse_inbound(typed.sns.message) == InboundSms(
        message_id="cae173d2-66b9-564c-8309-21f858e9fb84",
        sender="+447700900123",
        destination="+447700900000",
        body="XYZ123",
        keyword="KEYWORD_123456789012",
    )


def test_tests_build_their_sns_events_from_the_fixture() -> None:
    (template,) = event_fixture("sns_inbound_sms")["Records"]
    event = sns_event({"a": 1}, "raw")
    assert [shape(r) for r in event["Records"]] == [shape(template)] * 2
    assert [r["Sns"]["Message"] for r in event["Records"]] == ['{"a": 1}', "raw"]
    ids = [r["Sns"]["MessageId"] for r in event["Records"]]
    assert len(set(ids)) == 2


def test_stream_fixture_is_a_campaigns_table_insert() -> None:
    fixture = event_fixture("dynamodb_stream_insert")
    (record,) = fixture["Records"]
    raw = {k: record[k] for k in ("eventID", "eventName", "eventVersion", "dynamodb")}
    rebuilt = lambda_events.stream_record(
        raw, source_arn=record["eventSourceARN"], region=record["awsRegion"]
    )
    assert lambda_events.event([rebuilt]) == fixture
    (typed,) = DynamoDBStreamEvent(fixture).records
    assert typed.event_name is not None and typed.event_name.name == "INSERT"
    campaign = campaign_from_item(from_item(record["dynamodb"]["NewImage"]))
    assert (campaign.campaign_id, campaign.shift_ids) == ("nov-nights", ("XYZ123", "XYZ124"))


def test_sqs_fixture_is_a_batch_of_send_jobs() -> None:
    fixture = event_fixture("sqs_send_jobs")
    rebuilt = [
        lambda_events.sqs_record(
            message_id=r["messageId"],
            receipt_handle=r["receiptHandle"],
            body=r["body"],
            md5_of_body=r["md5OfBody"],
            source_arn=r["eventSourceARN"],
            region=r["awsRegion"],
            attributes=r["attributes"],
        )
        for r in fixture["Records"]
    ]
    assert lambda_events.event(rebuilt) == fixture
    jobs = [SendJob.from_json(r.body) for r in SQSEvent(fixture).records]
    assert [j.to for j in jobs] == ["+447700900123", "+447700900456"]


def _bare(cls: type, **attrs: Any) -> Any:
    """A poller with only the attributes its event builder reads (no clients, no threads)."""
    poller = cls.__new__(cls)
    for name, value in attrs.items():
        setattr(poller, name, value)
    return poller


@mock_aws
def test_the_sandbox_builds_sns_events_of_the_fixture_shape() -> None:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="inbound")["TopicArn"]
    url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    fixture = event_fixture("sns_inbound_sms")
    sns.publish(TopicArn=topic, Message=fixture["Records"][0]["Sns"]["Message"])
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    poller = _bare(SnsTapPoller, subscription_arn=sub)
    record = poller._record(json.loads(message["Body"]))
    assert shape(record) == shape(fixture["Records"][0])
    assert record["Sns"]["Message"] == fixture["Records"][0]["Sns"]["Message"]


def test_the_sandbox_builds_stream_events_of_the_fixture_shape() -> None:
    # In-process moto has no DynamoDB Streams API; the sandbox's emulator serves it.
    fixture = event_fixture("dynamodb_stream_insert")
    (expected,) = fixture["Records"]
    emulator = Emulator(port=0).start()
    try:
        dynamodb = local_client("dynamodb", emulator.endpoint, REGION)
        table = dynamodb.create_table(
            TableName="campaigns",
            KeySchema=[{"AttributeName": "campaign_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "campaign_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        dynamodb.put_item(TableName="campaigns", Item=expected["dynamodb"]["NewImage"])
        streams = local_client("dynamodbstreams", emulator.endpoint, REGION)
        stream_arn = table["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        (raw,) = streams.get_records(ShardIterator=iterator)["Records"]
    finally:
        emulator.stop()
    poller = _bare(StreamPoller, region=REGION)
    record = poller._record(raw, stream_arn)
    assert shape(record) == shape(expected)
    assert record["dynamodb"]["NewImage"] == expected["dynamodb"]["NewImage"]
    assert (record["eventName"], record["eventSourceARN"]) == ("INSERT", stream_arn)


@mock_aws
def test_the_sandbox_builds_sqs_events_of_the_fixture_shape() -> None:
    fixture = event_fixture("sqs_send_jobs")
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="send")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.send_message(QueueUrl=url, MessageBody=fixture["Records"][0]["body"])
    poller = _bare(QueuePoller, sqs=sqs, url=url, region=REGION, mapping={"EventSourceArn": arn})
    (message,) = poller._receive(10, 0)
    record = poller._record(message)
    expected = fixture["Records"][0]
    assert {k: shape(v) for k, v in record.items() if k != "attributes"} == {
        k: shape(v) for k, v in expected.items() if k != "attributes"
    }
    assert set(expected["attributes"]) <= set(record["attributes"])
    assert record["body"] == expected["body"]


def test_scheduled_fixture_is_what_a_schedule_rule_sends() -> None:
    fixture = event_fixture("eventbridge_scheduled")
    rebuilt = lambda_events.scheduled_event(
        event_id=fixture["id"],
        time=fixture["time"],
        rule_arn=fixture["resources"][0],
        account=fixture["account"],
        region=fixture["region"],
    )
    assert rebuilt == fixture
