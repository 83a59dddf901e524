"""Property: any body from any sender is handled, gets at most one reply, and changes the
shifts table only where an allowed sender named an available code (or DROPped their own).

The expected table comes from the README's rules, written out here (not from the parser).
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from lambdas.inbound import handler
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
# End User Messaging's keywords: recorded, never answered by shiftsms, never a command.
CARRIER = ("ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "HELP")
CARRIER_IN = ("START", "UNSTOP")
# Words that start a command that changes no shift.
NO_CHANGE = ("REQUEST", "LIST", "SHIFTS", "MORE", "NEXT", "AGENT", "CALL", *CARRIER, *CARRIER_IN)
DROP_WORDS = ("DROP", "RELEASE")
CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")  # a shift code, as the README defines one
WORDS = [s[0] for s in SHIFTS] + [
    "NOPE99",
    *NO_CHANGE,
    *DROP_WORDS,
    "🙂",
    "é",
    "\x00",
    "",
]

SENDERS = st.sampled_from(
    [ANA, BEN, "+447700900999", "+14255550182", "+4477", "not a number", " ", "+447700900123 "]
)
FREE_TEXT = st.text(max_size=200).filter(
    # Free text that names no shift and starts no command (those are covered by the words).
    lambda t: (
        not any(
            w in unicodedata.normalize("NFKC", t).upper()
            for w in [*WORDS[:5], *NO_CHANGE, *DROP_WORDS]
        )
    )
)
BODIES = st.one_of(
    FREE_TEXT,
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


def _tokens(body: str) -> list[str]:
    """The words of ``body`` as the README describes them: any case, spaces or commas between.

    Only what the strategies above generate is covered: their control characters count as
    space, and a body is read up to its first 1600 characters.
    """
    text = body[:MAX_BODY].replace("\x00", " ").replace("\x07", " ")
    return [t.upper() for t in re.split(r"[\s,]+", unicodedata.normalize("NFKC", text)) if t]


def _silent(body: str) -> bool:
    """True when End User Messaging answers the text itself (first word a carrier keyword)."""
    tokens = _tokens(body)
    return bool(tokens) and tokens[0] in (*CARRIER, *CARRIER_IN)


def _expected(sender: str, body: str) -> dict[str, tuple[str, str | None]]:
    """The shifts table after ``body`` from ``sender``: only allowed senders change it."""
    state = {shift_id: (status, employee) for shift_id, status, employee in SHIFTS}
    employee_number = try_normalise(sender)
    tokens = _tokens(body)
    if employee_number not in ALLOWED or not tokens or tokens[0] in NO_CHANGE:
        return state
    drop = tokens[0] in DROP_WORDS
    codes = tokens[1:] if drop else tokens
    reserved = {*NO_CHANGE, *DROP_WORDS}
    if not codes or len(set(codes)) > 10:
        return state
    if any(not CODE.fullmatch(c) or c in reserved for c in codes):
        return state  # not a list of codes: nothing is booked or dropped
    for code in codes:
        if code not in state:
            continue
        status, employee = state[code]
        if not drop and status == "available":
            state[code] = ("taken", employee_number)
        if drop and employee == employee_number:
            state[code] = ("available", None)
    return state


@pytest.mark.slow
def test_any_body_from_any_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        # A fast number: every reply goes at once (the shared send schedule is not under test).
        info = deploy_template(parameters={"SendRatePerSecond": "1000"})
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
                assert len(new) == (0 if _silent(body) else 1)
            assert _state(dynamodb, table) == _expected(sender, body)

        check()
