"""Every inbound path of issue 2, through the real ``lambdas.inbound.handler``.

Resources come from the real template deployed into moto; End User Messaging is the recording
fake (or a sender that fails on purpose); Connect is the real adapter on a stubbed client.
Assertions are on what the employee receives and what DynamoDB stores.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from lambdas.inbound import handler
from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.connect import ConnectCaller
from shiftsms.aws.dynamo import from_item
from shiftsms.core import replies
from shiftsms.core.gsm import is_gsm7, segments
from shiftsms.core.models import InboundSms, StaffMember
from shiftsms.errors import CallError, RecipientOptedOut, SendRejected, SendThrottled
from shiftsms.handlers import inbound
from shiftsms.handlers.logs import logger as powertools_logger
from shiftsms.services.inbound import Action, InboundResult
from shiftsms.settings import Settings
from tests.campaign_support import disable_emulated_mappings
from tests.conftest import (
    ORIGINATION,
    REGION,
    Deployed,
    deliver_shift_keys,
    deploy_template,
    function_environment,
    module_stack,
)
from tests.conftest import sns_event as make_sns_event
from tests.fakes import RecordingCaller, RecordingSms
from tests.reply_support import send_queued_replies

ANA = "+447700900123"
BEN = "+447700900456"
CAL = "+447700900789"
STRANGER = "+447700900999"
NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@dataclass
class LambdaContext:
    """The parts of the Lambda context object the handler and Powertools read."""

    function_name: str = "shiftsms-InboundFunction"
    aws_request_id: str = "8f5e1a2b-0000-4000-8000-000000000000"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:shiftsms-inbound"
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 19_000


class InvocationDied(Exception):
    """The invocation stopped here."""


@dataclass
class Harness:
    """The deployed stack, the real handler wired to it, and the texts it sent."""

    deployed: Deployed
    app: inbound.InboundApp
    sms: Any
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=itertools.count)
    published: Iterator[int] = field(default_factory=itertools.count)

    @property
    def shifts_table(self) -> str:
        return self.deployed.outputs["ShiftsTableName"]

    @property
    def staff_table(self) -> str:
        return self.deployed.outputs["StaffTableName"]

    def message(self, sender: str, body: str, message_id: str | None = None) -> dict[str, Any]:
        """The JSON End User Messaging publishes for one inbound SMS."""
        return {
            "originationNumber": sender,
            "destinationNumber": ORIGINATION,
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": body,
            "inboundMessageId": message_id or f"in-{next(self.ids)}",
            "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        }

    def event(self, *messages: dict[str, Any] | str) -> dict[str, Any]:
        """One SNS event holding ``messages``, published a second after the previous one."""
        published = NOON + timedelta(seconds=next(self.published))
        return make_sns_event(*messages, timestamp=published)

    def deliver(self, *messages: dict[str, Any] | str) -> dict[str, int]:
        """Deliver one SNS event holding ``messages`` to the Lambda handler."""
        return self.redeliver(self.event(*messages))

    def redeliver(self, event: dict[str, Any]) -> dict[str, int]:
        """Deliver ``event`` as it is (Lambda retrying a failed asynchronous invoke)."""
        result: dict[str, int] = handler(event, LambdaContext())
        return result

    def text(self, sender: str, body: str, message_id: str | None = None) -> dict[str, int]:
        return self.deliver(self.message(sender, body, message_id))

    def die_before_replying(self, times: int = 1) -> None:
        """The next ``times`` invocations stop after acting, before their reply (a timeout or a
        crash): Lambda retries the event. A throttled reply no longer fails the event (it is
        queued), so this is how a retry comes about."""
        service = self.app.service
        reply, left = service._reply, [times]

        def dying(*args: Any) -> str | None:
            if left[0] > 0:
                left[0] -= 1
                raise InvocationDied("stopped before the reply")
            return reply(*args)

        service._reply = dying  # type: ignore[method-assign]

    def add_shift(
        self, shift_id: str, info: str = "", status: str = "available", employee: str = ""
    ) -> None:
        item: dict[str, Any] = {
            "shift_id": {"S": shift_id},
            "shift_info": {"S": info},
            "shift_status": {"S": status},
        }
        if employee:
            item["employee"] = {"S": employee}
        self.deployed.dynamodb.put_item(TableName=self.shifts_table, Item=item)

    def add_staff(self, phone: str, name: str = "", *, campaigns: bool = True) -> None:
        self.app.service.staff.put(StaffMember(phone=phone, name=name, campaigns=campaigns))

    def shift(self, shift_id: str) -> dict[str, Any]:
        resp = self.deployed.dynamodb.get_item(
            TableName=self.shifts_table, Key={"shift_id": {"S": shift_id}}, ConsistentRead=True
        )
        return from_item(resp["Item"])

    def staff(self, phone: str) -> dict[str, Any]:
        resp = self.deployed.dynamodb.get_item(
            TableName=self.staff_table, Key={"phone": {"S": phone}}, ConsistentRead=True
        )
        return from_item(resp["Item"])

    def table(self, name: str) -> list[dict[str, Any]]:
        items = self.deployed.dynamodb.scan(TableName=name, ConsistentRead=True)["Items"]
        return sorted((from_item(i) for i in items), key=lambda i: json.dumps(i, default=str))

    def recipients(self) -> list[str]:
        resp = self.deployed.dynamodb.query(
            TableName=self.staff_table,
            IndexName="campaign-recipients",
            KeyConditionExpression="recipient_pool = :p",
            ExpressionAttributeValues={":p": {"S": "all"}},
        )
        return [i["phone"]["S"] for i in resp["Items"]]

    def record_dynamodb_calls(self) -> None:
        """Record (operation, table, index) of every DynamoDB call the handler makes."""

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.append((model.name, params.get("TableName"), params.get("IndexName")))

        client = self.app.service.shifts.client  # type: ignore[attr-defined]
        client.meta.events.register("before-parameter-build.dynamodb.*", record)

    def at(self, when: datetime) -> None:
        self.app.service.clock = lambda: when


_SESSION = boto3.session.Session(region_name=REGION)


def _harness(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, sms: Any | None = None
) -> Harness:
    env = function_environment(deployed.outputs["InboundFunctionName"])
    sender = sms if sms is not None else RecordingSms()
    # New clients for every app, from one boto3 session (a session per client is slow to build).
    monkeypatch.setattr(inbound, "client", lambda service: aws_client(service, _SESSION))
    app = inbound.InboundApp(Settings.from_env(env), sms=sender)
    monkeypatch.setattr(inbound, "app", lambda: app)
    h = Harness(deployed=deployed, app=app, sms=sender)
    h.at(NOON)
    return h


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    """The template deployed once for this module (each test starts from empty tables)."""
    # Replies share the number's real send schedule: a fast number, so tests never wait.
    with module_stack({"SendRatePerSecond": "1000"}) as deployed:
        disable_emulated_mappings(deployed.info)
        yield deployed


def _empty(client: Any, table: str) -> None:
    keys = [
        a["AttributeName"] for a in client.describe_table(TableName=table)["Table"]["KeySchema"]
    ]
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            client.delete_item(TableName=table, Key={k: item[k] for k in keys})


@pytest.fixture
def h(stack: Deployed, monkeypatch: pytest.MonkeyPatch) -> Harness:
    for output in ("ShiftsTableName", "StaffTableName", "StateTableName"):
        _empty(stack.dynamodb, stack.outputs[output])
    harness = _harness(stack, monkeypatch)
    harness.add_staff(ANA, "Ana")
    harness.add_staff(BEN, "Ben")
    return harness


@pytest.fixture
def stack_with(stack: Deployed, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Deploy the template with given parameters as another stack; return a harness maker."""
    names = itertools.count()

    def make(parameters: dict[str, str], sms: Any | None = None) -> Harness:
        # A fast number, as the shared stack's: replies go at once unless a test says otherwise.
        parameters = {"SendRatePerSecond": "1000", **parameters}
        info = deploy_template(f"shiftsms-{next(names)}-{uuid.uuid4().hex[:8]}", parameters)
        deployed = Deployed(info=info, dynamodb=stack.dynamodb)
        harness = _harness(deployed, monkeypatch, sms)
        harness.add_staff(ANA, "Ana")
        return harness

    yield make


