"""CloudFormation mechanics: change sets, their changes, and stack events while we wait."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from shiftsms.aws.stack import is_stack_missing
from shiftsms.errors import (
    DeployAborted,
    DeployError,
    Failure,
    StackBusy,
    StackFailed,
)

# The error classes live in shiftsms.errors; they are named here too for the deploy API.
__all__ = [
    "CAPABILITIES",
    "SUCCEEDED",
    "TEMPLATE_BODY_LIMIT",
    "UPDATABLE",
    "Change",
    "ChangeSet",
    "DeployAborted",
    "DeployError",
    "Failure",
    "StackBusy",
    "StackEvent",
    "StackFailed",
    "StackOps",
]

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
# CloudFormation takes a TemplateBody of at most this many bytes; larger goes through S3.
TEMPLATE_BODY_LIMIT = 51_200

# Stacks that can take an update.
UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"})
# The StatusReason CloudFormation gives a FAILED change set that would change nothing (a
# change set status, not an API error: it carries no error code).
_NO_CHANGE_REASONS = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True)
class Change:
    """One resource change a change set would make."""

    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""  # True | False | Conditional, for Modify


@dataclass(frozen=True)
class ChangeSet:
    """A created change set and what it would do."""

    name: str
    stack: str
    kind: str  # CREATE | UPDATE
    changes: tuple[Change, ...]
    # CloudFormation found nothing to do. (No resource changes alone is not that: a new
    # parameter value may change only outputs, and executing still applies it.)
    no_op: bool = False


@dataclass(frozen=True)
class StackEvent:
    """One CloudFormation stack event."""

    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""

    @property
    def failed(self) -> bool:
        """True for a *_FAILED event."""
        return self.status.endswith("_FAILED")


@dataclass
class StackOps:
    """Change sets and waits on one CloudFormation client; ``sleep`` is injectable."""

    cloudformation: Any
    poll_seconds: float = 2.0
    timeout_seconds: float = 3600.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def status(self, stack: str) -> str | None:
        """The stack's status, or None if there is no such stack."""
        try:
            stacks = self.cloudformation.describe_stacks(StackName=stack)["Stacks"]
        except ClientError as exc:
            if is_stack_missing(exc):
                return None
            raise
        return str(stacks[0]["StackStatus"]) if stacks else None

    def parameters(self, stack: str) -> dict[str, str]:
        """The deployed stack's parameter values."""
        stacks = self.cloudformation.describe_stacks(StackName=stack)["Stacks"]
        return {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])
        }

    def create_change_set(
        self,
        stack: str,
        kind: str,
        template: Mapping[str, str],
        parameters: list[dict[str, Any]],
    ) -> ChangeSet:
        """Create a change set (``template`` is TemplateBody or TemplateURL) and wait for it."""
        name = "shiftsms-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        try:
            self.cloudformation.create_change_set(
                StackName=stack,
                ChangeSetName=name,
                ChangeSetType=kind,
                Parameters=parameters,
                Capabilities=CAPABILITIES,
                Description="shiftsms deploy",
                **template,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "ValidationError":
                raise
            raise DeployError(
                f"CloudFormation rejected the deploy: {error.get('Message', '')}"
            ) from exc
        described = self._wait_change_set(stack, name)
        status = str(described.get("Status", ""))
        reason = str(described.get("StatusReason", ""))
        if status == "FAILED":
            if any(text in reason for text in _NO_CHANGE_REASONS):
                self.delete_change_set(stack, name)
                return ChangeSet(name=name, stack=stack, kind=kind, changes=(), no_op=True)
            raise DeployError(f"change set failed: {reason or 'no reason given'}")
        changes = tuple(
            Change(
                action=str(rc.get("Action", "")),
                logical_id=str(rc.get("LogicalResourceId", "")),
                resource_type=str(rc.get("ResourceType", "")),
                replacement=str(rc.get("Replacement", "") or ""),
            )
            for c in described.get("Changes", [])
            if (rc := c.get("ResourceChange"))
        )
        return ChangeSet(name=name, stack=stack, kind=kind, changes=changes)

    def _wait_change_set(self, stack: str, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            described: dict[str, Any] = self._describe_change_set(stack, name)
            if described.get("Status") in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
                return described
            if time.monotonic() > deadline:
                raise DeployError(f"change set {name} still {described.get('Status')}: timed out")
            self.sleep(self.poll_seconds)

    def _describe_change_set(self, stack: str, name: str) -> dict[str, Any]:
        """The change set with every page of its changes."""
        kwargs: dict[str, Any] = {"StackName": stack, "ChangeSetName": name}
        first: dict[str, Any] = self.cloudformation.describe_change_set(**kwargs)
        changes = list(first.get("Changes", []))
        token = first.get("NextToken")
        while token:
            page = self.cloudformation.describe_change_set(**kwargs, NextToken=token)
            changes.extend(page.get("Changes", []))
            token = page.get("NextToken")
        first["Changes"] = changes
        return first

    def delete_change_set(self, stack: str, name: str) -> None:
        """Delete a change set that will not be executed."""
        self.cloudformation.delete_change_set(StackName=stack, ChangeSetName=name)

    def execute(self, change_set: ChangeSet, on_event: Callable[[StackEvent], None]) -> str:
        """Execute ``change_set`` and wait, reporting stack events; return the final status."""
        since = self._latest_event_time(change_set.stack)
        self.cloudformation.execute_change_set(
            StackName=change_set.stack, ChangeSetName=change_set.name
        )
        return self.wait(change_set.stack, since, on_event)

    def delete(self, stack: str, on_event: Callable[[StackEvent], None]) -> str:
        """Delete the stack and wait, reporting stack events; return the final status."""
        since = self._latest_event_time(stack)
        self.cloudformation.delete_stack(StackName=stack)
        return self.wait(stack, since, on_event, deleting=True)

    def wait(
        self,
        stack: str,
        since: datetime | None,
        on_event: Callable[[StackEvent], None],
        *,
        deleting: bool = False,
    ) -> str:
        """Poll until the stack leaves *_IN_PROGRESS; raise StackFailed on a failed end."""
        seen: set[str] = set()
        failures: list[Failure] = []
        deadline = time.monotonic() + self.timeout_seconds
        stack_id = stack
        while True:
            status = self.status(stack_id)
            if status is None and deleting:
                status = "DELETE_COMPLETE"
            for event in self._new_events(stack_id, since, seen):
                if event.failed:
                    failures.append(_failure(event))
                on_event(event)
            if status is None:
                raise DeployError(f"stack {stack} disappeared while we waited")
            if not status.endswith("_IN_PROGRESS"):
                break
            if deleting and stack_id == stack:
                # A deleted stack is found only by its id; keep following it that way.
                stack_id = self._stack_id(stack) or stack
            if time.monotonic() > deadline:
                raise DeployError(f"stack {stack} still {status} after the timeout")
            self.sleep(self.poll_seconds)
        if status in SUCCEEDED:
            return status
        # The cause first; resources cancelled because of it after.
        failures.sort(key=lambda f: (not f.reason, "cancelled" in f.reason.lower()))
        raise StackFailed(stack, status, failures)

    def _stack_id(self, stack: str) -> str | None:
        try:
            stacks = self.cloudformation.describe_stacks(StackName=stack)["Stacks"]
        except ClientError:
            return None
        return str(stacks[0]["StackId"]) if stacks else None

    def _latest_event_time(self, stack: str) -> datetime | None:
        try:
            events = self.cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
        except ClientError:
            return None
        return max((e["Timestamp"] for e in events), default=None)

    def _new_events(self, stack: str, since: datetime | None, seen: set[str]) -> list[StackEvent]:
        """Events after ``since`` not reported yet, oldest first."""
        try:
            pages = self.cloudformation.get_paginator("describe_stack_events").paginate(
                StackName=stack
            )
            raw = [e for page in pages for e in page.get("StackEvents", [])]
        except ClientError:
            return []
        fresh = []
        for e in raw:
            event_id = str(e.get("EventId", ""))
            if event_id in seen or (since is not None and e["Timestamp"] <= since):
                continue
            seen.add(event_id)
            fresh.append(
                StackEvent(
                    timestamp=e["Timestamp"],
                    logical_id=str(e.get("LogicalResourceId", "")),
                    resource_type=str(e.get("ResourceType", "")),
                    status=str(e.get("ResourceStatus", "")),
                    reason=str(e.get("ResourceStatusReason", "") or ""),
                )
            )
        fresh.sort(key=lambda ev: ev.timestamp)
        return fresh


def _failure(event: StackEvent) -> Failure:
    return Failure(
        logical_id=event.logical_id,
        resource_type=event.resource_type,
        status=event.status,
        reason=event.reason,
    )
