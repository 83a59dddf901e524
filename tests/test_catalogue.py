"""The message catalogues: every language has every text, and every text fits its segment.

Each message is rendered as it is sent, with the longest real values (a 20-character shift
code, a 40-character shift info, a 16-character role, the widest times and hour counts), and
checked against the budget of its catalogue: GSM-7 and 160 characters for a ``gsm_only`` one,
70 for a UCS-2 one; and it must not be cut short.
"""

from __future__ import annotations

import string
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shiftsms.core import replies
from shiftsms.core.booking_rules import (
    HasStarted,
    LacksRole,
    Overlaps,
    OverWeeklyHours,
    Refusal,
    TooLittleRest,
    refusal_text,
)
from shiftsms.core.campaign_text import (
    SAMPLE_CAMPAIGN_MESSAGE,
    campaign_text,
    compose,
    localised_text,
)
from shiftsms.core.catalogue import (
    CATALOGUES,
    ENGLISH,
    Catalogue,
    UnknownLanguage,
    catalogue,
    check_language,
    en,
    pl,
)
from shiftsms.core.commands import MAX_CODES_PER_TEXT, SHIFT_ID_PATTERN
from shiftsms.core.gsm import is_gsm7, segment_info
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, ShiftStatus
from shiftsms.core.shift_info import MAX_LOCATION_SEPTETS, MAX_ROLE_SEPTETS
from shiftsms.core.shift_times import Span
from shiftsms.core.waitlist import WAITLIST_CAP, JoinOutcome, JoinResult
from shiftsms.services.shifts import cancelled_text

LONDON = ZoneInfo("Europe/London")
CODES = [f"ABCDEFGHIJKLMNOPQR{i:02d}" for i in range(MAX_CODES_PER_TEXT)]  # 20: the longest id
CODE = CODES[0]
INFO = "Sat 15/08 19:00-07:00 Ward 7B Cardio RN1"  # 40 septets: the longest info sent
ROLE = "Healthcare Asst2"  # 16 septets: the longest role
LOCATION = "Ward 7B Cardiothoracic Surgery North Wng"  # 40 septets: the longest location
# The same evening on each day of a week (Mon 11/08/2031 first): the longest weekday of each
# language is among them.
WEEK = [datetime(2031, 8, 11 + d, 18, 59, tzinfo=UTC) for d in range(7)]
SECONDS = timedelta(seconds=7)
# A held night 19:00-07:00 (the widest time text) on 15/08.
HELD = HeldShift(
    "HELD01",
    Span(datetime(2031, 8, 15, 18, 0, tzinfo=UTC), datetime(2031, 8, 16, 6, 0, tzinfo=UTC)),
)
# Fixed texts that are sent as they are.
STANDALONE = (
    "NOT_AUTHORISED",
    "NOT_A_CODE",
    "TOO_MANY_CODES",
    "AGENT_CALLING",
    "AGENT_ALREADY_CALLING",
    "AGENT_UNAVAILABLE",
    "AGENT_FAILED",
    "NO_OPEN_SHIFTS",
    "NO_MORE_SHIFTS",
    "LOOK_FURTHER",
    "HOW_TO_LIST",
    "YES_WHICH",
    "WAIT_ONE_CODE",
    "COMMAND_LIST",
    "NO_BOOKED_SHIFTS",
    "NO_MORE_BOOKED",
    "BAD_SNOOZE",
    "RESUMED",
)
LANGUAGES = sorted(CATALOGUES)


def test_the_constants_match_the_longest_values() -> None:
    assert SHIFT_ID_PATTERN.fullmatch(CODE) and len(CODE) == 20
    assert len(INFO) == replies.MAX_INFO_SEPTETS
    assert len(ROLE) == MAX_ROLE_SEPTETS
    assert len(LOCATION) == MAX_LOCATION_SEPTETS
    assert [d.weekday() for d in WEEK] == list(range(7))


def _refusals() -> list[Refusal]:
    """One refusal of every kind, each with the longest values it can hold."""
    return [
        HasStarted(CODE),
        LacksRole(CODE, ROLE),
        Overlaps(CODE, HELD),
        TooLittleRest(CODE, timedelta(hours=47, minutes=59), HELD, after=True),
        TooLittleRest(CODE, timedelta(hours=47, minutes=59), HELD, after=False),
        TooLittleRest(CODE, timedelta(), HELD, after=True),
        TooLittleRest(CODE, timedelta(), HELD, after=False),
        OverWeeklyHours(
            CODE, timedelta(hours=168), timedelta(hours=167, minutes=59), HELD.span.start
        ),
    ]


