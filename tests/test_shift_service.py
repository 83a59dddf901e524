"""ShiftService's decisions on in-memory fakes: what is stored, what the holder is texted.

No moto, no sockets: the CLI and the DynamoDB adapter are tested in test_cli_shifts.py; these
pin the operator's add / release / remove rules and the texts a holder gets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from shiftsms.core.commands import InvalidShiftId
from shiftsms.core.models import Shift, ShiftStatus, StaffMember
from shiftsms.errors import InvalidInput, ShiftChanged, ShiftExists, ShiftNotFound, ShiftNotTaken
from shiftsms.services.shifts import (
    AddedShift,
    Cancelled,
    HolderText,
    ShiftRow,
    ShiftService,
    read_file,
)
from tests.fakes import MemoryShifts, MemoryStaff, RecordingSms, SentSms

ANA, BEN = "+447700900101", "+447700900202"
WARD_NUMBER = "+447700900000"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
BOOKED_AT = "2026-11-28T10:00:00+00:00"
LATER = "2026-11-28T10:05:00+00:00"
# The text's Context: a notification to the holder (by her phone's fingerprint, never the
# number), for this shift and why.
CANCELLED = {
    "kind": "notify",
    "recipient": "b1e7c34f8f2731a143d8",
    "shift_id": "XYZ123",
    "reason": "cancelled-by-operator",
}
RELEASED_TEXT = (
    "Your booking of XYZ123 (15/08 nights) was cancelled by the ward. Text REQUEST for open shifts."
)
REMOVED_TEXT = "XYZ123 (15/08 nights) was cancelled by the ward. Text REQUEST for open shifts."


@dataclass
class RacingShifts(MemoryShifts):
    """MemoryShifts where ``meanwhile`` runs once, between the service's read and its write."""

    meanwhile: list[Callable[[MemoryShifts], object]] = field(default_factory=list)

    def _race(self) -> None:
        while self.meanwhile:
            self.meanwhile.pop(0)(self)

    def release_as_seen(self, seen: Shift) -> None:
        self._race()
        super().release_as_seen(seen)

    def delete_as_seen(self, seen: Shift) -> None:
        self._race()
        super().delete_as_seen(seen)


class World:
    """A shift service on fresh fakes that texts from the ward's number."""

    def __init__(self, *, origination: str = WARD_NUMBER, with_sms: bool = True) -> None:
        self.store = RacingShifts()
        self.sms = RecordingSms()
        self.service = ShiftService(self.store, self.sms if with_sms else None, origination)

    def taken(self, code: str = "XYZ123", info: str = "15/08 nights", by: str = ANA) -> Shift:
        shift = Shift(code, info, ShiftStatus.TAKEN, by, BOOKED_AT)
        self.store.put(shift)
        return shift


@pytest.fixture
def world() -> World:
    return World()


# -- add -----------------------------------------------------------------------------------


def test_add_stores_an_available_shift_under_the_upper_case_id(world: World) -> None:
    added = world.service.add(" xyz123 ", "15/08 nights")
    assert added == AddedShift(Shift("XYZ123", "15/08 nights"), "15/08 nights")
    assert added.info_changed is False
    assert world.store.items == {"XYZ123": Shift("XYZ123", "15/08 nights")}


def test_add_rewrites_the_info_to_one_gsm7_line_and_says_so(world: World) -> None:
    added = world.service.add("XYZ123", "  15/08 \u201cnights\u201d\n ward\u00a0 7 \U0001f600")
    assert added.shift == Shift("XYZ123", '15/08 "nights" ward 7')
    assert added.info_changed is True
    assert world.store.get("XYZ123") == Shift("XYZ123", '15/08 "nights" ward 7')


@pytest.mark.parametrize("code", ["X", "STOP", "request", "XYZ_123", "A" * 21])
def test_add_refuses_an_id_staff_could_not_text_back(world: World, code: str) -> None:
    with pytest.raises(InvalidShiftId):
        world.service.add(code, "15/08 nights")
    assert world.store.items == {}


def test_add_refuses_empty_info(world: World) -> None:
    with pytest.raises(InvalidInput, match="shift info is empty"):
        world.service.add("XYZ123", " \U0001f600 ")
    assert world.store.items == {}


def test_add_of_an_existing_id_changes_nothing(world: World) -> None:
    world.service.add("XYZ123", "15/08 nights")
    with pytest.raises(ShiftExists):
        world.service.add("XYZ123", "16/08 days")
    assert world.store.items == {"XYZ123": Shift("XYZ123", "15/08 nights")}


def test_replacing_a_taken_shift_keeps_the_booking(world: World) -> None:
    world.taken()
    added = world.service.add("XYZ123", "15/08 long nights", replace=True)
    kept = Shift("XYZ123", "15/08 long nights", ShiftStatus.TAKEN, ANA, BOOKED_AT)
    assert added == AddedShift(kept, "15/08 long nights", replaced=True)
    assert world.store.get("XYZ123") == kept
    assert world.sms.sent == []


# -- release --------------------------------------------------------------------------------


