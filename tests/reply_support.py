"""The sender function fed the reply queue, as its event source mapping does."""

from __future__ import annotations

from typing import Any

import boto3

from shiftsms.handlers.sender import SenderApp
from shiftsms.settings import SenderSettings
from tests.campaign_support import sqs_event
from tests.conftest import REGION, function_environment


def send_queued_replies(outputs: dict[str, str], sms: Any, now: float | None = None) -> int:
    """Receive the reply queue once, run the sender on it, delete what it sent; return that."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = outputs["ReplyQueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    if not messages:
        return 0
    env = function_environment(outputs["SenderFunctionName"])
    kw: dict[str, Any] = {} if now is None else {"now": lambda: now}
    app = SenderApp(SenderSettings.from_env(env), sms=sms, **kw)
    result = app.handle(sqs_event(messages, arn), None)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] in failed:
            # Visible again at once, standing in for the visibility timeout.
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return len(messages) - len(failed)
