"""A shift is never awarded or booked twice: the window's award races a first-come reply
after the window, and two timer invocations race to close one window. 20 rounds each.

The real adapters and handler logic (due work, claim windows, checked booking, inbound
handler) run in threads, each with its own boto3 clients, against a ``ThreadedMotoServer``
holding the deployed template that handles one request at a time, as DynamoDB serialises an
item's writes (see tests/test_booking_race.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import boto3
import pytest

from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.core.award import AwardRule
from shiftsms.core.models import StaffMember
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.handlers import due, inbound
from shiftsms.services.due_runner import DueRunner
from shiftsms.services.windows import open_windows
from shiftsms.settings import DueSettings, Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms
from tests.test_booking_race import moto_server  # noqa: F401 - the fixture

ROUNDS = 20
REPLIERS = [f"+44770091{i:04d}" for i in range(5)]
LATE = "+447700919999"  # texts the code just after the window closed

pytestmark = pytest.mark.slow


class Stack:
    """The deployed stack and an app factory per thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.info = deploy_template(parameters={"SendRatePerSecond": "1000"})
        out = self.info.outputs
        session = boto3.session.Session(region_name=REGION)
        factory: Callable[[str], Any] = lambda service: aws_client(service, session)  # noqa: E731
        monkeypatch.setattr(inbound, "client", factory)
        monkeypatch.setattr(due, "client", factory)
        self.factory = factory
        self.due_settings = DueSettings.from_env(function_environment(out["DueFunctionName"]))
        self.inbound_settings = Settings.from_env(function_environment(out["InboundFunctionName"]))
        self.dynamodb = factory("dynamodb")
        self.sqs = factory("sqs")
        self.sms = RecordingSms()
        first = inbound.InboundApp(self.inbound_settings, sms=self.sms)
        for number in [*REPLIERS, LATE]:
            first.service.staff.put(StaffMember(phone=number))

    def runner(self) -> DueRunner:
        """A due-work run with its own clients (one timer invocation)."""
        dynamodb = self.factory("dynamodb")
        settings = self.due_settings
        return DueRunner(
            DynamoDueWork(dynamodb, settings.state_table), due.handlers(settings, dynamodb)
        )

    def open_round(self, code: str, closes_at: datetime) -> None:
        self.dynamodb.put_item(
            TableName=self.info.outputs["ShiftsTableName"],
            Item={
                "shift_id": {"S": code},
                "shift_info": {"S": "Sat 12/12 nights"},
                "shift_status": {"S": "available"},
            },
        )
        windows = DynamoClaimWindows(self.dynamodb, self.due_settings.state_table)
        open_windows(
            windows,
            DynamoDueWork(self.dynamodb, self.due_settings.state_table),
            campaign_id=f"C-{code}",
            shift_ids=(code,),
            closes_at=closes_at,
            award=AwardRule.FEWEST_HOURS,
        )
        for i, phone in enumerate(REPLIERS):
            assert windows.register(code, phone, closes_at - timedelta(seconds=50 - i))

    def queued_texts(self) -> list[ReplyJob]:
        """Every reply the award queued this round (the queue is emptied)."""
        url = self.info.outputs["ReplyQueueUrl"]
        jobs: list[ReplyJob] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return jobs
            for message in got:
                jobs.append(ReplyJob.from_json(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def holder(self, code: str) -> tuple[str, str]:
        item = self.dynamodb.get_item(
            TableName=self.info.outputs["ShiftsTableName"], Key={"shift_id": {"S": code}}
        )["Item"]
        return item["shift_status"]["S"], item["employee"]["S"]


@pytest.fixture
def stack(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:  # noqa: F811
    yield Stack(monkeypatch)


def _race(*work: Callable[[], None]) -> None:
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        start.wait(timeout=30)
        try:
            job()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def _close(runner: DueRunner, ran: list[list[str]] | None = None) -> None:
    report = runner.run(datetime.now(UTC))
    if ran is not None:
        ran.append(report.ran)


def _reply(app: inbound.InboundApp, event: dict[str, Any], delay: float) -> None:
    time.sleep(delay)
    assert app.handle(event, None) == {"handled": 1, "dropped": 0}


def test_the_award_racing_a_first_come_reply_after_the_window_books_once(stack: Stack) -> None:
    winners: Counter[str] = Counter()
    for round_no in range(ROUNDS):
        code = f"WIN{round_no:03d}"
        closes_at = datetime.now(UTC) - timedelta(seconds=1)  # just closed
        stack.open_round(code, closes_at)
        app = inbound.InboundApp(stack.inbound_settings, sms=stack.sms)
        runner = stack.runner()
        sent_before = len(stack.sms.sent)
        message = {
            "originationNumber": LATE,
            "destinationNumber": ORIGINATION,
            "messageKeyword": "",
            "messageBody": code,
            "inboundMessageId": f"late-{round_no}",
        }
        # The late reply starts a little later in some rounds, so each side wins some.
        _race(
            partial(_close, runner),
            partial(_reply, app, sns_event(json.dumps(message)), (round_no % 4) * 0.1),
        )
        status, holder = stack.holder(code)
        (late_reply,) = [s.body for s in stack.sms.sent[sent_before:]]
        texts = {job.to: job.text for job in stack.queued_texts()}
        booked = [p for p, t in texts.items() if t.startswith("Booked")]
        booked += [LATE] if late_reply.startswith("Booked") else []
        assert status == "taken"
        assert booked == [holder], (round_no, texts, late_reply)
        assert sorted(texts) == sorted(REPLIERS)  # each replier told once, the late one not
        winners["window" if holder in REPLIERS else "first come"] += 1
        if holder == LATE:
            assert set(texts.values()) == {
                f"{code} went to someone else this time. Reply REQUEST for open shifts."
            }
        else:
            assert holder == REPLIERS[0]  # equal hours: the earliest reply
            assert late_reply == (
                f"No longer available: {code}. Reply WAIT {code} to join its waitlist."
            )
    # Both sides won some rounds: the race was run, not one side alone.
    assert set(winners) == {"window", "first come"}, winners


def test_two_timer_invocations_close_one_window_once(stack: Stack) -> None:
    for round_no in range(ROUNDS):
        code = f"TWO{round_no:03d}"
        stack.open_round(code, datetime.now(UTC) - timedelta(seconds=1))
        first, second = stack.runner(), stack.runner()
        ran: list[list[str]] = []
        _race(partial(_close, first, ran), partial(_close, second, ran))
        assert sorted(len(r) for r in ran) == [0, 1], ran  # one run claimed it
        status, holder = stack.holder(code)
        assert (status, holder) == ("taken", REPLIERS[0])
        texts = stack.queued_texts()
        assert sorted(j.to for j in texts) == sorted(REPLIERS)  # once each
        assert [j.to for j in texts if j.text.startswith("Booked")] == [REPLIERS[0]]
