"""Lambda: End User Messaging text events (configuration set -> SNS -> SQS)."""

from typing import Any

from shiftsms.handlers.delivery import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Record each delivery event in ``event``; report the ones to retry."""
    return handle(event, context)
