"""DueRunner: each due item runs once, by its kind's handler; failures are retried later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shiftsms.aws.due_work import LEASE_SECONDS
from shiftsms.core.due import DueItem
from shiftsms.services.due_runner import DueRunner, DueWorkFailed
from tests.fakes import FakeDueWork

AT = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def _item(kind: str, key: str, minutes: int = 0) -> DueItem:
    return DueItem(kind, key, AT + timedelta(minutes=minutes), {"campaign": key})


def test_each_due_item_runs_once_by_its_kind_and_is_gone_after() -> None:
    work = FakeDueWork()
    ran: list[tuple[str, str, datetime]] = []
    runner = DueRunner(
        work,
        {
            "window-close": lambda item, now: ran.append(("window", item.key, now)),
            "wave": lambda item, now: ran.append(("wave", item.data["campaign"], now)),
        },
    )
    work.schedule(_item("window-close", "C1"))
    work.schedule(_item("wave", "C2", minutes=1))
    work.schedule(_item("wave", "C3", minutes=5))
    report = runner.run(AT + timedelta(minutes=1))
    assert ran == [
        ("window", "C1", AT + timedelta(minutes=1)),
        ("wave", "C2", AT + timedelta(minutes=1)),
    ]
    assert report.ran == ["window-close:C1", "wave:C2"]
    runner.run(AT + timedelta(minutes=2))  # the timer again: nothing new is due
    assert len(ran) == 2
    assert list(work.items) == [("wave", "C3")]


def test_a_second_run_listing_the_same_item_finds_it_claimed() -> None:
    work = FakeDueWork()
    ran: list[str] = []
    item = _item("window-close", "C1")
    work.schedule(item)
    listed = work.due(AT, 10)  # a run that listed it, then lost the race to claim it
    assert work.claim(item, AT) is not None
    second = DueRunner(work, {"window-close": lambda i, now: ran.append(i.key)})
    assert second.run(AT).ran == []
    assert listed == [item]
    assert ran == []


def test_a_failing_handler_does_not_stop_the_others_and_is_retried_after_its_lease() -> None:
    work = FakeDueWork()
    calls: list[str] = []

    def flaky(item: DueItem, now: datetime) -> None:
        calls.append(item.key)
        if len(calls) == 1:
            raise RuntimeError("DynamoDB was unreachable")

    runner = DueRunner(work, {"wave": flaky})
    work.schedule(_item("wave", "C1"))
    work.schedule(_item("wave", "C2"))
    with pytest.raises(DueWorkFailed, match="wave:C1"):
        runner.run(AT)
    assert calls == ["C1", "C2"]
    assert runner.run(AT + timedelta(seconds=1)).ran == []  # C1 still leased
    assert runner.run(AT + timedelta(seconds=LEASE_SECONDS + 1)).ran == ["wave:C1"]
    assert calls == ["C1", "C2", "C1"]
    assert work.items == {}


def test_work_of_an_unknown_kind_is_left_for_a_release_that_knows_it() -> None:
    work = FakeDueWork()
    work.schedule(_item("reminder", "S1"))
    report = DueRunner(work, {}).run(AT)
    assert (report.ran, report.unknown) == ([], ["reminder:S1"])
    assert list(work.items) == [("reminder", "S1")]


def test_a_due_item_needs_an_aware_time_and_a_plain_kind() -> None:
    with pytest.raises(ValueError, match="time zone"):
        DueItem("wave", "C1", datetime(2026, 12, 1, 19, 0))
    with pytest.raises(ValueError, match="kind"):
        DueItem("wave#2", "C1", AT)
    assert DueItem("wave", "C1#2", AT).item_id == "due#wave#C1#2"