def _sent(texts: Catalogue) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every message as it is sent in ``texts``: name -> (text, the parts it must show)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for key in STANDALONE:
        text = texts.text(key)
        out[key] = (text, (text,))
    titles = {
        key: texts.text(key)
        for key in ("BOOKED", "ALREADY_YOURS", "NO_LONGER_AVAILABLE", "NOT_VALID_CODE")
    }
    thanks, how = texts.text("THANK_YOU"), texts.text("HOW_TO_LIST")
    # A booking text with the most codes, every outcome: counts shrink, the footer stays.
    outcomes = dict(
        zip(
            CODES,
            [BookingOutcome.BOOKED] * 3
            + [BookingOutcome.ALREADY_YOURS] * 3
            + [BookingOutcome.TAKEN] * 2
            + [BookingOutcome.UNKNOWN] * 2,
            strict=True,
        )
    )
    out["booking, every outcome"] = (
        replies.booking_summary(outcomes, texts),
        (*(f"{t}: " for t in titles.values()), thanks),
    )
    nothing = dict.fromkeys(CODES, BookingOutcome.UNKNOWN)
    out["booking, nothing valid"] = (
        replies.booking_summary(nothing, texts),
        (titles["NOT_VALID_CODE"], how),
    )
    drops = dict(
        zip(
            CODES,
            [DropOutcome.RELEASED] * 3
            + [DropOutcome.TOO_LATE] * 2
            + [DropOutcome.NOT_YOURS] * 2
            + [DropOutcome.UNKNOWN] * 3,
            strict=True,
        )
    )
    dropped = replies.drop_summary(drops, texts)
    out["drop, every outcome"] = (
        dropped,
        tuple(
            f"{texts.text(k)}: " for k in ("RELEASED", "TOO_LATE", "NOT_YOURS", "NOT_VALID_CODE")
        ),
    )
    retried = {CODES[0]: DropOutcome.STILL_YOURS, CODES[1]: DropOutcome.RELEASED}
    out["drop retried, booked again since"] = (
        replies.drop_summary(retried, texts),
        tuple(f"{texts.text(k)}: " for k in ("RELEASED", "STILL_YOURS")),
    )
    for refusal in _refusals():
        sentence = f"{CODE} {refusal.reason(LONDON, texts)}."
        name = f"refusal {type(refusal).__name__} {refusal.reason(LONDON, ENGLISH)[:12]}"
        out[name] = (refusal_text([refusal], LONDON, texts=texts), (sentence,))
        booked = {CODES[1]: BookingOutcome.BOOKED}
        out[name + " after a booking"] = (
            replies.booking_reply(booked, [refusal], LONDON, texts),
            (f"{titles['BOOKED']}: {CODES[1]}", sentence),
        )
    many = [Shift(f"ABCDEFGHIJKLMNOPQ{i:03d}", INFO) for i in range(25)]
    page, shown = replies.shift_page(many, 9999, at_least=True, texts=texts)
    more = texts.text("PAGE_MORE", n=f"{len(many) - shown + 9999}+")
    out["shift page, more to come"] = (page, (f"{many[0].shift_id} {INFO}", more))
    last, _ = replies.shift_page(many[:1], 0, texts=texts)
    out["shift page, the last"] = (
        last,
        (f"{many[0].shift_id} {INFO}. {texts.text('BOOK_HINT')}",),
    )
    campaign = compose([Shift(CODE, INFO)], texts=texts).text
    out["campaign, one shift"] = (campaign, (f"{INFO} {CODE}. {texts.text('HOW_TO_BOOK')}",))
    out.update(_self_service(texts))
    return out


def _longest(texts: Catalogue, make: Callable[[datetime], str]) -> str:
    """``make`` over every weekday of :data:`WEEK`: the longest text (the longest weekday)."""
    return max((make(at) for at in WEEK), key=texts.units)


