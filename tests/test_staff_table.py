"""StaffTable.put against the real template in moto: conditional writes, opt-out kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shiftsms.aws.staff_table import POOL_ATTR, StaffTable
from shiftsms.core.models import StaffEdit, StaffMember
from shiftsms.errors import StaffNotFound
from tests.conftest import Deployed

PHONE = "+447700900123"
AT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def table(deployed: Deployed, client: Any = None) -> StaffTable:
    return StaffTable(client or deployed.dynamodb, deployed.outputs["StaffTableName"])


def raw(deployed: Deployed, phone: str = PHONE) -> dict[str, Any]:
    resp = deployed.dynamodb.get_item(
        TableName=deployed.outputs["StaffTableName"], Key={"phone": {"S": phone}}
    )
    return dict(resp["Item"])


def recipient_phones(staff: StaffTable) -> set[str]:
    return {m.phone for m in staff.recipients()}


def test_new_number_is_created_and_indexed(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann", added_at="2026-11-28T09:00:00+00:00"))
    member = staff.get(PHONE)
    assert member is not None
    assert (member.name, member.campaigns, member.opted_out) == ("Ann", True, False)
    assert recipient_phones(staff) == {PHONE}


def test_replace_false_on_existing_entry_changes_nothing(deployed: Deployed) -> None:
    staff = table(deployed)
    original = StaffMember(
        phone=PHONE, name="Ann", groups=("nights",), added_at="2026-11-28T09:00:00+00:00"
    )
    assert staff.put(original, replace=False) is True
    staff.set_opted_out(PHONE, True, AT)
    staff.set_list_cursor(PHONE, "cursor-1")
    before = raw(deployed)

    other = StaffMember(
        phone=PHONE, name="Bob", campaigns=False, groups=("days",), added_at="2026-11-29"
    )
    assert staff.put(other, replace=False) is False
    assert raw(deployed) == before


def test_second_concurrent_style_add_reports_not_new(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann")) is True
    assert staff.put(StaffMember(phone=PHONE, name="Ann")) is False


@pytest.mark.parametrize("campaigns", [True, False])
@pytest.mark.parametrize("opted_out", [True, False])
def test_replace_true_keeps_opt_out_and_index(
    deployed: Deployed, campaigns: bool, opted_out: bool
) -> None:
    staff = table(deployed)
    added = "2026-11-28T09:00:00+00:00"
    assert staff.put(StaffMember(phone=PHONE, name="Ann", groups=("nights",), added_at=added))
    if opted_out:
        staff.set_opted_out(PHONE, True, AT)

    update = StaffMember(
        phone=PHONE,
        name="Ann B",
        campaigns=campaigns,
        opted_out=False,  # an operator add never carries the person's opt-out
        groups=("days",),
        added_at="2026-12-01T00:00:00+00:00",
    )
    assert staff.put(update, replace=True) is False

    member = staff.get(PHONE)
    assert member is not None
    assert member.opted_out is opted_out
    assert (member.name, member.campaigns, member.groups) == ("Ann B", campaigns, ("days",))
    assert member.added_at == added
    in_index = campaigns and not opted_out
    assert (POOL_ATTR in raw(deployed)) is in_index
    assert (PHONE in recipient_phones(staff)) is in_index


def test_replace_true_with_no_groups_clears_them(deployed: Deployed) -> None:
    staff = table(deployed)
    staff.put(StaffMember(phone=PHONE, name="Ann", groups=("nights",)))
    staff.put(StaffMember(phone=PHONE, name="Ann"))
    member = staff.get(PHONE)
    assert member is not None
    assert member.groups == ()


class OptOutBetweenReadAndWrite:
    """A DynamoDB client whose first GetItem is followed by a STOP from another writer."""

    def __init__(self, deployed: Deployed, opted_out: bool) -> None:
        self._client = deployed.dynamodb
        self._other = table(deployed)
        self._opted_out = opted_out
        self.gets = 0
        self.updates = 0

    def get_item(self, **kwargs: Any) -> Any:
        resp = self._client.get_item(**kwargs)
        self.gets += 1
        if self.gets == 1:
            self._other.set_opted_out(PHONE, self._opted_out, AT)
        return resp

    def update_item(self, **kwargs: Any) -> Any:
        self.updates += 1
        return self._client.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_opt_in_between_read_and_write_restores_index(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann"))
    staff.set_opted_out(PHONE, True, AT)

    racing = OptOutBetweenReadAndWrite(deployed, opted_out=False)
    assert (
        table(deployed, racing).put(StaffMember(phone=PHONE, name="Ann B"), replace=True) is False
    )

    member = staff.get(PHONE)
    assert member is not None
    assert member.opted_out is False
    assert PHONE in recipient_phones(staff)


def test_deleted_between_read_and_write_is_created_again(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann"))

    class DeleteAfterRead(OptOutBetweenReadAndWrite):
        def get_item(self, **kwargs: Any) -> Any:
            resp = self._client.get_item(**kwargs)
            self.gets += 1
            if self.gets == 1:
                self._other.delete(PHONE)
            return resp

    racing = DeleteAfterRead(deployed, opted_out=True)
    assert table(deployed, racing).put(StaffMember(phone=PHONE, name="Ann B")) is True
    member = staff.get(PHONE)
    assert member is not None
    assert (member.name, member.opted_out) == ("Ann B", False)
    assert PHONE in recipient_phones(staff)


# -- update: only the fields given, conditional on what was read -----------------------------


def test_update_sets_only_the_given_fields(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann", campaigns=False, groups=("nights",)))
    staff.set_list_cursor(PHONE, "cursor-1")
    before = raw(deployed)

    change = staff.update(PHONE, StaffEdit(name="Ann B"))

    assert (change.before.name, change.after.name) == ("Ann", "Ann B")
    assert raw(deployed) == {**before, "name": {"S": "Ann B"}}


def test_update_of_a_missing_number_raises(deployed: Deployed) -> None:
    with pytest.raises(StaffNotFound):
        table(deployed).update(PHONE, StaffEdit(name="Ann"))
    assert deployed.dynamodb.scan(TableName=deployed.outputs["StaffTableName"])["Items"] == []


class RenameBetweenReadAndWrite(OptOutBetweenReadAndWrite):
    """The first GetItem is followed by another operator changing the groups."""

    def get_item(self, **kwargs: Any) -> Any:
        resp = self._client.get_item(**kwargs)
        self.gets += 1
        if self.gets == 1:
            self._other.update(PHONE, StaffEdit(groups=("days",)))
        return resp


def test_update_decided_on_a_stale_read_is_redone(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann", groups=("nights",)))

    racing = RenameBetweenReadAndWrite(deployed, opted_out=False)
    change = table(deployed, racing).update(PHONE, StaffEdit(groups=("weekends",)))

    assert racing.gets == 2  # the first write's condition (groups as read) failed
    assert change.before.groups == ("days",)  # the change reported is the one made
    member = staff.get(PHONE)
    assert member is not None
    assert member.groups == ("weekends",)


class LanguageBetweenReadAndWrite(OptOutBetweenReadAndWrite):
    """The first GetItem is followed by another operator setting the language to Polish."""

    def get_item(self, **kwargs: Any) -> Any:
        resp = self._client.get_item(**kwargs)
        self.gets += 1
        if self.gets == 1:
            self._other.update(PHONE, StaffEdit(language="pl"))
        return resp


def test_a_language_change_decided_on_a_stale_read_is_redone(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann"))
    assert "lang" not in raw(deployed)

    racing = LanguageBetweenReadAndWrite(deployed, opted_out=False)
    change = table(deployed, racing).update(PHONE, StaffEdit(language="es"))

    assert racing.gets == 2  # the first write's condition (no lang, as read) failed
    assert (change.before.language, change.after.language) == ("pl", "es")
    assert raw(deployed)["lang"] == {"S": "es"}


def test_put_replacing_an_entry_sets_and_clears_its_language(deployed: Deployed) -> None:
    staff = table(deployed)
    assert staff.put(StaffMember(phone=PHONE, name="Ann", language="es"))
    assert raw(deployed)["lang"] == {"S": "es"}
    assert not staff.put(StaffMember(phone=PHONE, name="Ann", language="pl"))
    assert raw(deployed)["lang"] == {"S": "pl"}
    assert not staff.put(StaffMember(phone=PHONE, name="Ann"))
    assert "lang" not in raw(deployed)
    member = staff.get(PHONE)
    assert member is not None and member.language == "en"
