"""The pure self-service rules: SNOOZE days, quiet hours across midnight and daylight saving,
the cap's day, the DROP cutoff, when a reminder is due, and the new texts' segment budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shiftsms.core import replies
from shiftsms.core.commands import RESERVED_WORDS, SHIFTSMS_KEYWORDS, Kind, parse
from shiftsms.core.gsm import is_gsm7, segments
from shiftsms.core.models import DropOutcome
from shiftsms.core.self_service import (
    BadSnooze,
    QuietHours,
    cap_day,
    drop_too_late,
    hold_offer_until,
    reminder_at,
    reminder_key,
    snooze_days,
)

LONDON = ZoneInfo("Europe/London")
NIGHTS = QuietHours.parse("22:00-07:00")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize("word", ["MINE", "COMMANDS", "SNOOZE", "RESUME"])
def test_new_words_are_shiftsms_commands_not_carrier_keywords(word: str) -> None:
    assert word in SHIFTSMS_KEYWORDS
    assert word in RESERVED_WORDS


def test_parse_new_commands() -> None:
    assert parse(" mine ").kind is Kind.MINE
    assert parse("Commands").kind is Kind.COMMANDS
    assert parse("snooze 3").kind is Kind.SNOOZE
    assert parse("snooze 3").note == "3"
    assert parse("RESUME").kind is Kind.RESUME


@pytest.mark.parametrize(("note", "days"), [("", 7), ("3", 3), ("60", 60), ("1.", 1)])
def test_snooze_days(note: str, days: int) -> None:
    assert snooze_days(note) == days


@pytest.mark.parametrize("note", ["0", "61", "-2", "soon", "3 days", "2.5"])
def test_snooze_days_refused(note: str) -> None:
    with pytest.raises(BadSnooze):
        snooze_days(note)


@pytest.mark.parametrize("raw", ["22:00", "22-07", "24:00-07:00", "22:00-22:00", "10pm-7am"])
def test_quiet_hours_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        QuietHours.parse(raw)


def test_no_quiet_hours() -> None:
    assert QuietHours.parse("") is None
    assert hold_offer_until(utc(2026, 8, 15, 23), None, LONDON, None) is None


def test_quiet_hours_cross_midnight_in_local_time() -> None:
    assert NIGHTS is not None
    # 15/08 is BST (UTC+1): quiet from 21:00 UTC to 06:00 UTC next day.
    assert NIGHTS.ends_after(utc(2026, 8, 15, 20, 59), LONDON) is None
    assert NIGHTS.ends_after(utc(2026, 8, 15, 21, 0), LONDON) == utc(2026, 8, 16, 6)
    assert NIGHTS.ends_after(utc(2026, 8, 16, 5, 59), LONDON) == utc(2026, 8, 16, 6)
    assert NIGHTS.ends_after(utc(2026, 8, 16, 6, 0), LONDON) is None


def test_quiet_hours_over_the_spring_forward_night() -> None:
    assert NIGHTS is not None
    # 28/03/2027 GMT -> BST at 01:00 UTC: 22:00 GMT is 22:00 UTC, 07:00 BST is 06:00 UTC.
    assert NIGHTS.ends_after(utc(2027, 3, 27, 22, 30), LONDON) == utc(2027, 3, 28, 6)
    assert NIGHTS.ends_after(utc(2027, 3, 27, 21, 59), LONDON) is None


def test_quiet_hours_over_the_fall_back_night() -> None:
    assert NIGHTS is not None
    # 25/10/2026 BST -> GMT: starts 22:00 BST (21:00 UTC), ends 07:00 GMT (07:00 UTC).
    assert NIGHTS.ends_after(utc(2026, 10, 24, 21, 0), LONDON) == utc(2026, 10, 25, 7)
    assert NIGHTS.ends_after(utc(2026, 10, 25, 6, 30), LONDON) == utc(2026, 10, 25, 7)
    assert NIGHTS.ends_after(utc(2026, 10, 25, 7, 0), LONDON) is None


def test_quiet_hours_inside_one_day() -> None:
    naps = QuietHours.parse("13:00-14:30")
    assert naps is not None
    assert naps.ends_after(utc(2026, 12, 1, 13, 10), LONDON) == utc(2026, 12, 1, 14, 30)
    assert naps.ends_after(utc(2026, 12, 1, 14, 30), LONDON) is None


def test_an_offer_in_quiet_hours_waits_unless_a_shift_starts_first() -> None:
    now = utc(2026, 8, 15, 23)
    end = utc(2026, 8, 16, 6)
    assert hold_offer_until(now, NIGHTS, LONDON, None) == end
    assert hold_offer_until(now, NIGHTS, LONDON, utc(2026, 8, 16, 8)) == end
    assert hold_offer_until(now, NIGHTS, LONDON, utc(2026, 8, 16, 5)) is None
    assert hold_offer_until(utc(2026, 8, 15, 12), NIGHTS, LONDON, None) is None


def test_the_cap_day_is_the_local_day() -> None:
    # 23:30 UTC on 15/08 is 00:30 BST on 16/08.
    assert cap_day(utc(2026, 8, 15, 23, 30), LONDON) == "2026-08-16"
    assert cap_day(utc(2026, 12, 15, 23, 30), LONDON) == "2026-12-15"


def test_drop_cutoff() -> None:
    start = utc(2026, 8, 15, 18)
    assert drop_too_late(start, start - timedelta(hours=11, minutes=59), 12)
    assert not drop_too_late(start, start - timedelta(hours=12), 12)
    assert not drop_too_late(start, start - timedelta(minutes=1), 0)
    assert not drop_too_late(None, start, 12)


def test_reminder_time_and_none_inside_the_window() -> None:
    start = utc(2026, 8, 15, 18)
    assert reminder_at(start, utc(2026, 8, 1), 12) == utc(2026, 8, 15, 6)
    assert reminder_at(start, utc(2026, 8, 15, 6), 12) is None
    assert reminder_at(start, utc(2026, 8, 1), 0) is None


def test_reminder_key_names_shift_holder_and_start() -> None:
    start = datetime(2026, 8, 15, 19, tzinfo=LONDON)
    assert reminder_key("XYZ123", "ab12", start) == "XYZ123#ab12#2026-08-15T18:00:00Z"


def test_reminder_text_as_the_issue_gives_it() -> None:
    start = datetime(2026, 8, 15, 19, tzinfo=LONDON)
    assert replies.reminder("XYZ123", start, "Ward 7", LONDON) == (
        "Reminder: XYZ123 Sat 15/08 19:00 Ward 7. Reply DROP XYZ123 if you can't make it."
    )


def test_new_texts_fit_one_gsm7_segment_with_the_longest_values() -> None:
    start = datetime(2026, 12, 30, 23, 59, tzinfo=LONDON)
    code = "A" * 20
    texts = [
        replies.COMMAND_LIST,
        replies.NO_BOOKED_SHIFTS,
        replies.NO_MORE_BOOKED,
        replies.BAD_SNOOZE,
        replies.RESUMED,
        replies.snoozed(start, LONDON),
        replies.reminder(code, start, "W" * 40, LONDON),
        replies.booked_page([(code, start, "W" * 40)] * 30, LONDON, 99)[0],
        replies.drop_summary({f"{code[:-2]}{i:02d}": DropOutcome.TOO_LATE for i in range(10)}),
    ]
    for text in texts:
        assert is_gsm7(text) and segments(text) == 1, text