def _self_service(texts: Catalogue) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The waitlist, self-service and claim-window texts with the longest values."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for outcome in JoinOutcome:
        role = ROLE if outcome is JoinOutcome.NEEDS_ROLE else None
        text = replies.join_reply(CODE, JoinResult(outcome, WAITLIST_CAP, role), texts)
        shows = texts.text("NOT_A_CODE") if outcome is JoinOutcome.UNKNOWN else CODE
        out[f"wait {outcome.value}"] = (text, (shows, *((role,) if role else ())))
    held = _longest(texts, lambda at: replies.held_offer(CODE, at, LONDON, texts))
    out["held offer"] = (held, (CODE, "19:59", "YES"))
    # A hold shorter than a minute (HoldMinutes below 1) ends on a second, shown as such.
    brief = _longest(texts, lambda at: replies.held_offer(CODE, at + SECONDS, LONDON, texts))
    out["held offer, a hold of seconds"] = (brief, (CODE, "19:59:07", "YES"))
    snooze = _longest(texts, lambda at: replies.snoozed(at, LONDON, texts))
    out["snoozed"] = (snooze, ("19:59", "RESUME"))
    # MINE shows each location cut to 20 septets.
    codes = [f"ABCDEFGHIJKLMNOPQ{i:03d}" for i in range(25)]
    for at in WEEK:
        page, shown = replies.booked_page([(c, at, LOCATION) for c in codes], LONDON, 9999, texts)
        first = f"{codes[0]} {replies.day(at, LONDON, texts)} 19:59 {LOCATION[:18]}.."
        more = texts.text("PAGE_MORE", n=len(codes) - shown + 9999)
        out[f"mine, more to come, day {at.weekday()}"] = (page, (first, more))
    remind = _longest(texts, lambda at: replies.reminder(CODE, at, LOCATION, LONDON, texts))
    out["reminder"] = (remind, (f"{CODE} ", f" 19:59 {LOCATION}.", f"DROP {CODE}"))
    one = replies.window_interest([CODE], "23:59", texts)
    out["window interest, one"] = (one, (CODE, "23:59"))
    ten = replies.window_interest(CODES, "23:59", texts)
    out["window interest, ten"] = (ten, (texts.count("WINDOW_INTEREST_MANY", 10, at="23:59"),))
    out["award lost"] = (replies.award_lost(CODE, texts), (CODE,))
    shift = Shift(CODE, INFO, ShiftStatus.TAKEN, "+447700900123")
    for removed in (False, True):
        text = cancelled_text(shift, removed=removed, texts=texts)
        out[f"cancelled, removed={removed}"] = (text, (f"{CODE} ({INFO})", "REQUEST"))
    return out


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_language_names_seven_weekdays(code: str) -> None:
    days = CATALOGUES[code].text("WEEKDAYS").split()
    assert len(set(days)) == 7
    assert replies.day(WEEK[5], LONDON, CATALOGUES[code]) == f"{days[5]} 16/08"


def over_budget(texts: Catalogue) -> list[str]:
    """The messages of ``texts`` that are too long, cut short, or not GSM-7 when they must be."""
    bad = []
    for name, (text, parts) in _sent(texts).items():
        too_long = texts.units(text) > texts.single or segment_info(text).segments != 1
        cut = text.endswith("..") or not all(p in text for p in parts)
        if too_long or cut or (texts.gsm_only and not is_gsm7(text)):
            bad.append(f"{name}: {text!r}")
    return bad


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_fits_one_segment_with_the_longest_values(code: str) -> None:
    assert over_budget(CATALOGUES[code]) == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_shift_page_shows_a_shift_with_its_info(code: str) -> None:
    texts = CATALOGUES[code]
    many = [Shift(f"ABCDEFGHIJKLMNOPQ{i:03d}", INFO) for i in range(25)]
    page, shown = replies.shift_page(many, 9999, at_least=True, texts=texts)
    assert shown >= 1
    assert page.startswith(f"{texts.text('OPEN_SHIFTS')}: {many[0].shift_id} {INFO}")


def _ucs2(module: types.ModuleType, **texts: str) -> Catalogue:
    """``module``'s catalogue declared UCS-2 (sent with its accents), ``texts`` replaced."""
    fake = types.ModuleType(f"{module.__name__}_ucs2")
    for name in ("CODE", "NAME", "plural"):
        setattr(fake, name, getattr(module, name))
    fake.GSM_ONLY = False
    fake.TEXTS = {**module.TEXTS, **texts}
    return Catalogue.load(fake)


def test_a_ucs2_catalogue_keeps_its_accents_and_has_70_characters_a_segment() -> None:
    polish = _ucs2(pl)
    assert polish.text("THANK_YOU") == "Dziękujemy!"
    assert CATALOGUES["pl"].text("THANK_YOU") == "Dziekujemy!"
    assert (polish.single, polish.budget(2)) == (70, 134)
    assert segment_info(polish.text("AGENT_CALLING")).encoding == "UCS-2"
    # Polish written for 160 GSM-7 characters does not fit 70: the check says which.
    bad = over_budget(polish)
    assert any(b.startswith("NOT_AUTHORISED: ") for b in bad)
    assert not any(b.startswith("AGENT_CALLING: ") for b in bad)


def test_a_ucs2_text_one_character_over_70_is_reported() -> None:
    fits = _ucs2(pl, AGENT_CALLING="ą" * 70)
    over = _ucs2(pl, AGENT_CALLING="ą" * 71)
    assert not any(b.startswith("AGENT_CALLING: ") for b in over_budget(fits))
    assert any(b.startswith("AGENT_CALLING: ") for b in over_budget(over))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != "en"])
