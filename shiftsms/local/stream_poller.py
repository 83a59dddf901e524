"""DynamoDB stream records -> the mapped function.

Reads with ``dynamodbstreams`` GetShardIterator / GetRecords; the mapping's ``FilterCriteria``,
``BatchSize``, ``batchItemFailures``, ``MaximumRetryAttempts`` and on-failure destination are
honoured.

Checkpointing: the poller's backlog (records fetched but not yet processed, and records in the
shard after the last one fetched) is what the sandbox saves; ``on_checkpoint`` is called each
time a batch is done with (delivered or given up on), so the saved backlog moves on with it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from shiftsms.core import lambda_events
from shiftsms.local.aws import client
from shiftsms.local.event_filter import passes_filters
from shiftsms.local.poller import Invoker, Poller, _jsonable

log = logging.getLogger("shiftsms.local.pump")

DEFAULT_STREAM_RETRIES = 5


class StreamPoller(Poller):
    """A DynamoDB stream -> its mapped function."""

    def __init__(
        self,
        mapping: dict[str, Any],
        runner: Invoker,
        endpoint: str,
        region: str,
        stop: threading.Event,
        *,
        from_latest: bool,
        on_checkpoint: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(f"stream-{runner.name}", stop)
        self.mapping = mapping
        self.runner = runner
        self.region = region
        self.streams = client("dynamodbstreams", endpoint, region)
        self.sqs = client("sqs", endpoint, region)
        self.from_latest = from_latest
        self.iterator: str | None = None
        self.pending: list[dict[str, Any]] = []
        self.attempts = 0
        self.last_seq: int | None = None  # the newest record fetched from the shard
        self.on_checkpoint = on_checkpoint or (lambda: None)
        self._lock = threading.Lock()

    @property
    def table_name(self) -> str:
        """The table whose stream this is (``...:table/NAME/stream/LABEL``)."""
        return str(self.mapping["EventSourceArn"]).split(":table/", 1)[-1].split("/", 1)[0]

    @property
    def key(self) -> str:
        """Names this poller across restarts (table and function names are stable)."""
        return f"{self.table_name}>{self.runner.name}"

    def backlog(self, shard: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records this poller has still to process: its pending ones, then those of
        ``shard`` (raw GetRecords records of its stream) after the last one it fetched."""
        arn = self.mapping["EventSourceArn"]
        with self._lock:
            pending, last = list(self.pending), self.last_seq
        newer = [
            self._record(r, arn)
            for r in shard
            if last is None or int(r["dynamodb"]["SequenceNumber"]) > last
        ]
        return pending + [r for r in newer if passes_filters(self.mapping, r)]

    def _done_with(self, count: int) -> None:
        """``count`` pending records are processed (or given up on): checkpoint."""
        with self._lock:
            self.pending = self.pending[count:]
        self.on_checkpoint()

    def poll(self) -> bool:
        """Fetch records if none are pending, then deliver one batch."""
        arn = self.mapping["EventSourceArn"]
        if self.iterator is None:
            shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            if not shards:
                return False
            position = (
                "LATEST" if self.from_latest else self.mapping.get("StartingPosition", "LATEST")
            )
            self.iterator = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shards[0]["ShardId"], ShardIteratorType=position
            )["ShardIterator"]
        if not self.pending:
            page = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
            self.iterator = page.get("NextShardIterator") or self.iterator
            records = [self._record(r, arn) for r in page.get("Records", [])]
            with self._lock:
                self.pending = [r for r in records if passes_filters(self.mapping, r)]
                if records:
                    self.last_seq = int(records[-1]["dynamodb"]["SequenceNumber"])
            if not self.pending:
                return bool(records)
        batch = self.pending[: int(self.mapping.get("BatchSize") or 100)]
        outcome = self.runner.invoke({"Records": batch})
        failed_from = len(batch)
        if outcome.ok:
            failed_from = self._first_failure(batch, outcome.result)
            if failed_from == len(batch):
                self.attempts = 0
                self._done_with(len(batch))
                return True
            self._done_with(failed_from)  # checkpoint: retry from the failure
        self.attempts += 1
        limit = int(self.mapping.get("MaximumRetryAttempts", -1))
        limit = DEFAULT_STREAM_RETRIES if limit < 0 else limit
        if self.attempts > limit:
            failed = self.pending[: len(batch) - (0 if not outcome.ok else failed_from)]
            self._discard(failed or batch, outcome.error or "batch item failures")
            self.attempts = 0
            self._done_with(len(failed or batch))
            return True
        log.warning("%s: batch failed (attempt %d): %s", self.name, self.attempts, outcome.error)
        self.stop_event.wait(min(5.0, 0.2 * 2**self.attempts))
        return True

    def _first_failure(self, batch: list[dict[str, Any]], result: Any) -> int:
        if "ReportBatchItemFailures" not in (self.mapping.get("FunctionResponseTypes") or []):
            return len(batch)
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return len(batch)
        ids = {str(f.get("itemIdentifier", "")) for f in failures}
        for i, record in enumerate(batch):
            if record["dynamodb"].get("SequenceNumber") in ids:
                return i
        return 0  # an identifier that names no record: the whole batch failed

    def _discard(self, records: list[dict[str, Any]], reason: str) -> None:
        destination = ((self.mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        ) or ""
        log.error("%s: giving up on %d record(s): %s", self.name, len(records), reason)
        if not destination.startswith("arn:aws:sqs:"):
            return
        name = destination.rsplit(":", 1)[1]
        url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        seqs = [r["dynamodb"].get("SequenceNumber") for r in records]
        self.sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(
                {
                    "requestContext": {"condition": "RetryAttemptsExhausted"},
                    "responseContext": {"functionError": reason},
                    "DDBStreamBatchInfo": {
                        "streamArn": self.mapping["EventSourceArn"],
                        "startSequenceNumber": seqs[0],
                        "endSequenceNumber": seqs[-1],
                        "batchSize": len(records),
                    },
                }
            ),
        )

    def _record(self, raw: dict[str, Any], arn: str) -> dict[str, Any]:
        return lambda_events.stream_record(_jsonable(raw), source_arn=arn, region=self.region)
