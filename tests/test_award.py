"""The fair award and the wave order (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shiftsms.core.award import (
    AwardRule,
    Replier,
    award_order,
    booked_hours,
    wave_order,
    wave_slices,
)
from shiftsms.core.gsm import segment_info
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.replies import award_lost, window_interest
from shiftsms.core.shift_times import Span

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_fewest_hours_wins_then_the_earliest_reply() -> None:
    repliers = [
        Replier("ana", _at(1), hours=24.0),
        Replier("ben", _at(3), hours=8.0),
        Replier("cai", _at(2), hours=8.0),
        Replier("dee", _at(0), hours=36.0),
    ]
    order = award_order(repliers, AwardRule.FEWEST_HOURS, "C1")
    assert [r.who for r in order] == ["cai", "ben", "ana", "dee"]
    earliest = award_order(repliers, AwardRule.EARLIEST, "C1")
    assert [r.who for r in earliest] == ["dee", "ana", "cai", "ben"]


def test_the_draw_breaks_exact_ties_and_is_the_same_on_every_run() -> None:
    tied = [Replier(name, _at(0), hours=8.0) for name in ("ana", "ben", "cai", "dee", "eve")]
    first = award_order(tied, AwardRule.FEWEST_HOURS, "C1")
    assert award_order(list(reversed(tied)), AwardRule.FEWEST_HOURS, "C1") == first
    orders = {tuple(r.who for r in award_order(tied, AwardRule.RANDOM, f"C{i}")) for i in range(30)}
    assert len(orders) > 10  # the seed changes the draw: not always the same person first


def test_hours_count_the_last_28_days_and_what_is_to_come() -> None:
    def held(start_days: float, hours: float) -> HeldShift:
        start = NOW + timedelta(days=start_days)
        return HeldShift("S", Span(start, start + timedelta(hours=hours)))

    shifts = [held(-3, 12), held(2, 8), held(-40, 12), held(-28 - 0.25, 12)]
    # -40 d is out; the shift starting 6 h before the 28 days counts its last 6 h.
    assert booked_hours(shifts, NOW) == 12 + 8 + 6


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=1, max_value=12))
def test_waves_cover_everyone_once_in_order(count: int, waves: int) -> None:
    slices = wave_slices(count, waves)
    assert len(slices) == waves
    assert [i for s in slices for i in s] == list(range(count))
    sizes = [len(s) for s in slices]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)


def test_waves_reach_the_fewest_hours_first() -> None:
    hours = {"ana": 30.0, "ben": 0.0, "cai": 12.0}
    assert wave_order(hours, AwardRule.FEWEST_HOURS, "C1") == ["ben", "cai", "ana"]
    assert sorted(wave_order(hours, AwardRule.RANDOM, "C1")) == ["ana", "ben", "cai"]
    assert wave_slices(3, 2) == [range(0, 2), range(2, 3)]


def test_window_texts_are_one_gsm7_segment_with_the_longest_codes() -> None:
    assert window_interest(["XYZ123"], "19:10") == (
        "You're in for XYZ123. We'll text you by 19:10 if it's yours."
    )
    longest = "A" * 20
    for text in (
        window_interest([longest] * 10, "19:10"),
        window_interest([longest, longest], "23:59"),
        award_lost(longest),
    ):
        info = segment_info(text)
        assert (info.encoding, info.segments) == ("GSM-7", 1), text
    assert window_interest([longest] * 10, "19:10") == (
        "You're in for 10 shifts. We'll text you by 19:10 if they're yours."
    )
