"""``shiftsms shifts``: what the operator sees, the exit codes, and what DynamoDB stores."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import SHIFT_ATTRIBUTES, ShiftsTable
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.cli.context import CliContext
from shiftsms.core.gsm import is_gsm7, segments, septets
from shiftsms.core.models import Shift
from shiftsms.local.emulator import Emulator
from tests.clitools import command_paths, invoke, record_dynamodb_calls, table_rows
from tests.conftest import ORIGINATION, REGION, Deployed, deliver_shift_keys, deploy_template

ANA = "+447700900123"
SHOWN = "+44********23"  # ANA as the CLI shows her number (masked)


def stored(deployed: Deployed) -> dict[str, dict[str, Any]]:
    """Every item of the shifts table, by id, as plain values (less who changed it and when:
    tests/test_audit.py holds the CLI to stamping every write with the caller)."""
    items = deployed.dynamodb.scan(TableName=deployed.outputs["ShiftsTableName"])["Items"]
    return {
        i["shift_id"]["S"]: {
            k: v for k, v in from_item(i).items() if k not in {"changed_by", "changed_at"}
        }
        for i in items
    }


def table(deployed: Deployed) -> ShiftsTable:
    return ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])


def book(
    deployed: Deployed,
    shift_id: str,
    employee: str = ANA,
    ref: str = "m-1",
    at: datetime = datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
) -> None:
    table(deployed).book(shift_id, employee, ref, at)


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
            "start_key": "~untimed",  # sorts after timed shifts on by-start
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
    assert result.stderr == "Error: give --info, or --start and --end to compose it from\n"
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
    rows = "".join(f"S{i:02d},shift {i}\n" for i in range(30))
    path = write_csv(tmp_path, "shift_id,shift_info\n" + rows)
    writes: list[int] = []

    def second_write_fails(**_: Any) -> None:
        writes.append(1)
        if len(writes) == 2:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "BatchWriteItem",
            )

    original = CliContext.client

    def client(self: CliContext, service: str) -> Any:
        made = original(self, service)
        if service == "dynamodb":
            made.meta.events.register("before-call.dynamodb.BatchWriteItem", second_write_fails)
        return made

    monkeypatch.setattr(CliContext, "client", client)
    result = invoke("shifts", "import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: AWS error ProvisionedThroughputExceededException in BatchWriteItem: slow",
        "  the import stopped after adding 25 rows; run it again: rows already added are skipped",
    ]
    assert sorted(stored(deployed)) == [f"S{i:02d}" for i in range(25)]
    monkeypatch.setattr(CliContext, "client", original)
    result = invoke("shifts", "import", path)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Added 5 shifts, skipped 25 that already existed.",
        "Skipped: " + ", ".join(f"S{i:02d}" for i in range(20)) + " and 5 more",
    ]
    assert sorted(stored(deployed)) == [f"S{i:02d}" for i in range(30)]


def test_import_reads_and_writes_in_batches(
    deployed: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        table(deployed).put(Shift(f"S{i:03d}", "already here"))
    book(deployed, "S007")
    rows = "".join(f"S{i:03d},new {i}\n" for i in range(250))
    calls = record_dynamodb_calls(monkeypatch)
    result = invoke("shifts", "import", write_csv(tmp_path, "shift_id,shift_info\n" + rows))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "Added 220 shifts, skipped 30 that already existed."
    # 3 reads of 100 keys; writes of 25: 70 new in the first 100 rows (3), then 100 (4), 50 (2)
    assert calls == ["BatchGetItem"] + ["BatchWriteItem"] * 3 + (
        ["BatchGetItem"] + ["BatchWriteItem"] * 4 + ["BatchGetItem"] + ["BatchWriteItem"] * 2
    )
    items = stored(deployed)
    assert len(items) == 250
    assert items["S007"]["shift_info"] == "already here"
    assert items["S007"]["employee"] == ANA
    assert items["S029"]["shift_info"] == "already here"
    assert items["S030"] == {
        "shift_id": "S030",
        "shift_info": "new 30",
        "shift_status": "available",
        "start_key": "~untimed",  # sorts after timed shifts on by-start
    }


class PartlyProcessed:
    """A DynamoDB client that, the first time, writes (or reads) only part of a batch and
    hands the rest back unprocessed, as DynamoDB does under load."""

    def __init__(self, real: Any, keep: int) -> None:
        self.real = real
        self.keep = keep
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((name, requests),) = RequestItems.items()
        self.calls.append(len(requests))
        if len(self.calls) > 1:
            return self.real.batch_write_item(RequestItems=RequestItems)
        self.real.batch_write_item(RequestItems={name: requests[: self.keep]})
        return {"UnprocessedItems": {name: requests[self.keep :]}}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        ((name, request),) = RequestItems.items()
        self.calls.append(len(request["Keys"]))
        if len(self.calls) > 1:
            return self.real.batch_get_item(RequestItems=RequestItems)
        first = self.real.batch_get_item(
            RequestItems={name: {**request, "Keys": request["Keys"][: self.keep]}}
        )
        rest = {name: {**request, "Keys": request["Keys"][self.keep :]}}
        return {"Responses": first["Responses"], "UnprocessedKeys": rest}


def test_unprocessed_writes_are_sent_again_after_a_pause(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    shifts = table(deployed)
    fake = PartlyProcessed(deployed.dynamodb, keep=10)
    shifts.client = fake  # type: ignore[assignment]
    pauses: list[int] = []
    monkeypatch.setattr(ShiftsTable, "_pause", lambda self, attempt: pauses.append(attempt))
    written: list[list[str]] = []
    shifts.put_many([Shift(f"S{i:02d}", f"shift {i}") for i in range(25)], written.append)
    assert fake.calls == [25, 15]
    assert pauses == [1]
    assert written == [[f"S{i:02d}" for i in range(10)], [f"S{i:02d}" for i in range(10, 25)]]
    assert sorted(stored(deployed)) == [f"S{i:02d}" for i in range(25)]


def test_unprocessed_reads_are_asked_again_after_a_pause(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in (3, 50, 99):
        table(deployed).put(Shift(f"S{i:02d}", "here"))
    shifts = table(deployed)
    fake = PartlyProcessed(deployed.dynamodb, keep=40)
    shifts.client = fake  # type: ignore[assignment]
    pauses: list[int] = []
    monkeypatch.setattr(ShiftsTable, "_pause", lambda self, attempt: pauses.append(attempt))
    assert shifts.existing_ids([f"S{i:02d}" for i in range(100)]) == {"S03", "S50", "S99"}
    assert fake.calls == [100, 60]
    assert pauses == [1]


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
        "  line 1: the header must name the columns shift_id,shift_info[,shift_status]"
        "[,starts_at,ends_at,location,role]; missing: shift_id, shift_info",
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
        "start_key": "~untimed",  # sorts after timed shifts on by-start
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


def test_list_shows_both_statuses_reading_each_shift_once(
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
        ["B2", "15/08 5h", "taken", SHOWN, "2026-11-28T10:00:00+00:00"],
    ]
    # every shift is listed, so the table is read once (a page per MB), not its two indexes
    assert calls == ["Scan"]
    # --status reads that status from the indexes, not the table
    calls.clear()
    assert invoke("shifts", "list", "--status", "taken").exit_code == 0
    assert calls == ["Query", "Query"]


def test_list_shows_console_items_in_any_spelling_and_no_alias_item(
    deployed: Deployed,
) -> None:
    seed_shifts(deployed)
    client, name = deployed.dynamodb, deployed.outputs["ShiftsTableName"]
    for shift_id, status in (("xyz125", "Available"), ("XYZ126", "TAKEN"), ("XYZ127", "")):
        item = {"shift_id": {"S": shift_id}, "shift_info": {"S": "typed in the console"}}
        if status:
            item["shift_status"] = {"S": status}
        client.put_item(TableName=name, Item=item)
    client.put_item(
        TableName=name,
        Item={"shift_id": {"S": "key#XYZ125"}, "stored_id": {"S": "xyz125"}},
    )
    listed = json.loads(invoke("shifts", "list", "--json").stdout)
    assert [(s["shift_id"], s["shift_status"]) for s in listed] == [
        ("A1", "available"),
        ("C3", "available"),
        ("xyz125", "available"),
        ("B2", "taken"),
        ("XYZ126", "taken"),
    ]


def test_every_shift_reads_each_scan_page_asking_only_for_what_a_shift_shows() -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    # a listing shows every field of a Shift: the Scan asks for each of them, and no more
    assert tuple(f.name for f in dataclasses.fields(Shift)) == SHIFT_ATTRIBUTES
    names = {f"#a{n}": a for n, a in enumerate(SHIFT_ATTRIBUTES)}
    asked = {
        "TableName": "shifts",
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
    }
    late = {
        "shift_id": {"S": "Z9"},
        "shift_info": {"S": "Sat night"},
        "shift_status": {"S": "available"},
        "starts_at": {"S": "2026-12-05T20:00:00+00:00"},
        "ends_at": {"S": "2026-12-06T08:00:00+00:00"},
        "location": {"S": "Ward 4"},
        "role": {"S": "RN"},
    }
    with Stubber(client) as stub:
        stub.add_response(
            "scan",
            {
                "Items": [{"shift_id": {"S": "A1"}, "shift_status": {"S": "taken"}}],
                "LastEvaluatedKey": {"shift_id": {"S": "A1"}},
            },
            asked,
        )
        stub.add_response(
            "scan", {"Items": [late]}, {**asked, "ExclusiveStartKey": {"shift_id": {"S": "A1"}}}
        )
        shifts = ShiftsTable(client, "shifts").every_shift()
        stub.assert_no_pending_responses()
    assert [s.shift_id for s in shifts] == ["A1", "Z9"]
    assert (shifts[1].starts_at, shifts[1].location, shifts[1].role) == (
        "2026-12-05T20:00:00+00:00",
        "Ward 4",
        "RN",
    )


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
            "employee": SHOWN,
            "booked_at": "2026-11-28T10:00:00+00:00",
            "starts_at": None,
            "ends_at": None,
            "location": None,
            "role": None,
            "past": False,
        }
    ]
    assert calls == ["Query", "Query"]
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
    assert "'--status': 'booked' is not one of 'available', 'taken'" in result.stderr
    assert "Value error" not in result.stderr


def test_a_long_list_shows_fifty_rows_and_says_how_many_more(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(60):
        table(deployed).put(Shift(f"S{i:03d}", f"shift {i}"))
    for i in (0, 1, 2, 3, 59):
        book(deployed, f"S{i:03d}")
    calls = record_dynamodb_calls(monkeypatch)
    result = invoke("shifts", "list")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert len(rows) == 51
    assert rows[1] == ["S004", "shift 4", "available", "", ""]
    assert rows[50][0] == "S053"
    assert result.stdout.splitlines()[-1] == "... and 10 more: use --json or --status"
    # every shift read (they are shown soonest first): one Scan page
    assert calls == ["Scan"]
    taken = invoke("shifts", "list", "--status", "taken")
    assert [r[0] for r in table_rows(taken.stdout)[1:]] == ["S000", "S001", "S002", "S003", "S059"]
    assert "more" not in taken.stdout
    available = invoke("shifts", "list", "--status", "available")
    assert len(table_rows(available.stdout)) == 51
    assert available.stdout.splitlines()[-1] == "... and 5 more: use --json"


def test_list_json_prints_every_shift(deployed: Deployed) -> None:
    for i in range(60):
        table(deployed).put(Shift(f"S{i:03d}", f"shift {i}"))
    book(deployed, "S010")
    listed = json.loads(invoke("shifts", "list", "--json").stdout)
    assert len(listed) == 60
    assert listed[-1]["shift_id"] == "S010"
    assert listed[-1]["employee"] == SHOWN
    full = json.loads(invoke("shifts", "list", "--json", "--full-numbers").stdout)
    assert full[-1]["employee"] == ANA
    assert SHOWN in invoke("shifts", "list", "--status", "taken").stdout
    assert ANA not in invoke("shifts", "list", "--status", "taken").stdout
    assert ANA in invoke("shifts", "list", "--status", "taken", "--full-numbers").stdout


# -- release / remove ------------------------------------------------------------------------


def test_release_makes_a_taken_shift_available(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "release", "b2")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Shift B2 is available again (it was taken by {SHOWN}).\n"
    assert stored(deployed)["B2"] == {
        "shift_id": "B2",
        "shift_info": "15/08 5h",
        "shift_status": "available",
        "start_key": "~untimed",  # sorts after timed shifts on by-start
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
    assert result.stdout == f"Remove shift B2 (15/08 5h, taken by {SHOWN})? [y/N]: n\n"
    assert "Aborted" in result.stderr
    assert "B2" in stored(deployed)
    result = invoke("shifts", "remove", "B2", input="y\n")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "Removed shift B2."
    assert "B2" not in stored(deployed)


def test_remove_with_nobody_to_answer_says_to_add_yes(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "remove", "B2")  # no input: a script, not a terminal
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no answer to the question above (no terminal?): add --yes to go ahead "
        "without asking\n"
    )
    assert "B2" in stored(deployed)


def test_remove_with_yes_and_unknown(deployed: Deployed) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "remove", "A1", "--yes")
    assert result.exit_code == 0
    assert result.stdout == "Removed shift A1.\n"
    assert sorted(stored(deployed)) == ["B2", "C3"]
    result = invoke("shifts", "remove", "A1", "--yes")
    assert result.exit_code == 1
    assert result.stderr == "Error: no shift A1\n"


# -- release / remove act on what was shown, and tell the holder ---------------------------

BOB = "+447700900456"
LATER = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """End User Messaging as the CLI sees it, every request pinned (none expected unless
    a test adds one)."""
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    original = CliContext.client

    def pick(self: CliContext, service: str) -> Any:
        return client if service == "pinpoint-sms-voice-v2" else original(self, service)

    monkeypatch.setattr(CliContext, "client", pick)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expect_text(sms: Stubber, to: str, body: str, shift_id: str) -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    (stack,) = cloudformation.describe_stacks(StackName="shiftsms")["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    sms.add_response(
        "send_text_message",
        {"MessageId": "msg-1"},
        {
            "DestinationPhoneNumber": to,
            "OriginationIdentity": ORIGINATION,
            "MessageBody": body,
            "MessageType": "TRANSACTIONAL",
            # a notification, the holder by her phone's fingerprint (never the number)
            "Context": {
                "kind": "notify",
                "recipient": hashlib.sha256(to.encode()).hexdigest()[:20],
                "shift_id": shift_id,
                "reason": "cancelled-by-operator",
            },
            # as the functions send: receipts and cost, countries, the price cap (default)
            "ConfigurationSetName": outputs["ConfigurationSetName"],
            "ProtectConfigurationId": outputs["ProtectConfigurationId"],
            "MaxPrice": "0.20",
        },
    )


def test_release_texts_the_holder(deployed: Deployed, sms: Stubber) -> None:
    seed_shifts(deployed)
    text = "Your booking of B2 (15/08 5h) was cancelled by the ward. Text REQUEST for open shifts."
    expect_text(sms, ANA, text, "B2")
    result = invoke("shifts", "release", "B2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Shift B2 is available again (it was taken by {SHOWN}).",
        f"Texted {SHOWN}: {text}",
    ]
    assert stored(deployed)["B2"]["shift_status"] == "available"


def test_release_of_a_console_item_whose_status_is_capitalised(
    deployed: Deployed, sms: Stubber
) -> None:
    deployed.dynamodb.put_item(
        TableName=deployed.outputs["ShiftsTableName"],
        Item={
            "shift_id": {"S": "XYZ123"},
            "shift_info": {"S": "15/08 5h nightshift"},
            "shift_status": {"S": "Taken"},
            "employee": {"S": ANA},
        },
    )
    text = (
        "Your booking of XYZ123 (15/08 5h nightshift) was cancelled by the ward. "
        "Text REQUEST for open shifts."
    )
    expect_text(sms, ANA, text, "XYZ123")
    result = invoke("shifts", "release", "XYZ123")
    assert result.exit_code == 0, result.output
    assert stored(deployed)["XYZ123"] == {
        "shift_id": "XYZ123",
        "shift_info": "15/08 5h nightshift",
        "shift_status": "available",
    }


def _console_item(deployed: Deployed, shift_id: str, status: str, employee: str = "") -> None:
    """A shift typed in the console, and its alias written by the shift-key function."""
    deliver_shift_keys(deployed.outputs)  # what earlier tests wrote
    item = {
        "shift_id": {"S": shift_id},
        "shift_info": {"S": "15/08 5h nightshift"},
        "shift_status": {"S": status},
    }
    if employee:
        item["employee"] = {"S": employee}
    deployed.dynamodb.put_item(TableName=deployed.outputs["ShiftsTableName"], Item=item)
    assert deliver_shift_keys(deployed.outputs) == 1


def test_release_and_remove_find_a_console_id_in_mixed_case(
    deployed: Deployed, sms: Stubber
) -> None:
    _console_item(deployed, "xYz123", "taken", ANA)
    text = (
        "Your booking of xYz123 (15/08 5h nightshift) was cancelled by the ward. "
        "Text REQUEST for open shifts."
    )
    expect_text(sms, ANA, text, "xYz123")
    result = invoke("shifts", "release", "XYZ123")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Shift xYz123 is available again (it was taken by {SHOWN})."
    )
    assert stored(deployed)["xYz123"]["shift_status"] == "available"
    result = invoke("shifts", "remove", "xyz123", "--yes")
    assert result.exit_code == 0, result.output
    assert "xYz123" not in stored(deployed)


def test_release_with_no_notify_texts_nobody(deployed: Deployed, sms: Stubber) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "release", "B2", "--no-notify")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Shift B2 is available again (it was taken by {SHOWN}).\n"
    assert stored(deployed)["B2"]["shift_status"] == "available"


def test_a_failed_holder_text_is_reported_and_the_release_stays(
    deployed: Deployed, sms: Stubber
) -> None:
    seed_shifts(deployed)
    sms.add_client_error("send_text_message", service_error_code="ThrottlingException")
    result = invoke("shifts", "release", "B2")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Shift B2 is available again (it was taken by {SHOWN}).\n"
    assert result.stderr == (
        f"Warning: could not text {SHOWN} that their booking is cancelled "
        "(ThrottlingException: retry later): tell them\n"
    )
    assert stored(deployed)["B2"]["shift_status"] == "available"


def test_an_unreachable_sms_endpoint_is_reported_and_the_removal_stays(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_shifts(deployed)

    def unreachable(self: EndUserMessagingSms, to: str, body: str, *_: Any, **__: Any) -> str:
        raise EndpointConnectionError(endpoint_url="https://sms-voice.eu-west-2.amazonaws.com")

    monkeypatch.setattr(EndUserMessagingSms, "send", unreachable)
    result = invoke("shifts", "remove", "B2", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Removed shift B2.\n"
    assert result.stderr.startswith(
        f"Warning: could not text {SHOWN} that their booking is cancelled "
        "(EndpointConnectionError: Could not connect to the endpoint URL"
    )
    assert "B2" not in stored(deployed)


def test_remove_texts_the_holder(deployed: Deployed, sms: Stubber) -> None:
    seed_shifts(deployed)
    text = "B2 (15/08 5h) was cancelled by the ward. Text REQUEST for open shifts."
    expect_text(sms, ANA, text, "B2")
    result = invoke("shifts", "remove", "B2", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["Removed shift B2.", f"Texted {SHOWN}: {text}"]
    assert "B2" not in stored(deployed)


def test_removing_an_available_shift_texts_nobody(deployed: Deployed, sms: Stubber) -> None:
    seed_shifts(deployed)
    result = invoke("shifts", "remove", "A1", "--yes")
    assert result.exit_code == 0
    assert result.stdout == "Removed shift A1.\n"


def test_release_through_the_emulator_texts_the_holder_from_the_stacks_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = Emulator(port=0).start()
    try:
        emulator.telecom.add_number(ORIGINATION)
        monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint)
        info = deploy_template()
        shifts = ShiftsTable(boto3.client("dynamodb"), info.outputs["ShiftsTableName"])
        shifts.put(Shift("XYZ123", "15/08 5h nightshift"))
        shifts.book("XYZ123", ANA, "m-1", LATER)
        result = invoke("shifts", "release", "XYZ123", env={"AWS_ENDPOINT_URL": emulator.endpoint})
        assert result.exit_code == 0, result.output
        [text] = emulator.telecom.texts()
        assert (text.origination, text.destination, text.body, text.segments) == (
            ORIGINATION,
            ANA,
            "Your booking of XYZ123 (15/08 5h nightshift) was cancelled by the ward. "
            "Text REQUEST for open shifts.",
            1,
        )
    finally:
        emulator.stop()


def test_the_holder_text_is_one_gsm7_segment_whatever_the_info() -> None:
    from shiftsms.services.shifts import cancelled_text

    shift = Shift("XYZ123", "15/08 5h nightshift – “ward 7” " + "x" * 200, "taken", ANA)
    for removed in (True, False):
        text = cancelled_text(shift, removed=removed)
        assert septets(text) <= 160
        assert is_gsm7(text)
        assert segments(text) == 1
        assert text.endswith(") was cancelled by the ward. Text REQUEST for open shifts.")
    assert cancelled_text(Shift("XYZ123", "15/08 5h nightshift"), removed=True) == (
        "XYZ123 (15/08 5h nightshift) was cancelled by the ward. Text REQUEST for open shifts."
    )


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
