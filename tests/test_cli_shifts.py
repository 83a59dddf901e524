"""``shiftsms shifts``: what the operator sees, the exit codes, and what DynamoDB stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.models import Shift
from tests.clitools import command_paths, invoke, record_dynamodb_calls, table_rows
from tests.conftest import Deployed

ANA = "+447700900123"


def stored(deployed: Deployed) -> dict[str, dict[str, Any]]:
    """Every item of the shifts table, by id, as plain values."""
    items = deployed.dynamodb.scan(TableName=deployed.outputs["ShiftsTableName"])["Items"]
    return {i["shift_id"]["S"]: from_item(i) for i in items}


def table(deployed: Deployed) -> ShiftsTable:
    return ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])


def book(deployed: Deployed, shift_id: str, employee: str = ANA, ref: str = "m-1") -> None:
    table(deployed).book(shift_id, employee, ref, datetime(2026, 11, 28, 10, 0, tzinfo=UTC))


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "shifts.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- add -------------------------------------------------------------------------------------


def test_add_creates_an_available_shift(deployed: Deployed) -> None:
    result = invoke("shifts", "add", "xyz123", "--info", "15/08 5h nightshift")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added shift XYZ123: 15/08 5h nightshift\n"
    assert result.stderr == ""
    assert stored(deployed) == {
        "XYZ123": {
            "shift_id": "XYZ123",
            "shift_info": "15/08 5h nightshift",
            "shift_status": "available",
        }
    }


def test_add_shows_the_gsm7_rewrite(deployed: Deployed) -> None:
    result = invoke("shifts", "add", "XYZ124", "--info", "16/08 – “late” 🌙")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        'Info changed for SMS (GSM-7): "16/08 – “late” 🌙" -> "16/08 - "late""',
        'Added shift XYZ124: 16/08 - "late"',
    ]
    assert stored(deployed)["XYZ124"]["shift_info"] == '16/08 - "late"'


def test_duplicate_id_is_refused(deployed: Deployed) -> None:
    assert invoke("shifts", "add", "XYZ123", "--info", "first").exit_code == 0
    result = invoke("shifts", "add", "XYZ123", "--info", "second")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: shift XYZ123 already exists: use --replace to change its info\n"
    )
    assert stored(deployed)["XYZ123"]["shift_info"] == "first"


def test_replace_changes_the_info_and_keeps_the_booking(deployed: Deployed) -> None:
    assert invoke("shifts", "add", "XYZ123", "--info", "15/08 5h").exit_code == 0
    book(deployed, "XYZ123")
    result = invoke("shifts", "add", "XYZ123", "--info", "15/08 6h nightshift", "--replace")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Replaced the info of shift XYZ123: 15/08 6h nightshift",
        f"It stays taken by {ANA}.",
    ]
    item = stored(deployed)["XYZ123"]
    assert item["shift_info"] == "15/08 6h nightshift"
    assert item["shift_status"] == "taken"
    assert item["employee"] == ANA
    assert item["booking_ref"] == "m-1"


def test_replace_of_a_new_id_adds_it(deployed: Deployed) -> None:
    result = invoke("shifts", "add", "NEW1", "--info", "17/08", "--replace")
    assert result.exit_code == 0
    assert result.stdout == "Added shift NEW1: 17/08\n"
    assert stored(deployed)["NEW1"]["shift_status"] == "available"


@pytest.mark.parametrize(
    ("shift_id", "info", "message"),
    [
        ("STOP", "x", "Error: 'STOP': that word is an SMS keyword, so staff could not book it"),
        (
            "X",
            "x",
            "Error: 'X': a shift id is 2-20 letters, digits or '-', "
            "starting with a letter or digit",
        ),
        ("XYZ123", " 🌙 ", "Error: shift info is empty: say when and what the shift is"),
    ],
)
def test_bad_input_is_a_usage_error(
    deployed: Deployed, shift_id: str, info: str, message: str
) -> None:
    result = invoke("shifts", "add", shift_id, "--info", info)
    assert result.exit_code == 2
    assert result.stderr == message + "\n"
    assert stored(deployed) == {}


def test_info_is_required(deployed: Deployed) -> None:
    result = invoke("shifts", "add", "XYZ123")
    assert result.exit_code == 2
    assert "Missing option '--info'" in result.stderr
    assert stored(deployed) == {}


# -- import ----------------------------------------------------------------------------------


def test_import_adds_new_rows_and_skips_existing_ids(deployed: Deployed, tmp_path: Path) -> None:
    assert invoke("shifts", "add", "XYZ124", "--info", "already here").exit_code == 0
    path = write_csv(
        tmp_path,
        "shift_id,shift_info,shift_status\n"
        "XYZ123,15/08 5h nightshift,available\n"
        "xyz124,replaced?,\n"
        "\n"
        'XYZ125,"16/08, 8h",taken\n'
        "XYZ126,17/08 4h\n",
    )
    result = invoke("shifts", "import", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Added 3 shifts, skipped 1 that already existed.",
        "Skipped: XYZ124",
    ]
    items = stored(deployed)
    assert {k: (v["shift_info"], v["shift_status"]) for k, v in items.items()} == {
        "XYZ123": ("15/08 5h nightshift", "available"),
        "XYZ124": ("already here", "available"),
        "XYZ125": ("16/08, 8h", "taken"),
        "XYZ126": ("17/08 4h", "available"),
    }


def test_import_reports_every_bad_row_and_writes_nothing(
    deployed: Deployed, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "shift_id,shift_info,shift_status\n"
        "XYZ123,fine,available\n"
        "STOP,keyword\n"
        "\n"
        "XYZ124,,available\n"
        "XYZ125,bad status,booked\n"
        "xyz123,again\n"
        "XYZ126,too,many,cells\n",
    )
    result = invoke("shifts", "import", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: 5 bad rows: nothing was imported",
        "  line 3: 'STOP': that word is an SMS keyword, so staff could not book it",
        "  line 5: shift info is empty: say when and what the shift is",
        "  line 6: XYZ125: status 'booked' is not one of available, taken",
        "  line 7: XYZ123 appears again (first on line 2)",
        "  line 8: 4 cells, the header has 3",
    ]
    assert stored(deployed) == {}


def test_an_import_stopped_by_aws_says_so_and_can_be_rerun(
    deployed: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path, "shift_id,shift_info\nA1,one\nB2,two\nC3,three\n")
    real_put = ShiftsTable.put

    def flaky_put(self: ShiftsTable, shift: Shift, *, replace: bool = False) -> None:
        if shift.shift_id == "B2":
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "PutItem",
            )
        real_put(self, shift, replace=replace)

    monkeypatch.setattr(ShiftsTable, "put", flaky_put)
    result = invoke("shifts", "import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: AWS error ProvisionedThroughputExceededException in PutItem: slow",
        "  the import stopped after adding 1 row; run it again: rows already added are skipped",
    ]
    assert sorted(stored(deployed)) == ["A1"]
    monkeypatch.setattr(ShiftsTable, "put", real_put)
    result = invoke("shifts", "import", path)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Added 2 shifts, skipped 1 that already existed.",
        "Skipped: A1",
    ]
    assert sorted(stored(deployed)) == ["A1", "B2", "C3"]


def test_many_bad_rows_are_capped_at_twenty_lines(deployed: Deployed, tmp_path: Path) -> None:
    rows = "".join(f"S{i:02d},\n" for i in range(25))
    result = invoke("shifts", "import", write_csv(tmp_path, "shift_id,shift_info\n" + rows))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 25 bad rows: nothing was imported"
    assert lines[1] == "  line 2: shift info is empty: say when and what the shift is"
    assert lines[20] == "  line 21: shift info is empty: say when and what the shift is"
    assert lines[21:] == ["  ... and 5 more"]
    assert stored(deployed) == {}


def test_import_needs_a_header(deployed: Deployed, tmp_path: Path) -> None:
    result = invoke("shifts", "import", write_csv(tmp_path, "XYZ123,15/08 5h\n"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: 1 bad row: nothing was imported",
        "  line 1: the header must name the columns shift_id,shift_info[,shift_status]; "
        "missing: shift_id, shift_info",
    ]
    assert stored(deployed) == {}


def test_import_json_and_rewrites(deployed: Deployed, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, "\ufeffShift_ID,Shift_Info,employee\nXYZ123,15/08 – 5h,+447700900123\n"
    )
    result = invoke("shifts", "import", path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "added": ["XYZ123"],
        "skipped": [],
        "rewritten": [
            {"line": 2, "shift_id": "XYZ123", "given": "15/08 – 5h", "stored": "15/08 - 5h"}
        ],
        "ignored_columns": ["employee"],
    }
    assert stored(deployed)["XYZ123"] == {
        "shift_id": "XYZ123",
        "shift_info": "15/08 - 5h",
        "shift_status": "available",
    }


def test_import_text_output_of_rewrites_and_ignored_columns(
    deployed: Deployed, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "shift_id,shift_info,note\nXYZ123,15/08 – 5h,x\n")
    result = invoke("shifts", "import", path)
    assert result.exit_code == 0
    assert result.stderr == "Warning: ignored columns: note\n"
    assert result.stdout.splitlines() == [
        'Line 2: XYZ123 info changed for SMS (GSM-7): "15/08 – 5h" -> "15/08 - 5h"',
        "Added 1 shift, skipped 0 that already existed.",
    ]


def test_import_of_a_missing_file_is_a_usage_error(deployed: Deployed, tmp_path: Path) -> None:
    result = invoke("shifts", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_import_shows_progress_on_a_terminal(deployed: Deployed, tmp_path: Path) -> None:
    rows = "".join(f"S{i:04d},shift {i}\n" for i in range(150))
    path = write_csv(tmp_path, "shift_id,shift_info\n" + rows)
    result = invoke("shifts", "import", path, env={"TTY_COMPATIBLE": "1", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "Importing shifts" in result.stderr
    assert "150/150" in result.stderr
    assert result.stdout == "Added 150 shifts, skipped 0 that already existed.\n"
    assert len(stored(deployed)) == 150


def test_no_progress_bar_when_not_a_terminal(deployed: Deployed, tmp_path: Path) -> None:
    rows = "".join(f"S{i:04d},shift {i}\n" for i in range(150))
    result = invoke("shifts", "import", write_csv(tmp_path, "shift_id,shift_info\n" + rows))
    assert result.exit_code == 0
    assert result.stderr == ""


# -- list ------------------------------------------------------------------------------------


def seed_shifts(deployed: Deployed) -> None:
    for code, info in [("B2", "15/08 5h"), ("A1", "14/08 night"), ("C3", "16/08 day")]:
        assert invoke("shifts", "add", code, "--info", info).exit_code == 0
    book(deployed, "B2")


def test_list_shows_both_statuses_through_the_index(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)
    calls = record_dynamodb_calls(monkeypatch)
    result = invoke("shifts", "list")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout) == [
        ["Shift", "Info", "Status", "Employee", "Booked at"],
        ["A1", "14/08 night", "available", "", ""],
        ["C3", "16/08 day", "available", "", ""],
        ["B2", "15/08 5h", "taken", ANA, "2026-11-28T10:00:00+00:00"],
    ]
    assert calls == ["Query", "Query"]


def test_list_json_by_status(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_shifts(deployed)
    calls = record_dynamodb_calls(monkeypatch)
    result = invoke("shifts", "list", "--status", "taken", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {
            "shift_id": "B2",
            "shift_info": "15/08 5h",
            "shift_status": "taken",
            "employee": ANA,
            "booked_at": "2026-11-28T10:00:00+00:00",
        }
    ]
    assert calls == ["Query"]
    available = json.loads(invoke("shifts", "list", "--status", "AVAILABLE", "--json").stdout)
    assert [s["shift_id"] for s in available] == ["A1", "C3"]
    assert all(s["employee"] is None for s in available)


def test_list_when_empty(deployed: Deployed) -> None:
    assert invoke("shifts", "list").stdout == "No shifts.\n"
    assert invoke("shifts", "list", "--status", "taken").stdout == "No taken shifts.\n"
    assert invoke("shifts", "list", "--json").stdout == "[]\n"


def test_list_rejects_an_unknown_status(deployed: Deployed) -> None:
    result = invoke("shifts", "list", "--status", "booked")
    assert result.exit_code == 2
    assert "'booked' is not one of 'available', 'taken'" in result.stderr


# -- release / remove ------------------------------------------------------------------------


def test_release_makes_a_taken_shift_available(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "release", "b2")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Shift B2 is available again (it was taken by {ANA}).\n"
    assert stored(deployed)["B2"] == {
        "shift_id": "B2",
        "shift_info": "15/08 5h",
        "shift_status": "available",
    }


def test_release_refuses_a_shift_that_is_not_taken_or_unknown(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "release", "A1")
    assert result.exit_code == 1
    assert result.stderr == "Error: shift A1 is not taken, so there is nothing to release\n"
    result = invoke("shifts", "release", "ZZ9")
    assert result.exit_code == 1
    assert result.stderr == "Error: no shift ZZ9\n"
    assert stored(deployed)["A1"]["shift_status"] == "available"


def test_remove_asks_first(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "remove", "B2", input="n\n")
    assert result.exit_code == 1
    assert result.stdout == f"Remove shift B2 (15/08 5h, taken by {ANA})? [y/N]: n\n"
    assert "Aborted" in result.stderr
    assert "B2" in stored(deployed)
    result = invoke("shifts", "remove", "B2", input="y\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "Removed shift B2."
    assert "B2" not in stored(deployed)


def test_remove_with_yes_and_unknown(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "remove", "A1", "--yes")
    assert result.exit_code == 0
    assert result.stdout == "Removed shift A1.\n"
    assert sorted(stored(deployed)) == ["B2", "C3"]
    result = invoke("shifts", "remove", "A1", "--yes")
    assert result.exit_code == 1
    assert result.stderr == "Error: no shift A1\n"


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["add", "import", "list", "release", "remove"])
def test_every_shifts_command_has_help(command: str) -> None:
    assert ["shifts", command] in command_paths()
    result = invoke("shifts", command, "--help")
    assert result.exit_code == 0
    assert f"Usage: shiftsms shifts {command}" in result.stdout


def test_shifts_without_a_command_shows_help() -> None:
    result = invoke("shifts")
    assert "Usage: shiftsms shifts" in result.output
    for command in ("add", "import", "list", "release", "remove"):
        assert command in result.output
