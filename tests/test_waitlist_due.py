"""A DROP schedules the hold's expiry as due work; the due function, once it is due, holds
the shift for the next person (with the environment the template gives it), and its
``SendTextMessage`` for the held offer is pinned against the real API model with Stubber."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.due import REOFFER
from shiftsms.core.models import Shift, StaffMember
from shiftsms.core.waitlist import HOLD_EXPIRY
from shiftsms.handlers import due as due_handler
from shiftsms.handlers import inbound, texts
from shiftsms.services.due_runner import DueRunner
from shiftsms.settings import DueSettings, Settings
from tests.conftest import ORIGINATION, REGION, Deployed, function_environment, sns_event
from tests.fakes import RecordingSms
from tests.waitlist_support import SHIFT, give_back_to_waitlist

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
    monkeypatch.setattr(texts, "EndUserMessagingSms", lambda *a, **k: sms)
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


def test_the_held_offer_send_text_message_request_is_pinned(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    given_back = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    until = give_back_to_waitlist(deployed.outputs, RecordingSms(), given_back)
    env = function_environment(deployed.outputs["DueFunctionName"])
    settings = DueSettings.from_env(env)
    # The template's defaults: a configuration set, a protect configuration, MaxPrice $0.20.
    assert settings.configuration_set and settings.protect_configuration_id
    assert settings.max_price_per_message == "0.20"
    # The due function builds its End User Messaging client stubbed (real clients otherwise).
    sms_client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    session = boto3.session.Session(region_name=REGION)
    monkeypatch.setattr(
        due_handler,
        "client",
        lambda service: (
            sms_client if service == "pinpoint-sms-voice-v2" else aws_client(service, session)
        ),
    )
    app = due_handler.DueApp(settings, clock=lambda: until)
    expected = {
        "DestinationPhoneNumber": CAL,
        "OriginationIdentity": ORIGINATION,
        "MessageBody": "XYZ123 is free again and held for you until 12:30. Reply YES to take it.",
        "MessageType": "TRANSACTIONAL",
        # what the offer is and whom it went to, by phone fingerprint (never the number)
        "Context": {"kind": "offer", "recipient": hashlib.sha256(CAL.encode()).hexdigest()[:20]},
        "ConfigurationSetName": env["CONFIGURATION_SET"],
        "ProtectConfigurationId": env["PROTECT_CONFIGURATION_ID"],
        "MaxPrice": "0.20",
    }
    with Stubber(sms_client) as stub:
        stub.add_response("send_text_message", {"MessageId": "m-cal"}, expected)
        assert app.handle({}, None)["ran"] == [f"{HOLD_EXPIRY}:{SHIFT}"]
        stub.assert_no_pending_responses()
    shifts = ShiftsTable(deployed.dynamodb, settings.shifts_table, settings.staff_table)
    view = shifts.waitlist_view(SHIFT)
    assert view is not None and view.held_for == CAL
    assert view.held_until == until + timedelta(minutes=15)
