"""Lambda: inbound SMS from the End User Messaging two-way SNS topic."""

from typing import Any

from shiftsms.handlers.inbound import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Reply to each inbound SMS in ``event``."""
    return handle(event, context)
