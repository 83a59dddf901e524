"""GSM-7 detection, segment counting and transliteration, as carriers bill them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftsms.core.gsm import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentInfo,
    is_gsm7,
    segment_info,
    segments,
    septets,
    to_gsm7,
    truncate_septets,
)

BASIC = GSM7_BASIC.replace("\x1b", "")


def test_alphabet_tables_have_the_standard_sizes() -> None:
    # 128 basic code points (0x1B is the escape to the extension table) and 10 extensions.
    assert len(GSM7_BASIC) == len(set(GSM7_BASIC)) == 128
    assert set(GSM7_EXTENSION) == set("\f^{}\\[~]|€")


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("", True),
        ("Booked: XYZ123. Thank you!", True),
        ("£5 bonus @ 10:00 - Ä Ö Ñ Ü ß é è ù ì ò Ç", True),
        ("price in €, {braces} [brackets] ~tilde~ ^caret^ |pipe| \\", True),
        ("ç", False),  # only upper-case Ç is in the basic table
        ("á", False),
        ("It’s", False),  # typographic apostrophe
        ("“quoted”", False),
        ("emoji 🙂", False),
        ("tab\there", False),
        ("\x1b", False),  # the escape code is not a character a text may contain
        ("日本", False),
    ],
)
def test_is_gsm7(text: str, gsm: bool) -> None:
    assert is_gsm7(text) is gsm
    assert segment_info(text).encoding == ("GSM-7" if gsm else "UCS-2")


@pytest.mark.parametrize(
    ("length", "count"),
    [(0, 0), (1, 1), (159, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segment_boundaries(length: int, count: int) -> None:
    info = segment_info("a" * length)
    assert info == SegmentInfo("GSM-7", length, count)


def test_extension_characters_take_two_septets() -> None:
    assert septets("€") == 2
    assert septets("a{b}c") == 7
    assert segment_info("€" * 80) == SegmentInfo("GSM-7", 160, 1)
    assert segment_info("€" * 80 + "a") == SegmentInfo("GSM-7", 161, 2)
    assert segments("a" * 159 + "€") == 2  # 161 septets


def test_escape_pair_is_never_split_across_segments() -> None:
    # 152 septets, then an extension character: its two septets cannot straddle the boundary,
    # so it starts the second segment, and 306 septets (two full parts) need three segments.
    text = "a" * 152 + "€" + "a" * 152
    assert septets(text) == 306
    assert segments(text) == 3
    # Without the straddle the same length fits two.
    assert segments("a" * 153 + "€" + "a" * 151) == 2


@pytest.mark.parametrize(
    ("length", "count"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segment_boundaries(length: int, count: int) -> None:
    text = "ж" * length
    assert segment_info(text) == SegmentInfo("UCS-2", length, count)


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2() -> None:
    text = "a" * 69 + "’"
    assert segment_info(text) == SegmentInfo("UCS-2", 70, 1)
    assert segments("a" * 70 + "’") == 2


def test_characters_beyond_the_bmp_take_two_ucs2_units() -> None:
    assert segment_info("🙂" * 35) == SegmentInfo("UCS-2", 70, 1)
    assert segment_info("🙂" * 36) == SegmentInfo("UCS-2", 72, 2)
    # A surrogate pair is not split: 66 units then an emoji needs a second segment.
    assert segments("a" * 66 + "🙂" + "a" * 66) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It’s “fine” – really…", 'It\'s "fine" - really...'),
        ("naïve café façade", "naive café faÇade"),
        ("Zoë Brontë", "Zoe Bronte"),
        ("5×3 → 15", "5x3 -> 15"),
        ("a\u00a0b\u2009c\td", "a b c d"),
        ("«hi»", '"hi"'),
        ("• item", "* item"),
        ("already GSM: £@é", "already GSM: £@é"),
    ],
)
def test_to_gsm7_transliterates_look_alikes(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected
    assert is_gsm7(expected)


def test_to_gsm7_replaces_what_it_cannot_represent() -> None:
    assert to_gsm7("ok 🙂 日") == "ok ? ?"
    assert to_gsm7("ok 🙂 日", replacement="") == "ok  "
    assert to_gsm7("bell\x07") == "bell?"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_to_gsm7_output_is_always_gsm7(text: str) -> None:
    out = to_gsm7(text)
    assert is_gsm7(out)
    assert segment_info(out).encoding == "GSM-7"
    # Characters already in the alphabet come through unchanged.
    if is_gsm7(text):
        assert out == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(BASIC + GSM7_EXTENSION)), st.integers(10, 400))
def test_truncate_septets_respects_the_limit(text: str, limit: int) -> None:
    out = truncate_septets(text, limit)
    assert septets(out) <= limit
    if septets(text) <= limit:
        assert out == text
    else:
        assert out.endswith("..")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(BASIC + GSM7_EXTENSION), max_size=800))
def test_gsm7_segments_hold_at_most_153_septets_each(text: str) -> None:
    info = segment_info(text)
    assert info.units == septets(text)
    if info.units <= 160:
        assert info.segments == (1 if text else 0)
    else:
        # Never fewer than the septets need, at most one more for escapes kept whole per part.
        assert -(-info.units // 153) <= info.segments <= -(-info.units // 152)
