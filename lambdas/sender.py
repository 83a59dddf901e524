"""Lambda: campaign sender from the send queue (SQS)."""

from typing import Any

from shiftsms.handlers.sender import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Send each job in ``event``; report the ones to retry."""
    return handle(event, context)
