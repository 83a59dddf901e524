"""Operator times: read in the stack's zone, DST gaps and repeats refused, stored with offset."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shiftsms.core.shift_times import (
    AmbiguousTime,
    EndNotAfterStart,
    NonexistentTime,
    ShiftTimeError,
    ShiftTooLong,
    Span,
    StartInPast,
    UnknownTimeZone,
    UnreadableTime,
    check_span,
    date_window,
    day_start,
    from_iso,
    has_started,
    listing_key,
    parse_date,
    parse_time,
    shift_span,
    sort_key,
    span_from_item,
    time_zone,
    to_iso,
)
from shiftsms.errors import InvalidInput

LONDON = time_zone("Europe/London")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2026-08-15 19:00", "2026-08-15T19:00+01:00"),  # BST
        ("2026-12-15 19:00", "2026-12-15T19:00+00:00"),  # GMT
        ("2026-08-15T19:00", "2026-08-15T19:00+01:00"),
        ("  2026-08-15 19:00  ", "2026-08-15T19:00+01:00"),
        ("2026-08-15 19:00:30", "2026-08-15T19:00:30+01:00"),
        ("2026-08-15T19:00+02:00", "2026-08-15T19:00+02:00"),  # an offset is kept as given
        ("2026-08-15T19:00-0500", "2026-08-15T19:00-05:00"),
        ("2026-08-15T19:00+05", "2026-08-15T19:00+05:00"),
        ("2026-08-15T18:00Z", "2026-08-15T18:00+00:00"),
        ("2026-08-15 18:00 Z", "2026-08-15T18:00+00:00"),
    ],
)
def test_times_are_read_in_the_zone_unless_they_carry_an_offset(text: str, stored: str) -> None:
    assert to_iso(parse_time(text, LONDON)) == stored


def test_the_same_wall_time_is_a_different_instant_in_another_zone() -> None:
    paris = parse_time("2026-08-15 19:00", time_zone("Europe/Paris"))
    assert to_iso(paris) == "2026-08-15T19:00+02:00"
    assert sort_key(paris) == "2026-08-15T17:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "2026-08-15",  # a shift start needs a time of day
        "15/08/2026 19:00",
        "2026-08-15 7pm",
        "2026-08-15 19",
        "2026-8-15 19:00",
        "2026-02-30 10:00",
        "2026-08-15 24:30",
        "2026-08-15 19:00:00.5",
        "2026-08-15 19:00 BST",
        "2026-W33-6 19:00",
    ],
)
def test_unreadable_times_are_refused_with_one_line(text: str) -> None:
    with pytest.raises(UnreadableTime) as err:
        parse_time(text, LONDON)
    assert "\n" not in str(err.value)
    assert isinstance(err.value, InvalidInput)  # the CLI's usage error: exit 2


def test_a_time_the_clocks_skip_is_refused() -> None:
    # Last Sunday of March 2026: 01:00 GMT becomes 02:00 BST.
    with pytest.raises(NonexistentTime) as err:
        parse_time("2026-03-29 01:30", LONDON)
    assert str(err.value) == (
        "2026-03-29 01:30 does not exist in Europe/London (the clocks skip it): give another time"
    )
    # Either side of the gap is fine.
    assert to_iso(parse_time("2026-03-29 00:59", LONDON)) == "2026-03-29T00:59+00:00"
    assert to_iso(parse_time("2026-03-29 02:00", LONDON)) == "2026-03-29T02:00+01:00"


def test_a_time_the_clocks_pass_twice_is_refused_naming_both_offsets() -> None:
    # Last Sunday of October 2026: 02:00 BST becomes 01:00 GMT, so 01:00-01:59 happen twice.
    with pytest.raises(AmbiguousTime) as err:
        parse_time("2026-10-25 01:30", LONDON)
    assert str(err.value) == (
        "2026-10-25 01:30 happens twice in Europe/London (the clocks go back): add the offset, "
        "+01:00 for the first or +00:00 for the second"
    )
    first = parse_time("2026-10-25 01:30+01:00", LONDON)
    second = parse_time("2026-10-25 01:30+00:00", LONDON)
    assert second - first == timedelta(hours=1)
    assert to_iso(parse_time("2026-10-25 00:59", LONDON)) == "2026-10-25T00:59+01:00"
    assert to_iso(parse_time("2026-10-25 02:00", LONDON)) == "2026-10-25T02:00+00:00"


@pytest.mark.parametrize("name", ["Mars/Olympus", "europe/nowhere", "../etc/passwd", "", "  "])
def test_an_unknown_time_zone_is_a_clear_error(name: str) -> None:
    with pytest.raises(UnknownTimeZone) as err:
        time_zone(name)
    assert "IANA" in str(err.value)
    assert "\n" not in str(err.value)


def test_known_zones_resolve() -> None:
    assert time_zone(" Europe/London ").key == "Europe/London"
    assert time_zone("UTC").key == "UTC"


def test_a_night_shift_across_midnight() -> None:
    span = shift_span("2026-08-15 19:00", "2026-08-16 07:00", LONDON, NOW)
    assert (span.starts_at(), span.ends_at()) == (
        "2026-08-15T19:00+01:00",
        "2026-08-16T07:00+01:00",
    )
    assert span.length == timedelta(hours=12)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2026-03-28 19:00", "2026-03-29 07:00", 11),  # clocks go forward overnight
        ("2026-10-24 19:00", "2026-10-25 07:00", 13),  # clocks go back overnight
    ],
)
def test_a_night_over_a_dst_change_lasts_the_real_hours(start: str, end: str, hours: int) -> None:
    span = shift_span(start, end, LONDON, NOW)
    assert span.length == timedelta(hours=hours)


def test_twenty_four_hours_is_the_longest_shift() -> None:
    assert shift_span("2026-08-15 07:00", "2026-08-16 07:00", LONDON, NOW).length == timedelta(
        hours=24
    )
    with pytest.raises(ShiftTooLong) as err:
        shift_span("2026-08-15 07:00", "2026-08-16 07:01", LONDON, NOW)
    assert str(err.value) == "the shift lasts 24.0167 h: at most 24 h from start to end"


def test_twenty_four_wall_clock_hours_over_the_october_change_are_25_and_refused() -> None:
    with pytest.raises(ShiftTooLong, match="lasts 25 h"):
        shift_span("2026-10-24 19:00", "2026-10-25 19:00", LONDON, NOW)
    # ... and over the March change they are 23, so allowed.
    span = shift_span("2026-03-28 19:00", "2026-03-29 19:00", LONDON, NOW)
    assert span.length == timedelta(hours=23)


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-08-16 07:00", "2026-08-15 19:00"), ("2026-08-15 19:00", "2026-08-15 19:00")],
)
def test_an_end_not_after_the_start_is_refused(start: str, end: str) -> None:
    with pytest.raises(EndNotAfterStart) as err:
        shift_span(start, end, LONDON, NOW)
    assert str(err.value).startswith("the shift ends (")


def test_the_end_is_compared_in_real_time_not_wall_clock() -> None:
    # 01:50 BST then 01:10 GMT on 25 October: later in real time though earlier on the clock.
    start = parse_time("2026-10-25 01:50+01:00", LONDON)
    end = parse_time("2026-10-25 01:10+00:00", LONDON).astimezone(LONDON)
    assert end.fold == 1
    now = datetime(2026, 10, 1, tzinfo=UTC)
    span = check_span(start.astimezone(LONDON), end, now)
    assert span.length == timedelta(minutes=20)
    with pytest.raises(EndNotAfterStart):
        check_span(end, start.astimezone(LONDON), now)
    with pytest.raises(ValueError, match="must end after it starts"):
        Span(end, start.astimezone(LONDON))


def test_a_start_in_the_past_is_refused_and_now_is_not_the_past() -> None:
    now = datetime(2026, 8, 15, 18, 0, tzinfo=UTC)  # 19:00 BST
    assert shift_span("2026-08-15 19:00", "2026-08-15 23:00", LONDON, now).start == now
    with pytest.raises(StartInPast) as err:
        shift_span("2026-08-15 18:59", "2026-08-15 23:00", LONDON, now)
    assert str(err.value) == "the shift starts in the past (2026-08-15T18:59+01:00)"


def test_every_refusal_is_one_invalid_input_line() -> None:
    cases = [
        ("2026-08-16 07:00", "2026-08-15 19:00"),
        ("2026-08-15 07:00", "2026-08-17 07:00"),
        ("2020-08-15 07:00", "2020-08-15 08:00"),
        ("nonsense", "2026-08-15 08:00"),
    ]
    for start, end in cases:
        with pytest.raises(ShiftTimeError) as err:
            shift_span(start, end, LONDON, NOW)
        assert isinstance(err.value, InvalidInput)
        assert "\n" not in str(err.value)


def test_stored_times_read_back_and_must_carry_an_offset() -> None:
    assert from_iso("2026-08-15T19:00+01:00") == datetime(2026, 8, 15, 18, 0, tzinfo=UTC)
    for bad in ("2026-08-15T19:00", "soon", ""):
        with pytest.raises(UnreadableTime):
            from_iso(bad)


def test_the_sort_key_orders_times_with_different_offsets() -> None:
    # Around the October change the stored strings sort wrongly; the UTC key does not.
    early = parse_time("2026-10-25 01:50+01:00", LONDON)
    late = parse_time("2026-10-25 01:10+00:00", LONDON)
    assert to_iso(late) < to_iso(early)
    assert sort_key(early) < sort_key(late)
    assert (sort_key(early), sort_key(late)) == ("2026-10-25T00:50:00Z", "2026-10-25T01:10:00Z")


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), LONDON]),
    )
)
def test_stored_times_round_trip_and_sort_keys_sort_in_time(instant: datetime) -> None:
    instant = instant.replace(microsecond=0)
    # In UTC: Python never finds a time in a repeated hour equal to one in another zone.
    assert from_iso(to_iso(instant)).astimezone(UTC) == instant.astimezone(UTC)
    # A minute later in real time (Python adds to an aware datetime in wall time, which in a
    # repeated hour can step back an hour), shown in the instant's own zone.
    later = (instant.astimezone(UTC) + timedelta(minutes=1)).astimezone(instant.tzinfo)
    assert sort_key(instant) < sort_key(later)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)))
def test_a_local_time_is_refused_or_shows_the_same_wall_clock(naive: datetime) -> None:
    naive = naive.replace(second=0, microsecond=0)
    text = f"{naive:%Y-%m-%d %H:%M}"
    try:
        parsed = parse_time(text, LONDON)
    except (NonexistentTime, AmbiguousTime):
        early = naive.replace(tzinfo=LONDON, fold=0)
        late = naive.replace(tzinfo=LONDON, fold=1)
        assert early.utcoffset() != late.utcoffset()  # only at a change of offset
        return
    assert parsed.astimezone(LONDON).replace(tzinfo=None) == naive
    assert parsed.utcoffset() in {timedelta(0), timedelta(hours=1)}


def test_dates_for_from_and_to() -> None:
    assert parse_date("2026-08-15") == date(2026, 8, 15)
    for bad in ("2026-08-15 19:00", "15/08", "2026-13-01", ""):
        with pytest.raises(UnreadableTime):
            parse_date(bad)


def test_a_date_window_covers_both_days_whole_in_the_zone() -> None:
    window = date_window("2026-08-15", "2026-08-16", LONDON)
    assert window.start is not None and window.end is not None
    assert (to_iso(window.start), to_iso(window.end)) == (
        "2026-08-15T00:00+01:00",
        "2026-08-17T00:00+01:00",
    )
    assert parse_time("2026-08-16 23:59", LONDON) in window
    assert parse_time("2026-08-17 00:00", LONDON) not in window
    assert parse_time("2026-08-14 23:59", LONDON) not in window
    assert parse_time("2099-01-01 00:00", LONDON) in date_window("2026-08-15", None, LONDON)
    assert parse_time("1999-01-01 00:00", LONDON) in date_window(None, "2026-08-15", LONDON)
    with pytest.raises(EndNotAfterStart, match="--to 2026-08-14 is before --from 2026-08-15"):
        date_window("2026-08-15", "2026-08-14", LONDON)


def test_a_day_the_clocks_skip_midnight_starts_at_one() -> None:
    # Chile moves its clocks forward at 00:00 on the first Sunday of September.
    santiago = time_zone("America/Santiago")
    start = day_start(date(2026, 9, 6), santiago)
    assert to_iso(start) == "2026-09-06T01:00-03:00"
    assert start.astimezone(UTC) == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # the change itself


def test_a_london_day_over_a_change_has_its_real_length() -> None:
    window = date_window("2026-10-25", "2026-10-25", LONDON)
    assert window.start is not None and window.end is not None
    assert window.end.astimezone(UTC) - window.start.astimezone(UTC) == timedelta(hours=25)


def test_a_console_item_without_times_is_untimed() -> None:
    assert (
        span_from_item({"shift_id": "XYZ123", "shift_info": "x", "shift_status": "available"})
        is None
    )


def test_a_stored_item_reads_back_as_its_span() -> None:
    item = {
        "shift_id": "XYZ123",
        "starts_at": "2026-08-15T19:00+01:00",
        "ends_at": "2026-08-16T07:00+01:00",
    }
    span = span_from_item(item)
    assert span is not None
    assert (span.starts_at(), span.ends_at()) == (item["starts_at"], item["ends_at"])


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"shift_id": "A1", "starts_at": "2026-08-15T19:00+01:00"}, "shift A1 needs both"),
        ({"shift_id": "A1", "ends_at": "2026-08-15T19:00+01:00"}, "shift A1 needs both"),
        ({"shift_id": "A1", "starts_at": 5, "ends_at": "2026-08-15T19:00Z"}, "shift A1 needs both"),
        (
            {"shift_id": "A1", "starts_at": "2026-08-15 19:00", "ends_at": "2026-08-15T20:00Z"},
            "no UTC offset",
        ),
        (
            {"shift_id": "A1", "starts_at": "2026-08-15T19:00Z", "ends_at": "2026-08-15T19:00Z"},
            "at or before",
        ),
    ],
)
def test_a_damaged_stored_item_is_refused_not_taken_as_untimed(
    item: dict[str, object], message: str
) -> None:
    with pytest.raises(UnreadableTime, match=message):
        span_from_item(item)


def test_lists_put_timed_shifts_soonest_first_then_untimed_ones() -> None:
    late = Span(
        parse_time("2026-10-25 01:10+00:00", LONDON), parse_time("2026-10-25 05:00", LONDON)
    )
    early = Span(
        parse_time("2026-10-25 01:50+01:00", LONDON), parse_time("2026-10-25 05:00", LONDON)
    )
    rows = [("U2", None), ("L1", late), ("U1", None), ("E1", early)]
    ordered = sorted(rows, key=lambda row: listing_key(row[1], row[0]))
    assert [code for code, _ in ordered] == ["E1", "L1", "U1", "U2"]


def test_a_shift_has_started_from_its_first_instant() -> None:
    span = shift_span("2026-08-15 19:00", "2026-08-16 07:00", LONDON, NOW)
    assert not has_started(span, span.start - timedelta(seconds=1))
    assert has_started(span, span.start)
    assert has_started(span, span.end + timedelta(days=1))
    assert not has_started(None, span.end)
