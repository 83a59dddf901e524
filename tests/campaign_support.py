"""Campaign test harness: the deployed stack, Lambda-shaped events, and an SQS poller.

Events are delivered the way Lambda's event source mappings would: a DynamoDB stream record
built from the stored item, and SQS messages received from the real queue, with failed ones
made visible again (as after the visibility timeout) and successful ones deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.stack import StackInfo
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.models import StaffMember
from shiftsms.handlers.campaign import CampaignApp
from shiftsms.handlers.sender import SenderApp
from shiftsms.settings import FanOutSettings, SenderSettings
from tests.conftest import REGION, function_environment, shared_stack

ACCOUNT = "123456789012"


@dataclass
class FakeContext:
    """The parts of a Lambda context the handlers read."""

    function_name: str = "shiftsms-SenderFunction"
    remaining_ms: int = 60_000
    aws_request_id: str = "req-1"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shiftsms-Sender"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class CampaignStack:
    """The real template deployed into moto, with clients and the functions' environments."""

    outputs: dict[str, str]
    dynamodb: Any
    sqs: Any
    campaign_env: dict[str, str]
    sender_env: dict[str, str]
    _sequence: int = field(default=100)

    @property
    def queue_url(self) -> str:
        return self.outputs["SendQueueUrl"]

    def campaign_settings(self) -> FanOutSettings:
        return FanOutSettings.from_env(self.campaign_env)

    def sender_settings(self) -> SenderSettings:
        return SenderSettings.from_env(self.sender_env)

    def staff(self) -> StaffTable:
        return StaffTable(self.dynamodb, self.outputs["StaffTableName"])

    def campaigns(self) -> CampaignsTable:
        return CampaignsTable(self.dynamodb, self.outputs["CampaignsTableName"])

    def add_staff(self, *members: StaffMember | str) -> None:
        for member in members:
            self.staff().put(StaffMember(phone=member) if isinstance(member, str) else member)

    def add_shift(self, shift_id: str, info: str, status: str = "available") -> None:
        self.dynamodb.put_item(
            TableName=self.outputs["ShiftsTableName"],
            Item={
                "shift_id": {"S": shift_id},
                "shift_info": {"S": info},
                "shift_status": {"S": status},
            },
        )

    def campaign_item(self, campaign_id: str) -> dict[str, Any]:
        """The stored campaign item, in DynamoDB JSON."""
        return dict(
            self.dynamodb.get_item(
                TableName=self.outputs["CampaignsTableName"],
                Key={"campaign_id": {"S": campaign_id}},
                ConsistentRead=True,
            )["Item"]
        )

    def stream_arn(self) -> str:
        table = self.dynamodb.describe_table(TableName=self.outputs["CampaignsTableName"])
        return str(table["Table"]["LatestStreamArn"])

    def insert_record(self, campaign_id: str, event_id: str | None = None) -> dict[str, Any]:
        """A stream INSERT record for the stored item, as Lambda delivers it."""
        self._sequence += 1
        item = self.campaign_item(campaign_id)
        return {
            "eventID": event_id or f"c5e1b6a2d4f8{self._sequence:020d}",
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": {
                "ApproximateCreationDateTime": 1795860000,
                "Keys": {"campaign_id": item["campaign_id"]},
                "NewImage": item,
                "SequenceNumber": f"{self._sequence:021d}",
                "SizeBytes": len(json.dumps(item)),
                "StreamViewType": "NEW_IMAGE",
            },
            "eventSourceARN": self.stream_arn(),
        }

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        """Up to ``max_messages`` messages from the send queue, with their attributes."""
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=360,
        )
        return list(resp.get("Messages", []))

    def queue_arn(self) -> str:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        return str(attrs["Attributes"]["QueueArn"])

    def counts(self, url: str | None = None) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def dlq_url(self) -> str:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        arn = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
        return str(self.sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"])


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event as Lambda's poller delivers it."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    k: v
                    for k, v in m.get("Attributes", {}).items()
                    if k
                    in (
                        "ApproximateReceiveCount",
                        "SentTimestamp",
                        "SenderId",
                        "ApproximateFirstReceiveTimestamp",
                    )
                },
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB stream event with ``records``."""
    return {"Records": list(records)}


def poll_once(
    stack: CampaignStack,
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    context: Any = None,
    *,
    queue_arn: str | None = None,
) -> tuple[int, int]:
    """One poll as Lambda's SQS poller: receive up to 10, invoke, delete the successes.

    Failed messages are made visible again at once (standing in for the visibility timeout).
    Returns (messages delivered, messages reported as failed).
    """
    messages = stack.receive()
    if not messages:
        return 0, 0
    return len(messages), deliver(stack, handler, messages, context, queue_arn=queue_arn)


def deliver(
    stack: CampaignStack,
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    messages: list[dict[str, Any]],
    context: Any = None,
    *,
    queue_arn: str | None = None,
) -> int:
    """Invoke ``handler`` with received ``messages``; delete successes, release failures.

    Returns how many messages the handler reported as failed.
    """
    result = handler(sqs_event(messages, queue_arn or stack.queue_arn()), context)
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    done = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
        for i, m in enumerate(messages)
        if m["MessageId"] not in failed
    ]
    retry = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, m in enumerate(messages)
        if m["MessageId"] in failed
    ]
    if done:
        stack.sqs.delete_message_batch(QueueUrl=stack.queue_url, Entries=done)
    if retry:
        stack.sqs.change_message_visibility_batch(QueueUrl=stack.queue_url, Entries=retry)
    return len(failed)


def drain(
    stack: CampaignStack,
    handler: Callable[[dict[str, Any], Any], dict[str, Any]],
    context: Any = None,
    max_polls: int = 10_000,
) -> int:
    """Poll until the queue is empty; return the number of polls that delivered messages."""
    arn = stack.queue_arn()
    for polls in range(max_polls):
        delivered, _failed = poll_once(stack, handler, context, queue_arn=arn)
        if not delivered:
            return polls
    raise AssertionError("queue never drained")


def disable_emulated_mappings(info: StackInfo) -> None:
    """Stop moto from running the event source mappings itself; the tests deliver events.

    moto emulates an SQS mapping by receiving each message as it is sent and invoking the
    function in Docker: without Docker, every send bumps the receive count of the messages
    already queued and redrives them to the DLQ. It also tries Docker on every write to a
    table whose stream has a mapping. The mappings stay listed, as deployed; the tests (and
    the sandbox) deliver stream records and queue messages themselves.
    """
    from moto.dynamodb.models import dynamodb_backends

    lam = boto3.client("lambda", region_name=REGION)
    for esm in lam.list_event_source_mappings()["EventSourceMappings"]:
        if ":sqs:" in esm["EventSourceArn"]:
            lam.update_event_source_mapping(UUID=esm["UUID"], Enabled=False)
    table = dynamodb_backends[ACCOUNT][REGION].get_table(info.outputs["CampaignsTableName"])
    table.lambda_event_source_mappings.clear()


@contextmanager
def campaign_stack(parameters: dict[str, str] | None = None) -> Iterator[CampaignStack]:
    """The real template in an in-process moto, ready for the campaign path, tables empty."""
    with shared_stack(
        {"SendRatePerSecond": "500", **(parameters or {})}, prepare=disable_emulated_mappings
    ) as info:
        yield CampaignStack(
            outputs=info.outputs,
            dynamodb=boto3.client("dynamodb", region_name=REGION),
            sqs=boto3.client("sqs", region_name=REGION),
            campaign_env=function_environment(info.outputs["CampaignFunctionName"]),
            sender_env=function_environment(info.outputs["SenderFunctionName"]),
        )


def apps(stack: CampaignStack, sms: Any, **sender_kw: Any) -> tuple[CampaignApp, SenderApp]:
    """The two apps built from the deployed functions' environments."""
    return CampaignApp(stack.campaign_settings()), SenderApp(
        stack.sender_settings(), sms=sms, **sender_kw
    )
