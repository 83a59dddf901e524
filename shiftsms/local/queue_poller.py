"""SQS messages -> the mapped function.

ReceiveMessage; only succeeded messages are deleted, so failures come back after the
visibility timeout and the redrive policy moves poison to the DLQ.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from shiftsms.core import lambda_events
from shiftsms.local.aws import client
from shiftsms.local.poller import LONG_POLL_SECONDS, Invoker, Poller, _jsonable

log = logging.getLogger("shiftsms.local.pump")


class QueuePoller(Poller):
    """An SQS queue -> its mapped function."""

    def __init__(
        self,
        mapping: dict[str, Any],
        runner: Invoker,
        endpoint: str,
        region: str,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"sqs-{runner.name}", stop)
        self.max_idle_wait = 0.0  # ReceiveMessage long-polls
        self.mapping = mapping
        self.runner = runner
        self.region = region
        self.sqs = client("sqs", endpoint, region)
        self.url = self.sqs.get_queue_url(QueueName=mapping["EventSourceArn"].rsplit(":", 1)[1])[
            "QueueUrl"
        ]

    def _receive(self, limit: int, wait: int) -> list[dict[str, Any]]:
        return list(
            self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(10, limit)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def poll(self) -> bool:
        """Receive up to BatchSize messages, deliver them, delete the ones that succeeded."""
        size = int(self.mapping.get("BatchSize") or 10)
        messages = self._receive(size, LONG_POLL_SECONDS)
        while messages and len(messages) < size and len(messages) % 10 == 0:
            more = self._receive(size - len(messages), 0)
            if not more:
                break
            messages += more
        if not messages:
            return False
        records = [self._record(m) for m in messages]
        outcome = self.runner.invoke({"Records": records})
        if not outcome.ok:
            log.warning("%s: batch failed, retried after the visibility timeout", self.name)
            return True
        failed: set[str] = set()
        if "ReportBatchItemFailures" in (self.mapping.get("FunctionResponseTypes") or []):
            result = outcome.result if isinstance(outcome.result, dict) else {}
            failed = {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(done[i : i + 10])
                ],
            )
        return True

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return lambda_events.sqs_record(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message["Body"],
            md5_of_body=message.get("MD5OfBody", ""),
            source_arn=self.mapping["EventSourceArn"],
            region=self.region,
            attributes=message.get("Attributes", {}),
            message_attributes={
                name: {**value, "BinaryValue": _jsonable(value.get("BinaryValue"))}
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
        )
