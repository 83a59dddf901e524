"""Domain errors. Adapters turn AWS errors into these; the CLI turns these into messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shiftsms.core.models import Shift


class ShiftsmsError(Exception):
    """Base of every error shiftsms reports to a user."""


class InvalidInput(ShiftsmsError):
    """A value the user gave cannot be used (the CLI treats it as a usage error)."""


class ShiftExists(ShiftsmsError):
    """A shift with that id already exists."""


class ShiftNotFound(ShiftsmsError):
    """No shift has that id."""


class ShiftNotTaken(ShiftsmsError):
    """The shift is not booked, so it cannot be released."""


class ShiftChanged(ShiftsmsError):
    """The shift is no longer as it was read, so the change decided on it was not made.

    ``now`` is the shift as it is now.
    """

    def __init__(self, message: str, now: Shift) -> None:
        super().__init__(message)
        self.now = now


class StaffNotFound(ShiftsmsError):
    """The number is not on the allow list."""


class NotConfigured(ShiftsmsError):
    """A setting the operation needs is missing."""


class SendError(ShiftsmsError):
    """An SMS could not be sent."""


class RecipientOptedOut(SendError):
    """The destination number has opted out: a permanent refusal, never retried."""


class SendThrottled(SendError):
    """The send was throttled or failed transiently: retry later."""


class SendRejected(SendError):
    """The send was refused for a reason a retry will not fix."""


class DestinationBlocked(SendRejected):
    """The destination's country is blocked by the protect configuration: never retried."""


class CallError(ShiftsmsError):
    """An agent call-back could not be started."""


class RowsRejected(ShiftsmsError):
    """An import file has bad rows, so nothing was written.

    ``problems`` holds ``(line, reason)`` pairs, line numbers counted from 1 (the header).
    """

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = sorted(problems)
        count = len(self.problems)
        super().__init__(f"{count} bad row{'s' if count != 1 else ''}: nothing was imported")


class CampaignExists(ShiftsmsError):
    """A campaign with that id already exists."""


class CampaignNotFound(ShiftsmsError):
    """No campaign has that id."""


class SendDeferred(SendError):
    """No send slot within the rate before the deadline: the job is retried later."""


class StackNotFound(ShiftsmsError):
    """The stack does not exist (or is not visible with these credentials and region)."""


class DeployError(ShiftsmsError):
    """A deploy step failed; the message says what and why."""


class DeployAborted(DeployError):
    """The operator declined the change set; nothing was changed."""


class StackBusy(DeployError):
    """The stack is in a state (in progress, or a failed create) that takes no deploy now."""


class BucketNotOurs(DeployError):
    """The artifacts bucket exists but another account owns it (or it cannot be reached)."""


class BundleError(ShiftsmsError):
    """The Lambda bundle cannot be built from what is installed here."""


@dataclass(frozen=True)
class Failure:
    """One resource that failed, with AWS's reason."""

    logical_id: str
    resource_type: str
    status: str
    reason: str

    def __str__(self) -> str:
        return f"{self.logical_id} ({self.resource_type}) {self.status}: {self.reason}"


class StackFailed(DeployError):
    """The stack operation ended in a failed state; ``failures`` name resources and reasons."""

    def __init__(self, stack: str, status: str, failures: list[Failure]) -> None:
        self.stack = stack
        self.status = status
        self.failures = failures
        first = f": {failures[0]}" if failures else ""
        super().__init__(f"stack {stack} ended in {status}{first}")
