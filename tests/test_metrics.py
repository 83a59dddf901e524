"""Custom metrics (EMF): the fan-out counts who was offered, the sender each text and its
segments, once each, in namespace ``shiftsms`` with dimension service=shiftsms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shiftsms.core.campaigns import Campaign
from shiftsms.core.models import StaffMember
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    drain,
    stream_event,
)
from tests.fakes import FreeSlots, RecordingSms

ANA, BEN = "+447700900101", "+447700900102"
SENT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
# 161 GSM-7 characters: two segments.
LONG = "Open shifts: " + "XYZ123 15/08 5h nightshift, " * 5 + "Reply a code to book, STOP to opt"


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack() as deployed:
        deployed.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"))
        yield deployed


def metrics(out: str) -> dict[str, float]:
    """Each metric's total over the EMF lines of ``out``, checked for namespace and dimension
    (a line per invocation)."""
    found: dict[str, float] = {}
    for line in out.splitlines():
        if not (line.startswith("{") and '"_aws"' in line):
            continue
        data: dict[str, Any] = json.loads(line)
        (directive,) = data["_aws"]["CloudWatchMetrics"]
        assert (directive["Namespace"], directive["Dimensions"]) == ("shiftsms", [["service"]])
        assert data["service"] == "shiftsms"
        for metric in directive["Metrics"]:
            found[metric["Name"]] = found.get(metric["Name"], 0) + sum(data[metric["Name"]])
    return found


def test_fan_out_and_sends_are_counted_once(
    stack: CampaignStack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.campaigns().create(Campaign("c1", "XYZ123", text=LONG))
    sms = RecordingSms()
    campaign_app, sender_app = apps(stack, sms, limiter=FreeSlots(), now=SENT.timestamp)
    campaign_app.service.clock = lambda: SENT
    capsys.readouterr()
    record = stack.insert_record("c1")
    campaign_app.handle(stream_event(record), None)
    campaign_app.handle(stream_event(record), None)  # the stream record again: skipped
    drain(stack, sender_app.handle, FakeContext())
    assert len(sms.sent) == 2
    assert {s.body for s in sms.sent} == {LONG}
    assert metrics(capsys.readouterr().out) == {
        "Offered": 2,
        "TextsSent": 2,
        "Segments": 4,
    }
