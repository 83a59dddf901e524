"""Delivery receipts: record each End User Messaging text event once; count the settled ones."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shiftsms.core.delivery import MalformedEvent, UnknownEvent, parse_event
from shiftsms.core.metrics import TEXTS_DELIVERED, TEXTS_FAILED
from shiftsms.ports import DeliveryLedger, MetricSink

log = logging.getLogger("shiftsms.delivery")


@dataclass
class DeliveryRecorder:
    """Records text events on the send records; unknown and malformed ones are dropped."""

    ledger: DeliveryLedger
    metrics: MetricSink | None = None

    def handle(self, raw: str | Mapping[str, Any]) -> str:
        """Record one event; what became of it (recorded, settled, duplicate, ignored, dropped).

        Raises only when recording failed in a way worth retrying (AWS errors).
        """
        try:
            event = parse_event(raw)
        except UnknownEvent as exc:
            log.info(f"event not recorded: {exc}")
            return "ignored"
        except MalformedEvent as exc:
            log.warning(f"malformed delivery event dropped: {exc}")
            return "dropped"
        change = self.ledger.record(event)
        extra = {"message_id": event.message_id, "status": event.status, "kind": event.kind}
        if not change.applied:
            log.info("delivery event already recorded or older: nothing changed", extra=extra)
            return "duplicate"
        if change.settled:
            if self.metrics is not None:
                self.metrics.count(TEXTS_DELIVERED if event.delivered else TEXTS_FAILED)
            log.info("text settled", extra=extra)
            return "settled"
        log.info("delivery status recorded", extra=extra)
        return "recorded"
