"""A first end-to-end pass through the real inbound handler on the deployed template."""

from __future__ import annotations

import pytest

from shiftsms.core.models import StaffMember
from shiftsms.handlers import inbound
from shiftsms.settings import Settings
from tests.conftest import Deployed, function_environment, sns_event
from tests.fakes import RecordingSms

ANA = "+447700900123"


def test_booking_by_sms(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    env = function_environment(deployed.outputs["InboundFunctionName"])
    sms = RecordingSms()
    app = inbound.InboundApp(Settings.from_env(env), sms=sms)
    monkeypatch.setattr(inbound, "app", lambda: app)
    app.service.staff.put(StaffMember(phone=ANA, name="Ana"))
    deployed.dynamodb.put_item(
        TableName=deployed.outputs["ShiftsTableName"],
        Item={
            "shift_id": {"S": "XYZ123"},
            "shift_info": {"S": "15/08 5h nightshift"},
            "shift_status": {"S": "available"},
        },
    )
    from lambdas.inbound import handler

    msg = {
        "originationNumber": ANA,
        "destinationNumber": "+447700900000",
        "messageKeyword": "",
        "messageBody": " xyz123 ",
        "inboundMessageId": "m-1",
    }
    assert handler(sns_event(msg), None) == {"handled": 1, "dropped": 0}
    assert handler(sns_event(msg), None) == {"handled": 1, "dropped": 0}
    assert sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    item = deployed.dynamodb.get_item(
        TableName=deployed.outputs["ShiftsTableName"], Key={"shift_id": {"S": "XYZ123"}}
    )["Item"]
    assert item["shift_status"]["S"] == "taken"
    assert item["employee"]["S"] == ANA