# -- unknown senders ---------------------------------------------------------------------


def test_unknown_sender_gets_one_not_authorised_per_day_then_silence(h: Harness) -> None:
    h.add_shift("XYZ123", "15/08 nights")
    before = h.table(h.shifts_table), h.table(h.staff_table)
    assert h.text(STRANGER, "XYZ123") == {"handled": 1, "dropped": 0}
    assert h.sms.to(STRANGER) == [replies.NOT_AUTHORISED]
    assert h.sms.sent[0].origination == ORIGINATION
    h.at(NOON + timedelta(hours=23, minutes=59))
    h.text(STRANGER, "REQUEST")
    h.text(STRANGER, "XYZ123")
    assert h.sms.to(STRANGER) == [replies.NOT_AUTHORISED]
    h.at(NOON + timedelta(hours=24, seconds=1))
    h.text(STRANGER, "hello?")
    assert h.sms.to(STRANGER) == [replies.NOT_AUTHORISED] * 2
    assert (h.table(h.shifts_table), h.table(h.staff_table)) == before


def test_unknown_sender_reads_and_changes_nothing_else(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.record_dynamodb_calls()
    for body in ("XYZ123", "REQUEST", "MORE", "DROP XYZ123", "AGENT call me", "STOP", "START"):
        h.text(STRANGER, body)
    state = h.deployed.outputs["StateTableName"]
    staff_calls = [c for c in h.calls if c[1] == h.staff_table]
    assert staff_calls == [("GetItem", h.staff_table, None)] * 7  # one allow-list read a text
    assert {table for _, table, _ in h.calls} == {h.staff_table, state}
    assert h.shift("XYZ123")["shift_status"] == "available"
    assert "employee" not in h.shift("XYZ123")
    with pytest.raises(KeyError):
        h.staff(STRANGER)


def test_throttled_not_authorised_reply_is_sent_from_the_reply_queue_once(h: Harness) -> None:
    h.sms.throttle_next = 1
    message = h.message(STRANGER, "XYZ123", "m-stranger")
    h.deliver(message)  # throttled: queued, not retried
    h.deliver(message)
    assert h.sms.to(STRANGER) == []
    assert send_queued_replies(h.deployed.outputs, h.sms) == 1
    h.text(STRANGER, "another text")  # a new message within the day: silence
    assert h.sms.to(STRANGER) == [replies.NOT_AUTHORISED]


def test_unknown_sender_keywords_get_no_reply(h: Harness) -> None:
    for body in ("STOP", "HELP", "START"):
        h.text(STRANGER, body)
    assert h.sms.to(STRANGER) == []


def test_global_hourly_cap_on_not_authorised_replies(stack_with: Any) -> None:
    h = stack_with({"UnauthorisedRepliesPerHour": "2"})
    strangers = [f"+4477009001{i:02d}" for i in range(50, 54)]
    for number in strangers:
        h.text(number, "hi")
    assert [len(h.sms.to(n)) for n in strangers] == [1, 1, 0, 0]
    # The next hour the cap is fresh, and numbers that got nothing can be answered.
    h.at(NOON + timedelta(hours=1))
    for number in strangers:
        h.text(number, "hi again")
    assert [len(h.sms.to(n)) for n in strangers] == [1, 1, 1, 1]


def test_cap_of_zero_sends_no_not_authorised_reply(stack_with: Any) -> None:
    h = stack_with({"UnauthorisedRepliesPerHour": "0"})
    h.text(STRANGER, "hi")
    assert h.sms.sent == []


# -- REQUEST and MORE ---------------------------------------------------------------------


def test_request_lists_open_shifts_through_the_index(h: Harness) -> None:
    h.add_shift("XYZ123", "15/08 5h nightshift")
    h.add_shift("XYZ124", "16/08 early")
    h.add_shift("XYZ125", "17/08 late", status="taken", employee=BEN)
    h.record_dynamodb_calls()
    gets: list[tuple[str, bool]] = []
    h.app.service.shifts.client.meta.events.register(  # type: ignore[attr-defined]
        "before-parameter-build.dynamodb.GetItem",
        lambda params, **_: gets.append((params["TableName"], bool(params.get("ConsistentRead")))),
    )
    h.text(ANA, "request")
    # The allow-list read is consistent: MORE right after REQUEST sees the stored cursor.
    assert (h.staff_table, True) in gets
    assert h.sms.to(ANA) == [
        "Open shifts: XYZ123 15/08 5h nightshift; XYZ124 16/08 early. Reply a code to book."
    ]
    shift_reads = [c for c in h.calls if c[1] == h.shifts_table]
    assert shift_reads
    # Timed shifts from by-start, then console items (as these are) from by-status.
    assert all(op == "Query" for op, _, _ in shift_reads)
    assert {index for _, _, index in shift_reads} == {"by-start", "by-status"}
    assert not any(op == "Scan" for op, _, _ in h.calls)


def test_request_with_nothing_open(h: Harness) -> None:
    h.add_shift("XYZ125", status="taken", employee=BEN)
    h.text(ANA, "REQUEST")
    assert h.sms.to(ANA) == [replies.NO_OPEN_SHIFTS]


def test_more_pages_through_every_open_shift_once_then_says_no_more(h: Harness) -> None:
    open_ids = [f"N{i:03d}" for i in range(45)]
    for shift_id in open_ids:
        h.add_shift(shift_id, "Sat 28/11 07:00-15:00 ward 4")
    h.add_shift("N500", status="taken", employee=BEN)
    h.text(ANA, "REQUEST")
    seen: list[str] = []
    for _ in range(len(open_ids)):
        page = h.sms.to(ANA)[-1]
        assert page.startswith("Open shifts: ") and len(page) <= 160
        ids = re.findall(r"N\d{3}", page)
        seen += ids
        left = len(open_ids) - len(seen)
        if not left:
            assert page.endswith("Reply a code to book.")
            break
        assert page.endswith(f" {left} more: reply MORE.")
        h.text(ANA, "MORE")
    assert seen == open_ids
    h.text(ANA, "more")
    assert h.sms.to(ANA)[-1] == replies.NO_MORE_SHIFTS
    h.text(ANA, "MORE")
    assert h.sms.to(ANA)[-1] == replies.NO_MORE_SHIFTS
    # REQUEST starts the list again.
    h.text(ANA, "REQUEST")
    assert re.findall(r"N\d{3}", h.sms.to(ANA)[-1])[0] == "N000"


def test_more_lists_are_per_sender(h: Harness) -> None:
    for i in range(30):
        h.add_shift(f"N{i:03d}", "Sat 28/11 07:00-15:00 ward 4")
    h.text(ANA, "REQUEST")
    h.text(ANA, "MORE")
    h.text(BEN, "MORE")  # Ben never asked: his list starts at the top
    assert re.findall(r"N\d{3}", h.sms.to(BEN)[0])[0] == "N000"
    assert re.findall(r"N\d{3}", h.sms.to(ANA)[1])[0] != "N000"


def test_more_than_one_segment_when_the_stack_allows_it(stack_with: Any) -> None:
    h = stack_with({"ReplyMaxSegments": "2"})
    for i in range(30):
        h.add_shift(f"N{i:03d}", "Sat 28/11 07:00-15:00 ward 4")
    h.text(ANA, "REQUEST")
    (page,) = h.sms.to(ANA)
    assert 160 < len(page) <= 306


# -- booking ------------------------------------------------------------------------------


def test_book_one_code(h: Harness) -> None:
    h.add_shift("XYZ123", "15/08 5h nightshift")
    h.text(ANA, " xyz123 ", message_id="m-book")
    assert h.sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    item = h.shift("XYZ123")
    assert item["shift_status"] == "taken"
    assert item["employee"] == ANA
    assert item["booked_at"] == "2026-11-28T12:00:00+00:00"
    assert item["booking_ref"] == "m-book"
    assert item["shift_info"] == "15/08 5h nightshift"


def test_a_booking_is_counted_once_in_emf_however_often_it_arrives(
    h: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    h.add_shift("XYZ123", "15/08 5h nightshift")
    h.add_shift("XYZ124", "18/08 3h dayshift")
    capsys.readouterr()
    h.text(ANA, "XYZ123", message_id="m-book")
    h.text(ANA, "XYZ123", message_id="m-book")  # SNS delivers it again
    h.text(ANA, "REQUEST", message_id="m-list")  # books nothing
    h.text(BEN, "XYZ124", message_id="m-ben")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    booked = [line["Booked"] for line in lines if "Booked" in line]
    assert booked == [[1.0], [1.0]]
    for line in lines:
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert (directive["Namespace"], directive["Dimensions"]) == ("shiftsms", [["service"]])


def test_book_several_codes_with_every_outcome(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ124")
    h.add_shift("XYZ125", status="taken", employee=BEN)
    h.add_shift("XYZ126", status="taken", employee=ANA)
    h.text(ANA, "xyz123, XYZ124 xyz125,xyz126 NOPE99")
    assert h.sms.to(ANA) == [
        "Booked: XYZ123, XYZ124. Already yours: XYZ126. No longer available: XYZ125. "
        "Not a valid code: NOPE99. Thank you!"
    ]
    assert h.shift("XYZ123")["employee"] == ANA
    assert h.shift("XYZ124")["employee"] == ANA
    assert h.shift("XYZ125")["employee"] == BEN
    with pytest.raises(KeyError):
        h.shift("NOPE99")


def test_second_claim_is_told_no_longer_available(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.text(ANA, "XYZ123")
    h.text(BEN, "XYZ123")
    assert h.sms.to(BEN) == ["No longer available: XYZ123. Reply WAIT XYZ123 to join its waitlist."]
    assert h.shift("XYZ123")["employee"] == ANA
    h.text(ANA, "XYZ123")  # a new text, not a redelivery
    assert h.sms.to(ANA)[-1] == "Already yours: XYZ123. Reply REQUEST for open shifts."


def test_too_many_codes_and_not_a_code(h: Harness) -> None:
    h.text(ANA, " ".join(f"S{i:03d}" for i in range(11)))
    h.text(ANA, "🙂")
    h.text(ANA, "   ")
    assert h.sms.to(ANA) == [replies.TOO_MANY_CODES, replies.NOT_A_CODE, replies.NOT_A_CODE]


# -- DROP ---------------------------------------------------------------------------------


def test_drop_gives_back_own_shifts_only(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ125", status="taken", employee=BEN)
    h.text(ANA, "XYZ123")
    h.text(ANA, "DROP xyz123, XYZ125 NOPE99")
    assert h.sms.to(ANA)[-1] == (
        "Released: XYZ123. Not booked by you: XYZ125. Not a valid code: NOPE99."
    )
    item = h.shift("XYZ123")
    assert item["shift_status"] == "available"
    assert not {"employee", "booked_at", "booking_ref"} & set(item)
    assert h.shift("XYZ125")["employee"] == BEN
    # Released shifts are open again for anyone.
    h.text(BEN, "XYZ123")
    assert h.sms.to(BEN) == ["Booked: XYZ123. Thank you!"]


# -- AGENT ---------------------------------------------------------------------------------

CONNECT_PARAMETERS = {
    "ConnectEnable": "YES",
    "InstanceId": "12345678-1234-1234-1234-123456789012",
    "ContactFlowID": "abcdef01-2345-6789-abcd-ef0123456789",
    "QueueID": "fedcba98-7654-3210-fedc-ba9876543210",
    "SourcePhoneNumber": "+442079460000",
}


def _expect_call(stub: Stubber, message_id: str, note: str) -> None:
    stub.add_response(
        "start_outbound_voice_contact",
        {"ContactId": "contact-1"},
        {
            "DestinationPhoneNumber": ANA,
            "ContactFlowId": CONNECT_PARAMETERS["ContactFlowID"],
            "InstanceId": CONNECT_PARAMETERS["InstanceId"],
            "QueueId": CONNECT_PARAMETERS["QueueID"],
            "SourcePhoneNumber": CONNECT_PARAMETERS["SourcePhoneNumber"],
            "ClientToken": hashlib.sha256(message_id.encode()).hexdigest(),
            "Attributes": {"note": note, "source": "shiftsms"},
        },
    )


def test_agent_with_connect_configured_places_one_call(stack_with: Any) -> None:
    h = stack_with(CONNECT_PARAMETERS)
    caller = h.app.service.caller
    assert isinstance(caller, ConnectCaller)  # wired from the template's Connect parameters
    assert caller.settings.queue_id == CONNECT_PARAMETERS["QueueID"]
    with Stubber(caller.client) as stub:
        _expect_call(stub, "m-agent", "can't do Saturday, call after 5")
        message = h.message(ANA, "AGENT: can't do Saturday, call after 5", "m-agent")
        h.deliver(message)
        h.deliver(message)  # SNS redelivers the same notification
        stub.assert_no_pending_responses()
    assert h.sms.to(ANA) == [replies.AGENT_CALLING]


def test_agent_call_is_placed_with_one_client_token_when_the_reply_is_retried(
    stack_with: Any,
) -> None:
    sms = RecordingSms(throttle_next=1)
    h = stack_with(CONNECT_PARAMETERS, sms)
    caller = h.app.service.caller
    assert isinstance(caller, ConnectCaller)
    with Stubber(caller.client) as stub:
        # The throttled reply is queued, not the message retried: Connect is called once.
        _expect_call(stub, "m-agent-2", "(none)")
        message = h.message(ANA, "agent", "m-agent-2")
        h.deliver(message)
        h.deliver(message)
        stub.assert_no_pending_responses()
    assert send_queued_replies(h.deployed.outputs, h.sms) == 1
    assert h.sms.to(ANA) == [replies.AGENT_CALLING]


def test_agent_refused_by_connect_says_so(stack_with: Any) -> None:
    h = stack_with(CONNECT_PARAMETERS)
    caller = h.app.service.caller
    assert isinstance(caller, ConnectCaller)
    with Stubber(caller.client) as stub:
        stub.add_client_error(
            "start_outbound_voice_contact",
            service_error_code="AccessDeniedException",
            http_status_code=403,
        )
        assert h.text(ANA, "AGENT") == {"handled": 1, "dropped": 0}
    assert h.sms.to(ANA) == [replies.AGENT_FAILED]


def test_agent_without_connect_says_call_backs_are_not_offered(h: Harness) -> None:
    assert h.app.service.caller is None
    h.text(ANA, "AGENT please")
    assert h.sms.to(ANA) == [replies.AGENT_UNAVAILABLE]


# -- carrier keywords -----------------------------------------------------------------------


def test_stop_and_start_are_recorded_with_no_reply(h: Harness) -> None:
    assert sorted(h.recipients()) == [ANA, BEN]
    h.at(NOON)
    h.text(ANA, "STOP")
    entry = h.staff(ANA)
    assert entry["opted_out"] is True
    assert entry["opted_out_at"] == "2026-11-28T12:00:00+00:00"
    assert h.recipients() == [BEN]
    h.at(NOON + timedelta(days=1))
    h.text(ANA, "start")
    entry = h.staff(ANA)
    assert entry["opted_out"] is False
    assert entry["opted_in_at"] == "2026-11-29T12:00:00+00:00"
    assert sorted(h.recipients()) == [ANA, BEN]
    assert h.sms.sent == []


@pytest.mark.parametrize("word", ["CANCEL", "unsubscribe", "Quit", "opt-out", "END", "TD"])
def test_every_opt_out_keyword_opts_out(h: Harness, word: str) -> None:
    h.add_shift("XYZ123", status="taken", employee=ANA)
    h.text(ANA, f"{word} XYZ123")
    assert h.staff(ANA)["opted_out"] is True
    assert h.shift("XYZ123")["employee"] == ANA  # CANCEL is never a DROP
    assert h.sms.sent == []


def test_start_does_not_enrol_someone_who_takes_no_campaigns(h: Harness) -> None:
    h.add_staff(CAL, "Cal", campaigns=False)
    h.text(CAL, "STOP")
    h.text(CAL, "START")
    assert h.staff(CAL)["opted_out"] is False
    assert CAL not in h.recipients()


def test_help_gets_no_reply(h: Harness) -> None:
    h.text(ANA, "HELP")
    assert h.sms.sent == []


# -- redelivery, malformed events ---------------------------------------------------------


@pytest.mark.parametrize("body", ["XYZ123", "REQUEST", "DROP XYZ124", "STOP", "nonsense!"])
def test_redelivered_notification_has_one_effect_and_one_reply(h: Harness, body: str) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ124", status="taken", employee=ANA)
    message = h.message(ANA, body, "m-again")
    h.deliver(message)
    after_first = h.table(h.shifts_table), h.table(h.staff_table)
    replies_first = list(h.sms.to(ANA))
    h.deliver(message)
    h.deliver(message, message)
    assert (h.table(h.shifts_table), h.table(h.staff_table)) == after_first
    assert h.sms.to(ANA) == replies_first
    assert len(replies_first) == (0 if body == "STOP" else 1)


def test_redelivered_more_does_not_skip_a_page(h: Harness) -> None:
    for i in range(30):
        h.add_shift(f"N{i:03d}", "Sat 28/11 07:00-15:00 ward 4")
    h.text(ANA, "REQUEST")
    more = h.message(ANA, "MORE", "m-more")
    h.deliver(more)
    h.deliver(more)
    h.text(ANA, "MORE")
    pages = [re.findall(r"N\d{3}", text) for text in h.sms.to(ANA)]
    assert len(pages) == 3
    assert all(pages)
    flat = [i for page in pages for i in page]
    # Consecutive from the first: no page twice, none skipped.
    assert flat == [f"N{i:03d}" for i in range(len(flat))]


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "",
        "[1, 2]",
        "null",
        json.dumps({"messageBody": "XYZ123"}),  # no sender, no id
        json.dumps({"originationNumber": ANA, "messageBody": "XYZ123"}),  # no id
        json.dumps({"originationNumber": ANA, "inboundMessageId": "  ", "messageBody": "x"}),
        json.dumps({"originationNumber": 447700900123, "inboundMessageId": "m"}),
        json.dumps({"originationNumber": ANA, "inboundMessageId": "m", "messageBody": ["x"]}),
        "{" * 100_000,
    ],
)
def test_bad_record_dropped_good_ones_handled(h: Harness, bad: str) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ124")
    result = h.deliver(h.message(ANA, "XYZ123"), bad, h.message(BEN, "XYZ124"))
    assert result == {"handled": 2, "dropped": 1}
    assert h.sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    assert h.sms.to(BEN) == ["Booked: XYZ124. Thank you!"]


@pytest.mark.parametrize(
    ("event", "dropped"),
    [
        (None, 1),
        ("a string", 1),
        ([], 1),
        ({}, 1),
        ({"Records": None}, 1),
        ({"Records": "x"}, 1),
        ({"Records": [None, 1, "x", [], {}, {"Sns": None}, {"Sns": {}}, {"Sns": "x"}]}, 8),
        ({"Records": [{"Sns": {"Message": None}}, {"Sns": {"Message": 42}}]}, 2),
    ],
)
def test_malformed_events_never_raise(h: Harness, event: Any, dropped: int) -> None:
    result = handler(event, LambdaContext())
    assert result == {"handled": 0, "dropped": dropped}  # each bad record counted once
    assert h.sms.sent == []


def test_any_body_from_a_known_sender_gets_one_gsm7_reply(h: Harness) -> None:
    bodies = ["", " ", "\x00\x1b\x7f", "🙂" * 800, "x" * 1600, "A" * 5000, "AGENT " + "é" * 900]
    for body in bodies:
        assert h.text(ANA, body) == {"handled": 1, "dropped": 0}
    sent = h.sms.to(ANA)
    assert len(sent) == len(bodies)
    assert all(is_gsm7(text) and segments(text) == 1 for text in sent)


# -- failed sends ---------------------------------------------------------------------------


def test_throttled_drop_reply_still_says_released_on_retry(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.text(ANA, "XYZ123")
    h.sms.throttle_next = 1
    message = h.message(ANA, "DROP XYZ123", "m-drop")
    h.deliver(message)
    h.deliver(message)
    assert send_queued_replies(h.deployed.outputs, h.sms) == 1
    assert h.sms.to(ANA)[-1] == "Released: XYZ123."
    assert h.shift("XYZ123")["shift_status"] == "available"


def test_throttled_more_reply_resends_the_same_page(h: Harness) -> None:
    for i in range(30):
        h.add_shift(f"N{i:03d}", "Sat 28/11 07:00-15:00 ward 4")
    h.text(ANA, "REQUEST")
    h.sms.throttle_next = 1
    more = h.message(ANA, "MORE", "m-more-throttled")
    h.deliver(more)
    h.deliver(more)
    assert send_queued_replies(h.deployed.outputs, h.sms) == 1
    first, second = (re.findall(r"N\d{3}", t) for t in h.sms.to(ANA))
    assert int(second[0][1:]) == int(first[-1][1:]) + 1


def test_one_throttled_record_queues_its_reply_without_repeating_the_others(h: Harness) -> None:
    h.add_shift("XYZ123")
    h.add_shift("XYZ124")
    a, b = h.message(ANA, "XYZ123", "m-a"), h.message(BEN, "XYZ124", "m-b")
    original = h.sms.send
    calls = {"n": 0}

    def throttle_ben(to: str, body: str, origination: str, **kw: Any) -> str:
        calls["n"] += 1
        if to == BEN and calls["n"] == 2:
            raise SendThrottled("ThrottlingException")
        return original(to, body, origination, **kw)

    h.sms.send = throttle_ben
    h.app.service.outbox.sms = h.sms  # type: ignore[union-attr]
    h.deliver(a, b)
    h.deliver(a, b)  # a repeated event sends nothing more
    assert h.sms.to(BEN) == []
    assert send_queued_replies(h.deployed.outputs, h.sms) == 1
    assert h.sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    assert h.sms.to(BEN) == ["Booked: XYZ124. Thank you!"]


def test_opted_out_reply_is_logged_and_not_retried(h: Harness, logs: io.StringIO) -> None:
    h.add_shift("XYZ123")
    h.sms.opted_out.add(ANA)
    message = h.message(ANA, "XYZ123", "m-opted-out")
    assert h.deliver(message) == {"handled": 1, "dropped": 0}  # no raise: no retry
    assert h.shift("XYZ123")["employee"] == ANA
    assert h.sms.sent == []
    assert any(line["message"] == "reply not sent: recipient opted out" for line in _lines(logs))
    h.deliver(message)
    assert h.sms.sent == []


# -- logs -------------------------------------------------------------------------------------


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes (its JSON lines), captured."""
    handler_ = powertools_logger.registered_handler
    assert isinstance(handler_, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler_.setStream(buffer)
    try:
        yield buffer
    finally:
        handler_.setStream(previous)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@dataclass
class _NoisySender:
    """Fails the way AWS can: with error texts that quote the destination number."""

    mode: str = "reject"

    def send(self, to: str, body: str, origination: str, **_: Any) -> str:
        if self.mode == "reject":
            raise SendRejected(f"ValidationException: destination {to} is not valid")
        if self.mode == "opted-out":
            raise RecipientOptedOut(f"{to} opted out")
        raise SendThrottled(f"ThrottlingException: slow down sending to {to}")


class _NoisyCaller:
    """Connect refusing a call with an error text that quotes the number."""

    def call_back(self, to: str, note: str, token: str) -> str:
        cause = ClientError(
            {"Error": {"Code": "InvalidParameterException", "Message": f"cannot dial {to}"}},
            "StartOutboundVoiceContact",
        )
        raise CallError("Connect refused the call-back: InvalidParameterException") from cause


def test_logs_are_json_and_never_hold_a_full_phone_number(
    h: Harness, logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    h.add_shift("XYZ123")
    h.text(STRANGER, "hello")
    h.text(ANA, "XYZ123")
    h.text(ANA, "STOP")
    h.text("+4477", "short sender")
    h.deliver("not json")
    noisy = _NoisySender()
    h.app.service.sms = noisy
    h.app.service.outbox.sms = noisy  # type: ignore[union-attr]
    h.text(BEN, "REQUEST")
    noisy.mode = "opted-out"
    h.text(BEN, "REQUEST")
    h.app.service.caller = _NoisyCaller()
    h.text(ANA, "AGENT call me on +44 7700 900123")
    noisy.mode = "throttle"
    h.text(BEN, "REQUEST")
    lines = _lines(logs)  # every line parses as JSON
    messages = {line["message"] for line in lines}
    assert {"handled", "unauthorised sender", "booked", "reply rejected"} <= messages
    assert "call-back failed" in messages
    assert "reply queued: not sent now" in messages
    assert "+44********23" in logs.getvalue()  # numbers appear masked
    everything = logs.getvalue() + "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records
    )
    digits = re.sub(r"[\s()-]", "", everything)
    for number in (ANA, BEN, STRANGER):
        assert number not in everything
        assert number[1:] not in digits
        assert number[3:] not in digits  # not even the national part


# -- the service's typed result ----------------------------------------------------------------


def test_the_service_returns_what_it_did_as_a_typed_result(h: Harness) -> None:
    h.add_shift("XYZ123")
    service = h.app.service
    booked = service.handle(InboundSms("m-typed-1", ANA, ORIGINATION, "XYZ123"))
    assert booked == InboundResult(Action.BOOKED, "Booked: XYZ123. Thank you!", "msg-1")
    silent = service.handle(InboundSms("m-typed-2", ANA, ORIGINATION, "HELP"))
    assert silent == InboundResult(Action.HELP)
    stranger = service.handle(InboundSms("m-typed-3", STRANGER, ORIGINATION, "STOP"))
    assert stranger == InboundResult(Action.IGNORED, reason="carrier keyword from unknown sender")


# -- AGENT call-backs are bounded --------------------------------------------------------------


def test_one_open_call_back_per_person_per_cooldown(stack_with: Any) -> None:
    h = stack_with({**CONNECT_PARAMETERS, "AgentCooldownMinutes": "30"})
    caller = RecordingCaller()
    h.app.service.caller = caller
    for i in range(25):
        h.text(ANA, f"AGENT please {i}", message_id=f"m-agent-{i}")
    assert len(caller.calls) == 1
    assert h.sms.to(ANA) == [replies.AGENT_CALLING] + [replies.AGENT_ALREADY_CALLING] * 24
    assert segments(replies.AGENT_ALREADY_CALLING) == 1
    assert is_gsm7(replies.AGENT_ALREADY_CALLING)
    h.at(NOON + timedelta(minutes=30, seconds=1))
    h.text(ANA, "AGENT again", message_id="m-agent-late")
    assert len(caller.calls) == 2
    assert h.sms.to(ANA)[-1] == replies.AGENT_CALLING


def test_a_failed_call_back_does_not_hold_the_cooldown(stack_with: Any) -> None:
    h = stack_with(CONNECT_PARAMETERS)
    caller = RecordingCaller(fail=True)
    h.app.service.caller = caller
    h.text(ANA, "AGENT")
    caller.fail = False
    h.text(ANA, "AGENT")
    assert h.sms.to(ANA) == [replies.AGENT_FAILED, replies.AGENT_CALLING]
    assert len(caller.calls) == 1


def test_the_template_gives_the_inbound_function_the_cooldown(stack_with: Any) -> None:
    h = stack_with({"AgentCooldownMinutes": "45"})
    env = function_environment(h.deployed.outputs["InboundFunctionName"])
    assert str(env["AGENT_COOLDOWN_MINUTES"]) == "45"
    assert h.app.service.settings.agent_cooldown_minutes == 45


# -- unknown senders cost bounded writes ---------------------------------------------------------


def _state_writes(h: Harness) -> list[str]:
    """The ids written in the state table by the reply limiter (idempotency records aside)."""
    writes: list[str] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            key = params.get("Item") or params.get("Key") or {}
            ident = key.get("id", {}).get("S", "")
            if ident.startswith("unauthorised"):
                writes.append(f"{model.name} {ident.split('#')[0]}")

    client = h.app.service.limiter.client  # type: ignore[attr-defined]
    client.meta.events.register("before-parameter-build.dynamodb.*", record)
    return writes


def test_once_the_hourly_cap_is_spent_unknown_senders_cost_no_writes(stack_with: Any) -> None:
    h = stack_with({"UnauthorisedRepliesPerHour": "2"})
    writes = _state_writes(h)
    for i in range(2):
        h.text(f"+4477009002{i:02d}", "hi")
    assert len(writes) == 4  # a slot and the hour's count, for each of the two answered
    writes.clear()
    for i in range(2, 12):
        h.text(f"+4477009002{i:02d}", "hi")
    assert writes == []
    assert [len(h.sms.to(f"+4477009002{i:02d}")) for i in range(12)] == [1, 1] + [0] * 10


def test_a_retried_reply_counts_once_against_the_hourly_cap(stack_with: Any) -> None:
    sms = RecordingSms()
    h = stack_with({"UnauthorisedRepliesPerHour": "2"}, sms)
    h.die_before_replying(2)
    first = h.event(h.message(STRANGER, "hi", "m-stranger-retried"))
    for _ in range(2):
        with pytest.raises(InvocationDied):
            h.redeliver(first)
    h.redeliver(first)
    others = ["+447700900301", "+447700900302"]
    for number in others:
        h.text(number, "hi")
    assert [len(h.sms.to(n)) for n in [STRANGER, *others]] == [1, 1, 0]


def _state_items(h: Harness) -> dict[str, int]:
    """How many items the state table holds, by kind (the id up to its first ``#``)."""
    counts: dict[str, int] = {}
    for item in h.table(h.deployed.outputs["StateTableName"]):
        ident = str(item["id"])
        # Powertools keys its records "<function>.<module>.<qualified name>#<hash>".
        kind = "idempotency" if ".InboundApp._process#" in ident else ident.partition("#")[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_unknown_senders_write_a_bounded_number_of_state_items(stack_with: Any) -> None:
    h = stack_with({"UnauthorisedRepliesPerHour": "5"})
    strangers = [f"+4477009003{i:02d}" for i in range(100)]
    for n, number in enumerate(strangers):
        for k in range(3):
            event = h.event(h.message(number, f"hi {k}", f"m-unknown-{n}-{k}"))
            h.redeliver(event)
            h.redeliver(event)  # delivered again: nothing more is written
    # Five numbers answered (a slot and a reply marker each), one count for the hour, the
    # number's send schedule; no idempotency record for any of the 300 messages.
    assert _state_items(h) == {"unauthorised": 5, "reply": 5, "unauthorised-cap": 1, "send-rate": 1}
    assert sum(len(h.sms.to(n)) for n in strangers) == 5
    # An allowed sender's message still goes through once-per-message processing.
    message = h.message(ANA, "REQUEST", "m-allowed")
    for _ in range(3):
        h.deliver(message)
    assert h.sms.to(ANA) == [replies.NO_OPEN_SHIFTS]
    assert _state_items(h) == {
        "unauthorised": 5,
        "reply": 6,
        "unauthorised-cap": 1,
        "send-rate": 1,
        "idempotency": 1,
    }


# -- items typed in the console, as the AWS sample teaches ---------------------------------------


def test_console_items_in_any_case_are_listed_and_booked(h: Harness) -> None:
    h.add_shift("xyz123", "15/08 nights", status="Available")
    h.add_shift("Abc124", "16/08 early", status="AVAILABLE")
    h.add_shift("XYZ125", "17/08 late", status="available")
    h.text(ANA, "REQUEST")
    assert h.sms.to(ANA) == [
        "Open shifts: Abc124 16/08 early; XYZ125 17/08 late; xyz123 15/08 nights. "
        "Reply a code to book."
    ]
    h.text(ANA, "XYZ123 abc124")
    assert h.sms.to(ANA)[-1] == "Booked: XYZ123, ABC124. Thank you!"
    assert (h.shift("xyz123")["shift_status"], h.shift("xyz123")["employee"]) == ("taken", ANA)
    assert h.shift("Abc124")["employee"] == ANA
    assert h.shift("xyz123")["shift_info"] == "15/08 nights"  # the operator's item, kept
    h.text(ANA, "DROP xyz123")
    assert h.sms.to(ANA)[-1] == "Released: XYZ123."
    assert "employee" not in h.shift("xyz123")


def test_a_console_id_in_mixed_case_is_booked_and_dropped_by_its_code(h: Harness) -> None:
    deliver_shift_keys(h.deployed.outputs)  # what earlier tests wrote
    h.add_shift("xYz123", "15/08 nights", status="Available")
    h.add_shift("aBC124", "16/08 early")
    assert deliver_shift_keys(h.deployed.outputs) == 2  # the two console items inserted
    h.text(ANA, "xyz123")
    h.text(BEN, "ABC124")
    assert h.sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    assert h.sms.to(BEN) == ["Booked: ABC124. Thank you!"]
    assert (h.shift("xYz123")["shift_status"], h.shift("xYz123")["employee"]) == ("taken", ANA)
    assert h.shift("xYz123")["shift_info"] == "15/08 nights"  # the operator's item, kept
    h.text(ANA, "DROP XYZ123")
    assert h.sms.to(ANA)[-1] == "Released: XYZ123."
    assert "employee" not in h.shift("xYz123")
    # The two aliases' inserts reached it (and were left alone); no booking or release did.
    assert deliver_shift_keys(h.deployed.outputs) == 2
    assert h.shift("key#XYZ123") == {"shift_id": "key#XYZ123", "stored_id": "xYz123"}


def test_a_console_item_without_a_status_is_neither_offered_nor_booked(h: Harness) -> None:
    h.deployed.dynamodb.put_item(
        TableName=h.shifts_table,
        Item={"shift_id": {"S": "XYZ126"}, "shift_info": {"S": "18/08 nights"}},
    )
    h.text(ANA, "REQUEST")
    h.text(ANA, "XYZ126")
    assert h.sms.to(ANA) == [
        replies.NO_OPEN_SHIFTS,
        "No longer available: XYZ126. Reply WAIT XYZ126 to join its waitlist.",
    ]
    assert h.shift("XYZ126") == {"shift_id": "XYZ126", "shift_info": "18/08 nights"}
    # What the operator's tools read (campaign create offers only available shifts).
    shift = h.app.service.shifts.get("XYZ126")
    assert shift is not None
    assert (shift.available, shift.status_text) == (False, "no status")
