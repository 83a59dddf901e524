"""Timed shifts and roles as stored: what the adapters write to DynamoDB and read back."""

from __future__ import annotations

from typing import Any

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.models import Shift, StaffMember
from tests.conftest import Deployed

PHONE = "+447700900123"
NIGHT = Shift(
    "XYZ123",
    "Sat 15/08 19:00-07:00 Ward 7 RN",
    starts_at="2026-08-15T19:00+01:00",
    ends_at="2026-08-16T07:00+01:00",
    location="Ward 7",
    role="RN",
)


def _raw(deployed: Deployed, table: str, key: dict[str, Any]) -> dict[str, Any]:
    resp = deployed.dynamodb.get_item(TableName=deployed.outputs[table], Key=key)
    return dict(resp["Item"])


def test_a_timed_shift_is_stored_with_its_times_place_role_and_utc_start_key(
    deployed: Deployed,
) -> None:
    shifts = ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])
    shifts.put(NIGHT)
    item = _raw(deployed, "ShiftsTableName", {"shift_id": {"S": "XYZ123"}})
    assert item["starts_at"] == {"S": "2026-08-15T19:00+01:00"}
    assert item["ends_at"] == {"S": "2026-08-16T07:00+01:00"}
    assert item["location"] == {"S": "Ward 7"}
    assert item["role"] == {"S": "RN"}
    assert item["start_key"] == {"S": "2026-08-15T18:00:00Z"}
    assert shifts.get("XYZ123") == NIGHT


def test_an_untimed_shift_stores_no_time_attributes_and_sorts_last(deployed: Deployed) -> None:
    shifts = ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])
    shifts.put_many([Shift("ABC1", "Early")])
    item = _raw(deployed, "ShiftsTableName", {"shift_id": {"S": "ABC1"}})
    assert set(item) == {"shift_id", "shift_info", "shift_status", "start_key"}
    assert item["start_key"] == {"S": "~untimed"}
    assert shifts.get("ABC1") == Shift("ABC1", "Early")


def test_a_console_item_reads_as_untimed_and_roleless(deployed: Deployed) -> None:
    deployed.dynamodb.put_item(
        TableName=deployed.outputs["ShiftsTableName"],
        Item={
            "shift_id": {"S": "CON1"},
            "shift_info": {"S": "Late"},
            "shift_status": {"S": "available"},
        },
    )
    got = ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"]).get("CON1")
    assert got == Shift("CON1", "Late")


def test_roles_are_stored_as_a_set_and_replaced_or_cleared_by_put(deployed: Deployed) -> None:
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.put(StaffMember(phone=PHONE, name="Ann", roles=("RN", "HCA")))
    item = _raw(deployed, "StaffTableName", {"phone": {"S": PHONE}})
    assert sorted(item["roles"]["SS"]) == ["HCA", "RN"]
    member = staff.get(PHONE)
    assert member is not None and member.roles == ("HCA", "RN")

    staff.put(StaffMember(phone=PHONE, name="Ann", roles=("RN",)))
    member = staff.get(PHONE)
    assert member is not None and member.roles == ("RN",)

    staff.put(StaffMember(phone=PHONE, name="Ann"))
    assert "roles" not in _raw(deployed, "StaffTableName", {"phone": {"S": PHONE}})
