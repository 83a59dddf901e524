"""Lambda: the audit trail from the shifts, staff and campaigns tables' streams."""

from typing import Any

from shiftsms.handlers.audit import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Record one audit entry per change in ``event``."""
    return handle(event, context)
