"""Timed shifts from the operator's side: add, import and list with times, places and roles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import UNTIMED_KEY, ShiftsTable
from shiftsms.cli import shifts as shifts_cli
from shiftsms.core.models import Shift
from tests.clitools import invoke, table_rows
from tests.conftest import Deployed

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The CLI's clock stands at NOW (1 August 2026, 13:00 in London)."""
    monkeypatch.setattr(shifts_cli, "now", lambda: NOW)
    return NOW


def stored(deployed: Deployed) -> dict[str, dict[str, Any]]:
    """Every shift item, by id (less who changed it and when: see tests/test_audit.py)."""
    items = deployed.dynamodb.scan(TableName=deployed.outputs["ShiftsTableName"])["Items"]
    return {
        i["shift_id"]["S"]: {
            k: v for k, v in from_item(i).items() if k not in {"changed_by", "changed_at"}
        }
        for i in items
    }


def put(deployed: Deployed, shift: Shift) -> None:
    ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"]).put(shift)


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "shifts.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- add -------------------------------------------------------------------------------------


def test_add_a_night_shift_across_midnight_composes_its_info(deployed: Deployed) -> None:
    result = invoke(
        "shifts", "add", "n1", "--start", "2026-08-15 19:00", "--end", "2026-08-16 07:00",
        "--location", "Ward 7", "--role", "RN",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added shift N1: Sat 15/08 19:00-07:00 Ward 7 RN\n"
    assert stored(deployed) == {
        "N1": {
            "shift_id": "N1",
            "shift_info": "Sat 15/08 19:00-07:00 Ward 7 RN",
            "shift_status": "available",
            "starts_at": "2026-08-15T19:00+01:00",
            "ends_at": "2026-08-16T07:00+01:00",
            "location": "Ward 7",
            "role": "RN",
            "start_key": "2026-08-15T18:00:00Z",
        }
    }


def test_add_keeps_the_given_info_and_reads_times_in_tz(deployed: Deployed) -> None:
    result = invoke(
        "shifts", "add", "NY1", "--start", "2026-08-15 19:00", "--end", "2026-08-16 07:00",
        "--tz", "America/New_York", "--info", "Night in NY",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added shift NY1: Night in NY\n"
    item = stored(deployed)["NY1"]
    assert (item["starts_at"], item["ends_at"]) == (
        "2026-08-15T19:00-04:00",
        "2026-08-16T07:00-04:00",
    )
    assert "role" not in item
    assert "location" not in item


def test_times_read_in_tz_are_composed_on_the_stacks_clock(
    deployed: Deployed, tmp_path: Path
) -> None:
    # 20:00 in New York is 01:00 the next day in London: staff see the stack's day and time,
    # as in every list, reply and reminder.
    result = invoke(
        "shifts", "add", "NY2", "--start", "2026-08-15 20:00", "--end", "2026-08-16 04:00",
        "--tz", "America/New_York",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added shift NY2: Sun 16/08 01:00-09:00\n"
    assert stored(deployed)["NY2"]["starts_at"] == "2026-08-15T20:00-04:00"
    path = write_csv(
        tmp_path, "shift_id,shift_info,starts_at,ends_at\nNY3,,2026-08-15 20:00,2026-08-16 04:00\n"
    )
    assert invoke("shifts", "import", path, "--tz", "America/New_York").exit_code == 0
    assert stored(deployed)["NY3"]["shift_info"] == "Sun 16/08 01:00-09:00"


def test_add_across_the_clocks_going_back(deployed: Deployed) -> None:
    result = invoke(
        "shifts", "add", "DST1", "--start", "2026-10-24 22:00", "--end", "2026-10-25 06:00"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added shift DST1: Sat 24/10 22:00-06:00\n"
    item = stored(deployed)["DST1"]
    assert (item["starts_at"], item["ends_at"]) == (
        "2026-10-24T22:00+01:00",
        "2026-10-25T06:00+00:00",
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--start", "2026-08-15 19:00", "--end", "2026-08-15 07:00"],
            "the shift ends (2026-08-15T07:00+01:00) before it starts (2026-08-15T19:00+01:00)",
        ),
        (
            ["--start", "2026-08-15 19:00", "--end", "2026-08-16 20:00"],
            "the shift lasts 25 h: at most 24 h from start to end",
        ),
        (
            ["--start", "2026-07-31 19:00", "--end", "2026-08-01 07:00"],
            "the shift starts in the past (2026-07-31T19:00+01:00)",
        ),
        (
            ["--start", "15/08 19:00", "--end", "2026-08-16 07:00"],
            "cannot read '15/08 19:00' as a time: use YYYY-MM-DD HH:MM, e.g. 2026-08-15 19:00",
        ),
        (
            ["--start", "2026-08-15 19:00", "--end", "2026-08-16 07:00", "--tz", "Mars/Base"],
            "unknown time zone 'Mars/Base': give an IANA name such as Europe/London",
        ),
        (
            ["--start", "2026-08-15 19:00", "--end", "2026-08-16 07:00", "--role", "Ŋurse"],
            "role 'Ŋurse' has characters an SMS cannot show in GSM-7: 'Ŋ'",
        ),
        (["--start", "2026-08-15 19:00"], "give both a start and an end, or neither"),
        (
            ["--start", "2026-03-29 01:30", "--end", "2026-03-29 07:00"],
            "2026-03-29 01:30 does not exist in Europe/London (the clocks skip it): "
            "give another time",
        ),
    ],
)
def test_add_refuses_bad_times_zones_and_roles(
    deployed: Deployed, args: list[str], error: str
) -> None:
    result = invoke("shifts", "add", "BAD1", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {error}\n"
    assert result.stdout == ""
    assert stored(deployed) == {}


def test_untimed_add_is_unchanged(deployed: Deployed) -> None:
    result = invoke("shifts", "add", "XYZ123", "--info", "15/08 5h nightshift")
    assert result.exit_code == 0, result.output
    assert stored(deployed) == {
        "XYZ123": {
            "shift_id": "XYZ123",
            "shift_info": "15/08 5h nightshift",
            "shift_status": "available",
            "start_key": UNTIMED_KEY,
        }
    }


# -- import ----------------------------------------------------------------------------------


def test_import_reads_the_time_columns(deployed: Deployed, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "shift_id,shift_info,starts_at,ends_at,location,role\n"
        "A1,,2026-08-15 19:00,2026-08-16 07:00,Ward 7,RN\n"
        "A2,Day on 9,2026-08-16T08:00+01:00,2026-08-16T16:00+01:00,,\n"
        "A3,Any time,,,,\n",
    )
    result = invoke("shifts", "import", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Added 3 shifts, skipped 0 that already existed."
    items = stored(deployed)
    assert items["A1"] == {
        "shift_id": "A1",
        "shift_info": "Sat 15/08 19:00-07:00 Ward 7 RN",
        "shift_status": "available",
        "starts_at": "2026-08-15T19:00+01:00",
        "ends_at": "2026-08-16T07:00+01:00",
        "location": "Ward 7",
        "role": "RN",
        "start_key": "2026-08-15T18:00:00Z",
    }
    assert items["A2"] == {
        "shift_id": "A2",
        "shift_info": "Day on 9",
        "shift_status": "available",
        "starts_at": "2026-08-16T08:00+01:00",
        "ends_at": "2026-08-16T16:00+01:00",
        "start_key": "2026-08-16T07:00:00Z",
    }
    assert items["A3"] == {
        "shift_id": "A3",
        "shift_info": "Any time",
        "shift_status": "available",
        "start_key": UNTIMED_KEY,
    }


def test_import_reports_bad_time_rows_by_line_and_writes_nothing(
    deployed: Deployed, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "shift_id,shift_info,starts_at,ends_at,role\n"
        "A1,,2026-08-15 19:00,2026-08-16 07:00,RN\n"
        "A2,,2026-07-01 19:00,2026-07-02 07:00,RN\n"
        "A3,,2026-08-15 19:00,soon,RN\n"
        "A4,,2026-08-15 19:00,2026-08-16 07:00,Ŋ\n"
        "A5,,,,\n",
    )
    result = invoke("shifts", "import", path)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "Error: 4 bad rows: nothing was imported",
        "  line 3: the shift starts in the past (2026-07-01T19:00+01:00)",
        "  line 4: cannot read 'soon' as a time: use YYYY-MM-DD HH:MM, e.g. 2026-08-15 19:00",
        "  line 5: role 'Ŋ' has characters an SMS cannot show in GSM-7: 'Ŋ'",
        "  line 6: shift info is empty: say when and what the shift is",
    ]
    assert stored(deployed) == {}


# -- list ------------------------------------------------------------------------------------


def seed(deployed: Deployed) -> None:
    """A past shift, a night across the October clock change, two August ones, an untimed one."""
    rows = [
        ("OLD1", "Past night", "2026-07-31T19:00+01:00", "2026-08-01T07:00+01:00", "Ward 7", "RN"),
        ("DST1", "Sat 24/10 22:00-06:00", "2026-10-24T21:00Z", "2026-10-25T06:00Z", "Ward 9", None),
        ("AUG2", "Sun 16/08", "2026-08-16T08:00+01:00", "2026-08-16T16:00+01:00", "Ward 7", "HCA"),
        ("AUG1", "Sat 15/08", "2026-08-15T19:00+01:00", "2026-08-16T07:00+01:00", "Ward 7", "RN"),
    ]
    for code, info, starts, ends, location, role in rows:
        shift = Shift(code, info, starts_at=starts, ends_at=ends, location=location, role=role)
        put(deployed, shift)
    put(deployed, Shift("ANY1", "Whenever"))


def test_list_is_soonest_first_in_the_stack_zone_and_shows_past(deployed: Deployed) -> None:
    seed(deployed)
    result = invoke("shifts", "list")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout) == [
        ["Shift", "Starts", "Ends", "Location", "Role", "Info", "Status", "Employee", "Booked at"],
        ["OLD1", "2026-07-31 19:00 BST", "2026-08-01 07:00 BST", "Ward 7", "RN", "Past night",
         "past (available)", "", ""],
        ["AUG1", "2026-08-15 19:00 BST", "2026-08-16 07:00 BST", "Ward 7", "RN", "Sat 15/08",
         "available", "", ""],
        ["AUG2", "2026-08-16 08:00 BST", "2026-08-16 16:00 BST", "Ward 7", "HCA", "Sun 16/08",
         "available", "", ""],
        ["DST1", "2026-10-24 22:00 BST", "2026-10-25 06:00 GMT", "Ward 9", "",
         "Sat 24/10 22:00-06:00", "available", "", ""],
        ["ANY1", "", "", "", "", "Whenever", "available", "", ""],
    ]  # fmt: skip
    assert stored(deployed)["OLD1"]["shift_status"] == "available"


def test_list_json_has_times_in_the_stack_zone_and_past(deployed: Deployed) -> None:
    seed(deployed)
    result = invoke("shifts", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {s["shift_id"]: s for s in json.loads(result.stdout)}
    assert [s["shift_id"] for s in json.loads(result.stdout)] == [
        "OLD1", "AUG1", "AUG2", "DST1", "ANY1"
    ]  # fmt: skip
    assert listed["DST1"] == {
        "shift_id": "DST1",
        "shift_info": "Sat 24/10 22:00-06:00",
        "shift_status": "available",
        "employee": None,
        "booked_at": None,
        "starts_at": "2026-10-24T22:00+01:00",
        "ends_at": "2026-10-25T06:00+00:00",
        "location": "Ward 9",
        "role": None,
        "past": False,
    }
    assert listed["OLD1"]["past"] is True
    assert listed["ANY1"]["past"] is False
    assert listed["ANY1"]["starts_at"] is None


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--from", "2026-08-16"], ["AUG2", "DST1"]),
        (["--to", "2026-08-15"], ["OLD1", "AUG1"]),
        (["--from", "2026-08-15", "--to", "2026-08-15"], ["AUG1"]),
        (["--location", "ward 7"], ["OLD1", "AUG1", "AUG2"]),
        (["--role", "rn"], ["OLD1", "AUG1"]),
        (["--role", "RN", "--from", "2026-08-01"], ["AUG1"]),
        (["--location", "Ward 3"], []),
    ],
)
def test_list_filters(deployed: Deployed, args: list[str], ids: list[str]) -> None:
    seed(deployed)
    result = invoke("shifts", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    assert [s["shift_id"] for s in json.loads(result.stdout)] == ids


def test_list_filter_with_no_match_and_a_bad_date(deployed: Deployed) -> None:
    seed(deployed)
    assert invoke("shifts", "list", "--role", "Porter").stdout == "No shifts match.\n"
    bad = invoke("shifts", "list", "--from", "16/08")
    assert bad.exit_code == 2
    assert bad.stderr == ("Error: cannot read '16/08' as a date: use YYYY-MM-DD, e.g. 2026-08-15\n")
