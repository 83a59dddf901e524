"""Timed shifts booked by SMS through the real handler on the deployed template (moto):
rules at the moment of booking, the person item, DROP and operator changes, REQUEST order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.events import sent_time
from shiftsms.core.models import Shift, StaffEdit, StaffMember
from tests.conftest import Deployed, module_stack
from tests.test_inbound_handler import ANA, BEN, NOON, Harness, _empty, _harness

NIGHT = ("2026-12-05T19:00+00:00", "2026-12-06T07:00+00:00")


@pytest.fixture(scope="module")
def stack() -> Iterator[Deployed]:
    """The template deployed once for this module (each test starts from empty tables)."""
    with module_stack() as deployed:
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


def timed(
    h: Harness, shift_id: str, start: str, end: str, role: str | None = None, info: str = ""
) -> None:
    shifts(h).put(Shift(shift_id, info or shift_id, starts_at=start, ends_at=end, role=role))


def held_ids(h: Harness, phone: str) -> list[str]:
    return [e["shift_id"] for e in h.staff(phone).get("held_shifts", [])]


def last_reply(h: Harness, phone: str) -> str:
    return h.sms.to(phone)[-1]  # type: ignore[no-any-return]


# -- rules -------------------------------------------------------------------------------------


def test_a_timed_booking_is_recorded_on_the_person_item(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    h.text(ANA, "N1")
    assert last_reply(h, ANA) == "Booked: N1. Thank you!"
    assert h.shift("N1")["employee"] == ANA
    person = h.staff(ANA)
    assert person["held_shifts"] == [{"shift_id": "N1", "starts_at": NIGHT[0], "ends_at": NIGHT[1]}]
    assert person["held_version"] == 1


def test_an_overlapping_shift_is_refused_with_the_reason(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    timed(h, "L1", "2026-12-06T05:00+00:00", "2026-12-06T13:00+00:00")
    h.text(ANA, "N1")
    h.text(ANA, "L1")
    assert last_reply(h, ANA) == "L1 overlaps your 19:00-07:00 on 05/12."
    assert h.shift("L1")["shift_status"] == "available"
    assert held_ids(h, ANA) == ["N1"]


def test_too_little_rest_is_refused(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    timed(h, "E1", "2026-12-06T16:00+00:00", "2026-12-06T22:00+00:00")
    h.text(ANA, "N1")
    h.text(ANA, "E1")
    assert last_reply(h, ANA) == "E1 leaves only 9h rest after your 19:00-07:00 on 05/12."
    assert h.shift("E1")["shift_status"] == "available"


def test_exactly_the_minimum_rest_is_enough(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    timed(h, "E1", "2026-12-06T18:00+00:00", "2026-12-06T22:00+00:00")
    h.text(ANA, "N1 E1")
    assert last_reply(h, ANA) == "Booked: N1, E1. Thank you!"
    assert held_ids(h, ANA) == ["N1", "E1"]


def test_a_role_the_sender_lacks_is_refused_and_one_they_have_is_booked(h: Harness) -> None:
    timed(h, "R1", *NIGHT, role="RN")
    h.text(ANA, "R1")
    assert last_reply(h, ANA) == "R1 needs RN."
    StaffTable(h.deployed.dynamodb, h.staff_table).put(
        StaffMember(phone=BEN, name="Ben", roles=("rn",))
    )
    h.text(BEN, "R1")
    assert last_reply(h, BEN) == "Booked: R1. Thank you!"


def test_a_started_shift_is_refused(h: Harness) -> None:
    timed(h, "P1", "2026-11-28T08:00+00:00", "2026-11-28T16:00+00:00")
    h.text(ANA, "P1")
    assert last_reply(h, ANA) == "P1 has started."
    assert h.shift("P1")["shift_status"] == "available"


def test_the_weekly_cap_refuses_the_shift_that_passes_it(h: Harness) -> None:
    # Four 12 h days on 1-4 Dec are 48 h: at the cap. A fifth in the same 7 days passes it.
    for day in range(1, 6):
        timed(h, f"D{day}", f"2026-12-0{day}T07:00+00:00", f"2026-12-0{day}T19:00+00:00")
    h.text(ANA, "D1 D2 D3 D4")
    assert last_reply(h, ANA) == "Booked: D1, D2, D3, D4. Thank you!"
    h.text(ANA, "D5")
    assert last_reply(h, ANA) == "D5 takes you to 60h in 7 days, max 48h."


def test_one_text_books_what_it_may_and_says_why_not_the_rest(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    timed(h, "L1", "2026-12-06T05:00+00:00", "2026-12-06T13:00+00:00", role="RN")
    h.add_shift("U1", "untimed")
    h.text(ANA, "N1 L1 U1 ZZ9")
    reply = last_reply(h, ANA)
    assert reply == (
        "Booked: N1, U1. Not a valid code: ZZ9. L1 needs RN, overlaps your 19:00-07:00 on 05/12."
    )
    assert len(reply) <= 160
    assert held_ids(h, ANA) == ["N1"]  # an untimed shift has no interval


def test_a_redelivered_booking_books_once_and_replies_once(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    event = h.event(h.message(ANA, "N1", "in-same"))
    h.redeliver(event)
    h.redeliver(event)
    assert h.sms.to(ANA) == ["Booked: N1. Thank you!"]
    assert held_ids(h, ANA) == ["N1"]
    assert h.staff(ANA)["held_version"] == 1


# -- giving shifts back ------------------------------------------------------------------------


def test_drop_removes_the_interval_so_an_overlapping_shift_can_be_booked(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    timed(h, "L1", "2026-12-06T05:00+00:00", "2026-12-06T13:00+00:00")
    h.text(ANA, "N1")
    h.text(ANA, "DROP N1")
    assert last_reply(h, ANA) == "Released: N1."
    assert held_ids(h, ANA) == []
    assert h.staff(ANA)["held_version"] == 2
    h.text(ANA, "L1")
    assert last_reply(h, ANA) == "Booked: L1. Thank you!"


def test_operator_release_and_remove_take_the_interval_off_the_holder(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    timed(h, "N2", "2026-12-08T19:00+00:00", "2026-12-09T07:00+00:00")
    h.text(ANA, "N1 N2")
    table = shifts(h)
    seen = table.get("N1")
    assert seen is not None
    table.release_as_seen(seen)
    assert held_ids(h, ANA) == ["N2"]
    seen = table.get("N2")
    assert seen is not None
    table.delete_as_seen(seen)
    assert held_ids(h, ANA) == []
    assert table.get("N2") is None


def test_every_allow_list_writer_keeps_the_held_shifts(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    h.text(ANA, "N1")
    before = h.staff(ANA)
    staff = StaffTable(h.deployed.dynamodb, h.staff_table)
    staff.put(StaffMember(phone=ANA, name="Ana B", roles=("HCA",)))
    staff.put(StaffMember(phone=ANA, name="Ana C"), replace=False)
    staff.update(ANA, StaffEdit(name="Ana D", campaigns=False, groups=("nights",)))
    staff.set_opted_out(ANA, True, NOON)
    staff.set_opted_out(ANA, False, NOON)
    staff.set_list_cursor(ANA, "t:x y")
    after = h.staff(ANA)
    assert (after["held_shifts"], after["held_version"]) == (
        before["held_shifts"],
        before["held_version"],
    )


# -- REQUEST and MORE --------------------------------------------------------------------------


def test_request_lists_what_the_sender_may_book_soonest_first_untimed_last(h: Harness) -> None:
    timed(h, "LATE", "2026-12-09T19:00+00:00", "2026-12-10T07:00+00:00")
    timed(h, "SOON", "2026-12-01T07:00+00:00", "2026-12-01T15:00+00:00")
    timed(h, "PAST", "2026-11-27T07:00+00:00", "2026-11-27T15:00+00:00")
    timed(h, "RNONLY", "2026-12-02T07:00+00:00", "2026-12-02T15:00+00:00", role="RN")
    shifts(h).put(Shift("CLI1", "untimed from the CLI"))
    h.add_shift("CON1", "typed in the console")
    h.text(ANA, "REQUEST")
    assert last_reply(h, ANA) == (
        "Open shifts: SOON SOON; LATE LATE; CLI1 untimed from the CLI; "
        "CON1 typed in the console. Reply a code to book."
    )


def test_more_continues_through_timed_then_console_items(h: Harness) -> None:
    for day in range(1, 10):
        timed(
            h,
            f"T{day}",
            f"2026-12-0{day}T07:00+00:00",
            f"2026-12-0{day}T15:00+00:00",
            info="x" * 30,
        )
    for n in range(3):
        h.add_shift(f"C{n}", "y" * 30)
    seen: list[str] = []
    h.text(ANA, "REQUEST")
    for _ in range(10):
        reply = last_reply(h, ANA)
        if not reply.startswith("Open shifts: "):
            break
        seen += [part.split()[0] for part in reply[len("Open shifts: ") :].split("; ")]
        if "reply MORE" not in reply:
            break
        h.text(ANA, "MORE")
    assert [s.rstrip(".") for s in seen] == [*(f"T{d}" for d in range(1, 10)), "C0", "C1", "C2"]
    h.text(ANA, "MORE")
    assert last_reply(h, ANA).startswith("No more open shifts")


def test_past_shifts_are_never_read_on_by_start_and_by_status_reads_are_capped(
    h: Harness,
) -> None:
    for n in range(60):
        timed(h, f"P{n:02d}", "2026-11-20T07:00+00:00", "2026-11-20T15:00+00:00")
    timed(h, "SOON", "2026-12-01T07:00+00:00", "2026-12-01T15:00+00:00")
    client = h.app.service.shifts.client  # type: ignore[attr-defined]
    seen: list[tuple[str, int]] = []

    def after(parsed: dict[str, Any], **kw: Any) -> None:
        seen.append((str(kw.get("context", {}).get("index", "")), int(parsed["ScannedCount"])))

    def before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["index"] = params.get("IndexName", "")

    client.meta.events.register("before-parameter-build.dynamodb.Query", before)
    client.meta.events.register("after-call.dynamodb.Query", after)
    h.text(ANA, "REQUEST")
    assert last_reply(h, ANA) == "Open shifts: SOON SOON. 1+ more: reply MORE."
    by_index: dict[str, int] = {}
    for index, n in seen:
        by_index[index] = by_index.get(index, 0) + n
    # by-start reads SOON only; by-status reads two windows of 25 ids, not all 61.
    assert by_index == {"by-start": 1, "by-status": 50}
    h.text(ANA, "MORE")
    assert last_reply(h, ANA) == "No more open shifts. Reply REQUEST to see the list again."


def test_a_booking_retried_after_the_senders_drop_books_nothing(h: Harness) -> None:
    timed(h, "N1", *NIGHT)
    first = h.event(h.message(ANA, "N1", "in-book"))
    h.redeliver(first)
    h.text(ANA, "DROP N1")
    # Lambda retries the first message (its idempotency record lost): sent before the DROP.
    h.app.service.shifts.book_checked(  # type: ignore[attr-defined]
        "N1",
        ANA,
        "in-book",
        NOON,
        check=lambda shift, span, held: (),
        sent=sent_time(first["Records"][0]["Sns"]["Timestamp"]),
    )
    assert h.shift("N1")["shift_status"] == "available"
    assert held_ids(h, ANA) == []
