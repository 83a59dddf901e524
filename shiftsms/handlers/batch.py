"""One Powertools batch as a function runs it: its writes credited to the function (the audit
trail's actor), its metrics flushed after, even when the batch raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BasePartialBatchProcessor,
    process_partial_response,
)

from shiftsms.core.actor import acting_as, fn_actor
from shiftsms.handlers.metrics import EmfMetrics


def process_batch(
    event: dict[str, Any],
    context: Any,
    record_handler: Callable[[Any], Any],
    processor: BasePartialBatchProcessor,
    *,
    metrics: EmfMetrics,
    function: str,
) -> dict[str, Any]:
    """Process ``event``'s records; failed ones are reported for retry (partial response)."""
    try:
        with acting_as(fn_actor(getattr(context, "function_name", None) or function)):
            return dict(
                process_partial_response(
                    event=event,
                    record_handler=record_handler,
                    processor=processor,
                    context=context,
                )
            )
    finally:
        metrics.flush()
