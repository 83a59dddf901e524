"""``shiftsms watch``: the live board, on the deployed template in moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shiftsms.aws.dynamo import to_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.cli import watch as watch_cli
from shiftsms.core.models import Shift, ShiftStatus
from tests.clitools import invoke, record_dynamodb_calls, table_rows
from tests.conftest import Deployed

ANA = "+447700900123"
NOW = datetime(2030, 8, 15, 12, 0, tzinfo=UTC)


def _timed(shift_id: str, start: datetime, **kw: Any) -> Shift:
    return Shift(
        shift_id,
        f"{shift_id} info",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=8)).isoformat(),
        location="Ward 7",
        **kw,
    )


@pytest.fixture
def board(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    table = ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])
    table.put(_timed("LATE1", NOW + timedelta(days=2)))
    table.put(
        _timed("SOON1", NOW + timedelta(hours=5), shift_status=ShiftStatus.TAKEN, employee=ANA)
    )
    table.put(_timed("PAST1", NOW - timedelta(days=1)))
    for campaign_id, status in (("c-running", "sending"), ("c-old", "rejected")):
        deployed.dynamodb.put_item(
            TableName=deployed.outputs["CampaignsTableName"],
            Item=to_item(
                {
                    "campaign_id": campaign_id,
                    "campaign_message": "x",
                    "campaign_status": status,
                    "shift_ids": ["SOON1", "LATE1"],
                    "recipients": 3,
                    "sent": 2,
                    "delivered": 1,
                }
            ),
        )
    monkeypatch.setattr(watch_cli, "now", lambda: NOW)
    return deployed


def test_once_prints_the_board_in_a_bounded_number_of_reads(
    board: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_dynamodb_calls(monkeypatch)
    result = invoke("watch", "--once")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[:3] == [
        ["Shift", "Starts", "Where", "Status", "Held by"],
        ["SOON1", "Thu 15/08 18:00", "Ward 7", "taken", "+44********23"],
        ["LATE1", "Sat 17/08 13:00", "Ward 7", "available", ""],
    ]
    assert ["Campaign", "Status", "Sent", "Delivered", "Booked"] in rows
    assert ["c-running", "sending", "2/3", "1", "1/2"] in rows
    assert not [r for r in rows if r[0] in ("PAST1", "c-old")]
    queues = [r for r in rows if r[0].endswith(("QueueUrl", "Queue", "Dlq"))]
    assert ["SendQueue", "0", "0"] in queues
    assert "AuditStreamDlq" in [r[0] for r in queues]
    assert ANA not in result.stdout
    assert calls == ["Query", "Query", "Scan", "BatchGetItem"]


def test_ctrl_c_leaves_cleanly(board: Deployed, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(seconds: float) -> None:
        assert seconds == 5.0
        raise KeyboardInterrupt

    monkeypatch.setattr(watch_cli.time, "sleep", interrupted)
    result = invoke("watch", "--interval", "5")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "Stopped watching."
    assert "SOON1" in result.stdout


def test_an_interval_under_a_second_is_refused(board: Deployed) -> None:
    result = invoke("watch", "--interval", "0.1")
    assert result.exit_code == 2
