"""Reminders before timed shifts booked by text, through the real inbound handler, the due
work handlers and the sender on the deployed template (moto): what the holder receives, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.award import AwardRule
from shiftsms.core.campaigns import SendJob
from shiftsms.core.models import Shift, StaffMember
from shiftsms.core.self_service import QuietHours
from shiftsms.handlers import due as due_handler
from shiftsms.services.due_runner import DueRunner
from shiftsms.services.reminders import Reminders, offer_item, reminder_item
from shiftsms.services.windows import open_windows
from shiftsms.settings import DueSettings
from tests.campaign_support import disable_emulated_mappings
from tests.conftest import Deployed, function_environment, module_stack
from tests.fakes import FakeDueWork, ListReplyQueue, ListSendQueue, MemoryShifts, MemoryStaff
from tests.reply_support import send_queued_replies
from tests.test_inbound_handler import ANA, BEN, NOON, Harness, _empty, _harness

# Two days after the tests' noon, a Monday night shift on GMT.
START = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
REMINDER = "Reminder: N1 Mon 30/11 19:00 Ward 7. Reply DROP N1 if you can't make it."


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    with module_stack({"SendRatePerSecond": "1000"}) as deployed:
        disable_emulated_mappings(deployed.info)
        yield deployed


@pytest.fixture
def h(stack: Deployed, monkeypatch: pytest.MonkeyPatch) -> Harness:
    for output in ("ShiftsTableName", "StaffTableName", "StateTableName"):
        _empty(stack.dynamodb, stack.outputs[output])
    harness = _harness(stack, monkeypatch)
    harness.add_staff(ANA, "Ana")
    harness.add_staff(BEN, "Ben")
    return harness


def shifts(h: Harness) -> ShiftsTable:
    return ShiftsTable(h.deployed.dynamodb, h.shifts_table, h.staff_table)


def timed(h: Harness, shift_id: str, start: datetime, hours: int = 12) -> None:
    end = start + timedelta(hours=hours)
    shifts(h).put(
        Shift(
            shift_id,
            shift_id,
            starts_at=start.isoformat(),
            ends_at=end.isoformat(),
            location="Ward 7",
        )
    )


def run_due(h: Harness, at: datetime) -> Any:
    """One run of the due function's handlers at ``at``, then the sender on the reply queue."""
    env = function_environment(h.deployed.outputs["DueFunctionName"])
    settings = DueSettings.from_env(env)
    dynamodb = h.deployed.dynamodb
    runner = DueRunner(
        DynamoDueWork(dynamodb, settings.state_table), due_handler.handlers(settings, dynamodb)
    )
    report = runner.run(at)
    send_queued_replies(h.deployed.outputs, h.sms)
    return report


def due_items(h: Harness) -> list[dict[str, Any]]:
    return [i for i in h.table(h.deployed.outputs["StateTableName"]) if i["id"].startswith("due#")]


def test_a_reminder_goes_once_twelve_hours_before_the_shift(h: Harness) -> None:
    timed(h, "N1", START)
    h.text(ANA, "N1")
    (item,) = due_items(h)
    assert item["id"].startswith("due#reminder#N1#") and ANA not in str(item["id"])
    assert run_due(h, START - timedelta(hours=12, minutes=1)).ran == []
    assert h.sms.to(ANA)[-1] != REMINDER
    assert run_due(h, START - timedelta(hours=12)).ran == [f"reminder:{item['id'][13:]}"]
    assert h.sms.to(ANA)[-1] == REMINDER
    # The timer firing again (or late) texts nothing more.
    run_due(h, START - timedelta(hours=11))
    assert h.sms.to(ANA).count(REMINDER) == 1
    assert due_items(h) == []


def test_no_reminder_for_a_shift_booked_inside_the_window(h: Harness) -> None:
    timed(h, "SOON1", NOON + timedelta(hours=6))
    h.text(ANA, "SOON1")
    assert due_items(h) == []


def test_no_reminder_after_a_drop_and_none_for_the_next_holder_of_the_old_one(h: Harness) -> None:
    timed(h, "N1", START)
    h.text(ANA, "N1")
    h.text(ANA, "DROP N1")
    h.text(BEN, "N1")
    run_due(h, START - timedelta(hours=12))
    assert REMINDER not in h.sms.to(ANA)
    assert h.sms.to(BEN)[-1] == REMINDER


def test_no_reminder_once_removed_from_the_allow_list(h: Harness) -> None:
    timed(h, "N1", START)
    h.text(ANA, "N1")
    h.app.service.staff.delete(ANA)
    run_due(h, START - timedelta(hours=12))
    assert REMINDER not in h.sms.to(ANA)


def test_a_moved_shift_gets_no_reminder_at_its_old_time(h: Harness) -> None:
    timed(h, "N1", START)
    h.text(ANA, "N1")
    later = START + timedelta(days=1)
    h.deployed.dynamodb.update_item(
        TableName=h.shifts_table,
        Key={"shift_id": {"S": "N1"}},
        UpdateExpression="SET starts_at = :s, ends_at = :e",
        ExpressionAttributeValues={
            ":s": {"S": later.isoformat()},
            ":e": {"S": (later + timedelta(hours=12)).isoformat()},
        },
    )
    run_due(h, START - timedelta(hours=12))
    assert not any(t.startswith("Reminder:") for t in h.sms.to(ANA))


