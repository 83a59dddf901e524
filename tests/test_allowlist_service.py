"""AllowlistService's decisions on an in-memory staff store: which fields an add or update
writes, and what an import keeps.

No moto, no sockets, a fixed clock: the CLI and the DynamoDB adapter are tested in
test_cli_allowlist.py; these pin the service's own rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shiftsms.core.models import StaffChange, StaffEdit, StaffMember
from shiftsms.core.phone import InvalidPhoneNumber
from shiftsms.errors import InvalidInput, RowsRejected, StaffNotFound
from shiftsms.services.allowlist import AllowlistService, StaffFile, StaffRow, check_region
from tests.fakes import MemoryStaff

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ADDED = "2026-11-28T10:00:00+00:00"
EARLIER = "2026-11-01T09:00:00+00:00"
ANA, BEN, CARA = "+447700900101", "+447700900202", "+447700900303"


class VanishingStaff(MemoryStaff):
    """MemoryStaff where the entry is removed by someone else just before the next update."""

    vanish_next_update = False

    def update(self, phone: str, edit: StaffEdit) -> StaffChange:
        if self.vanish_next_update:
            self.vanish_next_update = False
            self.delete(phone)
        return super().update(phone, edit)


class World:
    """An allow-list service on a fresh store, reading numbers in the UK, at a fixed time."""

    def __init__(self) -> None:
        self.store = VanishingStaff()
        self.service = AllowlistService(self.store, "GB", clock=lambda: NOW)

    def on_list(self, member: StaffMember) -> None:
        self.store.put(member)


@pytest.fixture
def world() -> World:
    return World()


ANA_BEFORE = StaffMember(
    ANA, "Ana", campaigns=False, opted_out=True, groups=("night",), added_at=EARLIER
)


# -- add -----------------------------------------------------------------------------------


def test_add_of_a_new_number_stores_it_in_e164_taking_campaigns(world: World) -> None:
    change = world.service.add("07700 900101", " Ana Silva ")
    assert change == StaffChange(None, StaffMember(ANA, "Ana Silva", added_at=ADDED))
    assert (change.created, change.changed) == (True, ())
    assert world.store.items == {ANA: StaffMember(ANA, "Ana Silva", added_at=ADDED)}


def test_add_of_a_new_number_with_every_field(world: World) -> None:
    change = world.service.add(ANA, "Ana", campaigns=False, groups=["night", " icu ", "night"])
    stored = StaffMember(ANA, "Ana", campaigns=False, groups=("icu", "night"), added_at=ADDED)
    assert change == StaffChange(None, stored)
    assert world.store.get(ANA) == stored


def test_add_of_a_listed_number_changes_only_the_name_given(world: World) -> None:
    world.on_list(ANA_BEFORE)
    change = world.service.add("+44 7700 900101", "Ana Silva")
    after = StaffMember(
        ANA, "Ana Silva", campaigns=False, opted_out=True, groups=("night",), added_at=EARLIER
    )
    assert change == StaffChange(ANA_BEFORE, after)
    assert (change.created, change.changed) == (False, ("name",))
    assert world.store.get(ANA) == after


def test_add_of_a_listed_number_changes_only_campaigns_and_groups_given(world: World) -> None:
    world.on_list(ANA_BEFORE)
    change = world.service.add(ANA, campaigns=True, groups=["day"])
    after = StaffMember(ANA, "Ana", opted_out=True, groups=("day",), added_at=EARLIER)
    assert change.after == after
    assert change.changed == ("campaigns", "groups")
    assert world.store.get(ANA) == after


def test_add_of_a_listed_number_with_nothing_given_changes_nothing(world: World) -> None:
    world.on_list(ANA_BEFORE)
    change = world.service.add(ANA)
    assert change == StaffChange(ANA_BEFORE, ANA_BEFORE)
    assert change.changed == ()
    assert world.store.get(ANA) == ANA_BEFORE


def test_add_of_a_number_removed_between_its_two_writes_adds_it_afresh(world: World) -> None:
    world.on_list(ANA_BEFORE)
    world.store.vanish_next_update = True
    change = world.service.add(ANA, "Ana Silva")
    assert change == StaffChange(None, StaffMember(ANA, "Ana Silva", added_at=ADDED))
    assert world.store.get(ANA) == StaffMember(ANA, "Ana Silva", added_at=ADDED)


@pytest.mark.parametrize("number", ["12345", "+4477009001019999", "not a number", ""])
def test_add_refuses_a_number_that_is_not_one(world: World, number: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        world.service.add(number, "Ana")
    assert world.store.items == {}


def test_add_refuses_an_empty_group(world: World) -> None:
    with pytest.raises(InvalidInput, match="a group name cannot be empty"):
        world.service.add(ANA, "Ana", groups=["night", "  "])
    assert world.store.items == {}


def test_a_number_without_a_country_code_is_read_in_the_default_region() -> None:
    service = AllowlistService(MemoryStaff(), "US", clock=lambda: NOW)
    assert service.number("(201) 555-0123") == "+12015550123"
    assert check_region(" us ") == "US"
    with pytest.raises(InvalidInput):
        check_region("XX")


# -- update ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "after", "changed"),
    [
        ({"name": " Ana Silva "}, {"name": "Ana Silva"}, ("name",)),
        ({"campaigns": True}, {"campaigns": True}, ("campaigns",)),
        ({"groups": ["icu", "day"]}, {"groups": ("day", "icu")}, ("groups",)),
        ({"groups": []}, {"groups": ()}, ("groups",)),
        ({"name": "Ana"}, {}, ()),
    ],
    ids=["name", "campaigns", "groups", "no-groups", "same-name"],
)
def test_update_changes_only_the_fields_given(
    world: World, given: dict[str, Any], after: dict[str, Any], changed: tuple[str, ...]
) -> None:
    world.on_list(ANA_BEFORE)
    world.on_list(StaffMember(BEN, "Ben", added_at=EARLIER))
    change = world.service.update("07700900101", **given)
    expected = StaffMember(
        ANA,
        after.get("name", "Ana"),
        campaigns=after.get("campaigns", False),
        opted_out=True,
        groups=after.get("groups", ("night",)),
        added_at=EARLIER,
    )
    assert change == StaffChange(ANA_BEFORE, expected)
    assert change.changed == changed
    assert world.store.items == {ANA: expected, BEN: StaffMember(BEN, "Ben", added_at=EARLIER)}


def test_update_with_nothing_to_change_is_refused(world: World) -> None:
    world.on_list(ANA_BEFORE)
    with pytest.raises(InvalidInput, match="nothing to change"):
        world.service.update(ANA)
    assert world.store.get(ANA) == ANA_BEFORE


def test_update_of_a_number_not_on_the_list_adds_nothing(world: World) -> None:
    with pytest.raises(StaffNotFound):
        world.service.update(ANA, "Ana")
    assert world.store.items == {}


# -- remove and list --------------------------------------------------------------------------


def test_remove_takes_the_number_off_and_says_which(world: World) -> None:
    world.on_list(ANA_BEFORE)
    world.on_list(StaffMember(BEN, "Ben"))
    assert world.service.remove("07700 900101") == ANA
    assert list(world.store.items) == [BEN]
    with pytest.raises(StaffNotFound):
        world.service.remove(ANA)


def test_members_are_listed_by_name_then_number(world: World) -> None:
    for phone, name in ((CARA, "ben"), (ANA, "Cara"), (BEN, "Ben"), ("+447700900404", "")):
        world.on_list(StaffMember(phone, name))
    assert [(m.name, m.phone) for m in world.service.members()] == [
        ("", "+447700900404"),
        ("Ben", BEN),
        ("ben", CARA),
        ("Cara", ANA),
    ]


# -- import -----------------------------------------------------------------------------------

PINPOINT = (
    "Id,ChannelType,Address,User.UserId,OptOut\n"
    "1,SMS,+447700900101,Ana,NONE\n"
    "2,EMAIL,ana@example.com,Ana,NONE\n"
    "3,SMS,07700900202,Ben,ALL\n"
)


def test_a_pinpoint_export_is_read_with_opt_outs_and_other_channels_left_out(
    world: World,
) -> None:
    assert world.service.read_file(PINPOINT) == StaffFile(
        "pinpoint",
        [
            StaffRow(2, StaffMember(ANA, "Ana", added_at=ADDED)),
            StaffRow(4, StaffMember(BEN, "Ben", opted_out=True, added_at=ADDED)),
        ],
        not_sms=1,
    )


def test_a_file_with_any_bad_row_is_refused_naming_each(world: World) -> None:
    text = "phone,name\n07700900101,Ana\n12345,Bad\n+447700900101,Again\n"
    with pytest.raises(RowsRejected) as rejected:
        world.service.read_file(text)
    assert [line for line, _ in rejected.value.problems] == [3, 4]


def test_import_adds_new_numbers_and_leaves_listed_ones_alone(world: World) -> None:
    world.on_list(ANA_BEFORE)
    rows = world.service.read_file("phone,name\n07700900101,Ana Silva\n07700900202,Ben\n").rows
    result = world.service.import_rows(rows)
    assert (result.added, result.skipped) == ([BEN], [ANA])
    assert world.store.items == {
        ANA: ANA_BEFORE,
        BEN: StaffMember(BEN, "Ben", added_at=ADDED),
    }
