"""The send queue (SQS): send jobs go out ten to a ``SendMessageBatch``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from shiftsms.core.campaigns import SendJob
from shiftsms.errors import ShiftsmsError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

BATCH = 10
ATTEMPTS = 5


class EnqueueFailed(ShiftsmsError):
    """Some jobs could not be queued after retries (the fan-out is retried as a whole)."""


class SqsSendQueue:
    """SendQueue on SQS. Entries a batch reports as failed are sent again, then it raises."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = ATTEMPTS,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.sleep = sleep
        self.attempts = attempts

    def enqueue(self, jobs: Sequence[SendJob]) -> None:
        """Queue every job; retry entries SQS failed (with backoff) before giving up."""
        for start in range(0, len(jobs), BATCH):
            self._batch(jobs[start : start + BATCH])

    def _batch(self, jobs: Sequence[SendJob]) -> None:
        pending: dict[str, Any] = {
            str(i): {"Id": str(i), "MessageBody": job.to_json()} for i, job in enumerate(jobs)
        }
        last_error = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(min(2.0, 0.1 * 2**attempt))
            resp = self.client.send_message_batch(
                QueueUrl=self.queue_url, Entries=list(pending.values())
            )
            failed = resp.get("Failed", [])
            for ok in resp.get("Successful", []):
                pending.pop(ok["Id"], None)
            if not pending:
                return
            permanent = [f for f in failed if f.get("SenderFault")]
            last_error = "; ".join(f"{f.get('Code')}: {f.get('Message', '')}" for f in failed)
            if permanent:
                break
        raise EnqueueFailed(f"{len(pending)} send jobs not queued ({last_error})")


class SqsDeadLetters:
    """DeadLetters on an SQS queue (the send DLQ): its approximate depth."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def depth(self) -> int | None:
        """Messages waiting in the queue (``ApproximateNumberOfMessages``); None without one."""
        if not self.queue_url:
            return None  # a stack deployed before the send DLQ was an output
        attrs = self.client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0))
