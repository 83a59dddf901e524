"""The sandbox: emulator + real deploy + event pump + state that survives a restart.

State (see :mod:`shiftsms.local.state`) is every item of the stack's tables (by logical id),
every message of every queue (in flight included), each stream poller's unprocessed records,
the names CloudFormation generated and the phone network (outbox, call-backs, opt-outs).

Save-on-change: the emulator answers a request that changes any of these only after
:meth:`Sandbox.commit` has written the whole state to ``state.json`` and fsynced it (one
write covers every change made before it started, so concurrent requests share a write).
A stream poller commits after each batch it delivers. On the next start the same names are
given back, the stack deployed, the items and messages put back, the streams emptied of
the restore's own records and each poller handed the records it had not processed.
"""

from __future__ import annotations

import logging
import os
import threading
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
    PID_FILE,
    STATE_FILE,
    STATE_FORMAT,
    SandboxInfo,
    StateError,
    lock_state_dir,
    read_state,
    write_json,
    write_pid_file,
)

log = logging.getLogger("shiftsms.local")

DEFAULT_ORIGINATION = "+447700900000"
DEFAULT_STACK = "shiftsms"


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
    ) -> None:
        self.state_dir = state_dir.resolve()
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
                self.endpoint, self.region, self.stack_name, self.origination, on_event=on_event
            )
            self.stack = result.stack
            self._table_names = self._tables()
            if saved is not None:
                self.restored = self._restore(saved)
                self._backlog = dict(saved.get("streams") or {})
            self._clear_streams()
            self._restore_queues((saved or {}).get("queues") or {})
            # From here on every change is committed: the state file now says what is restored.
            self._ready = True
            self.changed()
            self.pump = EventPump(
                self.endpoint, self.region, self.stack_name, self.state_dir, backlog=self._backlog
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

    def export(self) -> dict[str, Any]:
        """The whole state, read from the emulator in this process (take it under the
        emulator's mutation lock for a consistent copy)."""
        ddb = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region]
        tables: dict[str, list[dict[str, Any]]] = {}
        streams: dict[str, list[dict[str, Any]]] = {}
        for logical, physical in self._table_names.items():
            table = ddb.tables.get(physical)
            if table is not None:
                tables[logical] = [_jsonable(i.to_json()["Attributes"]) for i in table.all_items()]
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
                }
                for m in list(queue._messages)
            ]
        return {
            "format": STATE_FORMAT,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stack": self.stack_name,
            "names": self.emulator.names.to_json(),
            "tables": tables,
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
                data = self.export()
            write_json(self.state_dir / STATE_FILE, data, durable=True)
            self._saved_changes = covered

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
        """Send every saved message again (in-flight ones included: their receiver died)."""
        sqs = client("sqs", self.endpoint, self.region)
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
            self.emulator.stop()

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
