"""Lambda: campaign fan-out from the campaigns table stream (INSERT)."""

from typing import Any

from shiftsms.handlers.campaign import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Queue one send job per recipient for each new campaign in ``event``."""
    return handle(event, context)