def test_a_reminder_across_the_spring_forward_night_is_twelve_real_hours_ahead(
    h: Harness,
) -> None:
    # Sun 28/03/2027 19:00 BST is 18:00 UTC; the clocks went forward at 01:00 UTC.
    start = datetime(2027, 3, 28, 18, 0, tzinfo=UTC)
    h.at(datetime(2027, 3, 20, 12, 0, tzinfo=UTC))
    timed(h, "DST1", start)
    h.text(ANA, "DST1")
    assert run_due(h, start - timedelta(hours=12, seconds=1)).ran == []
    run_due(h, start - timedelta(hours=12))
    assert h.sms.to(ANA)[-1] == (
        "Reminder: DST1 Sun 28/03 19:00 Ward 7. Reply DROP DST1 if you can't make it."
    )


# -- quiet hours and held offers, on fakes ----------------------------------------------------


def _reminders() -> tuple[Reminders, FakeDueWork, ListReplyQueue, ListSendQueue]:
    staff = MemoryStaff()
    staff.put(StaffMember(ANA, "Ana"))
    store = MemoryShifts(staff=staff)
    due, queue, send = FakeDueWork(), ListReplyQueue(), ListSendQueue()
    reminders = Reminders(
        store, staff, queue, send, due, "+447700900000", quiet=QuietHours.parse("22:00-07:00")
    )
    return reminders, due, queue, send


def test_a_reminder_due_in_quiet_hours_waits_for_their_end() -> None:
    reminders, due, queue, _ = _reminders()
    # Booked long before; the shift starts 15:00 GMT, reminder due 03:00 (quiet).
    start = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    shift = Shift(
        "D1", "D1", starts_at=start.isoformat(), ends_at=(start + timedelta(hours=8)).isoformat()
    )
    reminders.shifts.put(shift)
    reminders.shifts.book_checked("D1", ANA, "m1", NOON, check=lambda *_: ())
    item = reminder_item("D1", ANA, start, NOON, 12)
    assert item is not None and item.due_at == datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    reminders.remind(item, item.due_at)
    assert queue.jobs == []
    (held,) = due.due(datetime(2026, 12, 1, 7, 0, tzinfo=UTC), 10)
    assert (held.key, held.due_at) == (item.key, datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    reminders.remind(held, held.due_at)
    assert [(j.to, j.ref) for j in queue.jobs] == [(ANA, f"reminder#{item.key}")]


def test_a_reminder_for_a_shift_starting_before_quiet_hours_end_goes_at_once() -> None:
    reminders, _, queue, _ = _reminders()
    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 06:00, before quiet hours end
    shift = Shift(
        "E1", "E1", starts_at=start.isoformat(), ends_at=(start + timedelta(hours=8)).isoformat()
    )
    reminders.shifts.put(shift)
    reminders.shifts.book_checked("E1", ANA, "m1", NOON, check=lambda *_: ())
    item = reminder_item("E1", ANA, start, NOON, 4)
    assert item is not None
    reminders.remind(item, item.due_at)  # 02:00, quiet
    assert [j.to for j in queue.jobs] == [ANA]


def test_a_held_offer_goes_back_on_the_send_queue_as_it_was() -> None:
    reminders, _, _, send = _reminders()
    job = SendJob("c1", ANA, "Open shifts: XYZ123", 1_900_000_000, run="r1", first_start="")
    until = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    item = offer_item(job, until)
    assert ANA not in item.key and item.kind == "offer"
    reminders.handlers()["offer"](item, until)
    assert send.jobs == [job]


def test_no_reminder_after_the_ward_releases_or_removes_the_shift(h: Harness) -> None:
    timed(h, "N1", START)
    timed(h, "N2", START + timedelta(days=1))
    h.text(ANA, "N1")
    h.text(ANA, "N2")
    assert len(due_items(h)) == 2
    shifts(h).release("N1")  # as `shiftsms shifts release` does it
    shifts(h).delete("N2")  # and `shiftsms shifts remove`
    run_due(h, START + timedelta(days=1) - timedelta(hours=12))
    assert [t for t in h.sms.to(ANA) if t.startswith("Reminder")] == []
    assert due_items(h) == []


def test_no_reminder_after_opting_out_but_one_while_snoozed(h: Harness) -> None:
    timed(h, "N1", START)
    h.text(ANA, "N1")
    h.text(BEN, "SNOOZE 7")  # pauses campaign offers, not reminders
    timed(h, "N2", START)
    h.text(BEN, "N2")
    h.app.service.staff.set_opted_out(ANA, True, NOON)  # STOP
    run_due(h, START - timedelta(hours=12))
    assert [t for t in h.sms.to(ANA) if t.startswith("Reminder")] == []
    assert h.sms.to(BEN)[-1].startswith("Reminder: N2 Mon 30/11 19:00 Ward 7.")


def test_the_winner_of_a_claim_window_is_reminded_through_the_due_function(h: Harness) -> None:
    timed(h, "N1", START)
    state = h.deployed.outputs["StateTableName"]
    closes = NOON + timedelta(minutes=10)
    open_windows(
        DynamoClaimWindows(h.deployed.dynamodb, state),
        DynamoDueWork(h.deployed.dynamodb, state),
        campaign_id="C1",
        shift_ids=("N1",),
        closes_at=closes,
        award=AwardRule.EARLIEST,
    )
    h.text(ANA, "N1")
    run_due(h, closes)
    assert h.sms.to(ANA)[-1] == "Booked: N1. Thank you!"
    run_due(h, START - timedelta(hours=12))
    assert h.sms.to(ANA)[-1] == REMINDER
