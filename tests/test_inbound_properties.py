"""Property: any body from any sender is handled, gets at most one reply, and changes the
shifts table only where an allowed sender named an available code (or DROPped their own)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from lambdas.inbound import handler
from shiftsms.core.commands import OPT_OUT_KEYWORDS, Kind, parse
from shiftsms.core.events import MAX_BODY
from shiftsms.core.models import StaffMember
from shiftsms.core.phone import try_normalise
from shiftsms.handlers import inbound
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms

ANA = "+447700900123"
BEN = "+447700900456"
ALLOWED = (ANA, BEN)
# (shift_id, status, employee) at the start of every example
SHIFTS = [
    ("OPEN1", "available", None),
    ("OPEN2", "available", None),
    ("ANA01", "taken", ANA),
    ("BEN01", "taken", BEN),
]
WORDS = [s[0] for s in SHIFTS] + [
    "NOPE99",
    "REQUEST",
    "MORE",
    "AGENT",
    "DROP",
    "HELP",
    "START",
    *sorted(OPT_OUT_KEYWORDS),
    "🙂",
    "é",
    "\x00",
    "",
]

SENDERS = st.sampled_from(
    [ANA, BEN, "+447700900999", "+14255550182", "+4477", "not a number", " ", "+447700900123 "]
)
BODIES = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=12).flatmap(
        lambda words: st.sampled_from([" ", ",", ", ", "\n"]).map(lambda sep: sep.join(words))
    ),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "🙂", "OPEN1 ", "\x07"]), st.integers(0, 2000)
    ),
)


def _reset_shifts(client: Any, table: str) -> None:
    for shift_id, status, employee in SHIFTS:
        item: dict[str, Any] = {
            "shift_id": {"S": shift_id},
            "shift_info": {"S": "Sat nights"},
            "shift_status": {"S": status},
        }
        if employee:
            item["employee"] = {"S": employee}
        client.put_item(TableName=table, Item=item)


def _state(client: Any, table: str) -> dict[str, tuple[str, str | None]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {
        i["shift_id"]["S"]: (i["shift_status"]["S"], i.get("employee", {}).get("S")) for i in items
    }


def _expected(sender: str, body: str) -> dict[str, tuple[str, str | None]]:
    """The shifts table after ``body`` from ``sender``: only allowed senders change it."""
    state = {shift_id: (status, employee) for shift_id, status, employee in SHIFTS}
    employee_number = try_normalise(sender)
    if employee_number not in ALLOWED:
        return state
    command = parse(body[:MAX_BODY])
    for code in command.codes:
        if code not in state:
            continue
        status, employee = state[code]
        if command.kind is Kind.BOOK and status == "available":
            state[code] = ("taken", employee_number)
        if command.kind is Kind.DROP and employee == employee_number:
            state[code] = ("available", None)
    return state


@pytest.mark.slow
def test_any_body_from_any_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        info = deploy_template()
        env = function_environment(info.outputs["InboundFunctionName"])
        sms = RecordingSms()
        app = inbound.InboundApp(Settings.from_env(env), sms=sms)
        monkeypatch.setattr(inbound, "app", lambda: app)
        for number in ALLOWED:
            app.service.staff.put(StaffMember(phone=number))
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = info.outputs["ShiftsTableName"]

        @settings(
            max_examples=100,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(sender=SENDERS, body=BODIES)
        def check(sender: str, body: str) -> None:
            _reset_shifts(dynamodb, table)
            sent_before = len(sms.sent)
            message = {
                "originationNumber": sender,
                "destinationNumber": ORIGINATION,
                "messageKeyword": "",
                "messageBody": body,
                "inboundMessageId": str(uuid.uuid4()),
            }
            result = handler(sns_event(json.dumps(message)), None)
            assert result["handled"] + result["dropped"] == 1
            new = sms.sent[sent_before:]
            assert len(new) <= 1
            for reply in new:
                assert reply.to == try_normalise(sender)
                assert reply.origination == ORIGINATION
            if try_normalise(sender) in ALLOWED:
                silent = parse(body[:MAX_BODY]).kind in (Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP)
                assert len(new) == (0 if silent else 1)
            assert _state(dynamodb, table) == _expected(sender, body)

        check()
