"""The sandbox: emulator + real deploy + event pump + state that survives a restart.

State (see :mod:`shiftsms.local.state`) is every item of the stack's tables (by logical id),
every message of every queue (in flight included), each stream poller's unprocessed records,
the names CloudFormation generated and the phone network (outbox, call-backs, opt-outs).

Durable before acknowledged, two ways:

- write-ahead for DynamoDB writes: each successful one is appended to ``changes.log`` and
  fsynced before it is answered (a constant cost, whatever the tables hold);
- save-on-change for the rest (queue sends and deletes, SNS, texts, call-backs, a stream
  poller's checkpoint after each batch): answered only after :meth:`Sandbox.commit` has
  written the whole state to ``state.json`` and fsynced it. One write covers every change
  made before it started, so concurrent requests share it; it records the last log entry it
  covers and empties the log.

On the next start the same names are given back, the stack deployed, the items put back,
the streams emptied of the restore's own records, the log's newer writes replayed (their
stream records are delivered), the messages put back, and each stream poller handed the
records it had not processed before it reads the stream from its start.

A message that was in flight (received, not deleted) when the sandbox died had its receiver
die with it: as in SQS, it comes back when its visibility timeout ends, but at most
:data:`IN_FLIGHT_REDELIVERY_SECONDS` after the restart. The sandbox deploys with a claim
timeout (:data:`SANDBOX_CLAIM_TIMEOUT_SECONDS`) shorter than that, so a campaign job whose
sender died between claiming its recipient and sending finds the claim stale and is sent.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import urllib.request
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends

from shiftsms.aws.stack import StackInfo
from shiftsms.local.aws import DEFAULT_REGION, client
from shiftsms.local.deploy import deploy
from shiftsms.local.emulator import Emulator, Names
from shiftsms.local.poller import _jsonable
from shiftsms.local.pump import TAP_PREFIX, EventPump
from shiftsms.local.state import (
    JOURNAL_FILE,
    PID_FILE,
    STATE_FILE,
    STATE_FORMAT,
    Journal,
    SandboxInfo,
    StateError,
    lock_state_dir,
    read_state,
    write_durable,
    write_pid_file,
)

log = logging.getLogger("shiftsms.local")

DEFAULT_ORIGINATION = "+447700900000"
DEFAULT_STACK = "shiftsms"
# The sender's claim timeout in the sandbox (AWS default: 120 s). Only a redelivery looks at
# a claim, and the send queue redelivers no sooner than its visibility timeout (360 s, longer
# than an invocation lives) or, after a restart, than the delay below.
SANDBOX_CLAIM_TIMEOUT_SECONDS = 5
# The most a message in flight at a crash waits, after the restart, to be received again.
IN_FLIGHT_REDELIVERY_SECONDS = SANDBOX_CLAIM_TIMEOUT_SECONDS + 5
SANDBOX_PARAMETERS = {"SendClaimTimeoutSeconds": str(SANDBOX_CLAIM_TIMEOUT_SECONDS)}


def _written_tables(request: dict[str, Any]) -> set[str]:
    """The tables a DynamoDB write request names."""
    names = {str(request["TableName"])} if "TableName" in request else set()
    names |= set(request.get("RequestItems") or {})
    for item in request.get("TransactItems") or []:
        names |= {str(op["TableName"]) for op in item.values() if "TableName" in op}
    return names


def _redelivery_delay(visible_at_ms: float, now_ms: float) -> int:
    """Seconds a restored message waits: the rest of its visibility timeout, capped."""
    left = max(0.0, visible_at_ms - now_ms) / 1000
    return min(IN_FLIGHT_REDELIVERY_SECONDS, math.ceil(left))


def quiet_moto() -> None:
    """moto warns about every resource type it skips; the sandbox knows which it skips."""
    warnings.filterwarnings("ignore", module=r"moto\..*")
    warnings.filterwarnings("ignore", message=r".*moto.*", category=UserWarning)
    logging.getLogger("moto").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


class Sandbox:
    """The whole system on one machine."""

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int = 0,
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK,
        origination: str = DEFAULT_ORIGINATION,
        persist: bool = True,
        schedule_every: float | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.state_dir = state_dir.resolve()
        # Stack parameters on top of the sandbox's own (the demo shortens the reminder time).
        self.parameters = {**SANDBOX_PARAMETERS, **(parameters or {})}
        # Seconds between firings of the stack's schedule rules (None: SHIFTSMS_SCHEDULE_SECONDS
        # or 5 s), so due work (a window closing) runs within seconds here.
        self.schedule_every = schedule_every
        self.region = region
        self.stack_name = stack_name
        self.origination = origination
        self.persist = persist
        self.emulator = Emulator(port=port, region=region)
        self.pump: EventPump | None = None
        self.stack: StackInfo | None = None
        self.started_at = ""
        self.restored = 0
        self._save_lock = threading.Lock()
        self._saved_changes = -1
        self._ready = False
        self._table_names: dict[str, str] = {}
        self._backlog: dict[str, list[dict[str, Any]]] = {}
        self._journal = Journal(self.state_dir / JOURNAL_FILE)
        # Each table's items as saved last (JSON), by physical name; a logged write to a
        # table drops its entry, so a save re-reads only the tables written since.
        self._table_json: dict[str, str] = {}

    @property
    def endpoint(self) -> str:
        """The sandbox's AWS endpoint."""
        return self.emulator.endpoint

    def start(self, on_event: Any = None) -> None:
        """Start the emulator, deploy, restore saved state, start the pump."""
        quiet_moto()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        saved = read_state(self.state_dir) if self.persist else None
        self.emulator.names = Names((saved or {}).get("names"))
        self.emulator.on_change = self.commit
        self.emulator.start()
        try:
            self.emulator.telecom.add_number(self.origination)
            self.emulator.control.default_destination = lambda: self.origination
            result = deploy(
                self.endpoint,
                self.region,
                self.stack_name,
                self.origination,
                parameters=self.parameters,
                on_event=on_event,
            )
            self.stack = result.stack
            self._table_names = self._tables()
            if saved is not None:
                self.restored = self._restore(saved)
                self._backlog = dict(saved.get("streams") or {})
            self._clear_streams()
            covered = int((saved or {}).get("log_seq", 0))
            logged = (
                [e for e in Journal.read(self._journal.path) if e["seq"] > covered]
                if self.persist
                else []
            )
            self._replay(logged)
            self._restore_queues((saved or {}).get("queues") or {})
            # From here on every change is durable: the state file now says what is restored.
            if self.persist:
                self._journal.seq = max([covered, *(e["seq"] for e in logged)])
                self.emulator.journal = self._log
            self._ready = True
            self.changed()
            self.pump = EventPump(
                self.endpoint,
                self.region,
                self.stack_name,
                self.state_dir,
                backlog=self._backlog,
                streams_from_start=True,
                schedule_every=self.schedule_every,
            )
            self.pump.on_checkpoint = self.changed
            self.pump.start()
        except BaseException:
            self.stop(save=False)
            raise
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.emulator.control.status = self.status

    def status(self) -> dict[str, Any]:
        """The control API's status answer."""
        stats = self.pump.stats if self.pump else None
        return {
            "ready": self.pump is not None,
            "pid": os.getpid(),
            "endpoint": self.endpoint,
            "region": self.region,
            "stack": self.stack_name,
            "origination": self.origination,
            "state_dir": str(self.state_dir.resolve()),
            "started_at": self.started_at,
            "texts": len(self.emulator.telecom.outbox),
            "calls": len(self.emulator.telecom.calls),
            "restored_items": self.restored,
            "invocations": dict(stats.invocations) if stats else {},
            "errors": dict(stats.errors) if stats else {},
        }

    # -- state ---------------------------------------------------------------------------

    def _tables(self) -> dict[str, str]:
        cf = client("cloudformation", self.endpoint, self.region)
        tables: dict[str, str] = {}
        for page in cf.get_paginator("list_stack_resources").paginate(StackName=self.stack_name):
            for r in page["StackResourceSummaries"]:
                if r["ResourceType"] == "AWS::DynamoDB::Table" and r.get("PhysicalResourceId"):
                    tables[r["LogicalResourceId"]] = r["PhysicalResourceId"]
        return tables

    def _tables_json(self) -> str:
        """Every table's items by logical id, as JSON (unchanged tables from the cache)."""
        ddb = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region]
        parts: list[str] = []
        for logical, physical in self._table_names.items():
            table = ddb.tables.get(physical)
            if table is None:
                continue
            if physical not in self._table_json:
                items = [_jsonable(i.to_json()["Attributes"]) for i in table.all_items()]
                self._table_json[physical] = json.dumps(items, separators=(",", ":"))
            parts.append(f"{json.dumps(logical)}:{self._table_json[physical]}")
        return "{" + ",".join(parts) + "}"

    def export(self) -> dict[str, Any]:
        """The whole state, read from the emulator in this process (take it under the
        emulator's mutation lock for a consistent copy)."""
        return {**self._export_rest(), "tables": json.loads(self._tables_json())}

    def _export_text(self) -> tuple[str, int]:
        """:meth:`export` as JSON text, and the last log entry it covers."""
        rest = self._export_rest()
        text = json.dumps(rest, separators=(",", ":"))
        return text[:-1] + ',"tables":' + self._tables_json() + "}", int(rest["log_seq"])

    def _export_rest(self) -> dict[str, Any]:
        """All of the state but the tables."""
        ddb = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region]
        streams: dict[str, list[dict[str, Any]]] = {}
        streams.update(self._backlog)  # what no poller has taken yet
        if self.pump is not None:
            for poller in self.pump.stream_pollers():
                table = ddb.tables.get(poller.table_name)
                shard = getattr(table, "stream_shard", None)
                raw = [_jsonable(r.to_json()) for r in list(shard.items)] if shard else []
                streams[poller.key] = poller.backlog(raw)
        queues: dict[str, list[dict[str, Any]]] = {}
        for name, queue in sqs_backends[DEFAULT_ACCOUNT_ID][self.region].queues.items():
            queues[name] = [
                {
                    "body": m.body,
                    "attributes": dict(m.message_attributes),
                    "group_id": m.group_id,
                    "deduplication_id": m.deduplication_id,
                    # When a message in flight becomes visible again (epoch ms; 0: visible).
                    "visible_at": m.visible_at,
                }
                for m in list(queue._messages)
            ]
        return {
            "format": STATE_FORMAT,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stack": self.stack_name,
            "log_seq": self._journal.seq,
            "names": self.emulator.names.to_json(),
            "queues": queues,
            "streams": streams,
            "telecom": self.emulator.telecom.to_json(),
        }

    def changed(self) -> None:
        """Something outside a request changed (a poller's checkpoint): commit it."""
        with self.emulator.mutation_lock:
            self.emulator.changes += 1
        self.commit()

    def commit(self) -> None:
        """Make every change made so far durable (``state.json`` written and fsynced).

        Called before a change is answered; a write that started after a change covers it,
        so concurrent callers share one write.
        """
        if not self.persist or not self._ready:
            return
        wanted = self.emulator.changes
        with self._save_lock:
            if self._saved_changes >= wanted:
                return
            with self.emulator.mutation_lock:
                covered = self.emulator.changes
                text, log_seq = self._export_text()
            write_durable(self.state_dir / STATE_FILE, text)
            self._saved_changes = covered
            with self.emulator.mutation_lock:
                if self._journal.seq == log_seq:
                    self._journal.truncate()  # the state file covers every entry

    def _log(self, target: str, body: bytes) -> None:
        """The emulator's journal: one DynamoDB write, durable on return (called under the
        emulator's mutation lock)."""
        self._journal.append({"target": target, "body": body.decode("utf-8")})
        written = _written_tables(json.loads(body or b"{}"))
        if not written <= set(self._table_names.values()):
            self._table_json.clear()  # a table named otherwise (an ARN): re-read them all
        for name in written:
            self._table_json.pop(name, None)

    def _replay(self, entries: list[dict[str, Any]]) -> None:
        """Send the logged DynamoDB writes again, in order, as they were sent."""
        scope = f"sandbox/20200101/{self.region}/dynamodb/aws4_request"
        for entry in entries:
            request = urllib.request.Request(  # noqa: S310 - the emulator on 127.0.0.1
                self.endpoint + "/",
                data=str(entry["body"]).encode("utf-8"),
                method="POST",
                headers={
                    "X-Amz-Target": str(entry["target"]),
                    "Content-Type": "application/x-amz-json-1.0",
                    "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
                    "SignedHeaders=host, Signature=0",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
                    resp.read()
            except OSError as exc:
                log.warning("logged write %s not replayed: %s", entry["seq"], exc)

    def save(self) -> None:
        """Write the state file now."""
        if self._ready:
            self.changed()

    def _restore(self, saved: dict[str, Any]) -> int:
        """Put saved items back (before the pump starts, so no stream record is replayed)."""
        dynamodb = client("dynamodb", self.endpoint, self.region)
        tables = self._tables()
        count = 0
        for logical, items in saved.get("tables", {}).items():
            physical = tables.get(logical)
            if physical is None:
                log.warning("saved table %s is not in the stack any more; skipped", logical)
                continue
            for i in range(0, len(items), 25):
                chunk = [{"PutRequest": {"Item": item}} for item in items[i : i + 25]]
                pending: dict[str, Any] = {physical: chunk}
                for _ in range(10):
                    left = dynamodb.batch_write_item(RequestItems=pending).get(
                        "UnprocessedItems", {}
                    )
                    if not left:
                        break
                    pending = left
                count += len(chunk)
        try:
            self.emulator.telecom.restore(saved.get("telecom") or {})
        except (TypeError, ValueError) as exc:
            raise StateError(f"{self.state_dir / STATE_FILE} is corrupt (telecom): {exc}") from exc
        return count

    def _clear_streams(self) -> None:
        """Empty every stream: the restore's own writes are not changes to deliver."""
        with self.emulator.mutation_lock:
            for table in dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region].tables.values():
                if table.stream_shard is not None:
                    table.stream_shard.items = []

    def _restore_queues(self, saved: dict[str, list[dict[str, Any]]]) -> None:
        """Send every saved message again; one in flight (its receiver died) is delayed until
        its visibility timeout ends, at most :data:`IN_FLIGHT_REDELIVERY_SECONDS`."""
        sqs = client("sqs", self.endpoint, self.region)
        now_ms = time.time() * 1000
        for name, messages in saved.items():
            if not messages:
                continue
            if name.startswith(TAP_PREFIX):  # the pump subscribes it to its topic again
                url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
            else:
                try:
                    url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
                except sqs.exceptions.QueueDoesNotExist:
                    log.warning("saved queue %s is not in the stack any more; skipped", name)
                    continue
            for i in range(0, len(messages), 10):
                entries = []
                for n, m in enumerate(messages[i : i + 10]):
                    entry: dict[str, Any] = {"Id": str(n), "MessageBody": m["body"]}
                    delay = _redelivery_delay(float(m.get("visible_at") or 0), now_ms)
                    if delay:
                        entry["DelaySeconds"] = delay
                    if m.get("attributes"):
                        entry["MessageAttributes"] = m["attributes"]
                    if m.get("group_id"):
                        entry["MessageGroupId"] = m["group_id"]
                    if m.get("deduplication_id"):
                        entry["MessageDeduplicationId"] = m["deduplication_id"]
                    entries.append(entry)
                sqs.send_message_batch(QueueUrl=url, Entries=entries)

    def stop(self, *, save: bool = True) -> None:
        """Save (unless told not to), stop the pump and the emulator."""
        try:
            if save and self.pump is not None:
                try:
                    self.save()
                except Exception:
                    log.exception("could not save the sandbox state")
        finally:
            if self.pump is not None:
                self.pump.stop()
            try:
                if save and self.pump is not None:
                    self.save()  # the stopped pollers' last checkpoints
            except Exception:
                log.exception("could not save the sandbox state")
            self._ready = False
            self.pump = None
            self.emulator.journal = None
            self.emulator.stop()
            self._journal.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    state_dir: Path, port: int, region: str = DEFAULT_REGION, stop: threading.Event | None = None
) -> None:
    """Run the sandbox until ``stop`` is set (or a shutdown request).

    Hold the state folder's lock for the whole run: raise
    :class:`~shiftsms.local.state.StateDirInUse` if another sandbox holds it.
    """
    stop = stop or threading.Event()
    lock = lock_state_dir(state_dir)
    try:
        _serve_locked(state_dir, port, region, stop)
    finally:
        os.close(lock)


def _serve_locked(state_dir: Path, port: int, region: str, stop: threading.Event) -> None:
    sandbox = Sandbox(state_dir, port=port, region=region)
    sandbox.emulator.control.on_shutdown = stop.set
    sandbox.start()
    write_pid_file(
        state_dir,
        SandboxInfo(
            pid=os.getpid(),
            port=sandbox.emulator.port,
            endpoint=sandbox.endpoint,
            region=sandbox.region,
            stack=sandbox.stack_name,
            started_at=sandbox.started_at,
        ),
    )
    log.info("sandbox ready on %s", sandbox.endpoint)
    try:
        while not stop.wait(30.0):
            sandbox.emulator.prune_stream_iterators()
    finally:
        sandbox.stop()
        (state_dir / PID_FILE).unlink(missing_ok=True)
