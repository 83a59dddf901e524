"""Items typed by hand in the DynamoDB console never break a listing or a count.

Each bad item is shown as best it can be, or skipped, with one warning (a line on stderr in
the CLI, a log line in Lambda); the good items around it come out intact. The property test
writes arbitrary DynamoDB attribute values into items and checks every listing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from lambdas.inbound import handler
from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.models import Shift, StaffMember
from shiftsms.deploy.deployer import Deployer
from shiftsms.handlers import inbound
from shiftsms.services.allowlist import AllowlistService
from shiftsms.services.shifts import ShiftService
from shiftsms.settings import Settings
from tests.clitools import invoke, table_rows
from tests.conftest import (
    ORIGINATION,
    REGION,
    Deployed,
    function_environment,
    module_stack,
)
from tests.conftest import sns_event as make_sns_event
from tests.fakes import RecordingSms
from tests.test_inbound_handler import LambdaContext

ANA = "+447700900123"
BEN = "+447700900456"
ODD = "+447700900555"
# What shifts list --json shows of a shift with no time, location or role.
UNTIMED = {"starts_at": None, "ends_at": None, "location": None, "role": None, "past": False}
GOOD_SHIFTS = {
    "GOOD1": {"shift_id": "GOOD1", "shift_info": "16/08 day", "shift_status": "available"},
    "GOOD2": {"shift_id": "GOOD2", "shift_info": "17/08 late", "shift_status": "taken"},
}


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    """The template deployed once for this module (each test starts from empty tables)."""
    with module_stack() as deployed:
        yield deployed


def _empty(client: Any, table: str, key: str) -> None:
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            client.delete_item(TableName=table, Key={key: item[key]})


@pytest.fixture
def deployed(stack: Deployed) -> Deployed:
    """The module's stack with empty shifts and allow-list tables."""
    _empty(stack.dynamodb, stack.outputs["ShiftsTableName"], "shift_id")
    _empty(stack.dynamodb, stack.outputs["StaffTableName"], "phone")
    return stack


@pytest.fixture
def reporter(deployed: Deployed) -> Deployer:
    """What ``shiftsms status`` runs (its clients made once, not once per example)."""
    return Deployer(boto3.session.Session(region_name=REGION))


def put_shift(deployed: Deployed, **attrs: Any) -> None:
    """Write a shift item exactly as given (DynamoDB JSON), as the console would."""
    deployed.dynamodb.put_item(TableName=deployed.outputs["ShiftsTableName"], Item=attrs)


def put_staff(deployed: Deployed, **attrs: Any) -> None:
    """Write an allow-list item exactly as given (DynamoDB JSON), as the console would."""
    deployed.dynamodb.put_item(TableName=deployed.outputs["StaffTableName"], Item=attrs)


def put_good(deployed: Deployed) -> None:
    for shift in GOOD_SHIFTS.values():
        put_shift(deployed, **{k: {"S": v} for k, v in shift.items()})
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.put(StaffMember(phone=ANA, name="Ana", groups=("nights",)))


def shifts_table(deployed: Deployed) -> ShiftsTable:
    return ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])


def staff_table(deployed: Deployed) -> StaffTable:
    return StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])


# -- the CLI: shown as best it can be, one warning line ---------------------------------------