def test_release_frees_the_shift_and_texts_the_holder(world: World) -> None:
    before = world.taken()
    got = world.service.release("xyz123")
    assert got == Cancelled(before, HolderText(ANA, RELEASED_TEXT, message_id="msg-1"))
    assert world.store.get("XYZ123") == Shift("XYZ123", "15/08 nights")
    assert world.sms.sent == [SentSms(ANA, RELEASED_TEXT, WARD_NUMBER, CANCELLED)]


def test_release_without_notify_texts_nobody(world: World) -> None:
    before = world.taken()
    assert world.service.release("XYZ123", notify=False) == Cancelled(before, None)
    assert world.store.get("XYZ123") == Shift("XYZ123", "15/08 nights")
    assert world.sms.sent == []


def test_release_of_an_available_shift_is_refused(world: World) -> None:
    world.store.put(Shift("XYZ123", "15/08 nights"))
    with pytest.raises(ShiftNotTaken, match="XYZ123 is not taken, so there is nothing"):
        world.service.release("XYZ123")
    assert world.sms.sent == []


def test_release_of_a_shift_with_no_status_is_refused(world: World) -> None:
    world.store.put(Shift("XYZ123", "15/08 nights", None, ANA))
    with pytest.raises(ShiftNotTaken):
        world.service.release("XYZ123")
    assert world.store.get("XYZ123") == Shift("XYZ123", "15/08 nights", None, ANA)


def test_release_of_an_unknown_shift_is_refused(world: World) -> None:
    with pytest.raises(ShiftNotFound, match="no shift NOPE99"):
        world.service.release("nope99")


def test_release_when_the_holder_changed_meanwhile_releases_nothing(world: World) -> None:
    world.taken()
    rebooked = Shift("XYZ123", "15/08 nights", ShiftStatus.TAKEN, BEN, LATER)

    def ana_drops_and_ben_books(store: MemoryShifts) -> None:
        store.put(rebooked, replace=True)

    world.store.meanwhile.append(ana_drops_and_ben_books)
    with pytest.raises(ShiftChanged) as changed:
        world.service.release("XYZ123")
    assert str(changed.value) == (
        f"shift XYZ123 changed since it was read: it is now taken by {BEN} "
        f"(booked at {LATER}); nothing was released"
    )
    assert changed.value.now == rebooked
    assert world.store.get("XYZ123") == rebooked
    assert world.sms.sent == []


def test_release_still_goes_ahead_when_only_the_info_changed(world: World) -> None:
    before = world.taken()
    world.store.meanwhile.append(lambda store: store.set_info("XYZ123", "15/08 long nights"))
    assert world.service.release("XYZ123").before == before
    assert world.store.get("XYZ123") == Shift("XYZ123", "15/08 long nights")
    assert world.sms.to(ANA) == [RELEASED_TEXT]  # the text names the booking as it was read


def test_release_reports_a_holder_text_that_failed_and_keeps_the_release(world: World) -> None:
    world.taken()
    world.sms.opted_out.add(ANA)
    got = world.service.release("XYZ123")
    assert got.told == HolderText(ANA, RELEASED_TEXT, error="recipient has opted out")
    assert world.store.get("XYZ123") == Shift("XYZ123", "15/08 nights")


@pytest.mark.parametrize(
    "world",
    [World(with_sms=False), World(origination="")],
    ids=["no-sender", "no-number"],
)
def test_release_without_a_way_to_text_says_so(world: World) -> None:
    world.taken()
    got = world.service.release("XYZ123")
    assert got.told == HolderText(ANA, RELEASED_TEXT, error="no SMS sender configured")
    assert world.store.get("XYZ123") == Shift("XYZ123", "15/08 nights")
    assert world.sms.sent == []


# -- remove ---------------------------------------------------------------------------------


def test_remove_of_a_taken_shift_deletes_it_and_texts_the_holder(world: World) -> None:
    seen = world.taken()
    got = world.service.remove(world.service.get("XYZ123"))
    assert got == Cancelled(seen, HolderText(ANA, REMOVED_TEXT, message_id="msg-1"))
    assert world.store.items == {}
    assert world.sms.sent == [SentSms(ANA, REMOVED_TEXT, WARD_NUMBER, CANCELLED)]


@pytest.mark.parametrize(
    ("language", "released", "removed"),
    [
        (
            "es",
            "La unidad ha cancelado su reserva de XYZ123 (15/08 nights). "
            "Responda REQUEST para ver los turnos libres.",
            "La unidad ha cancelado el turno XYZ124 (15/08 nights). "
            "Responda REQUEST para ver los turnos libres.",
        ),
        (
            "pl",
            "Oddzial odwolal Twoja rezerwacje XYZ123 (15/08 nights). "
            "Odpisz REQUEST, aby zobaczyc wolne zmiany.",
            "Oddzial odwolal zmiane XYZ124 (15/08 nights). "
            "Odpisz REQUEST, aby zobaczyc wolne zmiany.",
        ),
    ],
)
def test_the_holder_is_told_in_their_language(
    world: World, language: str, released: str, removed: str
) -> None:
    world.service.staff = MemoryStaff()
    world.service.staff.put(StaffMember(ANA, "Ana", language=language))
    world.taken()
    world.service.release("XYZ123")
    world.taken("XYZ124")
    world.service.remove(world.service.get("XYZ124"))
    assert [(s.to, s.body) for s in world.sms.sent] == [(ANA, released), (ANA, removed)]


