"""MINE, COMMANDS, SNOOZE, RESUME and the DROP cutoff, through the real inbound handler on the
deployed template (moto): what the employee receives and what the allow list stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core import replies
from shiftsms.core.gsm import is_gsm7, segments
from shiftsms.core.models import Shift
from tests.conftest import Deployed, module_stack
from tests.test_inbound_handler import ANA, BEN, NOON, Harness, _empty, _harness


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    """The template deployed once for this module, with a 12-hour DROP cutoff."""
    with module_stack({"DropCutoffHours": "12"}) as deployed:
        yield deployed


@pytest.fixture
def h(stack: Deployed, monkeypatch: pytest.MonkeyPatch) -> Harness:
    for output in ("ShiftsTableName", "StaffTableName", "StateTableName"):
        _empty(stack.dynamodb, stack.outputs[output])
    harness = _harness(stack, monkeypatch)
    harness.add_staff(ANA, "Ana")
    harness.add_staff(BEN, "Ben")
    return harness


def timed(h: Harness, shift_id: str, start: str, end: str, location: str | None = None) -> None:
    table = ShiftsTable(h.deployed.dynamodb, h.shifts_table, h.staff_table)
    table.put(Shift(shift_id, shift_id, starts_at=start, ends_at=end, location=location))


def last(h: Harness, phone: str) -> str:
    return h.sms.to(phone)[-1]  # type: ignore[no-any-return]


# -- MINE -----------------------------------------------------------------------------------


def test_mine_lists_upcoming_booked_shifts_soonest_first(h: Harness) -> None:
    timed(h, "LATE1", "2026-12-10T19:00+00:00", "2026-12-11T07:00+00:00", "Ward 7")
    timed(h, "EARLY1", "2026-12-01T07:00+00:00", "2026-12-01T15:00+00:00", "ICU")
    h.text(ANA, "LATE1 EARLY1")
    h.text(ANA, "mine")
    assert last(h, ANA) == "Your shifts: EARLY1 Tue 01/12 07:00 ICU; LATE1 Thu 10/12 19:00 Ward 7."


def test_mine_leaves_out_shifts_that_ended_and_others_shifts(h: Harness) -> None:
    timed(h, "PAST1", "2026-11-29T07:00+00:00", "2026-11-29T15:00+00:00")
    timed(h, "BENS1", "2026-12-03T07:00+00:00", "2026-12-03T15:00+00:00")
    h.text(ANA, "PAST1")
    h.text(BEN, "BENS1")
    h.at(NOON + timedelta(days=2))
    h.text(ANA, "MINE")
    assert last(h, ANA) == replies.NO_BOOKED_SHIFTS


def test_mine_pages_with_more_then_says_no_more(h: Harness) -> None:
    codes = [f"D{i:02d}" for i in range(1, 9)]
    for i, code in enumerate(codes):
        # A day apart with long rest between: every one may be booked.
        timed(
            h,
            code,
            f"2026-12-{i + 1:02d}T07:00+00:00",
            f"2026-12-{i + 1:02d}T10:00+00:00",
            "Northern General Ward 12",
        )
    h.text(ANA, " ".join(codes))
    assert last(h, ANA).startswith("Booked: ")
    seen: list[str] = []
    h.text(ANA, "MINE")
    while True:
        page = last(h, ANA)
        assert segments(page) == 1 and is_gsm7(page)
        listed = [c for c in codes if c in page]
        assert listed and listed == codes[len(seen) : len(seen) + len(listed)]
        seen += listed
        if len(seen) == len(codes):
            assert not page.endswith("reply MORE.")
            break
        assert page.endswith(f" {len(codes) - len(seen)} more: reply MORE.")
        h.text(ANA, "MORE")
    assert seen == codes
    h.text(ANA, "MORE")
    assert last(h, ANA) == replies.NO_MORE_BOOKED


def test_request_after_mine_starts_the_open_list_again(h: Harness) -> None:
    h.add_shift("OPEN1", "Sat nights")
    h.text(ANA, "MINE")
    h.text(ANA, "REQUEST")
    assert "OPEN1" in last(h, ANA)


# -- COMMANDS, SNOOZE, RESUME --------------------------------------------------------------


def test_commands_lists_what_they_can_text_in_one_segment(h: Harness) -> None:
    h.text(ANA, "Commands")
    assert last(h, ANA) == replies.COMMAND_LIST
    assert segments(replies.COMMAND_LIST) == 1 and is_gsm7(replies.COMMAND_LIST)
    for word in ("REQUEST", "DROP", "MINE", "SNOOZE", "RESUME", "AGENT"):
        assert word in replies.COMMAND_LIST


def test_snooze_defaults_to_seven_days_from_when_it_was_sent(h: Harness) -> None:
    h.text(ANA, "SNOOZE")
    # Sent at noon UTC on Sat 28/11 (GMT in London): until Sat 05/12 12:00.
    assert last(h, ANA) == (
        "No offers until Sat 05/12 12:00. Bookings, REQUEST and reminders still work."
        " Reply RESUME to get offers again."
    )
    assert h.staff(ANA)["snoozed_until"] == "2026-12-05T12:00:00+00:00"


def test_snooze_n_days_and_resume(h: Harness) -> None:
    h.text(ANA, "snooze 3")
    assert h.staff(ANA)["snoozed_until"] == "2026-12-01T12:00:00+00:00"
    h.text(ANA, "RESUME")
    assert last(h, ANA) == replies.RESUMED
    assert "snoozed_until" not in h.staff(ANA)


@pytest.mark.parametrize("body", ["SNOOZE 61", "SNOOZE 0", "SNOOZE soon", "SNOOZE -2"])
def test_snooze_out_of_range_changes_nothing(h: Harness, body: str) -> None:
    h.text(ANA, body)
    assert last(h, ANA) == replies.BAD_SNOOZE
    assert "snoozed_until" not in h.staff(ANA)


def test_snooze_keeps_bookings_and_requests_working(h: Harness) -> None:
    h.add_shift("OPEN1", "Sat nights")
    h.text(ANA, "SNOOZE 60")
    h.text(ANA, "REQUEST")
    assert "OPEN1" in last(h, ANA)
    h.text(ANA, "OPEN1")
    assert last(h, ANA) == "Booked: OPEN1. Thank you!"
    assert h.staff(ANA)["snoozed_until"] == "2027-01-27T12:00:00+00:00"
    assert ANA in h.recipients()


# -- DROP cutoff -----------------------------------------------------------------------------


def test_drop_inside_the_cutoff_is_refused_and_the_shift_kept(h: Harness) -> None:
    timed(h, "SOON1", "2026-11-28T23:00+00:00", "2026-11-29T07:00+00:00")
    h.text(ANA, "SOON1")
    h.text(ANA, "DROP SOON1")
    assert last(h, ANA) == ("Too close to the start to drop by text, please call the ward: SOON1.")
    assert h.shift("SOON1")["employee"] == ANA


def test_drop_outside_the_cutoff_releases_as_before(h: Harness) -> None:
    timed(h, "LATER1", "2026-11-29T00:30+00:00", "2026-11-29T07:00+00:00")
    h.text(ANA, "LATER1")
    h.text(ANA, "DROP LATER1")
    assert last(h, ANA) == "Released: LATER1."
    assert h.shift("LATER1")["shift_status"] == "available"


def test_drop_of_an_untimed_shift_has_no_cutoff(h: Harness) -> None:
    h.add_shift("UNTIMED", "any time")
    h.text(ANA, "UNTIMED")
    h.text(ANA, "DROP UNTIMED")
    assert last(h, ANA) == "Released: UNTIMED."
