"""Phone numbers: E.164 normalisation with reasons, and masking for logs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftsms.core.phone import (
    InvalidPhoneNumber,
    fingerprint,
    mask,
    normalise,
    redact,
    try_normalise,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+447700900123", None, "+447700900123"),
        ("+44 7700 900123", None, "+447700900123"),
        ("  +44 (0)7700-900123 ", None, "+447700900123"),
        ("07700 900123", "GB", "+447700900123"),
        ("07700900123", "gb", "+447700900123"),
        ("+14255550182", None, "+14255550182"),
        ("(425) 555-0182", "US", "+14255550182"),
        ("+44 7700 900123", "US", "+447700900123"),  # a + number ignores the region
        ("+353 85 123 4567", None, "+353851234567"),
    ],
)
def test_normalise(raw: str, region: str | None, expected: str) -> None:
    assert normalise(raw, region) == expected
    assert try_normalise(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", None, "empty phone number"),
        ("   ", "GB", "empty phone number"),
        ("07700 900123", None, "start it with + and the country code"),
        ("+999 7700 900123", None, "unknown country code"),
        ("+44 7700", None, "too short"),
        ("+44 12", None, "too short"),
        ("+44 7700 900123 456789", None, "too long"),
        ("hello", None, "a phone number has no letters"),
        ("+1-800-FLOWERS", None, "a phone number has no letters"),
        ("07700 900123x", "GB", "a phone number has no letters"),  # phonenumbers drops the x
        ("+44 7700 900123 ext 5", None, "a phone number has no letters"),
        ("+44 (0) --", None, "not a phone number"),
        ("555 0123", "US", "missing its area code"),
    ],
)
def test_invalid_numbers_say_why(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalise(raw, region)
    assert reason in str(caught.value)
    assert try_normalise(raw, region) is None


def test_mask_shows_prefix_and_last_two_digits_only() -> None:
    assert mask("+447700900123") == "+44********23"
    assert mask("+14255550182") == "+14*******82"
    assert mask("") == ""


@pytest.mark.parametrize("short", ["1", "+1", "+1234", "1234567", "+123456"])
def test_mask_of_short_strings_hides_everything(short: str) -> None:
    assert set(mask(short)) == {"*"}


def _visible(masked: str) -> int:
    return sum(1 for c in masked if c != "*")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="+0123456789 -", max_size=40))
def test_mask_never_shows_more_than_prefix_and_two_digits(number: str) -> None:
    masked = mask(number)
    assert len(masked) == len(number)
    assert _visible(masked) <= 5
    # At least six characters are hidden whenever there is anything to hide.
    assert masked.count("*") >= min(len(number), 6)
    if len(number) >= 8:
        assert masked[-2:] == number[-2:]


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True))
def test_mask_of_any_e164_number_hides_the_subscriber(number: str) -> None:
    masked = mask(number)
    assert number not in masked
    assert not re.search(r"\d{4}", masked.replace("*", " ")[3:])


def test_redact_masks_numbers_inside_text() -> None:
    text = "Invalid destination +447700900123 (or 07700 900123) at 2026-11-28, try 3 times"
    out = redact(text)
    assert "7700900123" not in out.replace(" ", "")
    assert "900123" not in out
    assert "2026-11-28" in out
    assert "try 3 times" in out


def test_fingerprint_is_stable_and_hides_the_number() -> None:
    assert fingerprint("+447700900123") == fingerprint("+447700900123")
    assert fingerprint("+447700900123") != fingerprint("+447700900124")
    assert "7700900123" not in fingerprint("+447700900123")
