"""The composed shift_info line and the roles and locations it is built from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shiftsms.core.gsm import GSM7_BASIC, is_gsm7, septets
from shiftsms.core.shift_info import (
    MAX_INFO_SEPTETS,
    UnreadableLabel,
    check_location,
    check_role,
    compose_info,
    role_key,
)
from shiftsms.core.shift_times import Span, shift_span, time_zone
from shiftsms.errors import InvalidInput

LONDON = time_zone("Europe/London")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
NIGHT = shift_span("2026-08-15 19:00", "2026-08-16 07:00", LONDON, NOW)


def test_the_issue_example() -> None:
    assert compose_info(NIGHT, LONDON, "Ward 7", "RN") == "Sat 15/08 19:00-07:00 Ward 7 RN"


def test_parts_are_optional() -> None:
    assert compose_info(NIGHT, LONDON) == "Sat 15/08 19:00-07:00"
    assert compose_info(NIGHT, LONDON, role="HCA") == "Sat 15/08 19:00-07:00 HCA"
    assert compose_info(NIGHT, LONDON, location="Ward 7") == "Sat 15/08 19:00-07:00 Ward 7"
    assert compose_info(None, LONDON, "Ward 7", "RN") == "Ward 7 RN"


def test_times_are_shown_on_the_stacks_wall_clock() -> None:
    # Stored in UTC or with another offset, shown in the stack's zone.
    span = Span(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), datetime(2027, 1, 1, 8, tzinfo=UTC))
    assert compose_info(span, LONDON) == "Thu 31/12 23:30-08:00"
    assert compose_info(span, time_zone("Europe/Paris")) == "Fri 01/01 00:30-09:00"


def test_a_night_over_the_october_change_shows_the_wall_clock() -> None:
    span = shift_span("2026-10-24 19:00", "2026-10-25 07:00", LONDON, NOW)
    assert compose_info(span, LONDON, "Ward 7", "RN") == "Sat 24/10 19:00-07:00 Ward 7 RN"


def test_a_long_location_is_shortened_never_the_times_or_role() -> None:
    info = compose_info(NIGHT, LONDON, "Ward 7 North Wing, Block C", "Band 5")
    assert info == "Sat 15/08 19:00-07:00 Ward 7 No.. Band 5"
    assert septets(info) == MAX_INFO_SEPTETS


def test_a_location_with_no_room_left_is_dropped() -> None:
    info = compose_info(NIGHT, LONDON, "Ward 7", "Senior Staff RN")
    # 21 septets of time, 15 of role and a space each side leave 2: too few for a location.
    assert info == "Sat 15/08 19:00-07:00 Senior Staff RN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "role is empty"),
        ("   ", "role is empty"),
        ("R\nN", "role must be one line"),
        ("Sœur", "role 'Sœur' has characters an SMS cannot show in GSM-7: 'œ'"),
        (
            "Pielęgniarka",
            "role 'Pielęgniarka' has characters an SMS cannot show in GSM-7: 'ę'; "
            "try 'Pielegniarka'",
        ),
        ("RN 🙂", "role 'RN 🙂' has characters an SMS cannot show in GSM-7: '🙂'"),
        ("RN\t2", "role 'RN\\t2' has characters an SMS cannot show in GSM-7: '\\t'; try 'RN 2'"),
        ("Charge Nurse Band 7", "role 'Charge Nurse Band 7' is longer than 16 characters"),
    ],
)
def test_roles_staff_could_not_read_are_refused(text: str, message: str) -> None:
    with pytest.raises(UnreadableLabel) as err:
        check_role(text)
    assert str(err.value) == message
    assert isinstance(err.value, InvalidInput)


def test_a_typographic_apostrophe_in_a_location_is_refused_with_the_fix() -> None:
    with pytest.raises(UnreadableLabel) as err:
        check_location("St John’s")
    assert str(err.value) == (
        "location 'St John’s' has characters an SMS cannot show in GSM-7: '’'; try \"St John's\""
    )
    with pytest.raises(UnreadableLabel):
        compose_info(NIGHT, LONDON, location="St John’s")


def test_labels_are_trimmed_and_single_spaced() -> None:
    assert check_role("  Band   5 ") == "Band 5"
    assert check_location("Ward 7 £ [East]") == "Ward 7 £ [East]"  # GSM-7, extension included


def test_roles_match_whatever_their_case_and_spacing() -> None:
    assert role_key("rn") == role_key("RN") == role_key(" Rn ")
    assert role_key("Band  5") == role_key("band 5")
    assert role_key("RN") != role_key("HCA")


_GSM_TEXT = st.text(alphabet=GSM7_BASIC.replace("\x1b", "").replace("\n", "").replace("\r", ""))


@given(
    location=_GSM_TEXT.filter(lambda t: 0 < len(t.strip()) <= 40),
    role=_GSM_TEXT.filter(lambda t: 0 < len(t.strip()) <= 16),
    minute=st.integers(min_value=0, max_value=60 * 24 * 365),
)
def test_a_composed_info_is_gsm7_within_budget_and_keeps_the_role(
    location: str, role: str, minute: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute)
    span = Span(start, start + timedelta(hours=12))
    info = compose_info(span, LONDON, location, role)
    assert is_gsm7(info)
    assert septets(info) <= MAX_INFO_SEPTETS
    assert info.endswith(" " + check_role(role))
