"""The Lambda events AWS delivers to shiftsms's functions, built from their parts. Pure.

One place for the shapes: the sandbox builds its events here, and the tests check that the
real event JSON in ``tests/events/`` has exactly these shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SNS_SIGNATURE = "EXAMPLE"


def event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda event holding ``records``."""
    return {"Records": list(records)}


def sns_record(
    message: str,
    *,
    topic_arn: str,
    subscription_arn: str,
    message_id: str,
    timestamp: str,
    attributes: Mapping[str, Mapping[str, Any]] | None = None,
    subject: str | None = None,
    signing_cert_url: str = "",
    unsubscribe_url: str = "",
    signature: str = SNS_SIGNATURE,
) -> dict[str, Any]:
    """One notification as SNS hands it to a subscribed function (``attributes``: Type, Value)."""
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": timestamp,
            "Signature": signature,
            "SigningCertUrl": signing_cert_url,
            "MessageId": message_id,
            "Message": message,
            "MessageAttributes": {
                k: {"Type": v.get("Type", "String"), "Value": v.get("Value")}
                for k, v in (attributes or {}).items()
            },
            "Type": "Notification",
            "UnsubscribeUrl": unsubscribe_url,
            "TopicArn": topic_arn,
            "Subject": subject,
        },
    }


def stream_record(raw: Mapping[str, Any], *, source_arn: str, region: str) -> dict[str, Any]:
    """A DynamoDB Streams ``GetRecords`` record (JSON-safe) as Lambda delivers it."""
    return {
        "eventID": raw.get("eventID", ""),
        "eventName": raw.get("eventName", ""),
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dict(raw.get("dynamodb", {})),
        "eventSourceARN": source_arn,
    }


def sqs_record(
    *,
    message_id: str,
    receipt_handle: str,
    body: str,
    md5_of_body: str,
    source_arn: str,
    region: str,
    attributes: Mapping[str, str] | None = None,
    message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An SQS message as Lambda's poller delivers it (attributes as ReceiveMessage gives)."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": dict(attributes or {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message_attributes or {}).items()
        },
        "md5OfBody": md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": region,
    }


def scheduled_event(
    *, event_id: str, time: str, rule_arn: str, account: str, region: str
) -> dict[str, Any]:
    """What an EventBridge schedule rule (``rate(...)``/``cron(...)``) hands its function."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time,
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
