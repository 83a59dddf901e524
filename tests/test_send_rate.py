"""The shared send-rate limiter, on the deployed state table, with a fake clock."""

from __future__ import annotations

import itertools
import math

import pytest

from shiftsms.aws.send_rate import DynamoSendRateLimiter
from tests.conftest import Deployed

START = 1_795_860_000.25
SEND_TAKES = 0.004


class FakeClock:
    """Time that moves only when someone sleeps or works."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds
        self.slept += seconds


def limiters(
    deployed: Deployed, rate: float, clock: FakeClock, n: int
) -> list[DynamoSendRateLimiter]:
    """``n`` senders sharing one table and one clock, as concurrent Lambda invocations do."""
    table = deployed.outputs["StateTableName"]
    return [
        DynamoSendRateLimiter(deployed.dynamodb, table, rate, clock=clock, sleep=clock.sleep)
        for _ in range(n)
    ]


def busiest_second(times: list[float]) -> int:
    """Most sends in any one-second stretch (t - 1, t], aligned or not."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


@pytest.mark.parametrize(("rate", "senders"), [(5, 3), (1, 2), (12, 4), (2.5, 2)])
def test_concurrent_senders_never_exceed_the_rate(
    deployed: Deployed, rate: float, senders: int
) -> None:
    clock = FakeClock()
    pool = limiters(deployed, rate, clock, senders)
    grants: list[float] = []
    total = int(rate * 10)
    while len(grants) < total:
        for limiter in pool:  # interleaved, as concurrent invocations
            if len(grants) == total:
                break
            assert limiter.acquire()
            grants.append(clock())
            clock.now += SEND_TAKES
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert min(gaps) >= 1 / rate - 1e-6
    assert busiest_second(grants) <= math.ceil(rate)
    # Full use of the rate: the sends are exactly 1/rate apart, nothing is wasted.
    assert (total - 1) / (grants[-1] - grants[0]) == pytest.approx(rate, rel=1e-3)


def test_below_one_per_second(deployed: Deployed) -> None:
    clock = FakeClock()
    pool = limiters(deployed, 0.5, clock, 2)
    grants = []
    for i in range(4):
        assert pool[i % 2].acquire()
        grants.append(clock())
    assert grants == pytest.approx([START, START + 2, START + 4, START + 6])


def test_an_idle_schedule_restarts_now(deployed: Deployed) -> None:
    clock = FakeClock()
    (limiter,) = limiters(deployed, 10, clock, 1)
    assert limiter.acquire()
    clock.now += 60  # nobody sends for a minute
    assert limiter.acquire()
    assert clock.slept == 0
    assert limiter.acquire()
    assert clock() == pytest.approx(START + 60.1)


def test_deadline_stops_waiting(deployed: Deployed) -> None:
    clock = FakeClock()
    (limiter,) = limiters(deployed, 2, clock, 1)
    assert limiter.acquire(deadline=START + 0.4)
    # The next time (START + 0.5) is after the deadline: give up, without sleeping.
    assert not limiter.acquire(deadline=START + 0.4)
    assert clock.slept == 0
    # With time to wait, it waits for its time.
    assert limiter.acquire(deadline=START + 5)
    assert clock() == pytest.approx(START + 0.5)
    # A deadline already past: no time is booked at all.
    assert not limiter.acquire(deadline=clock() - 1)
    assert limiter.acquire()
    assert clock() == pytest.approx(START + 1.0)


def test_schedule_is_one_item_in_the_state_table(deployed: Deployed) -> None:
    clock = FakeClock()
    (limiter,) = limiters(deployed, 4, clock, 1)
    for _ in range(3):
        assert limiter.acquire()
    item = deployed.dynamodb.get_item(
        TableName=deployed.outputs["StateTableName"], Key={"id": {"S": "send-rate"}}
    )["Item"]
    assert int(item["next_at"]["N"]) == int(START * 1_000_000) + 3 * 250_000
    assert int(item["expiration"]["N"]) > START
