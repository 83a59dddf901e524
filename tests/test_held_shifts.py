"""A person's held shifts as stored on their person item: add, remove, prune, read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shiftsms.core.held_shifts import (
    HeldShift,
    MalformedHeldShifts,
    add,
    from_item,
    prune,
    remove,
    to_item,
)
from shiftsms.core.shift_times import Span, time_zone

LONDON = time_zone("Europe/London")


def held(shift_id: str, start: str, end: str) -> HeldShift:
    return HeldShift(shift_id, Span(datetime.fromisoformat(start), datetime.fromisoformat(end)))


NIGHT = held("XYZ123", "2026-08-15T19:00+01:00", "2026-08-16T07:00+01:00")
DAY = held("XYZ124", "2026-08-18T07:00+01:00", "2026-08-18T19:00+01:00")


def test_the_stored_list_is_soonest_first_with_offsets() -> None:
    assert to_item([DAY, NIGHT]) == [
        {
            "shift_id": "XYZ123",
            "starts_at": "2026-08-15T19:00+01:00",
            "ends_at": "2026-08-16T07:00+01:00",
        },
        {
            "shift_id": "XYZ124",
            "starts_at": "2026-08-18T07:00+01:00",
            "ends_at": "2026-08-18T19:00+01:00",
        },
    ]


def test_the_stored_list_reads_back() -> None:
    assert from_item(to_item([DAY, NIGHT])) == (NIGHT, DAY)
    assert from_item(None) == ()
    assert from_item([]) == ()


def test_order_is_by_real_time_across_offsets() -> None:
    # 00:30 UTC written with +01:00 comes after 23:45 UTC written with +00:00.
    late = held("B", "2026-10-25T01:30+01:00", "2026-10-25T05:00+00:00")
    early = held("A", "2026-10-24T23:45+00:00", "2026-10-25T00:15+00:00")
    assert [h.shift_id for h in from_item(to_item([late, early]))] == ["A", "B"]


def test_add_is_idempotent_and_replaces_the_same_code() -> None:
    once = add([NIGHT], DAY)
    assert once == (NIGHT, DAY)
    assert add(once, DAY) == once
    moved = held("XYZ124", "2026-08-19T07:00+01:00", "2026-08-19T19:00+01:00")
    assert add(once, moved) == (NIGHT, moved)


def test_remove_drops_only_that_code_and_ignores_a_missing_one() -> None:
    assert remove([NIGHT, DAY], "XYZ123") == (DAY,)
    assert remove([NIGHT, DAY], "NOPE99") == (NIGHT, DAY)
    assert remove([], "XYZ123") == ()


def test_prune_keeps_shifts_that_ended_within_seven_days() -> None:
    # NIGHT ended 2026-08-16 06:00 UTC.
    ended = datetime(2026, 8, 16, 6, 0, tzinfo=UTC)
    assert prune([NIGHT, DAY], ended + timedelta(days=7)) == (NIGHT, DAY)
    assert prune([NIGHT, DAY], ended + timedelta(days=7, minutes=1)) == (DAY,)
    assert prune([NIGHT], ended + timedelta(days=30), keep=timedelta(days=30)) == (NIGHT,)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"starts_at": "2026-08-15T19:00+01:00", "ends_at": "2026-08-16T07:00+01:00"}], "0"),
        ([{"shift_id": "A", "starts_at": "2026-08-15T19:00", "ends_at": "x"}], "0"),
        (
            [
                {"shift_id": "A", "starts_at": "2026-08-15T19:00Z", "ends_at": "2026-08-15T20:00Z"},
                {"shift_id": "B", "starts_at": "2026-08-15T19:00Z", "ends_at": "2026-08-15T18:00Z"},
            ],
            "1",
        ),
        ([{"shift_id": "", "starts_at": "2026-08-15T19:00Z", "ends_at": "2026-08-15T20:00Z"}], "0"),
        (["not a map"], "0"),
    ],
)
def test_a_damaged_list_is_refused_not_partly_read(raw: list[object], message: str) -> None:
    with pytest.raises(MalformedHeldShifts, match=f"held shift {message} "):
        from_item(raw)  # type: ignore[arg-type]


_MINUTES = st.integers(min_value=0, max_value=60 * 24 * 60)


@st.composite
def held_shifts(draw: st.DrawFn) -> HeldShift:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(_MINUTES))
    length = timedelta(minutes=draw(st.integers(min_value=1, max_value=24 * 60)))
    code = draw(st.from_regex(r"[A-Z]{3}[0-9]{3}", fullmatch=True))
    zone = draw(st.sampled_from([UTC, LONDON]))
    return HeldShift(code, Span(start.astimezone(zone), (start + length).astimezone(zone)))


@given(st.lists(held_shifts(), max_size=8), held_shifts())
def test_add_then_remove_round_trips_through_the_stored_form(
    existing: list[HeldShift], new: HeldShift
) -> None:
    existing = list({h.shift_id: h for h in existing if h.shift_id != new.shift_id}.values())
    after = from_item(to_item(add(existing, new)))
    assert [h.shift_id for h in after].count(new.shift_id) == 1
    assert len(after) == len(existing) + 1
    starts = [h.span.start.astimezone(UTC) for h in after]
    assert starts == sorted(starts)
    assert {h.shift_id for h in remove(after, new.shift_id)} == {h.shift_id for h in existing}
