"""Twenty sender invocations take a place in one person's daily cap at once: exactly the cap
get one. Each thread has its own boto3 client against a ``ThreadedMotoServer`` that handles
one request at a time, as DynamoDB serialises one item's writes (see test_booking_race)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import boto3
import pytest

from shiftsms.aws.offer_cap import DynamoOfferCap
from shiftsms.core.self_service import cap_day
from shiftsms.core.shift_times import time_zone
from tests.conftest import REGION, deploy_template
from tests.test_booking_race import moto_server  # noqa: F401 (the fixture)

ANA = "+447700900101"
SENDERS = 20
CAP = 3
ROUNDS = 5


@pytest.mark.slow
@pytest.mark.usefixtures("moto_server")
def test_concurrent_senders_never_pass_the_daily_cap() -> None:
    info = deploy_template()
    table = info.outputs["StateTableName"]
    session = boto3.session.Session(region_name=REGION)
    at = datetime(2026, 8, 15, 9, tzinfo=UTC)
    for round_ in range(ROUNDS):
        day = cap_day(at, time_zone("Europe/London")) + f"-r{round_}"
        got = _race(table, session, day, at)
        assert sum(got) == CAP, f"round {round_}: {sum(got)} places for a cap of {CAP}"


def _race(table: str, session: boto3.session.Session, day: str, at: datetime) -> list[bool]:
    """Every sender takes a place for its own campaign at once; who got one."""
    caps = [DynamoOfferCap(session.client("dynamodb"), table) for _ in range(SENDERS)]
    start = threading.Barrier(SENDERS)
    got = [False] * SENDERS

    def take(i: int) -> None:
        start.wait(timeout=10)
        got[i] = caps[i].take(ANA, day, f"c{i}#run", CAP, at)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return got
