"""Held offers never book a shift twice: races on a ThreadedMotoServer, 20 rounds each.

The real inbound handler logic (allow list, idempotency, conditional writes, replies) runs in
threads, each with its own boto3 client, against one server that handles one request at a
time (as DynamoDB serialises an item's writes; see test_booking_race.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import boto3
import pytest

from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core import replies
from shiftsms.core.models import BookingOutcome, Shift, StaffMember
from shiftsms.handlers import inbound
from shiftsms.services.waitlist import WaitlistService
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms
from tests.test_booking_race import moto_server  # noqa: F401  (the fixture)

ROUNDS = 20
DELAYS = (0.0, 0.002, 0.01, 0.5)
OTHERS = 8
ANA, BEN, CAL = "+447700900101", "+447700900102", "+447700900103"
STAFF = [ANA, BEN, CAL, *(f"+4477009002{i:02d}" for i in range(OTHERS))]


def _text(sender: str, body: str, message_id: str) -> dict[str, Any]:
    return sns_event(
        json.dumps(
            {
                "originationNumber": sender,
                "destinationNumber": ORIGINATION,
                "messageKeyword": "",
                "messageBody": body,
                "inboundMessageId": message_id,
            }
        )
    )


def _together(calls: list[Callable[[], object]]) -> None:
    """Run ``calls`` in threads released at one moment; re-raise the first failure."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        start.wait(timeout=30)
        try:
            call()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def _after(delay: float, call: Callable[[], object]) -> object:
    time.sleep(delay)
    return call()


class Stack:
    """The deployed stack with one inbound app per thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, apps: int) -> None:
        info = deploy_template(parameters={"SendRatePerSecond": "1000"})
        settings = Settings.from_env(function_environment(info.outputs["InboundFunctionName"]))
        self.sms = RecordingSms()
        session = boto3.session.Session(region_name=REGION)
        monkeypatch.setattr(inbound, "client", lambda service: aws_client(service, session))
        self.apps = [inbound.InboundApp(settings, sms=self.sms) for _ in range(apps)]
        for number in STAFF:
            self.apps[0].service.staff.put(StaffMember(phone=number))
        dynamodb = session.client("dynamodb")
        self.shifts = ShiftsTable(dynamodb, settings.shifts_table, settings.staff_table)
        self.offers = DynamoOfferLog(dynamodb, settings.state_table)

    def waitlist(self, i: int) -> WaitlistService:
        service = self.apps[i].service.waitlist
        assert service is not None
        return service

    def handle(self, i: int, sender: str, body: str, message_id: str) -> Callable[[], object]:
        app = self.apps[i]
        return lambda: app.handle(_text(sender, body, message_id), None)

    def taken_by_ana(self, code: str, waiting: list[str]) -> None:
        """``code`` booked by ANA with ``waiting`` on its waitlist."""
        self.shifts.put(Shift(code, "Sat nights"))
        now = datetime.now(UTC)
        assert self.shifts.book(code, ANA, f"{code}-ana", now) is BookingOutcome.BOOKED
        for phone in waiting:
            self.shifts.join_waitlist(code, phone)


@pytest.mark.slow
def test_a_held_offer_racing_open_bookings_and_its_expiry_books_once(
    moto_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Stack(monkeypatch, OTHERS + 2)
    others = STAFF[3:]
    for round_no in range(ROUNDS):
        code = f"HOLD{round_no:03d}"
        stack.taken_by_ana(code, [BEN, CAL])
        stack.handle(0, ANA, f"DROP {code}", f"{code}-drop")()
        view = stack.shifts.waitlist_view(code)
        assert view is not None and view.held_for == BEN
        before = len(stack.sms.sent)
        late = datetime.now(UTC) + timedelta(hours=1)  # the expiry timer firing late
        calls = [stack.handle(1, BEN, "YES", f"{code}-yes")]
        calls += [stack.handle(2 + i, p, code, f"{code}-{i}") for i, p in enumerate(others)]
        calls.append(partial(stack.waitlist(0).expire, code, late))
        _together(calls)

        texts = [(t.to, t.body) for t in stack.sms.sent[before:]]
        refused = f"No longer available: {code}. Reply WAIT {code} to join its waitlist."
        assert sorted(b for t, b in texts if t in others) == [refused] * OTHERS
        shift = stack.shifts.waitlist_view(code)
        assert shift is not None
        held_for_cal = f"{code} is free again and held for you until"
        if shift.shift.employee == BEN:  # YES came first: the expiry found it booked
            assert [b for t, b in texts if t in (BEN, CAL)] == [f"Booked: {code}. Thank you!"]
            assert shift.waitlist == (CAL,)
        else:  # the expiry came first: CAL holds it, BEN's YES finds it gone
            assert shift.shift.available and shift.held_for == CAL, round_no
            assert [b for t, b in texts if t == BEN] == [replies.YES_WHICH]
            assert [b[: len(held_for_cal)] for t, b in texts if t == CAL] == [held_for_cal]


@pytest.mark.slow
def test_a_drop_racing_a_yes_never_books_twice(
    moto_server: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Stack(monkeypatch, 3)
    outcomes: set[str] = set()
    for round_no in range(ROUNDS):
        code = f"DROP{round_no:03d}"
        stack.taken_by_ana(code, [BEN])
        # BEN's latest offer named only this shift (a campaign text).
        stack.offers.record(BEN, [code], "campaign", datetime.now(UTC))
        before = len(stack.sms.sent)
        yes = stack.handle(1, BEN, "YES", f"{code}-yes")
        # Staggered so that the YES lands before the release, inside it and after the hold.
        delay = DELAYS[round_no % len(DELAYS)]
        _together(
            [
                stack.handle(0, ANA, f"DROP {code}", f"{code}-drop"),
                partial(_after, delay, yes),
                stack.handle(2, CAL, code, f"{code}-cal"),
            ]
        )
        texts = [(t.to, t.body) for t in stack.sms.sent[before:]]
        view = stack.shifts.waitlist_view(code)
        assert view is not None
        held = [b for t, b in texts if t == BEN and "is free again and held for you" in b]
        assert len(held) == 1, texts  # the DROP always holds it for BEN
        assert (ANA, f"Released: {code}.") in texts
        assert (CAL, f"No longer available: {code}. Reply WAIT {code} to join its waitlist.") in (
            texts
        )
        yes_reply = [b for t, b in texts if t == BEN and b not in held]
        if view.shift.employee == BEN:  # the YES came after the hold
            assert yes_reply == [f"Booked: {code}. Thank you!"]
            outcomes.add("booked")
        else:  # the YES came before it: the shift stays held for BEN
            assert view.shift.available and view.held_for == BEN, round_no
            assert yes_reply == [replies.YES_WHICH]
            outcomes.add("held")
        assert len(texts) == 4
    assert outcomes == {"booked", "held"}  # both orders happened
