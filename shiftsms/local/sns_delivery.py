"""SNS notifications -> functions subscribed with protocol ``lambda``.

The sandbox subscribes a tap queue to each such topic (through the API, after deploy; never
in the template) and delivers each notification as an SNS Lambda event, retried as SNS
retries an asynchronous invoke, then sent to the on-failure destination if there is one.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shiftsms.core import lambda_events
from shiftsms.local.aws import client
from shiftsms.local.poller import LONG_POLL_SECONDS, Invoker, Poller

log = logging.getLogger("shiftsms.local.pump")


@dataclass
class AsyncConfig:
    """How Lambda handles a failed asynchronous (SNS) invocation of one function."""

    retries: int = 2
    on_failure_url: str = ""
    function_arn: str = ""


class SnsTapPoller(Poller):
    """A topic's lambda subscription, delivered from the sandbox's tap queue."""

    def __init__(
        self,
        subscription_arn: str,
        queue_url: str,
        runner: Invoker,
        endpoint: str,
        *,
        region: str,
        stop: threading.Event,
        config: AsyncConfig | None = None,
    ) -> None:
        super().__init__(f"sns-{runner.name}", stop)
        self.max_idle_wait = 0.0  # ReceiveMessage long-polls
        self.subscription_arn = subscription_arn
        self.url = queue_url
        self.runner = runner
        self.sqs = client("sqs", endpoint, region)
        self.config = config or AsyncConfig()

    def poll(self) -> bool:
        """Deliver one notification as an SNS event; retry a failure, then give it up."""
        messages = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=LONG_POLL_SECONDS,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        for message in messages:
            note = json.loads(message["Body"])
            event = {"Records": [self._record(note)]}
            outcome = self.runner.invoke(event)
            tries = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if outcome.ok or tries > self.config.retries:
                if not outcome.ok:
                    self._give_up(event, tries, outcome.error)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            else:
                self.sqs.change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=1
                )
        return bool(messages)

    def _give_up(self, event: dict[str, Any], tries: int, error: str) -> None:
        """Log, and send the failure record to the on-failure destination if there is one."""
        log.error("%s: gave up after %d attempts: %s", self.name, tries, error)
        if not self.config.on_failure_url:
            return
        error_type, _, message = error.partition(": ")
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.config.function_arn,
                "condition": "RetriesExhausted",
                "approximateInvokeCount": tries,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorType": error_type, "errorMessage": message},
        }
        self.sqs.send_message(QueueUrl=self.config.on_failure_url, MessageBody=json.dumps(record))

    def _record(self, note: dict[str, Any]) -> dict[str, Any]:
        return lambda_events.sns_record(
            note.get("Message", ""),
            topic_arn=note.get("TopicArn", ""),
            subscription_arn=self.subscription_arn,
            message_id=note.get("MessageId", ""),
            timestamp=note.get("Timestamp", ""),
            attributes=note.get("MessageAttributes"),
            subject=note.get("Subject"),
            signing_cert_url=note.get("SigningCertURL", ""),
            unsubscribe_url=note.get("UnsubscribeURL", ""),
            signature=note.get("Signature", lambda_events.SNS_SIGNATURE),
        )
