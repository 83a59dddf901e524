"""The shared send schedule on an in-memory store, with concurrent senders on a virtual clock."""

from __future__ import annotations

import itertools
import math

import pytest

from shiftsms.core.send_schedule import SendSchedule
from tests.virtual_time import VirtualTime

START = 1_795_860_000.0
SEND_TAKES = 0.004


class MemorySchedule:
    """ScheduleStore in memory, with the same conditions as the DynamoDB updates."""

    def __init__(self) -> None:
        self.next_at: int | None = None
        self.writes = 0
        self.granted: list[int] = []

    def take_due(self, now: int, step: int) -> int | None:
        self.writes += 1
        if self.next_at is None or self.next_at <= now:
            self.next_at = now + step
            self.granted.append(now)
            return None
        return self.next_at

    def take_next(self, now: int, limit: int, step: int) -> tuple[bool, int | None]:
        self.writes += 1
        if self.next_at is not None and now <= self.next_at < limit:
            old = self.next_at
            self.next_at += step
            self.granted.append(old)
            return True, old
        return False, self.next_at


def busiest_second(micros: list[int]) -> int:
    """Most grants in any one-second stretch (t - 1, t], aligned or not (in microseconds)."""
    best, j = 0, 0
    for i, t in enumerate(micros):
        while micros[j] <= t - 1_000_000:
            j += 1
        best = max(best, i - j + 1)
    return best


def schedules(store: MemorySchedule, clock: VirtualTime, rate: float, n: int) -> list[SendSchedule]:
    return [SendSchedule(store, rate, clock=clock, sleep=clock.sleep) for _ in range(n)]


def campaign_sender(
    schedule: SendSchedule, clock: VirtualTime, sends: list[tuple[str, float]], count: int
) -> object:
    def run() -> None:
        for _ in range(count):
            assert schedule.acquire()
            sends.append(("campaign", clock()))
            clock.sleep(SEND_TAKES)

    return run


@pytest.mark.parametrize(("rate", "senders"), [(1, 4), (5, 3), (20, 8), (2.5, 2)])
def test_a_saturating_campaign_delays_a_reply_by_one_slot_at_most(
    rate: float, senders: int
) -> None:
    clock, store = VirtualTime(START), MemorySchedule()
    campaign = schedules(store, clock, rate, senders)
    sends: list[tuple[str, float]] = []
    waits: dict[float, float] = {}
    step = 1 / rate

    def reply(at: float) -> object:
        lane = SendSchedule(store, rate, clock=clock, sleep=clock.sleep)

        def run() -> None:
            # Replies arrive while the campaign uses the whole rate, off the slot grid.
            clock.sleep(START + at - clock())
            asked = clock()
            assert lane.acquire_reply(deadline=asked + 5)
            sends.append(("reply", clock()))
            waits[at] = clock() - asked

        return run

    count = int(rate * 12)
    arrivals = (3.3, 3.3 + step / 10, 7.77)
    clock.run(*(campaign_sender(s, clock, sends, count) for s in campaign), *map(reply, arrivals))

    # A reply waits one slot at most; one asked right after another, one slot more.
    first, second, third = (waits[at] for at in arrivals)
    assert first <= step + 1e-6
    assert second <= 2 * step + 1e-6
    assert third <= step + 1e-6
    # Every text had its own time from the schedule, one step apart at least, and went then.
    granted = store.granted
    assert len(granted) == len(sends) == count * senders + 3
    assert granted == sorted(granted)
    assert min(b - a for a, b in itertools.pairwise(granted)) >= math.ceil(1e6 / rate)
    assert busiest_second(granted) <= math.ceil(rate)
    sent = sorted(t for _, t in sends)
    assert all(t == pytest.approx(g / 1e6, abs=1e-6) for g, t in zip(granted, sent, strict=True))
    # The campaign did use the whole rate: every slot from start to end was taken.
    assert (len(sent) - 1) / (sent[-1] - sent[0]) == pytest.approx(rate, rel=1e-3)


def test_replies_booked_ahead_go_before_campaign_texts_waiting_for_the_same_time() -> None:
    clock, store = VirtualTime(START), MemorySchedule()
    campaign, reply_a, reply_b = schedules(store, clock, 1, 3)
    sends: list[tuple[str, float]] = []

    def replies(lane: SendSchedule, name: str) -> object:
        def run() -> None:
            clock.sleep(0.5)
            assert lane.acquire_reply(deadline=clock() + 5)
            sends.append((name, clock()))

        return run

    clock.run(
        campaign_sender(campaign, clock, sends, 3), replies(reply_a, "a"), replies(reply_b, "b")
    )
    assert sends == [
        ("campaign", START),
        ("a", START + 1),
        ("b", START + 2),
        ("campaign", START + 3),
        ("campaign", START + 4),
    ]


def test_a_reply_with_no_time_before_its_deadline_books_nothing() -> None:
    clock, store = VirtualTime(START), MemorySchedule()
    (lane,) = schedules(store, clock, 1, 1)
    assert lane.acquire_reply(deadline=START + 0.5)
    assert store.next_at == int((START + 1) * 1_000_000)
    assert not lane.acquire_reply(deadline=START + 0.5)
    assert store.next_at == int((START + 1) * 1_000_000)  # unchanged: no time was booked
    assert clock() == START


def test_a_campaign_sender_waits_for_its_own_next_time_without_polling() -> None:
    clock, store = VirtualTime(START), MemorySchedule()
    (sender,) = schedules(store, clock, 10, 1)
    sends: list[tuple[str, float]] = []
    clock.run(campaign_sender(sender, clock, sends, 20))
    assert [t for _, t in sends] == pytest.approx([START + i / 10 for i in range(20)])
    assert store.writes == 20  # one conditional update per send, none wasted


def test_a_campaign_deadline_before_the_next_due_time_gives_up_at_once() -> None:
    clock, store = VirtualTime(START), MemorySchedule()
    campaign, lane = schedules(store, clock, 1, 2)
    assert lane.acquire_reply(deadline=START + 10)
    assert lane.acquire_reply(deadline=START + 10)  # replies hold START and START + 1
    assert clock() == START + 1
    assert not campaign.acquire(deadline=START + 1.5)
    assert clock() == START + 1
    assert campaign.acquire(deadline=START + 3)
    assert clock() == START + 2
