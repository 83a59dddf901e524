"""``shiftsms allowlist``: what the operator sees, the exit codes, and what DynamoDB stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.models import Shift, ShiftStatus
from tests.clitools import command_paths, invoke, table_rows
from tests.conftest import REGION, Deployed, deploy_template

SEED_CSV = Path(__file__).parent / "data" / "Pinpoint_Imported_SMS_Segment.csv"
ANA = "+447700900123"
BEN = "+447700900456"


def stored(deployed: Deployed) -> dict[str, dict[str, Any]]:
    """Every allow-list item, by number, as plain values (less who changed it and when:
    tests/test_audit.py holds the CLI to stamping every write with the caller)."""
    items = deployed.dynamodb.scan(TableName=deployed.outputs["StaffTableName"])["Items"]
    return {
        i["phone"]["S"]: {
            k: v for k, v in from_item(i).items() if k not in {"changed_by", "changed_at"}
        }
        for i in items
    }


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- add -------------------------------------------------------------------------------------


def test_add_normalises_to_e164(deployed: Deployed) -> None:
    result = invoke("allowlist", "add", "+44 7700 900123", "--name", "Ana")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Added {ANA} (Ana) to the allow list.\n"
    item = stored(deployed)[ANA]
    added_at = datetime.fromisoformat(item.pop("added_at"))
    assert abs((datetime.now(UTC) - added_at).total_seconds()) < 60
    assert item == {
        "phone": ANA,
        "name": "Ana",
        "campaigns": True,
        "opted_out": False,
        "recipient_pool": "all",
    }


def test_national_number_uses_the_stack_default_region(deployed: Deployed) -> None:
    assert deployed.outputs["DefaultPhoneRegion"] == "GB"
    result = invoke("allowlist", "add", "07700 900456", "--name", "Ben")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Added {BEN} (Ben) to the allow list.\n"
    assert list(stored(deployed)) == [BEN]


def test_default_region_option_wins(deployed: Deployed) -> None:
    result = invoke("allowlist", "add", "06 12 34 56 78", "--default-region", "fr")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added +33612345678 to the allow list.\n"
    assert stored(deployed)["+33612345678"]["name"] == ""


@pytest.fixture
def us_stack() -> Iterator[Deployed]:
    """The template deployed with DefaultPhoneRegion=US."""
    with mock_aws():
        info = deploy_template(parameters={"DefaultPhoneRegion": "US"})
        yield Deployed(info=info, dynamodb=boto3.client("dynamodb", region_name=REGION))


def test_stack_output_region_is_read(us_stack: Deployed) -> None:
    result = invoke("allowlist", "add", "(201) 555-0123", "--name", "Cy")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added +12015550123 (Cy) to the allow list.\n"
    assert list(stored(us_stack)) == ["+12015550123"]


def test_no_campaigns_and_groups(deployed: Deployed) -> None:
    result = invoke(
        "allowlist", "add", ANA, "--name", "Ana", "--no-campaigns", "-g", "night", "-g", "A&E"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Added {ANA} (Ana) to the allow list [no campaigns; groups: A&E, night].\n"
    )
    item = stored(deployed)[ANA]
    assert item["campaigns"] is False
    assert item["groups"] == {"night", "A&E"}
    assert "recipient_pool" not in item


def test_add_again_updates_and_keeps_opt_out(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.set_opted_out(ANA, True, datetime(2026, 11, 28, tzinfo=UTC))
    first_added = stored(deployed)[ANA]["added_at"]
    result = invoke("allowlist", "add", "+44 7700 900 123", "--name", "Ana Silva")
    assert result.exit_code == 0, result.output
    assert result.stdout == f'Updated {ANA} (Ana Silva): name "Ana" -> "Ana Silva".\n'
    assert result.stderr == (
        f"Warning: {ANA} has opted out of texts; they get none until they text START.\n"
    )
    item = stored(deployed)[ANA]
    assert item["name"] == "Ana Silva"
    assert item["opted_out"] is True
    assert item["added_at"] == first_added
    assert "recipient_pool" not in item


def test_add_again_with_a_name_keeps_campaigns_off_and_groups(deployed: Deployed) -> None:
    added = invoke("allowlist", "add", ANA, "--name", "Ana", "--no-campaigns", "-g", "night")
    assert added.exit_code == 0, added.output
    before = stored(deployed)[ANA]

    result = invoke("allowlist", "add", ANA, "--name", "Ana Silva")
    assert result.exit_code == 0, result.output
    assert result.stdout == f'Updated {ANA} (Ana Silva): name "Ana" -> "Ana Silva".\n'
    assert stored(deployed)[ANA] == {**before, "name": "Ana Silva"}


def test_add_again_with_nothing_new_changes_nothing(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "-g", "night").exit_code == 0
    before = stored(deployed)[ANA]
    result = invoke("allowlist", "add", ANA)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{ANA} (Ana) is already on the allow list; nothing changed.\n"
    assert stored(deployed)[ANA] == before


# -- update ----------------------------------------------------------------------------------


def test_update_changes_only_the_fields_given(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "-g", "night").exit_code == 0
    before = stored(deployed)[ANA]

    result = invoke("allowlist", "update", "07700 900123", "--no-campaigns")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA} (Ana): campaigns yes -> no.\n"
    after = stored(deployed)[ANA]
    assert "recipient_pool" not in after
    assert after == {
        k: v for k, v in {**before, "campaigns": False}.items() if k != "recipient_pool"
    }


def test_update_name_groups_and_campaigns_back_on(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "--no-campaigns").exit_code == 0
    result = invoke(
        "allowlist", "update", ANA, "--name", "Ana S", "--campaigns", "-g", "days", "-g", "A&E"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f'Updated {ANA} (Ana S): name "Ana" -> "Ana S"; campaigns no -> yes; '
        "groups none -> A&E, days.\n"
    )
    item = stored(deployed)[ANA]
    assert (item["name"], item["campaigns"], item["groups"]) == ("Ana S", True, {"A&E", "days"})
    assert item["recipient_pool"] == "all"


def test_update_no_groups_clears_them(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "-g", "night", "-g", "days").exit_code == 0
    result = invoke("allowlist", "update", ANA, "--no-groups")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA}: groups days, night -> none.\n"
    assert "groups" not in stored(deployed)[ANA]


def test_update_of_an_opted_out_number_keeps_it_out_of_campaigns(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--no-campaigns").exit_code == 0
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.set_opted_out(ANA, True, datetime(2026, 11, 28, tzinfo=UTC))
    result = invoke("allowlist", "update", ANA, "--campaigns")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA}: campaigns no -> yes.\n"
    assert "opted out" in result.stderr
    item = stored(deployed)[ANA]
    assert (item["campaigns"], item["opted_out"]) == (True, True)
    assert "recipient_pool" not in item


def test_update_with_the_same_values_says_nothing_changed(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    before = stored(deployed)[ANA]
    result = invoke("allowlist", "update", ANA, "--name", "Ana", "--campaigns")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{ANA} (Ana) already has those values; nothing changed.\n"
    assert stored(deployed)[ANA] == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([BEN, "--name", "Ben"], 1, f"Error: {BEN} is not on the allow list"),
        (
            [ANA],
            2,
            "Error: nothing to change: give --name, --campaigns/--no-campaigns, "
            "--group, --no-groups, --role, --no-roles or --lang",
        ),
        ([ANA, "-g", "x", "--no-groups"], 2, "Error: --group and --no-groups exclude each other"),
    ],
)
def test_update_refusals(deployed: Deployed, args: list[str], code: int, message: str) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    before = stored(deployed)
    result = invoke("allowlist", "update", *args)
    assert result.exit_code == code
    assert result.stdout == ""
    assert result.stderr == message + "\n"
    assert stored(deployed) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["12"], "Error: '12': too short"),
        (["hello"], "Error: 'hello': a phone number has no letters"),
        (["+999 123 456"], "Error: '+999 123 456': unknown country code"),
        ([ANA, "--default-region", "XX"], "Error: 'XX' is not a region code such as GB, US or FR"),
        ([ANA, "--group", " "], "Error: a group name cannot be empty"),
    ],
)
def test_invalid_input_is_refused_with_the_reason(
    deployed: Deployed, args: list[str], message: str
) -> None:
    result = invoke("allowlist", "add", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == message + "\n"
    assert stored(deployed) == {}


# -- remove ----------------------------------------------------------------------------------


def test_remove(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    assert invoke("allowlist", "add", BEN, "--name", "Ben").exit_code == 0
    result = invoke("allowlist", "remove", "07700 900123")
    assert result.exit_code == 0
    assert result.stdout == f"Removed {ANA} from the allow list.\n"
    assert list(stored(deployed)) == [BEN]
    result = invoke("allowlist", "remove", ANA)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {ANA} is not on the allow list\n"
    assert list(stored(deployed)) == [BEN]


# -- list ------------------------------------------------------------------------------------


def seed_staff(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", BEN, "--name", "Ben", "--group", "night").exit_code == 0
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "--no-campaigns").exit_code == 0
    assert invoke("allowlist", "add", "+447700900789", "--name", "Cy").exit_code == 0
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.set_opted_out("+447700900789", True, datetime(2026, 11, 28, tzinfo=UTC))


def test_list_shows_opted_out_state(deployed: Deployed) -> None:
    seed_staff(deployed)
    result = invoke("allowlist", "list")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[0] == [
        "Phone",
        "Name",
        "Campaigns",
        "Opted out",
        "Snoozed until",
        "Groups",
        "Roles",
        "Language",
        "Added",
    ]
    assert [r[:8] for r in rows[1:]] == [
        [ANA, "Ana", "no", "no", "", "", "", "en"],
        [BEN, "Ben", "yes", "no", "", "night", "", "en"],
        ["+447700900789", "Cy", "yes", "yes", "", "", "", "en"],
    ]
    assert all(datetime.fromisoformat(r[8]) for r in rows[1:])


def test_list_json(deployed: Deployed) -> None:
    seed_staff(deployed)
    result = invoke("allowlist", "list", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    for entry in listed:
        assert datetime.fromisoformat(entry.pop("added_at"))
    assert listed == [
        {
            "phone": ANA,
            "name": "Ana",
            "campaigns": False,
            "opted_out": False,
            "groups": [],
            "roles": [],
            "language": "en",
            "snoozed_until": None,
        },
        {
            "phone": BEN,
            "name": "Ben",
            "campaigns": True,
            "opted_out": False,
            "groups": ["night"],
            "roles": [],
            "language": "en",
            "snoozed_until": None,
        },
        {
            "phone": "+447700900789",
            "name": "Cy",
            "campaigns": True,
            "opted_out": True,
            "groups": [],
            "roles": [],
            "language": "en",
            "snoozed_until": None,
        },
    ]


def test_list_shows_who_is_snoozed_until_when(deployed: Deployed) -> None:
    seed_staff(deployed)
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    now = datetime.now(UTC).replace(microsecond=0)
    assert staff.set_snooze(BEN, now + timedelta(days=3), now)
    assert staff.set_snooze(ANA, now - timedelta(seconds=1), now)  # ended
    rows = table_rows(invoke("allowlist", "list").stdout)
    until = (now + timedelta(days=3)).isoformat()
    assert {r[0]: r[4] for r in rows[1:]} == {ANA: "", BEN: until, "+447700900789": ""}
    listed = json.loads(invoke("allowlist", "list", "--json").stdout)
    assert {e["phone"]: e["snoozed_until"] for e in listed} == {
        ANA: None,
        BEN: until,
        "+447700900789": None,
    }


def _shift(deployed: Deployed, shift: Shift) -> None:
    ShiftsTable(
        deployed.dynamodb, deployed.outputs["ShiftsTableName"], deployed.outputs["StaffTableName"]
    ).put(shift)


def test_show_tells_one_person_with_shifts_and_recent_hours(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "--role", "RN").exit_code == 0
    now = datetime.now(UTC).replace(microsecond=0)

    def at(hours: float) -> str:
        return (now + timedelta(hours=hours)).isoformat()

    taken = {"shift_status": ShiftStatus.TAKEN, "employee": ANA}
    _shift(
        deployed,
        Shift("OLD1", "long ago", starts_at=at(-24 * 30), ends_at=at(-24 * 30 + 8), **taken),
    )
    _shift(
        deployed,
        Shift(
            "EDGE1", "over the edge", starts_at=at(-24 * 28 - 2), ends_at=at(-24 * 28 + 3), **taken
        ),
    )
    _shift(
        deployed,
        Shift("LAST1", "last week", starts_at=at(-24 * 7), ends_at=at(-24 * 7 + 12), **taken),
    )
    _shift(deployed, Shift("NOW1", "in progress", starts_at=at(-1), ends_at=at(2), **taken))
    _shift(deployed, Shift("NEXT2", "later", starts_at=at(48), ends_at=at(56), **taken))
    _shift(deployed, Shift("NEXT1", "sooner", starts_at=at(24), ends_at=at(32), **taken))
    _shift(deployed, Shift("UNTIMED", "any time", **taken))
    _shift(
        deployed,
        Shift(
            "BENS1",
            "not hers",
            starts_at=at(5),
            ends_at=at(9),
            shift_status=ShiftStatus.TAKEN,
            employee=BEN,
        ),
    )
    _shift(deployed, Shift("OPEN1", "open", starts_at=at(5), ends_at=at(9)))
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.set_snooze(ANA, now + timedelta(days=2), now)

    result = invoke("allowlist", "show", "+44 7700 900123", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert datetime.fromisoformat(shown.pop("added_at"))
    assert [s["shift_id"] for s in shown.pop("upcoming")] == ["NOW1", "NEXT1", "NEXT2", "UNTIMED"]
    assert shown == {
        "phone": ANA,
        "name": "Ana",
        "campaigns": True,
        "opted_out": False,
        "groups": [],
        "roles": ["RN"],
        "snoozed_until": (now + timedelta(days=2)).isoformat(),
        "language": "en",
        # EDGE1 3h inside the window, LAST1 12h, NOW1 the hour worked so far.
        "hours_last_28_days": 16,
    }
    text = invoke("allowlist", "show", ANA).stdout.splitlines()
    assert text[:8] == [
        f"Phone:      {ANA}",
        "Name:       Ana",
        "Campaigns:  yes",
        "Groups:     none",
        "Roles:      RN",
        "Language:   en",
        f"Snoozed:    until {(now + timedelta(days=2)).isoformat()}",
        "Hours booked, last 28 days: 16",
    ]
    assert text[8:] == [
        "Upcoming:   4",
        "  NOW1  in progress",
        "  NEXT1  sooner",
        "  NEXT2  later",
        "  UNTIMED  any time",
    ]


def test_show_of_a_number_not_on_the_list_exits_1(deployed: Deployed) -> None:
    result = invoke("allowlist", "show", BEN)
    assert result.exit_code == 1
    assert BEN in result.stderr


def test_list_when_empty(deployed: Deployed) -> None:
    assert invoke("allowlist", "list").stdout == "The allow list is empty.\n"
    assert invoke("allowlist", "list", "--json").stdout == "[]\n"


# -- import ----------------------------------------------------------------------------------


def test_seed_pinpoint_csv_placeholder_is_reported(deployed: Deployed) -> None:
    assert SEED_CSV.read_text().splitlines()[1] == "111,SMS,+44......9,user1"
    result = invoke("allowlist", "import", str(SEED_CSV))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: 1 bad row: nothing was imported",
        "  line 2: '+44......9': not a phone number",
    ]
    assert stored(deployed) == {}


def test_pinpoint_csv_import(deployed: Deployed, tmp_path: Path) -> None:
    assert invoke("allowlist", "add", BEN, "--name", "Benjamin").exit_code == 0
    path = write_csv(
        tmp_path,
        "Id,ChannelType,Address,User.UserId,OptOut\n"
        "111,SMS,+44 7700 900123,user1,NONE\n"
        "112,EMAIL,someone@example.com,user2,NONE\n"
        "113,SMS,07700900456,user3,\n"
        "114,sms,+447700900789,user4,ALL\n",
    )
    result = invoke("allowlist", "import", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Left out 1 row of other channels than SMS.",
        "Added 2 numbers, skipped 1 already on the allow list.",
        f"Skipped: {BEN}",
    ]
    items = stored(deployed)
    assert {k: (v["name"], v["opted_out"], "recipient_pool" in v) for k, v in items.items()} == {
        ANA: ("user1", False, True),
        BEN: ("Benjamin", False, True),
        "+447700900789": ("user4", True, False),
    }


def test_plain_csv_import_json(deployed: Deployed, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "phone,name\n+44 7700 900123,Ana\n0033 6 12 34 56 78,Zoé\n")
    result = invoke("allowlist", "import", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "format": "plain",
        "added": [ANA, "+33612345678"],
        "skipped": [],
        "not_sms": 0,
    }
    assert {k: v["name"] for k, v in stored(deployed).items()} == {
        ANA: "Ana",
        "+33612345678": "Zoé",
    }


def test_import_with_default_region(deployed: Deployed, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "phone,name\n(201) 555-0123,Cy\n")
    result = invoke("allowlist", "import", path, "--default-region", "US")
    assert result.exit_code == 0, result.output
    assert list(stored(deployed)) == ["+12015550123"]


def test_import_bad_rows_by_line_and_nothing_written(deployed: Deployed, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "phone,name\n"
        "+447700900123,Ana\n"
        "12,Shorty\n"
        "\n"
        "07700 900123,Ana again\n"
        ",Nobody\n"
        "+447700900456,Ben\n",
    )
    result = invoke("allowlist", "import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: 3 bad rows: nothing was imported",
        "  line 3: '12': too short",
        f"  line 5: {ANA} appears again (first on line 2)",
        "  line 6: empty phone number",
    ]
    assert stored(deployed) == {}


def test_import_needs_a_known_header(deployed: Deployed, tmp_path: Path) -> None:
    result = invoke("allowlist", "import", write_csv(tmp_path, "+447700900123,Ana\n"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: 1 bad row: nothing was imported",
        "  line 1: the header must be phone,name or the Pinpoint segment export's "
        "Id,ChannelType,Address,User.UserId",
    ]
    assert stored(deployed) == {}


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["add", "update", "remove", "list", "import"])
def test_every_allowlist_command_has_help(command: str) -> None:
    assert ["allowlist", command] in command_paths()
    result = invoke("allowlist", command, "--help")
    assert result.exit_code == 0
    assert f"Usage: shiftsms allowlist {command}" in result.stdout


# -- roles -----------------------------------------------------------------------------------


def test_add_with_roles_stores_and_lists_them(deployed: Deployed) -> None:
    result = invoke("allowlist", "add", ANA, "--name", "Ana", "--role", "RN", "--role", "hca")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Added {ANA} (Ana) to the allow list [roles: RN, hca].\n"
    assert stored(deployed)[ANA]["roles"] == {"RN", "hca"}
    listed = json.loads(invoke("allowlist", "list", "--json").stdout)
    assert listed[0]["roles"] == ["RN", "hca"]
    rows = table_rows(invoke("allowlist", "list").stdout)
    assert rows[1][6] == "RN, hca"


def test_update_roles_then_no_roles(deployed: Deployed) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana", "--role", "HCA").exit_code == 0
    result = invoke("allowlist", "update", ANA, "--role", "RN", "--role", "Band 5")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA} (Ana): roles HCA -> Band 5, RN.\n"
    assert stored(deployed)[ANA]["roles"] == {"RN", "Band 5"}
    result = invoke("allowlist", "update", ANA, "--no-roles")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Updated {ANA} (Ana): roles Band 5, RN -> none.\n"
    assert "roles" not in stored(deployed)[ANA]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "RN", "--no-roles"], "Error: --role and --no-roles exclude each other"),
        (
            ["--role", "Ŋurse"],
            "Error: role 'Ŋurse' has characters an SMS cannot show in GSM-7: 'Ŋ'",
        ),
    ],
)
def test_update_role_refusals(deployed: Deployed, args: list[str], message: str) -> None:
    assert invoke("allowlist", "add", ANA, "--role", "HCA").exit_code == 0
    before = stored(deployed)
    result = invoke("allowlist", "update", ANA, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == message + "\n"
    assert stored(deployed) == before


def test_add_refuses_an_unreadable_role(deployed: Deployed) -> None:
    result = invoke("allowlist", "add", ANA, "--role", "Nurse ✓")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: role 'Nurse ✓' has characters an SMS cannot show in GSM-7: '✓'\n"
    )
    assert stored(deployed) == {}


def test_import_roles_column(deployed: Deployed, tmp_path: Path) -> None:
    good = write_csv(tmp_path, f"phone,name,roles\n{ANA},Ana,RN;Band 5\n{BEN},Ben,\n")
    result = invoke("allowlist", "import", good)
    assert result.exit_code == 0, result.output
    items = stored(deployed)
    assert items[ANA]["roles"] == {"RN", "Band 5"}
    assert "roles" not in items[BEN]


def test_import_refuses_a_bad_role_by_line(deployed: Deployed, tmp_path: Path) -> None:
    bad = write_csv(tmp_path, f"phone,name,roles\n{ANA},Ana,RN\n{BEN},Ben,RN;Ŋ\n")
    result = invoke("allowlist", "import", bad)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: 1 bad row: nothing was imported",
        "  line 3: role 'Ŋ' has characters an SMS cannot show in GSM-7: 'Ŋ'",
    ]
    assert stored(deployed) == {}
