"""Booking rules at the moment of booking: role, started, overlap, rest, rolling weekly hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftsms.core.booking_rules import (
    HasStarted,
    LacksRole,
    Overlaps,
    OverWeeklyHours,
    Refusal,
    RuleSettings,
    ShiftToBook,
    TooLittleRest,
    check_booking,
    may_work,
    refusal_text,
    weekly_peak,
)
from shiftsms.core.gsm import GSM7_SINGLE, is_gsm7, segments, septets
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.shift_times import Span, parse_time, time_zone

LONDON = time_zone("Europe/London")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
RULES = RuleSettings()  # 11 h rest, 48 h a week
NO_TIME_RULES = RuleSettings(min_rest_hours=0, max_weekly_hours=0)


def span(start: str, end: str) -> Span:
    return Span(parse_time(start, LONDON), parse_time(end, LONDON))


def held(shift_id: str, start: str, end: str) -> HeldShift:
    return HeldShift(shift_id, span(start, end))


def shift(start: str, end: str, role: str | None = None, code: str = "XYZ124") -> ShiftToBook:
    return ShiftToBook(code, span(start, end), role)


def texts(refusals: tuple[Refusal, ...]) -> list[str]:
    return [r.render(LONDON) for r in refusals]


NIGHT = held("XYZ123", "2026-08-15 19:00", "2026-08-16 07:00")


# --- role ----------------------------------------------------------------------------------


def test_a_person_without_the_role_is_refused() -> None:
    refusals = check_booking(ShiftToBook("XYZ123", role="RN"), ["HCA"], [], RULES, NOW)
    assert refusals == (LacksRole("XYZ123", "RN"),)
    assert texts(refusals) == ["XYZ123 needs RN"]


def test_a_role_typed_in_the_console_outside_gsm7_is_shown_in_gsm7() -> None:
    refusal = LacksRole("XYZ123", "Pielęgniarka oddziałowa")
    assert refusal.render(LONDON) == "XYZ123 needs Pielegniarka o.."


def test_roles_match_whatever_their_case() -> None:
    assert check_booking(ShiftToBook("XYZ123", role="RN"), ["rn"], [], RULES, NOW) == ()
    assert check_booking(ShiftToBook("XYZ123", role="Band 5"), ["BAND  5"], [], RULES, NOW) == ()


def test_a_shift_with_no_role_is_open_to_anyone() -> None:
    assert check_booking(ShiftToBook("XYZ123"), [], [], RULES, NOW) == ()


def test_an_untimed_shift_has_no_time_rules_but_keeps_its_role() -> None:
    # Held shifts all around: an untimed shift cannot overlap, break rest or add hours.
    untimed = ShiftToBook("XYZ124", role="RN")
    assert check_booking(untimed, ["RN"], [NIGHT], RULES, NOW) == ()
    assert texts(check_booking(untimed, [], [NIGHT], RULES, NOW)) == ["XYZ124 needs RN"]


# --- started -------------------------------------------------------------------------------


def test_a_shift_that_has_started_is_refused_from_its_first_minute() -> None:
    new = shift("2026-08-20 07:00", "2026-08-20 19:00")
    start = new.span.start if new.span else NOW
    assert check_booking(new, [], [], RULES, start - timedelta(minutes=1)) == ()
    refusals = check_booking(new, [], [], RULES, start)
    assert refusals == (HasStarted("XYZ124"),)
    assert texts(refusals) == ["XYZ124 has started"]


def test_a_started_shift_reports_its_role_but_no_other_time_rule() -> None:
    new = shift("2026-08-16 06:00", "2026-08-16 10:00", role="RN")  # overlaps NIGHT too
    late = datetime(2026, 8, 16, 12, tzinfo=UTC)
    assert texts(check_booking(new, [], [NIGHT], RULES, late)) == [
        "XYZ124 has started",
        "XYZ124 needs RN",
    ]


# --- overlap -------------------------------------------------------------------------------


def test_a_shift_overlapping_a_held_one_is_refused() -> None:
    new = shift("2026-08-16 06:00", "2026-08-16 10:00")
    refusals = check_booking(new, [], [NIGHT], NO_TIME_RULES, NOW)
    assert refusals == (Overlaps("XYZ124", NIGHT),)
    assert texts(refusals) == ["XYZ124 overlaps your 19:00-07:00 on 15/08"]


def test_a_shift_inside_a_held_one_overlaps() -> None:
    new = shift("2026-08-15 22:00", "2026-08-16 02:00")
    assert check_booking(new, [], [NIGHT], NO_TIME_RULES, NOW) == (Overlaps("XYZ124", NIGHT),)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-08-16 07:00", "2026-08-16 12:00"), ("2026-08-15 12:00", "2026-08-15 19:00")],
)
def test_shifts_that_only_touch_do_not_overlap(start: str, end: str) -> None:
    new = shift(start, end)
    assert check_booking(new, [], [NIGHT], NO_TIME_RULES, NOW) == ()
    # With the rest rule on, back-to-back is refused for rest, not for overlap.
    refusals = check_booking(new, [], [NIGHT], RULES, NOW)
    assert [type(r) for r in refusals] == [TooLittleRest]
    assert texts(refusals)[0].startswith("XYZ124 leaves no rest ")


def test_the_same_code_held_already_is_not_an_overlap_with_itself() -> None:
    same = ShiftToBook("XYZ123", NIGHT.span)
    assert check_booking(same, [], [NIGHT], RULES, NOW) == ()


# --- rest ----------------------------------------------------------------------------------


def test_rest_exactly_at_the_minimum_is_allowed() -> None:
    # NIGHT ends 16/08 07:00; 11 h later is 18:00.
    new = shift("2026-08-16 18:00", "2026-08-16 23:00")
    assert check_booking(new, [], [NIGHT], RULES, NOW) == ()


def test_rest_one_minute_under_the_minimum_is_refused() -> None:
    new = shift("2026-08-16 17:59", "2026-08-16 23:00")
    refusals = check_booking(new, [], [NIGHT], RULES, NOW)
    assert refusals == (TooLittleRest("XYZ124", timedelta(hours=10, minutes=59), NIGHT, True),)
    assert texts(refusals) == ["XYZ124 leaves only 10h59m rest after your 19:00-07:00 on 15/08"]


def test_the_issue_example_nine_hours_rest() -> None:
    new = shift("2026-08-16 16:00", "2026-08-16 23:00")
    assert texts(check_booking(new, [], [NIGHT], RULES, NOW)) == [
        "XYZ124 leaves only 9h rest after your 19:00-07:00 on 15/08"
    ]


def test_rest_before_a_held_shift_counts_too() -> None:
    new = shift("2026-08-15 06:00", "2026-08-15 10:00")  # 9 h before NIGHT starts
    assert texts(check_booking(new, [], [NIGHT], RULES, NOW)) == [
        "XYZ124 leaves only 9h rest before your 19:00-07:00 on 15/08"
    ]
    ok = shift("2026-08-15 04:00", "2026-08-15 08:00")  # exactly 11 h before
    assert check_booking(ok, [], [NIGHT], RULES, NOW) == ()


def test_rest_names_the_nearest_held_shift_on_each_side() -> None:
    earlier = held("AAA111", "2026-08-15 06:00", "2026-08-15 08:00")
    after = held("BBB222", "2026-08-17 03:00", "2026-08-17 07:00")
    new = shift("2026-08-16 16:00", "2026-08-16 20:00")
    assert texts(check_booking(new, [], [after, earlier, NIGHT], RULES, NOW)) == [
        "XYZ124 leaves only 9h rest after your 19:00-07:00 on 15/08",
        "XYZ124 leaves only 7h rest before your 03:00-07:00 on 17/08",
    ]


def test_rest_is_measured_in_real_hours_over_the_october_change() -> None:
    # 20:00 BST to 06:00 GMT is 10 h on the clock but 11 h of rest.
    before = held("AAA111", "2026-10-24 12:00", "2026-10-24 20:00")
    new = shift("2026-10-25 06:00", "2026-10-25 12:00")
    assert check_booking(new, [], [before], RULES, NOW) == ()


def test_rest_is_measured_in_real_hours_over_the_march_change() -> None:
    # 20:00 GMT to 07:00 BST is 11 h on the clock but 10 h of rest.
    before = held("AAA111", "2026-03-28 12:00", "2026-03-28 20:00")
    new = shift("2026-03-29 07:00", "2026-03-29 12:00")
    assert texts(check_booking(new, [], [before], RULES, NOW)) == [
        "XYZ124 leaves only 10h rest after your 12:00-20:00 on 28/03"
    ]


def test_rest_of_zero_hours_turns_the_rule_off() -> None:
    new = shift("2026-08-16 07:00", "2026-08-16 12:00")
    assert check_booking(new, [], [NIGHT], RuleSettings(min_rest_hours=0), NOW) == ()


def test_a_night_over_a_dst_change_is_shown_on_the_wall_clock() -> None:
    october = held("AAA111", "2026-10-24 19:00", "2026-10-25 07:00")  # 13 h
    new = shift("2026-10-25 08:00", "2026-10-25 12:00")
    assert texts(check_booking(new, [], [october], RULES, NOW)) == [
        "XYZ124 leaves only 1h rest after your 19:00-07:00 on 24/10"
    ]


# --- weekly hours --------------------------------------------------------------------------

# Three 12-hour days with 12 h rest between them: 36 h held.
WEEK_HELD = [
    held("D1", "2026-08-03 07:00", "2026-08-03 19:00"),
    held("D2", "2026-08-04 07:00", "2026-08-04 19:00"),
    held("D3", "2026-08-05 07:00", "2026-08-05 19:00"),
]


def test_a_rolling_week_exactly_at_the_cap_is_allowed() -> None:
    new = shift("2026-08-07 07:00", "2026-08-07 19:00")  # 36 + 12 = 48
    assert check_booking(new, [], WEEK_HELD, RULES, NOW) == ()


def test_a_rolling_week_one_minute_over_the_cap_is_refused() -> None:
    new = shift("2026-08-07 07:00", "2026-08-07 19:01")
    refusals = check_booking(new, [], WEEK_HELD, RULES, NOW)
    assert len(refusals) == 1
    refusal = refusals[0]
    assert isinstance(refusal, OverWeeklyHours)
    assert refusal.hours == timedelta(hours=48, minutes=1)
    assert refusal.render(LONDON) == "XYZ124 takes you to 48h1m in 7 days, max 48h"


def test_a_week_apart_does_not_add_up() -> None:
    # 168 h after D1 started, a window holding all of the new shift holds none of D1.
    rules = RuleSettings(max_weekly_hours=36)
    new = shift("2026-08-10 07:00", "2026-08-10 19:00")
    assert check_booking(new, [], WEEK_HELD, rules, NOW) == ()
    peak, _ = weekly_peak(span("2026-08-10 07:00", "2026-08-10 19:00"), [h.span for h in WEEK_HELD])
    assert peak == timedelta(hours=36)


def test_partial_overlap_with_the_window_counts_the_part_inside() -> None:
    # The window from 03/08 07:00 holds all of D1-D3 (36 h) and the first minute of a new
    # shift from 10/08 06:59: 36h1m. Were it to start at 07:00, each later window would hold
    # as much less of D1 as it holds more of the new shift: 36 h at most.
    rules = RuleSettings(min_rest_hours=0, max_weekly_hours=36)
    new = shift("2026-08-10 06:59", "2026-08-10 08:00")
    peak, start = weekly_peak(
        span("2026-08-10 06:59", "2026-08-10 08:00"), [h.span for h in WEEK_HELD]
    )
    assert peak == timedelta(hours=36, minutes=1)
    assert start == parse_time("2026-08-03 07:00", LONDON)
    refusals = check_booking(new, [], WEEK_HELD, rules, NOW)
    assert texts(refusals) == ["XYZ124 takes you to 36h1m in 7 days, max 36h"]
    on_time = shift("2026-08-10 07:00", "2026-08-10 08:00")
    assert check_booking(on_time, [], WEEK_HELD, rules, NOW) == ()


def test_weekly_hours_count_the_real_length_of_a_night_over_the_october_change() -> None:
    october = held("AAA111", "2026-10-24 19:00", "2026-10-25 07:00")  # 13 real hours
    rules = RuleSettings(min_rest_hours=0, max_weekly_hours=25)
    new = shift("2026-10-26 07:00", "2026-10-26 19:00")  # 12 h: 25 in all
    assert check_booking(new, [], [october], rules, NOW) == ()
    longer = shift("2026-10-26 07:00", "2026-10-26 19:01")
    assert texts(check_booking(longer, [], [october], rules, NOW)) == [
        "XYZ124 takes you to 25h1m in 7 days, max 25h"
    ]


def test_a_night_over_the_march_change_counts_eleven_hours() -> None:
    march = held("AAA111", "2026-03-28 19:00", "2026-03-29 07:00")  # 11 real hours
    rules = RuleSettings(min_rest_hours=0, max_weekly_hours=23)
    new = shift("2026-03-30 07:00", "2026-03-30 19:00")  # 12 h: 23 in all
    assert check_booking(new, [], [march], rules, NOW) == ()


def test_weekly_cap_of_zero_turns_the_rule_off() -> None:
    new = shift("2026-08-07 07:00", "2026-08-08 07:00")  # 60 h in the week
    assert check_booking(new, [], WEEK_HELD, RuleSettings(max_weekly_hours=0), NOW) == ()
    assert [type(r) for r in check_booking(new, [], WEEK_HELD, RULES, NOW)] == [OverWeeklyHours]


@pytest.mark.parametrize(
    ("rest", "cap"), [(-1, 48), (11, -0.5), (float("nan"), 48), (11, float("inf"))]
)
def test_settings_refuse_negative_or_non_finite_hours(rest: float, cap: float) -> None:
    with pytest.raises(ValueError, match="must be 0 \\(off\\) or a positive number of hours"):
        RuleSettings(min_rest_hours=rest, max_weekly_hours=cap)


def test_settings_default_to_the_working_time_directive() -> None:
    assert RULES.min_rest == timedelta(hours=11)
    assert RULES.max_weekly == timedelta(hours=48)
    assert NO_TIME_RULES.min_rest is None and NO_TIME_RULES.max_weekly is None
    assert RuleSettings(min_rest_hours=200).lookback == timedelta(hours=200)
    assert RULES.lookback == timedelta(days=7)


# --- every reason at once ------------------------------------------------------------------


def test_all_reasons_are_reported_in_order() -> None:
    # 16 h from 10 h after D3 ends, into a held 3 h shift: 36 + 16 + 3 = 55 h in the week.
    new = shift("2026-08-06 05:00", "2026-08-06 21:00", role="RN")
    overlapping = held("OVR999", "2026-08-06 20:00", "2026-08-06 23:00")
    refusals = check_booking(new, ["HCA"], [*WEEK_HELD, overlapping], RULES, NOW)
    assert [type(r) for r in refusals] == [LacksRole, Overlaps, TooLittleRest, OverWeeklyHours]
    assert texts(refusals) == [
        "XYZ124 needs RN",
        "XYZ124 overlaps your 20:00-23:00 on 06/08",
        "XYZ124 leaves only 10h rest after your 07:00-19:00 on 05/08",
        "XYZ124 takes you to 55h in 7 days, max 48h",
    ]


# --- weekly peak against brute force -------------------------------------------------------

_QUARTERS = st.integers(min_value=0, max_value=4 * 24 * 16)  # quarter hours in 16 days


@st.composite
def spans(draw: st.DrawFn) -> Span:
    start = datetime(2026, 8, 1, tzinfo=UTC) + timedelta(minutes=15 * draw(_QUARTERS))
    length = timedelta(minutes=15 * draw(st.integers(min_value=1, max_value=96)))
    return Span(start, start + length)


def _brute_peak(new: Span, others: list[Span]) -> timedelta:
    """The most hours over window starts on the quarter-hour grid, from 168 h before ``new``
    starts to its end. The two end windows only touch ``new``, but the windows just inside hold
    as good as their total, and the cap is exceeded only by more than it, so they count."""
    step = timedelta(minutes=15)
    week = timedelta(hours=168)
    best = timedelta()
    t = new.start - week
    while t <= new.end:
        total = timedelta()
        for s in [new, *others]:
            lo, hi = max(s.start, t), min(s.end, t + week)
            if hi > lo:
                total += hi - lo
        best = max(best, total)
        t += step
    return best


@settings(max_examples=150, deadline=None)
@given(spans(), st.lists(spans(), max_size=5))
def test_weekly_peak_matches_every_window_on_the_grid(new: Span, others: list[Span]) -> None:
    peak, start = weekly_peak(new, others)
    assert peak == _brute_peak(new, others)
    # The reported window does share time with the new shift and holds the peak.
    assert new.start - timedelta(hours=168) <= start <= new.end


# --- reply fragments -----------------------------------------------------------------------


def _worst_refusals(code: str) -> list[Refusal]:
    night = held("AAA111", "2026-08-15 19:00", "2026-08-16 07:00")
    return [
        HasStarted(code),
        LacksRole(code, "Senior Staff RN1"),
        Overlaps(code, night),
        TooLittleRest(code, timedelta(hours=10, minutes=59), night, False),
        OverWeeklyHours(
            code, timedelta(hours=167, minutes=59), timedelta(hours=47, minutes=30), NOW
        ),
    ]


@given(st.from_regex(r"[A-Z0-9][A-Z0-9-]{1,19}", fullmatch=True))
def test_every_fragment_is_gsm7_and_leaves_room_for_another(code: str) -> None:
    for refusal in _worst_refusals(code):
        fragment = refusal.render(LONDON)
        assert is_gsm7(fragment)
        assert septets(fragment) <= 80, fragment


def test_refusals_for_one_code_read_as_one_sentence() -> None:
    refusals = check_booking(
        shift("2026-08-16 06:00", "2026-08-16 10:00", role="RN"), [], [NIGHT], NO_TIME_RULES, NOW
    )
    assert refusal_text(refusals, LONDON) == "XYZ124 needs RN, overlaps your 19:00-07:00 on 15/08."


def test_ten_codes_of_refusals_fit_one_segment() -> None:
    refusals = [r for i in range(10) for r in _worst_refusals(f"CODE-{i:02d}-ABCDEFGHIJKL")]
    text = refusal_text(refusals, LONDON)
    assert segments(text) == 1 and septets(text) <= GSM7_SINGLE and is_gsm7(text)
    assert text == (
        "CODE-00-ABCDEFGHIJKL has started. CODE-01-ABCDEFGHIJKL has started. "
        "CODE-02-ABCDEFGHIJKL has started. CODE-03-ABCDEFGHIJKL has started. +6 more refused."
    )


def test_a_smaller_room_keeps_first_reasons_then_counts_the_rest() -> None:
    refusals = [LacksRole("XYZ123", "RN"), Overlaps("XYZ123", NIGHT), HasStarted("XYZ124")]
    assert refusal_text(refusals, LONDON, room=40) == "XYZ123 needs RN. XYZ124 has started."
    assert refusal_text(refusals, LONDON, room=34) == "XYZ123 needs RN. +1 more refused."
    assert refusal_text([], LONDON) == ""


def test_who_may_work_a_shift_for_campaign_recipients() -> None:
    assert may_work(None, [])
    assert may_work("RN", ["HCA", "rn"])
    assert not may_work("RN", ["HCA"])
    assert not may_work("RN", [])
