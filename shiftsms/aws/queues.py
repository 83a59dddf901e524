"""Queue depths for ``shiftsms status``: every queue the stack outputs, dead-letter ones marked.

The template names each queue's output for its role: ``...QueueUrl`` for a work queue,
``...DlqUrl`` for a dead-letter queue (where a message lands after its retries), so the
queues are found from the stack's outputs alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

WORK_SUFFIX = "QueueUrl"
DEAD_LETTER_SUFFIX = "DlqUrl"
_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@dataclass(frozen=True)
class QueueDepth:
    """One queue's approximate depth (None when SQS would not say: ``error`` says why)."""

    name: str
    url: str
    visible: int | None
    in_flight: int | None
    dead_letter: bool
    error: str | None = None

    @property
    def held(self) -> int:
        """Messages in the queue, visible or in flight (0 when unknown)."""
        return (self.visible or 0) + (self.in_flight or 0)

    @property
    def alarming(self) -> bool:
        """True for a dead-letter queue that holds messages: something failed for good."""
        return self.dead_letter and self.held > 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return {
            "name": self.name,
            "url": self.url,
            "visible": self.visible,
            "in_flight": self.in_flight,
            "dead_letter": self.dead_letter,
        }


def queue_outputs(outputs: Mapping[str, str]) -> list[tuple[str, str, bool]]:
    """(name, url, dead_letter) of each queue output: work queues first, then by name."""
    found = []
    for key, url in outputs.items():
        if not url:
            continue
        if key.endswith(DEAD_LETTER_SUFFIX):
            found.append((key.removesuffix("Url"), url, True))
        elif key.endswith(WORK_SUFFIX):
            found.append((key.removesuffix("Url"), url, False))
    return sorted(found, key=lambda q: (q[2], q[0]))


def queue_depths(sqs: SQSClient, outputs: Mapping[str, str]) -> list[QueueDepth]:
    """The depth of every queue among ``outputs`` (one GetQueueAttributes each)."""
    depths = []
    for name, url, dead_letter in queue_outputs(outputs):
        try:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=_ATTRIBUTES)  # type: ignore[arg-type]
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            depths.append(QueueDepth(name, url, None, None, dead_letter, error=code))
            continue
        values = attrs.get("Attributes", {})
        depths.append(
            QueueDepth(
                name,
                url,
                int(values.get("ApproximateNumberOfMessages", 0)),
                int(values.get("ApproximateNumberOfMessagesNotVisible", 0)),
                dead_letter,
            )
        )
    return depths
