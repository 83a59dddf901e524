"""``campaign create --mode window``: what the stack stores, what ``show --json`` says, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.cli import campaign as campaign_cli
from shiftsms.core.due import DueItem
from shiftsms.core.models import StaffMember
from tests.campaign_support import CampaignStack, campaign_stack
from tests.clitools import invoke

ANA = "+447700900101"
NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[CampaignStack]:
    monkeypatch.setattr(campaign_cli, "now", lambda: NOW)
    with campaign_stack() as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        deployed.add_staff(StaffMember(ANA, "Ana"))
        yield deployed


def test_a_window_campaign_opens_the_windows_and_schedules_the_close(
    stack: CampaignStack,
) -> None:
    result = invoke(
        "campaign",
        "create",
        "c1",
        "--shifts",
        "XYZ123",
        "--mode",
        "window",
        "--window",
        "10m",
        "--award",
        "earliest",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Claim window open until 19:10:00; then each shift is awarded (earliest)."
    )
    state = stack.outputs["StateTableName"]
    closes = datetime(2026, 12, 1, 19, 10, tzinfo=UTC)
    due = DynamoDueWork(stack.dynamodb, state).due(closes, 10)
    assert due == [
        DueItem(
            "window-close",
            "c1",
            closes,
            {"campaign": "c1", "shifts": "XYZ123", "award": "earliest"},
        )
    ]
    windows = DynamoClaimWindows(stack.dynamodb, state)
    assert windows.register("XYZ123", ANA, datetime(2026, 12, 1, 19, 9, tzinfo=UTC)) == closes
    shown = json.loads(invoke("campaign", "show", "c1", "--json").stdout)
    assert {k: shown[k] for k in ("mode", "waves_sent", "window_closes_at")} == {
        "mode": "window",
        "waves_sent": None,
        "window_closes_at": "2026-12-01T19:10:00+00:00",
    }


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--mode", "window"], "--mode window needs --window, e.g. --window 10m"),
        (["--window", "10m"], "--window needs --mode window"),
        (["--mode", "window", "--window", "soon"], "not a duration: 'soon' (say 90s, 10m or 1h)"),
        (["--waves", "3"], "--waves needs --wave-gap, e.g. --wave-gap 15m"),
    ],
)
def test_options_that_clash_are_refused_before_anything_is_written(
    stack: CampaignStack, args: list[str], error: str
) -> None:
    result = invoke("campaign", "create", "c1", "--shifts", "XYZ123", *args, "--yes")
    assert result.exit_code == 2
    assert error in result.output
    items = stack.dynamodb.scan(TableName=stack.outputs["CampaignsTableName"])["Items"]
    assert items == []


def test_a_waves_campaign_is_sent_by_due_work_from_now(stack: CampaignStack) -> None:
    result = invoke(
        "campaign",
        "create",
        "c2",
        "--shifts",
        "XYZ123",
        "--waves",
        "3",
        "--wave-gap",
        "15m",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    state = stack.outputs["StateTableName"]
    assert DynamoDueWork(stack.dynamodb, state).due(NOW, 10) == [
        DueItem("wave", "c2#1", NOW, {"campaign": "c2", "wave": "1"})
    ]
    item = stack.dynamodb.get_item(
        TableName=stack.outputs["CampaignsTableName"], Key={"campaign_id": {"S": "c2"}}
    )["Item"]
    assert (item["waves"], item["wave_gap_seconds"], item["award"]) == (
        {"N": "3"},
        {"N": "900"},
        {"S": "fewest-hours"},
    )
