"""The event pump: delivers events to the deployed functions the way AWS's pollers do.

- DynamoDB stream records -> the mapped function (``dynamodbstreams`` GetShardIterator /
  GetRecords; the mapping's ``FilterCriteria``, ``BatchSize``, ``batchItemFailures``,
  ``MaximumRetryAttempts`` and on-failure destination are honoured).
- SQS messages -> the mapped function (ReceiveMessage; only succeeded messages are deleted, so
  failures come back after the visibility timeout and the redrive policy moves poison to the
  DLQ).
- SNS notifications -> functions subscribed with protocol ``lambda``: the sandbox subscribes a
  tap queue to each such topic (through the API, after deploy; never in the template) and
  delivers each notification as an SNS Lambda event, retried twice as SNS retries an
  asynchronous invoke.

Each function runs in its own worker process (a warm "container"): its code is the bundle the
deployed function points at, downloaded from the emulator's S3 and checked against the
function's ``CodeSha256``; its environment is the one it was deployed with (Lambda
``GetFunctionConfiguration``) plus the sandbox endpoint and credentials, nothing else from this
process. A changed configuration or bundle starts a fresh worker.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import yaml  # type: ignore[import-untyped]

from shiftsms.local.aws import client, environment

log = logging.getLogger("shiftsms.local.pump")

RUNTIME = Path(__file__).with_name("_runtime.py")
STARTUP_TIMEOUT = 30.0
POOL_SIZE = 3  # concurrent instances per function, and pollers per queue
_BUNDLE_LOCK = threading.Lock()
LONG_POLL_SECONDS = 1
DEFAULT_STREAM_RETRIES = 5
_MISSING = object()


class PumpError(Exception):
    """A function could not be prepared or run."""


@dataclass
class Invocation:
    """What one invoke returned: the handler's result, or its error."""

    ok: bool
    result: Any = None
    error: str = ""


@dataclass
class Stats:
    """Invocations and errors per function (for status and the demo)."""

    invocations: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, function: str, ok: bool) -> None:
        """Record one invocation."""
        with self.lock:
            self.invocations[function] = self.invocations.get(function, 0) + 1
            if not ok:
                self.errors[function] = self.errors.get(function, 0) + 1


@dataclass
class AsyncConfig:
    """How Lambda handles a failed asynchronous (SNS) invocation of one function."""

    retries: int = 2
    on_failure_url: str = ""
    function_arn: str = ""


# -- event filtering (the subset of EventBridge patterns Lambda filters use) ----------------