def test_every_english_key_is_in_every_language_with_the_same_fields(code: str) -> None:
    other = CATALOGUES[code].texts
    assert sorted(set(en.TEXTS) - set(other)) == [], "missing"
    assert sorted(set(other) - set(en.TEXTS)) == [], "not in English"
    for key, value in en.TEXTS.items():
        assert isinstance(other[key], tuple) == isinstance(value, tuple), key
        wanted = set().union(*(_fields(f) for f in _forms(value)))
        for form in _forms(other[key]):
            assert _fields(form) == wanted, (key, form)


def test_a_key_missing_from_a_language_is_found() -> None:
    short = types.ModuleType("short")
    short.CODE, short.NAME, short.GSM_ONLY, short.plural = "xx", "Short", True, en.plural
    short.TEXTS = {k: v for k, v in en.TEXTS.items() if k != "NOT_A_CODE"}
    assert set(en.TEXTS) - set(Catalogue.load(short).texts) == {"NOT_A_CODE"}


def test_the_english_catalogue_holds_the_english_constants() -> None:
    assert en.TEXTS["NOT_A_CODE"] == replies.NOT_A_CODE
    assert campaign_text("15/08 nights XYZ123") == (
        "Open shifts: 15/08 nights XYZ123. "
        "Reply a code to book, REQUEST for all open shifts, STOP to opt out."
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1 kod"), (2, "2 kody"), (4, "4 kody"), (5, "5 kodów"), (12, "12 kodów"), (22, "22 kody")],
)
def test_polish_plurals(n: int, text: str) -> None:
    assert _ucs2(pl).count("CODES", n) == text


def test_texts_are_transliterated_to_gsm7() -> None:
    polish, spanish = CATALOGUES["pl"], CATALOGUES["es"]
    assert polish.text("NOT_A_CODE") == (
        "To nie jest prawidlowy kod zmiany. Odpisz REQUEST, aby zobaczyc wolne zmiany."
    )
    assert spanish.text("NOT_VALID_CODE") == "Codigo no valido"
    assert spanish.text("THANK_YOU") == "¡Gracias!"  # ¡ is GSM-7


def test_language_codes() -> None:
    assert check_language(" ES ") == "es"
    with pytest.raises(UnknownLanguage, match="'fr' is not a language shiftsms speaks"):
        check_language("fr")
    assert catalogue("pl").code == "pl"
    assert catalogue("xx") is ENGLISH
    assert catalogue(None) is ENGLISH


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_sample_campaign_goes_out_translated_in_one_segment(code: str) -> None:
    approved = campaign_text(SAMPLE_CAMPAIGN_MESSAGE)
    sent = localised_text(approved, SAMPLE_CAMPAIGN_MESSAGE, CATALOGUES[code])
    texts = CATALOGUES[code]
    assert sent == (
        f"{texts.text('OPEN_SHIFTS')}: {SAMPLE_CAMPAIGN_MESSAGE}. {texts.text('HOW_TO_BOOK')}"
    )
    assert segment_info(sent).segments == 1


def test_a_translation_longer_than_the_approved_segments_sends_the_approved_text() -> None:
    # An English text filled to its one segment: the Spanish wrapper is longer.
    message = "x" * (160 - len("Open shifts: . ") - len(ENGLISH.text("HOW_TO_BOOK")))
    approved = campaign_text(message)
    assert segment_info(approved).segments == 1
    assert localised_text(approved, message, CATALOGUES["es"]) == approved


def test_an_approved_text_that_is_not_the_standard_wrapping_is_sent_as_it_is() -> None:
    approved = "Open shifts: 15/08 nights XYZ123. Call the ward to book."
    assert localised_text(approved, "15/08 nights XYZ123", CATALOGUES["es"]) == approved


@given(
    st.sampled_from(LANGUAGES),
    st.dictionaries(
        st.from_regex(SHIFT_ID_PATTERN, fullmatch=True),
        st.sampled_from(list(BookingOutcome)),
        min_size=1,
        max_size=MAX_CODES_PER_TEXT,
    ),
)
def test_any_booking_summary_in_any_language_is_one_segment_with_every_outcome(
    code: str, outcomes: dict[str, BookingOutcome]
) -> None:
    texts = CATALOGUES[code]
    text = replies.booking_summary(outcomes, texts)
    assert is_gsm7(text) and segment_info(text).segments == 1
    keys = {
        BookingOutcome.BOOKED: "BOOKED",
        BookingOutcome.ALREADY_YOURS: "ALREADY_YOURS",
        BookingOutcome.TAKEN: "NO_LONGER_AVAILABLE",
        BookingOutcome.UNKNOWN: "NOT_VALID_CODE",
    }
    for outcome in set(outcomes.values()):
        assert f"{texts.text(keys[outcome])}: " in text
