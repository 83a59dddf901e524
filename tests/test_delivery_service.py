"""The delivery recorder on fakes: what it records, drops and counts."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from shiftsms.core.delivery import DayTotals
from shiftsms.services.delivery import DeliveryRecorder
from tests.conftest import event_fixture
from tests.fakes import CountingMetrics, MemorySendRecords


def _event(**changes: object) -> str:
    event = event_fixture("text_event_delivered")
    event.update(changes)
    return json.dumps(event)


def test_each_text_settles_once_and_counts_delivered_or_failed() -> None:
    records, metrics = MemorySendRecords(), CountingMetrics()
    recorder = DeliveryRecorder(records, metrics)
    pending = _event(eventType="TEXT_PENDING", messageStatus="PENDING", isFinal=False)
    failed = _event(
        eventType="TEXT_CARRIER_UNREACHABLE",
        messageStatus="CARRIER_UNREACHABLE",
        messageId="m-2",
    )
    outcomes = [recorder.handle(e) for e in (pending, _event(), _event(), failed)]
    assert outcomes == ["recorded", "settled", "duplicate", "settled"]
    assert metrics.counts == {"TextsDelivered": 1, "TextsFailed": 1}
    day = date(2026, 12, 2)
    assert records.day_totals(day) == DayTotals(day, 2, 2, Decimal("0.0840"), 1, 1)


def test_unknown_and_malformed_events_are_dropped_not_raised() -> None:
    records, metrics = MemorySendRecords(), CountingMetrics()
    recorder = DeliveryRecorder(records, metrics)
    assert recorder.handle(_event(eventType="VOICE_COMPLETED")) == "ignored"
    assert recorder.handle(_event(eventType="MEDIA_DELIVERED")) == "ignored"
    assert recorder.handle("{not json") == "dropped"
    assert recorder.handle("[1, 2]") == "dropped"
    assert recorder.handle(_event(messageId="")) == "dropped"
    assert recorder.handle(_event(isFinal="yes")) == "dropped"
    assert recorder.handle(_event(totalMessagePrice="free")) == "dropped"
    assert recorder.handle(_event(eventTimestamp="soon")) == "dropped"
    assert recorder.handle(_event(context=["not", "a", "map"])) == "dropped"
    assert records.texts == {}
    assert metrics.counts == {}