def test_remove_of_an_available_shift_texts_nobody(world: World) -> None:
    world.store.put(Shift("XYZ123", "15/08 nights"))
    got = world.service.remove(world.service.get("XYZ123"))
    assert got == Cancelled(Shift("XYZ123", "15/08 nights"), None)
    assert world.store.items == {}
    assert world.sms.sent == []


def test_remove_of_a_shift_with_no_status_texts_nobody_it_names(world: World) -> None:
    typed_by_hand = Shift("XYZ123", "15/08 nights", None, ANA)
    world.store.put(typed_by_hand)
    assert world.service.remove(typed_by_hand) == Cancelled(typed_by_hand, None)
    assert world.store.items == {}
    assert world.sms.sent == []


def test_remove_without_notify_texts_nobody(world: World) -> None:
    seen = world.taken()
    assert world.service.remove(seen, notify=False) == Cancelled(seen, None)
    assert world.store.items == {}
    assert world.sms.sent == []


def test_remove_of_a_shift_booked_since_it_was_shown_removes_nothing(world: World) -> None:
    world.store.put(Shift("XYZ123", "15/08 nights"))
    seen = world.service.get("XYZ123")
    world.store.book("XYZ123", BEN, "m1", NOW)
    with pytest.raises(ShiftChanged) as changed:
        world.service.remove(seen)
    assert str(changed.value) == (
        f"shift XYZ123 changed since it was read: it is now taken by {BEN} "
        f"(booked at {BOOKED_AT}); nothing was removed"
    )
    assert world.store.get("XYZ123") == Shift(
        "XYZ123", "15/08 nights", ShiftStatus.TAKEN, BEN, BOOKED_AT
    )
    assert world.sms.sent == []


def test_remove_of_a_shift_whose_info_changed_since_it_was_shown_removes_nothing(
    world: World,
) -> None:
    seen = world.taken()
    world.store.set_info("XYZ123", "16/08 days")
    with pytest.raises(ShiftChanged) as changed:
        world.service.remove(seen)
    assert str(changed.value) == (
        'shift XYZ123 changed since it was read: its info is now "16/08 days"; nothing was removed'
    )
    assert world.store.get("XYZ123") == Shift(
        "XYZ123", "16/08 days", ShiftStatus.TAKEN, ANA, BOOKED_AT
    )
    assert world.sms.sent == []


def test_remove_of_a_shift_already_gone_is_refused(world: World) -> None:
    seen = world.taken()
    world.store.delete("XYZ123")
    with pytest.raises(ShiftNotFound):
        world.service.remove(seen)
    assert world.sms.sent == []


def test_a_holder_text_fits_one_segment_however_long_the_info() -> None:
    world = World()
    world.taken(info="15/08 " + "very long night shift description " * 6)
    text = world.service.release("XYZ123").told
    assert text is not None and len(text.text) <= 160
    assert text.text.startswith("Your booking of XYZ123 (15/08 very long night shift")
    assert text.text.endswith(") was cancelled by the ward. Text REQUEST for open shifts.")


# -- listing and import ----------------------------------------------------------------------


def test_first_shows_available_then_taken_and_counts_the_rest(world: World) -> None:
    for code in ("C3", "A1", "B2"):
        world.store.put(Shift(code, f"info {code}"))
    world.taken("T1", "taken one")
    world.taken("T2", "taken two", by=BEN)
    shown, more = world.service.first(limit=4)
    assert ([s.shift_id for s in shown], more) == (["A1", "B2", "C3", "T1"], 1)
    shown, more = world.service.first(ShiftStatus.TAKEN, limit=1)
    assert ([s.shift_id for s in shown], more) == (["T1"], 1)
    assert [s.shift_id for s in world.service.listing()] == ["A1", "B2", "C3", "T1", "T2"]
    with pytest.raises(InvalidInput, match="status 'open' is not one of available, taken"):
        world.service.first("open")


def test_import_adds_new_rows_and_leaves_existing_shifts_alone(world: World) -> None:
    world.taken()
    rows = read_file("shift_id,shift_info\nxyz123,16/08 days\nABC456,  17/08 lates \n").rows
    assert rows == [
        ShiftRow(2, Shift("XYZ123", "16/08 days"), "16/08 days"),
        ShiftRow(3, Shift("ABC456", "17/08 lates"), "17/08 lates"),
    ]
    result = world.service.import_rows(rows)
    assert (result.added, result.skipped) == (["ABC456"], ["XYZ123"])
    assert world.store.items == {
        "XYZ123": Shift("XYZ123", "15/08 nights", ShiftStatus.TAKEN, ANA, BOOKED_AT),
        "ABC456": Shift("ABC456", "17/08 lates"),
    }