def test_allowlist_list_shows_an_entry_typed_with_wrong_types(deployed: Deployed) -> None:
    put_good(deployed)
    put_staff(
        deployed,
        phone={"S": ODD},
        name={"N": "42"},
        campaigns={"S": "false"},
        opted_out={"S": "TRUE"},
        groups={"N": "7"},
    )
    result = invoke("allowlist", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {m["phone"]: m for m in json.loads(result.stdout)}
    assert listed[ODD] == {
        "phone": ODD,
        "name": "42",
        "campaigns": False,
        "opted_out": True,
        "groups": [],
        "roles": [],
        "language": "en",
        "added_at": None,
        "snoozed_until": None,
    }
    assert listed[ANA]["name"] == "Ana"
    assert listed[ANA]["groups"] == ["nights"]
    assert result.stderr == (
        "Warning: allow-list entry +44********55 shown as read: name is a number, not text "
        "(read as its text); campaigns is text, not a boolean (read as no); opted_out is "
        "text, not a boolean (read as yes); groups is a number, not a string set (left out)\n"
    )

    human = invoke("allowlist", "list")
    assert human.exit_code == 0, human.output
    rows = table_rows(human.stdout)
    assert rows[0] == [
        "Phone",
        "Name",
        "Campaigns",
        "Opted out",
        "Snoozed until",
        "Groups",
        "Roles",
        "Language",
        "Added",
    ]
    by_phone = {row[0]: row for row in rows[1:]}
    assert by_phone.keys() == {ANA, ODD}
    assert by_phone[ODD] == [ODD, "42", "no", "yes", "", "", "", "en", ""]
    assert by_phone[ANA][:6] == [ANA, "Ana", "yes", "no", "", "nights"]
    assert len(human.stderr.splitlines()) == 1


def test_shifts_list_shows_a_shift_typed_with_wrong_types(deployed: Deployed) -> None:
    put_good(deployed)
    put_shift(
        deployed,
        shift_id={"S": "ODD1"},
        shift_info={"NULL": True},
        shift_status={"S": "taken"},
        employee={"L": [{"S": ANA}]},
        booked_at={"N": "1764600000"},
    )
    result = invoke("shifts", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {s["shift_id"]: s for s in json.loads(result.stdout)}
    assert listed["ODD1"] == {
        "shift_id": "ODD1",
        "shift_info": "",
        "shift_status": "taken",
        "employee": None,
        "booked_at": "1764600000",
        **UNTIMED,
    }
    for shift_id, good in GOOD_SHIFTS.items():
        assert listed[shift_id] == {**good, "employee": None, "booked_at": None, **UNTIMED}
    assert result.stderr == (
        "Warning: shift ODD1 shown as read: shift_info is null (left out); employee is a "
        "list, not text (left out); booked_at is a number, not text (read as its text)\n"
    )

    human = invoke("shifts", "list", "--status", "taken")
    assert human.exit_code == 0, human.output
    assert table_rows(human.stdout)[1:] == [
        ["GOOD2", "17/08 late", "taken", "", ""],
        ["ODD1", "", "taken", "", "1764600000"],
    ]


def test_status_counts_an_allow_list_with_bad_entries(deployed: Deployed) -> None:
    put_good(deployed)
    put_staff(deployed, phone={"S": ODD}, groups={"BOOL": True}, name={"M": {"x": {"S": "y"}}})
    put_staff(deployed, phone={"S": "07700 900999"}, campaigns={"N": "2"})
    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["allow_list"] == 3
    assert report["shifts"] == {"available": 1, "taken": 1}


# -- Lambda paths: skipped with a log line ---------------------------------------------------


def test_request_skips_shifts_staff_could_not_book_by_text(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    put_good(deployed)
    for bad in ("A B", "STOP"):  # not a code, and an opt-out keyword: neither can be texted
        put_shift(deployed, shift_id={"S": bad}, shift_status={"S": "available"})
    sms = RecordingSms()
    session = boto3.session.Session(region_name=REGION)
    monkeypatch.setattr(inbound, "client", lambda service: aws_client(service, session))
    env = function_environment(deployed.outputs["InboundFunctionName"])
    app = inbound.InboundApp(Settings.from_env(env), sms=sms)
    monkeypatch.setattr(inbound, "app", lambda: app)
    message = {
        "originationNumber": ANA,
        "destinationNumber": ORIGINATION,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "REQUEST",
        "inboundMessageId": "in-bad-items-1",
    }
    with caplog.at_level(logging.WARNING, logger="shiftsms.items"):
        result = handler(make_sns_event(message), LambdaContext())
    assert result == {"handled": 1, "dropped": 0}
    assert sms.to(ANA) == ["Open shifts: GOOD1 16/08 day. Reply a code to book."]
    skipped = [r.getMessage() for r in caplog.records if r.name == "shiftsms.items"]
    why = "not a shift code staff can text back (2-20 letters, digits or '-', no keyword)"
    assert skipped == [f"shift A B skipped: {why}", f"shift STOP skipped: {why}"]


def test_a_listing_skips_ids_staff_could_not_text_on_by_start_too(
    deployed: Deployed, caplog: pytest.LogCaptureFixture
) -> None:
    """Items with a start key (timed or untimed) are listed from by-start: skipped there."""
    table = shifts_table(deployed)
    at = "2026-12-01T08:00:00+00:00", "2026-12-01T16:00:00+00:00"
    table.put(Shift("HELP", "01/12 day", starts_at=at[0], ends_at=at[1]))
    table.put(Shift("T1", "01/12 day", starts_at=at[0], ends_at=at[1]))
    table.put(Shift("A B", "any day"))
    table.put(Shift("U1", "any day"))
    with caplog.at_level(logging.WARNING, logger="shiftsms.items"):
        page = table.open_listing((), datetime(2026, 11, 28, tzinfo=UTC), None, 20)
    assert ([s.shift_id for s in page.shifts], page.beyond) == (["T1", "U1"], 0)
    skipped = [r.getMessage() for r in caplog.records if r.name == "shiftsms.items"]
    why = "not a shift code staff can text back (2-20 letters, digits or '-', no keyword)"
    assert skipped == [f"shift HELP skipped: {why}", f"shift A B skipped: {why}"]


def test_a_page_of_bad_shifts_is_filled_from_the_items_after_it(deployed: Deployed) -> None:
    for bad in ("A B", "A C", "HELP"):
        put_shift(deployed, shift_id={"S": bad}, shift_status={"S": "available"})
    for good in ("X1", "X2", "X3"):
        put_shift(deployed, shift_id={"S": good}, shift_status={"S": "available"})
    page, more = shifts_table(deployed).open_page(None, 2)
    assert [s.shift_id for s in page] == ["X1", "X2"]
    assert more is True
    page, more = shifts_table(deployed).open_page("X2", 2)
    assert [s.shift_id for s in page] == ["X3"]
    assert more is False


def test_recipients_skip_entries_that_cannot_or_must_not_be_texted(
    deployed: Deployed, caplog: pytest.LogCaptureFixture
) -> None:
    put_good(deployed)
    pool = {"recipient_pool": {"S": "all"}}
    put_staff(deployed, phone={"S": "07700 900555"}, **pool)
    put_staff(deployed, phone={"S": BEN}, opted_out={"BOOL": True}, **pool)
    put_staff(deployed, phone={"S": ODD}, campaigns={"S": "no"}, **pool)
    with caplog.at_level(logging.WARNING, logger="shiftsms.items"):
        phones = [m.phone for m in staff_table(deployed).recipients()]
    assert phones == [ANA]
    assert sorted(r.getMessage() for r in caplog.records if r.name == "shiftsms.items") == [
        "campaign recipient +44********55 skipped: campaigns is text, not a boolean "
        "(read as no); campaigns off, yet in the recipients index",
        "campaign recipient +44********56 skipped: opted out, yet in the recipients index",
        "campaign recipient 077*******55 skipped: phone is not an E.164 number",
    ]


# -- the property: arbitrary attribute values never break a listing ---------------------------

_text = st.text(max_size=12)
_number = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False),
).map(lambda n: {"N": str(n)})
_scalar = st.one_of(
    _text.map(lambda s: {"S": s}),
    _number,
    st.binary(max_size=6).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.sets(st.text(min_size=1, max_size=6), min_size=1, max_size=3).map(
        lambda s: {"SS": sorted(s)}
    ),
    st.sets(st.integers(-999, 999), min_size=1, max_size=3).map(
        lambda s: {"NS": [str(n) for n in sorted(s)]}
    ),
)
attribute_values = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=4,
)
SHIFT_FIELDS = ("shift_info", "employee", "booked_at", "booking_ref", "release_ref", "extra")
STAFF_FIELDS = ("name", "campaigns", "opted_out", "groups", "added_at", "list_cursor", "extra")
_status = st.one_of(st.sampled_from(["available", "taken"]).map(lambda s: {"S": s}), _scalar)


