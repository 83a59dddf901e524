"""The sandbox: emulator + real deploy + event pump + state that survives a restart.

State (see :mod:`shiftsms.local.state`) is every item of the stack's tables, by logical id,
and the phone network (outbox, call-backs, opt-outs): saved every 30 seconds and on shutdown,
restored after the next deploy and before the pump starts, so restored items never replay
as stream records.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shiftsms.aws.stack import StackInfo
from shiftsms.local.aws import DEFAULT_REGION, client
from shiftsms.local.deploy import deploy
from shiftsms.local.emulator import Emulator
from shiftsms.local.pump import EventPump
from shiftsms.local.state import (
    PID_FILE,
    STATE_FILE,
    STATE_FORMAT,
    SandboxInfo,
    StateError,
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

    @property
    def endpoint(self) -> str:
        """The sandbox's AWS endpoint."""
        return self.emulator.endpoint

    def start(self, on_event: Any = None) -> None:
        """Start the emulator, deploy, restore saved state, start the pump."""
        quiet_moto()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        saved = read_state(self.state_dir) if self.persist else None
        self.emulator.start()
        try:
            self.emulator.telecom.add_number(self.origination)
            self.emulator.control.default_destination = lambda: self.origination
            result = deploy(
                self.endpoint, self.region, self.stack_name, self.origination, on_event=on_event
            )
            self.stack = result.stack
            if saved is not None:
                self.restored = self._restore(saved)
            self.pump = EventPump(self.endpoint, self.region, self.stack_name, self.state_dir)
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
        """Every table's items (by logical id) and the phone network."""
        dynamodb = client("dynamodb", self.endpoint, self.region)
        tables: dict[str, list[dict[str, Any]]] = {}
        for logical, physical in self._tables().items():
            items: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=physical):
                items += page.get("Items", [])
            tables[logical] = items
        return {
            "format": STATE_FORMAT,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stack": self.stack_name,
            "tables": tables,
            "telecom": self.emulator.telecom.to_json(),
        }

    def save(self) -> None:
        """Write the state file (atomically)."""
        if not self.persist or self.stack is None:
            return
        with self._save_lock:
            write_json(self.state_dir / STATE_FILE, self.export())

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
                self.pump = None
            self.emulator.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    state_dir: Path, port: int, region: str = DEFAULT_REGION, stop: threading.Event | None = None
) -> None:
    """Run the sandbox until ``stop`` is set (or a shutdown request); save periodically."""
    stop = stop or threading.Event()
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
        last = time.monotonic()
        while not stop.wait(1.0):
            if time.monotonic() - last > 30:
                sandbox.save()
                sandbox.emulator.prune_stream_iterators()
                last = time.monotonic()
    finally:
        sandbox.stop()
        (state_dir / PID_FILE).unlink(missing_ok=True)
