"""Who made a change: the actor every write of a shift, staff or campaign item names.

Three kinds, as the audit trail shows them: ``sms:<masked number>:<message id>`` (a text
from staff), ``cli:<IAM ARN>`` (an operator at the command line), ``fn:<function>`` (an
automatic step). The actor in force is a context variable, set around each unit of work
(one inbound message, one CLI command, one function invocation), so the adapters stamp
their writes without every port taking an extra argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from shiftsms.core.phone import mask

UNKNOWN = "unknown (console or other)"

# The item attributes naming who changed an item and when; ``removing`` is set (to the same
# time as ``changed_at``) by the write that marks an item just before it is deleted.
CHANGED_BY, CHANGED_AT, REMOVING = "changed_by", "changed_at", "removing"

_ACTOR: ContextVar[str | None] = ContextVar("shiftsms_actor", default=None)


def sms_actor(sender: str, message_id: str) -> str:
    """The actor of a change an inbound text made (the number masked)."""
    return f"sms:{mask(sender)}:{message_id}"


def cli_actor(arn: str) -> str:
    """The actor of a change made by the CLI as the IAM identity ``arn``."""
    return f"cli:{arn}"


def fn_actor(function: str) -> str:
    """The actor of a change a function made on its own (fan-out, sender, ...)."""
    return f"fn:{function}"


def current_actor() -> str | None:
    """The actor set by the innermost :func:`acting_as`, or None."""
    return _ACTOR.get()


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Make ``actor`` the author of every write within the block."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)
