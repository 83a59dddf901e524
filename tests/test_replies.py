"""Reply texts: GSM-7, one segment (shift lists within their budget), and they say enough."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftsms.core import replies
from shiftsms.core.commands import SHIFT_ID_PATTERN
from shiftsms.core.gsm import is_gsm7, segment_info, segments, septets
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift

FIXED = {
    name: value
    for name, value in vars(replies).items()
    if name.isupper() and isinstance(value, str) and name != "HOW_TO_LIST"
}


def test_the_fixed_replies_are_the_ones_we_expect() -> None:
    assert set(FIXED) >= {
        "NOT_AUTHORISED",
        "NOT_A_CODE",
        "TOO_MANY_CODES",
        "AGENT_CALLING",
        "AGENT_UNAVAILABLE",
        "AGENT_FAILED",
        "NO_OPEN_SHIFTS",
        "NO_MORE_SHIFTS",
    }


@pytest.mark.parametrize("name", sorted(FIXED))
def test_every_fixed_reply_is_gsm7_and_one_segment(name: str) -> None:
    text = FIXED[name]
    info = segment_info(text)
    assert info.encoding == "GSM-7", name
    assert info.segments == 1, name
    assert text.strip() == text


def test_fixed_replies_tell_the_employee_what_to_do() -> None:
    assert "REQUEST" in replies.NOT_A_CODE
    assert "REQUEST" in replies.TOO_MANY_CODES
    assert "10" in replies.TOO_MANY_CODES
    assert "call" in replies.AGENT_CALLING.lower()
    assert "not offered" in replies.AGENT_UNAVAILABLE
    assert "REQUEST" in replies.NO_MORE_SHIFTS


LONG = [f"ABCDEFGHIJKLMNOPQR{i:02d}" for i in range(10)]  # 20 characters: the longest id


def test_booking_summary_single() -> None:
    assert replies.booking_summary({"XYZ123": BookingOutcome.BOOKED}) == (
        "Booked: XYZ123. Thank you!"
    )
    assert replies.booking_summary({"XYZ123": BookingOutcome.TAKEN}) == (
        "No longer available: XYZ123. Reply WAIT XYZ123 to join its waitlist."
    )
    assert replies.booking_summary({"XYZ123": BookingOutcome.UNKNOWN}) == (
        "Not a valid code: XYZ123. Reply REQUEST for open shifts."
    )
    assert replies.booking_summary({"XYZ123": BookingOutcome.ALREADY_YOURS}) == (
        "Already yours: XYZ123. Reply REQUEST for open shifts."
    )


def test_booking_summary_mixed() -> None:
    text = replies.booking_summary(
        {
            "XYZ123": BookingOutcome.BOOKED,
            "XYZ124": BookingOutcome.TAKEN,
            "XYZ125": BookingOutcome.UNKNOWN,
            "XYZ126": BookingOutcome.BOOKED,
            "XYZ127": BookingOutcome.ALREADY_YOURS,
        }
    )
    assert text == (
        "Booked: XYZ123, XYZ126. Already yours: XYZ127. No longer available: XYZ124. "
        "Not a valid code: XYZ125. Thank you!"
    )


def test_ten_long_codes_booked_still_one_segment() -> None:
    text = replies.booking_summary(dict.fromkeys(LONG, BookingOutcome.BOOKED))
    assert segments(text) == 1 and is_gsm7(text)
    assert text.startswith("Booked: ABCDEFGHIJKLMNOPQR00, ")
    # What does not fit is counted, and the count adds up.
    shown = re.findall(r"ABCDEFGHIJKLMNOPQR\d\d", text)
    more = int(re.search(r"\+(\d+) more", text).group(1))  # type: ignore[union-attr]
    assert len(shown) + more == 10
    assert text.endswith("Thank you!")


def test_ten_long_codes_in_every_outcome_still_say_every_outcome() -> None:
    outcomes = {code: list(BookingOutcome)[i % 4] for i, code in enumerate(LONG)}
    text = replies.booking_summary(outcomes)
    assert segments(text) == 1 and is_gsm7(text)
    for title in ("Booked", "Already yours", "No longer available", "Not a valid code"):
        assert f"{title}: " in text
    assert text.endswith("Thank you!")


OUTCOMES = st.dictionaries(
    st.from_regex(SHIFT_ID_PATTERN, fullmatch=True),
    st.sampled_from(list(BookingOutcome)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(OUTCOMES)
def test_any_booking_summary_is_gsm7_one_segment_and_complete(
    outcomes: dict[str, BookingOutcome],
) -> None:
    text = replies.booking_summary(outcomes)
    assert is_gsm7(text)
    assert septets(text) <= 160
    titles = {
        BookingOutcome.BOOKED: "Booked: ",
        BookingOutcome.ALREADY_YOURS: "Already yours: ",
        BookingOutcome.TAKEN: "No longer available: ",
        BookingOutcome.UNKNOWN: "Not a valid code: ",
    }
    for outcome, title in titles.items():
        assert (title in text) == (outcome in outcomes.values())
    booked = BookingOutcome.BOOKED in outcomes.values()
    taken = [c for c, o in outcomes.items() if o is BookingOutcome.TAKEN]
    footer = replies.taken_footer(taken) if taken else replies.HOW_TO_LIST
    assert text.endswith("Thank you!" if booked else footer)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(SHIFT_ID_PATTERN, fullmatch=True),
        st.sampled_from(list(DropOutcome)),
        min_size=1,
        max_size=10,
    )
)
def test_any_drop_summary_is_gsm7_one_segment_and_complete(
    outcomes: dict[str, DropOutcome],
) -> None:
    text = replies.drop_summary(outcomes)
    assert is_gsm7(text)
    assert septets(text) <= 160
    for outcome, title in (
        (DropOutcome.RELEASED, "Released: "),
        (DropOutcome.NOT_YOURS, "Not booked by you: "),
        (DropOutcome.UNKNOWN, "Not a valid code: "),
    ):
        assert (title in text) == (outcome in outcomes.values())


def test_a_drop_found_still_yours_is_said_even_for_many_long_codes() -> None:
    codes = {f"ABCDEFGHIJKLMNOPQR{i:02d}": DropOutcome.STILL_YOURS for i in range(10)}
    assert replies.drop_summary(codes) == "Still yours (booked again since): 10 codes."
    one = {"XYZ123": DropOutcome.STILL_YOURS, "XYZ124": DropOutcome.RELEASED}
    assert replies.drop_summary(one) == (
        "Released: XYZ124. Still yours (booked again since): XYZ123."
    )


def test_drop_summary() -> None:
    assert replies.drop_summary({"XYZ123": DropOutcome.RELEASED}) == "Released: XYZ123."
    assert replies.drop_summary(
        {"XYZ123": DropOutcome.NOT_YOURS, "XYZ999": DropOutcome.UNKNOWN}
    ) == ("Not booked by you: XYZ123. Not a valid code: XYZ999.")


def _shifts(n: int, info: str = "15/08 5h nightshift") -> list[Shift]:
    return [Shift(f"XYZ{i:03d}", info) for i in range(n)]


def test_shift_page_all_fit() -> None:
    text, shown = replies.shift_page(_shifts(2), more_after=0)
    assert text == (
        "Open shifts: XYZ000 15/08 5h nightshift; XYZ001 15/08 5h nightshift. Reply a code to book."
    )
    assert shown == 2


def test_shift_page_says_how_many_more_and_how_to_get_them() -> None:
    text, shown = replies.shift_page(_shifts(20), more_after=30)
    # 13 + 4 x 26 + 3 x 2 + 22 = 145 characters; a fifth shift would make 173 (over 160).
    assert text == (
        "Open shifts: XYZ000 15/08 5h nightshift; XYZ001 15/08 5h nightshift; "
        "XYZ002 15/08 5h nightshift; XYZ003 15/08 5h nightshift. 46 more: reply MORE."
    )
    assert shown == 4
    assert segments(text) == 1 and is_gsm7(text)


def test_shift_page_with_nothing_open() -> None:
    assert replies.shift_page([], more_after=0) == (replies.NO_OPEN_SHIFTS, 0)


def test_shift_page_makes_info_gsm7_and_short() -> None:
    shifts = [Shift("XYZ123", "Café “late” shift – bring ID 🙂 " + "x" * 200)]
    text, shown = replies.shift_page(shifts, more_after=0)
    assert shown == 1
    assert is_gsm7(text) and segments(text) == 1
    assert text.startswith('Open shifts: XYZ123 Café "late" shift - bring ID xx')


def test_shift_page_with_more_segments_shows_more() -> None:
    one, shown_one = replies.shift_page(_shifts(20), more_after=0, max_segments=1)
    three, shown_three = replies.shift_page(_shifts(20), more_after=0, max_segments=3)
    assert segments(one) == 1
    assert segments(three) <= 3 and is_gsm7(three)
    assert shown_three > shown_one


SHIFT_LISTS = st.lists(
    st.builds(
        Shift,
        shift_id=st.from_regex(SHIFT_ID_PATTERN, fullmatch=True),
        shift_info=st.text(max_size=120),
    ),
    min_size=1,
    max_size=20,
    unique_by=lambda s: s.shift_id,
)


@settings(max_examples=200, deadline=None)
@given(SHIFT_LISTS, st.integers(0, 100_000), st.integers(1, 3))
def test_any_shift_page_fits_its_budget_and_counts_the_rest(
    shifts: list[Shift], more_after: int, max_segments: int
) -> None:
    text, shown = replies.shift_page(shifts, more_after, max_segments)
    assert is_gsm7(text)
    assert septets(text) <= {1: 160, 2: 2 * 153, 3: 3 * 153}[max_segments]
    assert segments(text) <= max_segments
    assert 1 <= shown <= len(shifts)
    for shift in shifts[:shown]:
        assert shift.shift_id in text
    remaining = len(shifts) - shown + more_after
    if remaining:
        assert text.endswith(f" {remaining} more: reply MORE.")
    else:
        assert text.endswith("Reply a code to book.")