def _fields(names: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(names), attribute_values, max_size=len(names))


def _shown(stored: dict[str, Any], name: str, shown: str | None) -> None:
    """Text is shown as stored; what cannot be text (containers, binary, null) not at all."""
    value = stored.get(name)
    if value is None:
        return
    (kind,) = value
    if kind == "S":
        assert shown == (value["S"] or shown), (name, value, shown)
    elif kind in ("N", "BOOL"):
        assert shown, (name, value, shown)
    else:
        assert not shown, (name, value, shown)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shift_id=st.text(min_size=1, max_size=20).filter(lambda s: s not in GOOD_SHIFTS),
    status=_status,
    shift_attrs=_fields(SHIFT_FIELDS),
    phone=st.one_of(st.just(BEN), st.text(min_size=1, max_size=16)).filter(lambda p: p != ANA),
    pool=st.one_of(st.none(), st.just({"S": "all"}), _scalar),
    staff_attrs=_fields(STAFF_FIELDS),
)
def test_arbitrary_attribute_values_never_break_a_listing(
    deployed: Deployed,
    reporter: Deployer,
    shift_id: str,
    status: dict[str, Any],
    shift_attrs: dict[str, Any],
    phone: str,
    pool: dict[str, Any] | None,
    staff_attrs: dict[str, Any],
) -> None:
    put_good(deployed)
    shift_item = {"shift_id": {"S": shift_id}, "shift_status": status, **shift_attrs}
    staff_item = {"phone": {"S": phone}, **staff_attrs}
    if pool is not None:
        staff_item["recipient_pool"] = pool
    try:
        put_shift(deployed, **shift_item)
        put_staff(deployed, **staff_item)
    except ClientError as exc:  # DynamoDB refuses it too (an empty string as an index key)
        if exc.response["Error"]["Code"] != "ValidationException":
            raise
        reject()
    try:
        shifts = {s.shift_id: s for s in ShiftService(shifts_table(deployed)).listing()}
        for good_id, good in GOOD_SHIFTS.items():
            assert shifts[good_id] == Shift(**good)
        if shift_id in shifts:
            bad = shifts[shift_id]
            for name in ("shift_info", "employee", "booked_at"):
                _shown(shift_attrs, name, getattr(bad, name))

        members = {m.phone: m for m in AllowlistService(staff_table(deployed)).members()}
        assert members[ANA].name == "Ana"
        assert members[ANA].groups == ("nights",)
        _shown(staff_attrs, "name", members[phone].name)
        _shown(staff_attrs, "added_at", members[phone].added_at)

        recipients = [m.phone for m in staff_table(deployed).recipients()]
        assert ANA in recipients
        if phone in recipients:  # only a textable entry that the sparse index key names
            assert pool == {"S": "all"}
            assert re.fullmatch(r"\+[1-9]\d{5,14}", phone)
            assert recipients.count(phone) == 1

        page, _ = shifts_table(deployed).open_page(None, 20)
        assert "GOOD1" in [s.shift_id for s in page]

        counted = reporter.status()
        assert counted.allow_list == 2
    finally:
        shifts_table(deployed).client.delete_item(
            TableName=deployed.outputs["ShiftsTableName"], Key={"shift_id": {"S": shift_id}}
        )
        staff_table(deployed).client.delete_item(
            TableName=deployed.outputs["StaffTableName"], Key={"phone": {"S": phone}}
        )
