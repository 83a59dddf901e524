"""Domain errors. Adapters turn AWS errors into these; the CLI turns these into messages."""

from __future__ import annotations


class ShiftsmsError(Exception):
    """Base of every error shiftsms reports to a user."""


class ShiftExists(ShiftsmsError):
    """A shift with that id already exists."""


class ShiftNotFound(ShiftsmsError):
    """No shift has that id."""


class ShiftNotTaken(ShiftsmsError):
    """The shift is not booked, so it cannot be released."""


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


class CallError(ShiftsmsError):
    """An agent call-back could not be started."""