def _match_rule(rule: Any, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if isinstance(rule, dict):
        if "exists" in rule:
            return (value is not _MISSING) == bool(rule["exists"])
        if value is _MISSING:
            return False
        if "prefix" in rule:
            return any(isinstance(v, str) and v.startswith(rule["prefix"]) for v in values)
        if "anything-but" in rule:
            banned = rule["anything-but"]
            banned = banned if isinstance(banned, list) else [banned]
            return all(v not in banned for v in values)
        return False
    return value is not _MISSING and rule in values


def matches(pattern: dict[str, Any], data: Any) -> bool:
    """True if ``data`` matches the filter ``pattern``."""
    for key, rule in pattern.items():
        value = data.get(key, _MISSING) if isinstance(data, dict) else _MISSING
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not any(_match_rule(r, value) for r in rule):
                return False
        elif value != rule:
            return False
    return True


def passes_filters(mapping: dict[str, Any], record: dict[str, Any]) -> bool:
    """True if ``record`` passes the mapping's FilterCriteria (any filter matches)."""
    filters = (mapping.get("FilterCriteria") or {}).get("Filters") or []
    if not filters:
        return True
    data = record
    if "body" in record:  # SQS: the body is matched as JSON when it is JSON
        with contextlib.suppress(ValueError):
            data = {**record, "body": json.loads(record["body"])}
    return any(matches(json.loads(f["Pattern"]), data) for f in filters if f.get("Pattern"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# -- functions ----------------------------------------------------------------------------

# What the Lambda Python runtime provides besides the standard library; everything else a
# function imports must come from its bundle.
RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "urllib3",
    "six",
)


def runtime_dir(work_dir: Path) -> Path:
    """A folder exposing only the runtime's own packages (links into this environment)."""
    folder = work_dir / "runtime"
    with _BUNDLE_LOCK:
        if (folder / ".complete").exists():
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name in RUNTIME_DISTRIBUTIONS:
            dist = importlib.metadata.distribution(name)
            tops = {
                str(f).split("/")[0]
                for f in dist.files or []
                if not str(f).startswith("..") and not str(f).startswith("__pycache__")
            }
            for top in sorted(tops):
                source = Path(str(dist.locate_file(top)))
                if source.exists():
                    (folder / top).symlink_to(source, target_is_directory=source.is_dir())
        (folder / ".complete").write_text("ok", encoding="utf-8")
    return folder


class FunctionRunner:
    """One warm instance of a deployed function: a worker process, one invocation at a time."""

    def __init__(
        self,
        name: str,
        endpoint: str,
        region: str,
        *,
        code_bucket: str,
        work_dir: Path,
        stats: Stats,
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self.region = region
        self.code_bucket = code_bucket
        self.work_dir = work_dir.resolve()
        self.stats = stats
        self.lam = client("lambda", endpoint, region)
        self.s3 = client("s3", endpoint, region)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.config_key: tuple[str, str, str] | None = None
        self.modules: dict[str, str] = {}

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run the handler on ``event`` (starting or refreshing the worker as needed)."""
        with self.lock:
            try:
                config = self.lam.get_function_configuration(FunctionName=self.name)
                self._ensure_worker(config)
                outcome = self._call(event, config)
            except PumpError as exc:
                log.error("%s: %s", self.name, exc)
                outcome = Invocation(ok=False, error=str(exc))
            except Exception as exc:
                log.exception("%s: cannot invoke", self.name)
                outcome = Invocation(ok=False, error=f"{type(exc).__name__}: {exc}")
        self.stats.count(self.name, outcome.ok)
        return outcome

    def _ensure_worker(self, config: dict[str, Any]) -> None:
        env_vars = {
            str(k): str(v)
            for k, v in ((config.get("Environment") or {}).get("Variables") or {}).items()
        }
        key = (config["CodeSha256"], config["Handler"], json.dumps(env_vars, sort_keys=True))
        if self.proc is not None and self.proc.poll() is None and key == self.config_key:
            return
        self.close()
        task_root = self._bundle(config)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            **env_vars,
            **environment(self.endpoint, self.region),
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.get('Runtime', 'python')}",
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": config["Handler"],
        }
        log_dir = self.work_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / f"{self.name}.log").open("a", encoding="utf-8") as log_file:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [
                    sys.executable,
                    "-I",  # no PYTHON* variables, no user site
                    "-S",  # no site-packages: the bundle and the runtime's packages only
                    str(RUNTIME),
                    str(task_root),
                    config["Handler"],
                    str(runtime_dir(self.work_dir)),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=env,
                cwd=task_root,
                text=True,
                encoding="utf-8",
            )
        self.replies = queue.Queue()
        threading.Thread(
            target=self._read_replies, args=(self.proc, self.replies), daemon=True
        ).start()
        ready = self._reply(STARTUP_TIMEOUT)
        if not ready.get("ready"):
            self.close()
            raise PumpError(
                f"cannot import handler {config['Handler']}: "
                f"{ready.get('errorType', 'no answer')}: {ready.get('errorMessage', '')}"
            )
        self.modules = dict(ready.get("modules", {}))
        for module, path in self.modules.items():
            if path and not Path(path).resolve().is_relative_to(task_root.resolve()):
                self.close()
                raise PumpError(f"{module} was imported from {path}, not from the bundle")
        self.config_key = key
        log.info("%s: worker ready (%s)", self.name, config["Handler"])

    @staticmethod
    def _read_replies(
        proc: subprocess.Popen[str], replies: queue.Queue[dict[str, Any] | None]
    ) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                replies.put(json.loads(line))
            except ValueError:
                log.warning("worker wrote a line that is not JSON: %.200s", line)
        replies.put(None)

    def _reply(self, timeout: float) -> dict[str, Any]:
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            return {"ok": False, "timeout": True}
        return reply if reply is not None else {"ok": False, "errorType": "WorkerExited"}

    def _call(self, event: dict[str, Any], config: dict[str, Any]) -> Invocation:
        assert self.proc is not None and self.proc.stdin is not None
        timeout = float(config.get("Timeout", 3))
        request_id = str(uuid.uuid4())
        request = {
            "id": request_id,
            "event": event,
            "request_id": request_id,
            "function_arn": config.get("FunctionArn", ""),
            "deadline": time.time() + timeout,
        }
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            self.close()
            raise PumpError(f"worker is gone: {exc}") from exc
        reply = self._reply(timeout + 2.0)
        if reply.get("timeout"):
            self.close()
            return Invocation(ok=False, error=f"Task timed out after {timeout:.0f} seconds")
        if reply.get("ok"):
            return Invocation(ok=True, result=reply.get("result"))
        if reply.get("errorType") == "WorkerExited":
            self.close()
        return Invocation(
            ok=False, error=f"{reply.get('errorType')}: {reply.get('errorMessage', '')}"
        )

    def _bundle(self, config: dict[str, Any]) -> Path:
        """The extracted bundle of the deployed code (downloaded once per CodeSha256)."""
        with _BUNDLE_LOCK:
            return self._fetch_bundle(config)

    def _fetch_bundle(self, config: dict[str, Any]) -> Path:
        sha = str(config["CodeSha256"])
        folder = self.work_dir / "functions" / hashlib.sha256(sha.encode()).hexdigest()[:16]
        if (folder / ".complete").exists():
            return folder
        location = self.lam.get_function(FunctionName=self.name)["Code"].get("Location", "")
        key = urlparse(location).path.lstrip("/")
        try:
            data = self.s3.get_object(Bucket=self.code_bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise PumpError(f"cannot fetch s3://{self.code_bucket}/{key}: {exc}") from exc
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        if digest != sha:
            raise PumpError(f"s3://{self.code_bucket}/{key} is not the deployed code")
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            bundle.extractall(tmp)
        (tmp / ".complete").write_text(sha, encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        return folder

    def close(self) -> None:
        """Stop the worker (bounded wait)."""
        proc, self.proc = self.proc, None
        self.config_key = None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5)


class FunctionPool:
    """Up to ``size`` warm instances of one function, as Lambda runs concurrent invocations.

    The most recently used idle instance serves the next invocation, so a second worker
    process starts only when invocations overlap.
    """

    def __init__(
        self,
        name: str,
        endpoint: str,
        region: str,
        *,
        code_bucket: str,
        work_dir: Path,
        stats: Stats,
        size: int = POOL_SIZE,
    ) -> None:
        self.name = name
        self.code_bucket = code_bucket
        self.instances = [
            FunctionRunner(
                name, endpoint, region, code_bucket=code_bucket, work_dir=work_dir, stats=stats
            )
            for _ in range(size)
        ]
        self._idle: queue.LifoQueue[FunctionRunner] = queue.LifoQueue()
        for instance in reversed(self.instances):
            self._idle.put(instance)

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run ``event`` on an idle instance (waiting for one if all are busy)."""
        instance = self._idle.get()
        try:
            instance.code_bucket = self.code_bucket
            return instance.invoke(event)
        finally:
            self._idle.put(instance)

    def close(self) -> None:
        """Stop every instance's worker."""
        for instance in self.instances:
            instance.close()


# -- pollers ------------------------------------------------------------------------------


class Invoker(Protocol):
    """What a poller delivers to: a function by name."""

    name: str

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run the function on ``event``."""
        ...


class Poller(threading.Thread):
    """A daemon thread that polls one event source until stopped."""

    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stop_event = stop
        self.removed = False
        self.idle_wait = 0.05
        self.max_idle_wait = 0.5

    def run(self) -> None:
        """Poll until stopped; an error in a round is logged and the round retried."""
        while not self.stop_event.is_set() and not self.removed:
            try:
                busy = self.poll()
            except Exception:
                if self.stop_event.is_set():
                    return
                log.exception("%s: poll failed", self.name)
                self.stop_event.wait(0.5)
                continue
            if busy:
                self.idle_wait = 0.05
            else:
                self.stop_event.wait(self.idle_wait)
                self.idle_wait = min(self.max_idle_wait, self.idle_wait * 2)

    def poll(self) -> bool:
        """One round; True if there was work."""
        raise NotImplementedError


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
            self.pending = [r for r in records if passes_filters(self.mapping, r)]
            if not self.pending:
                return bool(records)
        batch = self.pending[: int(self.mapping.get("BatchSize") or 100)]
        outcome = self.runner.invoke({"Records": batch})
        failed_from = len(batch)
        if outcome.ok:
            failed_from = self._first_failure(batch, outcome.result)
            if failed_from == len(batch):
                self.pending = self.pending[len(batch) :]
                self.attempts = 0
                return True
            self.pending = self.pending[failed_from:]  # checkpoint: retry from the failure
        self.attempts += 1
        limit = int(self.mapping.get("MaximumRetryAttempts", -1))
        limit = DEFAULT_STREAM_RETRIES if limit < 0 else limit
        if self.attempts > limit:
            failed = self.pending[: len(batch) - (0 if not outcome.ok else failed_from)]
            self._discard(failed or batch, outcome.error or "batch item failures")
            self.pending = self.pending[len(failed or batch) :]
            self.attempts = 0
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
        record: dict[str, Any] = _jsonable(raw)
        record["awsRegion"] = self.region
        record["eventSourceARN"] = arn
        record.setdefault("eventVersion", "1.1")
        record.setdefault("eventSource", "aws:dynamodb")
        return record


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
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": _jsonable(value.get("BinaryValue")),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping["EventSourceArn"],
            "awsRegion": self.region,
        }


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
        attributes = {
            k: {"Type": v.get("Type", "String"), "Value": v.get("Value")}
            for k, v in (note.get("MessageAttributes") or {}).items()
        }
        return {
            "EventVersion": "1.0",
            "EventSubscriptionArn": self.subscription_arn,
            "EventSource": "aws:sns",
            "Sns": {
                "SignatureVersion": note.get("SignatureVersion", "1"),
                "Timestamp": note.get("Timestamp", ""),
                "Signature": note.get("Signature", "EXAMPLE"),
                "SigningCertUrl": note.get("SigningCertURL", ""),
                "MessageId": note.get("MessageId", ""),
                "Message": note.get("Message", ""),
                "MessageAttributes": attributes,
                "Type": note.get("Type", "Notification"),
                "UnsubscribeUrl": note.get("UnsubscribeURL", ""),
                "TopicArn": note.get("TopicArn", ""),
                "Subject": note.get("Subject"),
            },
        }


# -- the template (for what moto does not model) ----------------------------------------


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML with CloudFormation's short forms (``!Ref X``, ``!GetAtt X.Arn``) as long forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_form)


def load_template(body: str) -> dict[str, Any]:
    """A CloudFormation template (YAML or JSON) as data."""
    data = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    return data if isinstance(data, dict) else {}


def _ref(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names ('' for anything else)."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and target:
            return str(target[0])
    return ""


# -- the pump -----------------------------------------------------------------------------


class EventPump:
    """Finds the stack's functions, mappings and subscriptions, and runs a poller for each."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        stack_name: str,
        work_dir: Path,
        *,
        refresh_seconds: float = 3.0,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.stack_name = stack_name
        self.work_dir = work_dir
        self.refresh_seconds = refresh_seconds
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.runners: dict[str, FunctionPool] = {}
        self.pollers: dict[str, list[Poller]] = {}
        self.cf = client("cloudformation", endpoint, region)
        self.lam = client("lambda", endpoint, region)
        self.sns = client("sns", endpoint, region)
        self.sqs = client("sqs", endpoint, region)
        self._supervisor: threading.Thread | None = None
        self._started = False
        self.on_refresh: Callable[[], None] | None = None

    def start(self) -> None:
        """Discover sources and start polling (streams start at their newest record)."""
        self.refresh(first=True)
        self._started = True
        self._supervisor = threading.Thread(target=self._supervise, name="pump", daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self.stop_event.wait(self.refresh_seconds):
            try:
                self.refresh(first=False)
                if self.on_refresh is not None:
                    self.on_refresh()
            except Exception:
                if not self.stop_event.is_set():
                    log.exception("pump refresh failed")

    def _stack(self) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
        params = {
            p["ParameterKey"]: p.get("ParameterValue", "")
            for p in self.cf.describe_stacks(StackName=self.stack_name)["Stacks"][0].get(
                "Parameters", []
            )
        }
        resources: list[tuple[str, str, str]] = []
        for page in self.cf.get_paginator("list_stack_resources").paginate(
            StackName=self.stack_name
        ):
            resources += [
                (r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""))
                for r in page["StackResourceSummaries"]
            ]
        return params, resources

    def runner(self, function: str, code_bucket: str) -> FunctionPool:
        """The instances of ``function``."""
        if function not in self.runners:
            self.runners[function] = FunctionPool(
                function,
                self.endpoint,
                self.region,
                code_bucket=code_bucket,
                work_dir=self.work_dir,
                stats=self.stats,
            )
        self.runners[function].code_bucket = code_bucket
        return self.runners[function]

    def refresh(self, *, first: bool) -> None:
        """Start pollers for new mappings and subscriptions; stop those that went away."""
        params, resources = self._stack()
        bucket = params.get("CodeBucket", "")
        functions = {pid for _, kind, pid in resources if kind == "AWS::Lambda::Function" and pid}
        topics = [pid for _, kind, pid in resources if kind == "AWS::SNS::Topic" and pid]
        wanted = self._mappings(functions, bucket, first=first)
        new_taps = [
            key
            for key in self._subscriptions(topics, functions, bucket, dry_run=True)
            if key not in self.pollers
        ]
        configs = self._async_configs(resources) if new_taps else {}
        wanted |= self._subscriptions(topics, functions, bucket, configs=configs)
        for key in [k for k in self.pollers if k not in wanted]:
            log.info("event source %s went away", key)
            for poller in self.pollers.pop(key):
                poller.removed = True

    def _mappings(self, functions: set[str], bucket: str, *, first: bool) -> set[str]:
        """Pollers for the stack's enabled event source mappings; their UUIDs."""
        wanted: set[str] = set()
        for page in self.lam.get_paginator("list_event_source_mappings").paginate():
            for mapping in page["EventSourceMappings"]:
                function = mapping["FunctionArn"].rsplit(":", 1)[1]
                if function not in functions or mapping.get("State") != "Enabled":
                    continue
                wanted.add(mapping["UUID"])
                if mapping["UUID"] in self.pollers:
                    continue
                runner = self.runner(function, bucket)
                source = mapping["EventSourceArn"]
                pollers: list[Poller]
                if ":dynamodb:" in source:  # one batch at a time per shard, as Lambda
                    pollers = [
                        StreamPoller(
                            mapping,
                            runner,
                            self.endpoint,
                            self.region,
                            self.stop_event,
                            from_latest=first,
                        )
                    ]
                elif ":sqs:" in source:  # concurrent batches up to MaximumConcurrency
                    limit = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
                    count = max(1, min(int(limit or POOL_SIZE), POOL_SIZE))
                    pollers = [
                        QueuePoller(mapping, runner, self.endpoint, self.region, self.stop_event)
                        for _ in range(count)
                    ]
                else:
                    log.warning("event source %s is not pumped by the sandbox", source)
                    continue
                self._start(mapping["UUID"], pollers)
        return wanted

    def _subscriptions(
        self,
        topics: list[str],
        functions: set[str],
        bucket: str,
        *,
        configs: dict[str, AsyncConfig] | None = None,
        dry_run: bool = False,
    ) -> set[str]:
        """Tap pollers for the lambda subscriptions of the stack's topics; their keys."""
        wanted: set[str] = set()
        for topic in topics:
            for sub in self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
                if sub["Protocol"] != "lambda":
                    continue
                function = sub["Endpoint"].split(":")[6]
                key = f"sns:{sub['SubscriptionArn']}"
                wanted.add(key)
                if dry_run or key in self.pollers or function not in functions:
                    continue
                url = self._tap(topic, sub["SubscriptionArn"])
                # SNS invokes asynchronously and concurrently: one notification per poller.
                self._start(
                    key,
                    [
                        SnsTapPoller(
                            sub["SubscriptionArn"],
                            url,
                            self.runner(function, bucket),
                            self.endpoint,
                            region=self.region,
                            stop=self.stop_event,
                            config=(configs or {}).get(function),
                        )
                        for _ in range(POOL_SIZE)
                    ],
                )
        return wanted

    def _start(self, key: str, pollers: list[Poller]) -> None:
        self.pollers[key] = pollers
        for poller in pollers:
            poller.start()

    def _async_configs(self, resources: list[tuple[str, str, str]]) -> dict[str, AsyncConfig]:
        """Each function's asynchronous-invoke settings, read from the deployed template.

        moto skips ``AWS::Lambda::EventInvokeConfig``, so its retries and on-failure
        destination are taken from the template (a destination must be a queue of the stack).
        """
        physical = {logical: pid for logical, _, pid in resources}
        body = self.cf.get_template(StackName=self.stack_name)["TemplateBody"]
        template = body if isinstance(body, dict) else load_template(body)
        configs: dict[str, AsyncConfig] = {}
        for props in (
            r.get("Properties") or {}
            for r in (template.get("Resources") or {}).values()
            if r.get("Type") == "AWS::Lambda::EventInvokeConfig"
        ):
            function = physical.get(_ref(props.get("FunctionName")), "")
            if not function:
                continue
            target = (props.get("DestinationConfig") or {}).get("OnFailure", {})
            queue_url = physical.get(_ref(target.get("Destination")), "")
            configs[function] = AsyncConfig(
                retries=int(props.get("MaximumRetryAttempts", 2)),
                on_failure_url=queue_url if queue_url.startswith("http") else "",
                function_arn=self.lam.get_function_configuration(FunctionName=function)[
                    "FunctionArn"
                ],
            )
        return configs

    def _tap(self, topic: str, subscription_arn: str) -> str:
        """A sandbox-only queue subscribed to ``topic`` standing in for a lambda subscription."""
        name = "shiftsms-sandbox-tap-" + hashlib.sha256(subscription_arn.encode()).hexdigest()[:16]
        url = str(self.sqs.create_queue(QueueName=name)["QueueUrl"])
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return url

    def stop(self) -> None:
        """Stop pollers and workers (bounded waits)."""
        self.stop_event.set()
        for pollers in list(self.pollers.values()):
            for poller in pollers:
                poller.join(timeout=10)
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        for runner in self.runners.values():
            runner.close()
