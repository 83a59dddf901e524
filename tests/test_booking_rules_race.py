"""The same person texts two shifts that break a rule together, in two messages handled at
the same moment by two invocations: at most one is booked, every round (overlap, rest and
weekly hours), and one timed shift is still booked by at most one person.

Two apps, each with its own boto3 clients, against a ThreadedMotoServer that handles one
request at a time (as DynamoDB applies a transaction atomically; see test_booking_race).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.models import Shift, StaffMember
from shiftsms.handlers import inbound
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms
from tests.test_booking_race import moto_server  # noqa: F401 (the fixture)

ROUNDS = 20
FIRST_MONDAY = date(2027, 1, 4)


def _span(day: date, start: int, hours: int) -> tuple[str, str]:
    """``hours`` from ``day`` at ``start`` o'clock UTC, as stored."""
    first = datetime(day.year, day.month, day.day, start, tzinfo=UTC)
    last = first + timedelta(hours=hours)
    return first.isoformat(timespec="minutes"), last.isoformat(timespec="minutes")


# For a round's Monday: the two shifts that cannot both be booked, the shifts held before,
# and the words the refusal carries.
Scenario = Callable[[date], tuple[tuple[str, str], tuple[str, str], list[tuple[str, str]], str]]

SCENARIOS: dict[str, Scenario] = {
    # 19:00-07:00, then 05:00-13:00 the next morning: they share two hours.
    "overlap": lambda d: (_span(d, 19, 12), _span(d + timedelta(days=1), 5, 8), [], "overlaps"),
    # 19:00-07:00, then 16:00-22:00 the next day: 9 h rest.
    "rest": lambda d: (_span(d, 19, 12), _span(d + timedelta(days=1), 16, 6), [], "rest"),
    # 36 h held in the week; two more 12 h days make 60 h.
    "weekly": lambda d: (
        _span(d + timedelta(days=3), 7, 12),
        _span(d + timedelta(days=4), 7, 12),
        [_span(d + timedelta(days=i), 7, 12) for i in range(3)],
        "in 7 days",
    ),
}


def _message(phone: str, body: str, message_id: str) -> str:
    return json.dumps(
        {
            "originationNumber": phone,
            "destinationNumber": ORIGINATION,
            "messageKeyword": "",
            "messageBody": body,
            "inboundMessageId": message_id,
        }
    )


def _run_together(apps: list[Any], events: list[dict[str, Any]]) -> None:
    start = threading.Barrier(len(events))
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait(timeout=30)
        try:
            assert apps[i].handle(events[i], None) == {"handled": 1, "dropped": 0}
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def _two_invocations(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[RecordingSms, list[inbound.InboundApp], ShiftsTable]:
    """The template on the threaded server, two inbound apps on it (two invocations) sharing
    one recorded phone network, and the shifts table that keeps each person's shifts."""
    # A fast number: replies go at once (the shared send schedule is not under test here).
    info = deploy_template(parameters={"SendRatePerSecond": "1000"})
    settings = Settings.from_env(function_environment(info.outputs["InboundFunctionName"]))
    sms = RecordingSms()
    session = boto3.session.Session(region_name=REGION)
    monkeypatch.setattr(inbound, "client", lambda service: aws_client(service, session))
    apps = [inbound.InboundApp(settings, sms=sms) for _ in range(2)]
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    out = info.outputs
    return sms, apps, ShiftsTable(dynamodb, out["ShiftsTableName"], out["StaffTableName"])


@pytest.mark.slow
def test_two_texts_at_once_never_break_a_rule_together(
    moto_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sms, apps, shifts = _two_invocations(moto_server, monkeypatch)
    staff = apps[0].service.staff

    for kind, scenario in SCENARIOS.items():
        for round_no in range(ROUNDS):
            monday = FIRST_MONDAY + timedelta(weeks=2 * round_no)
            phone = f"+44770091{round_no:02d}{list(SCENARIOS).index(kind)}0"
            staff.put(StaffMember(phone=phone))
            first, second, held, words = scenario(monday)
            tag = f"{kind[:2].upper()}{round_no:02d}"
            for n, span in enumerate(held):
                shifts.put(Shift(f"{tag}H{n}", starts_at=span[0], ends_at=span[1]))
            if held:
                codes = " ".join(f"{tag}H{n}" for n in range(len(held)))
                apps[0].handle(sns_event(_message(phone, codes, f"{tag}-held")), None)
            a, b = f"{tag}A", f"{tag}B"
            shifts.put(Shift(a, starts_at=first[0], ends_at=first[1]))
            shifts.put(Shift(b, starts_at=second[0], ends_at=second[1]))
            before = len(sms.sent)
            _run_together(
                apps,
                [
                    sns_event(_message(phone, a, f"{tag}-a")),
                    sns_event(_message(phone, b, f"{tag}-b")),
                ],
            )
            booked = [c for c in (a, b) if (s := shifts.get(c)) and s.employee == phone]
            assert len(booked) == 1, (kind, round_no, booked)
            replies = sorted(r.body for r in sms.sent[before:])
            assert len(replies) == 2
            assert f"Booked: {booked[0]}. Thank you!" in replies, replies
            (refused,) = [r for r in replies if not r.startswith("Booked")]
            loser = b if booked[0] == a else a
            assert refused.startswith(f"{loser} ") and words in refused, refused
            # The person item holds exactly what was booked, soonest first.
            held_now = [h.shift_id for h in shifts.held(phone)[0]]
            assert held_now == [*(f"{tag}H{n}" for n in range(len(held))), booked[0]]


@pytest.mark.slow
def test_two_people_texting_one_timed_shift_at_once_one_wins(
    moto_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sms, apps, shifts = _two_invocations(moto_server, monkeypatch)
    people = ["+447700920001", "+447700920002"]
    for phone in people:
        apps[0].service.staff.put(StaffMember(phone=phone))
    for round_no in range(ROUNDS):
        code = f"ONE{round_no:02d}"
        # A week and a day apart: whoever won earlier rounds is never near the weekly cap or
        # the rest limit, so the loser's one reason is the race itself.
        start, end = _span(FIRST_MONDAY + timedelta(days=8 * round_no), 7, 8)
        shifts.put(Shift(code, starts_at=start, ends_at=end))
        before = len(sms.sent)
        _run_together(
            apps, [sns_event(_message(p, code, f"{code}-{i}")) for i, p in enumerate(people)]
        )
        shift = shifts.get(code)
        assert shift is not None and shift.employee in people
        assert sorted(r.body for r in sms.sent[before:]) == [
            f"Booked: {code}. Thank you!",
            f"No longer available: {code}. Reply WAIT {code} to join its waitlist.",
        ]
        holders = [p for p in people if code in [h.shift_id for h in shifts.held(p)[0]]]
        assert holders == [shift.employee]
