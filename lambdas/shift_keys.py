"""Lambda: shift keys from the shifts table stream (console items inserted)."""

from typing import Any

from shiftsms.handlers.shift_keys import handle


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write the alias of each console item in ``event`` whose id is not in upper case."""
    return handle(event, context)
