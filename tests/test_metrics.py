"""Custom metrics (EMF): the fan-out counts who was offered, the sender each text and its
segments, once each, in namespace ``shiftsms`` with dimension service=shiftsms; a text another
function sends itself (the due function's held offer) is counted the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shiftsms.core.campaigns import Campaign
from shiftsms.core.models import StaffMember
from shiftsms.core.waitlist import HOLD_EXPIRY
from shiftsms.handlers import due as due_handler
from shiftsms.handlers import texts
from shiftsms.settings import DueSettings
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    drain,
    stream_event,
)
from tests.conftest import function_environment
from tests.fakes import FreeSlots, RecordingSms
from tests.waitlist_support import CAL, SHIFT, give_back_to_waitlist

ANA, BEN = "+447700900101", "+447700900102"
SENT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
# 161 GSM-7 characters: two segments.
LONG = "Open shifts: " + "XYZ123 15/08 5h nightshift, " * 5 + "Reply a code to book, STOP to opt"
GIVEN_BACK = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
# The held offer the due function texts CAL when BEN's hold lapses: one GSM-7 segment.
HELD_OFFER = "XYZ123 is free again and held for you until 12:30. Reply YES to take it."


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


def _lapsed_hold(stack: CampaignStack, sms: RecordingSms) -> datetime:
    """XYZ123 given back and held for BEN (by the inbound function), CAL next on its waitlist;
    return when BEN's hold lapses."""
    until = give_back_to_waitlist(stack.outputs, sms, GIVEN_BACK)
    assert until == GIVEN_BACK + timedelta(minutes=15)
    return until


def _due_app(stack: CampaignStack, at: datetime) -> due_handler.DueApp:
    """The due function, built from its deployed environment, running at ``at``."""
    settings = DueSettings.from_env(function_environment(stack.outputs["DueFunctionName"]))
    return due_handler.DueApp(settings, clock=lambda: at)


def test_the_due_functions_held_offer_is_counted_with_its_segments(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sms = RecordingSms()
    until = _lapsed_hold(stack, sms)
    monkeypatch.setattr(texts, "EndUserMessagingSms", lambda *a, **k: sms)
    app = _due_app(stack, until)
    capsys.readouterr()
    assert app.handle({}, None)["ran"] == [f"{HOLD_EXPIRY}:{SHIFT}"]
    assert sms.to(CAL) == [HELD_OFFER]
    assert metrics(capsys.readouterr().out) == {"TextsSent": 1, "Segments": 1}
    # The next run (nothing due yet) writes no metrics: the last run's were flushed.
    app.handle({}, None)
    assert metrics(capsys.readouterr().out) == {}


def test_a_held_offer_that_failed_to_send_counts_nothing(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sms = RecordingSms()
    until = _lapsed_hold(stack, sms)
    sms.throttle_next = 1  # End User Messaging refuses the due function's send
    monkeypatch.setattr(texts, "EndUserMessagingSms", lambda *a, **k: sms)
    app = _due_app(stack, until)
    capsys.readouterr()
    assert app.handle({}, None)["ran"] == [f"{HOLD_EXPIRY}:{SHIFT}"]
    assert sms.to(CAL) == []
    assert metrics(capsys.readouterr().out) == {}
