"""Lambda: due work (window ends, wave starts, hold expiries), on a one-minute schedule."""

from typing import Any

from shiftsms.handlers.due import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run each piece of due work that is due now, once."""
    return handle(event, context)
