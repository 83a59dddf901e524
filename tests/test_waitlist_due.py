"""A DROP schedules the hold's expiry as due work; the due function, once it is due, holds
the shift for the next person (with the environment the template gives it)."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.core.due import REOFFER
from shiftsms.core.models import Shift, StaffMember
from shiftsms.core.waitlist import HOLD_EXPIRY
from shiftsms.handlers import due as due_handler
from shiftsms.handlers import inbound
from shiftsms.services.due_runner import DueRunner
from shiftsms.settings import DueSettings, Settings
from tests.conftest import ORIGINATION, REGION, Deployed, function_environment, sns_event
from tests.fakes import RecordingSms

ANA, BEN, CAL = "+447700900101", "+447700900102", "+447700900103"


def _function(logical_id: str, stack: str = "shiftsms") -> str:
    resources = boto3.client("cloudformation", region_name=REGION).list_stack_resources(
        StackName=stack
    )["StackResourceSummaries"]
    (name,) = [r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == logical_id]
    return str(name)


def _drop(app: inbound.InboundApp, sender: str, code: str) -> None:
    message = {
        "originationNumber": sender,
        "destinationNumber": ORIGINATION,
        "messageKeyword": "",
        "messageBody": f"DROP {code}",
        "inboundMessageId": f"drop-{code}",
    }
    assert app.handle(sns_event(json.dumps(message)), None) == {"handled": 1, "dropped": 0}


def test_a_lapsed_hold_is_moved_on_by_the_due_function(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    sms = RecordingSms()
    app = inbound.InboundApp(
        Settings.from_env(function_environment(deployed.outputs["InboundFunctionName"])), sms=sms
    )
    for phone in (ANA, BEN, CAL):
        app.service.staff.put(StaffMember(phone))
    shifts = app.service.waitlist.shifts  # type: ignore[union-attr]
    shifts.put(Shift("XYZ123", "Sat nights"))  # type: ignore[attr-defined]
    app.service.shifts.book("XYZ123", ANA, "m1", app.service.clock())
    shifts.join_waitlist("XYZ123", BEN)
    shifts.join_waitlist("XYZ123", CAL)
    _drop(app, ANA, "XYZ123")
    view = shifts.waitlist_view("XYZ123")
    assert view is not None and view.held_for == BEN and view.held_until is not None
    until = view.held_until

    settings = DueSettings.from_env(function_environment(_function("DueFunction")))
    assert settings.hold_minutes == 15 and settings.shifts_table
    monkeypatch.setattr(due_handler, "EndUserMessagingSms", lambda *a, **k: sms)
    due = DynamoDueWork(deployed.dynamodb, settings.state_table)
    [item] = due.due(until, 10)
    assert (item.kind, item.key, item.due_at) == (HOLD_EXPIRY, "XYZ123", until)
    runner = DueRunner(due, due_handler.handlers(settings, deployed.dynamodb))
    assert runner.run(until - timedelta(seconds=1)).ran == []  # not due yet
    assert runner.run(until).ran == [f"{HOLD_EXPIRY}:XYZ123"]

    moved = shifts.waitlist_view("XYZ123")
    assert moved is not None and moved.held_for == CAL and moved.waitlist == ()
    assert sms.to(CAL)[-1].startswith("XYZ123 is free again and held for you until ")
    # CAL's hold has its own expiry; with nobody left after it, the shift opens to all.
    [next_item] = due.due(moved.held_until or until, 10)
    assert next_item.due_at == moved.held_until
    assert runner.run(next_item.due_at).ran == [f"{HOLD_EXPIRY}:XYZ123"]
    opened = shifts.waitlist_view("XYZ123")
    assert opened is not None and not opened.offering
    # Open to all again: a re-offer is due at once; this shift is in no campaign, so it
    # texts nobody, and no work is left.
    later = next_item.due_at + timedelta(hours=1)
    [reoffer] = due.due(later, 10)
    assert (reoffer.kind, reoffer.key) == (REOFFER, "XYZ123")
    texted = len(sms.sent)
    assert runner.run(later).ran == [f"{REOFFER}:XYZ123"]
    assert len(sms.sent) == texted
    assert due.due(later, 10) == []
