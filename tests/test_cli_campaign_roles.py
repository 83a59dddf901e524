"""``campaign create`` with timed shifts: filters, started shifts, and who may work them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.cli import campaign as campaign_cli
from shiftsms.core.models import Shift, StaffMember
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    drain,
    stream_event,
)
from tests.clitools import invoke
from tests.fakes import RecordingSms

ANA, BEN, CY = "+447700900101", "+447700900102", "+447700900103"
NOW = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(campaign_cli, "now", lambda: NOW)


def timed(code: str, start: str, end: str, location: str, role: str | None) -> Shift:
    """A shift from ``start`` to ``end`` (London summer time)."""
    return Shift(
        code,
        f"{start[8:10]}/{start[5:7]} {location}",
        starts_at=f"{start}+01:00",
        ends_at=f"{end}+01:00",
        location=location,
        role=role,
    )


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    """RN1 (RN, Ward 7, 15/08), HCA1 (HCA, Ward 9, 16/08), OLD1 (RN, started 31/07);
    Ana holds RN, Ben HCA, Cy no role."""
    with campaign_stack() as deployed:
        table = ShiftsTable(deployed.dynamodb, deployed.outputs["ShiftsTableName"])
        table.put(timed("RN1", "2026-08-15T19:00", "2026-08-16T07:00", "Ward 7", "RN"))
        table.put(timed("HCA1", "2026-08-16T19:00", "2026-08-17T07:00", "Ward 9", "HCA"))
        table.put(timed("OLD1", "2026-07-31T19:00", "2026-08-01T07:00", "Ward 7", "RN"))
        deployed.add_staff(
            StaffMember(ANA, "Ana", roles=("RN",)),
            StaffMember(BEN, "Ben", roles=("HCA",)),
            StaffMember(CY, "Cy"),
        )
        yield deployed


def lines(result_stdout: str, prefix: str) -> list[str]:
    return [line for line in result_stdout.splitlines() if line.startswith(prefix)]


def test_all_available_skips_started_shifts_and_texts_who_may_work_one(
    stack: CampaignStack,
) -> None:
    result = invoke("campaign", "create", "c1", "--all-available", "--dry-run")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout, "Shifts:") == ["Shifts:     RN1, HCA1"]
    assert lines(result.stdout, "Roles:") == [
        "Roles:      HCA, RN (only staff with one of them get it)"
    ]
    assert lines(result.stdout, "Recipients:") == ["Recipients: 2"]


@pytest.mark.parametrize(
    ("args", "shifts", "recipients"),
    [
        (["--role", "rn"], "RN1", 1),
        (["--location", "ward 9"], "HCA1", 1),
        (["--from", "2026-08-16"], "HCA1", 1),
        (["--to", "2026-08-15"], "RN1", 1),
    ],
)
def test_filters_choose_the_shifts_and_the_recipients(
    stack: CampaignStack, args: list[str], shifts: str, recipients: int
) -> None:
    result = invoke("campaign", "create", "c1", "--all-available", *args, "--dry-run")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout, "Shifts:") == [f"Shifts:     {shifts}"]
    assert lines(result.stdout, "Recipients:") == [f"Recipients: {recipients}"]


def test_a_shift_without_a_role_is_for_everyone(stack: CampaignStack) -> None:
    stack.add_shift("ANY1", "Any day")
    result = invoke("campaign", "create", "c1", "--all-available", "--dry-run")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout, "Shifts:") == ["Shifts:     RN1, HCA1, ANY1"]
    assert lines(result.stdout, "Roles:") == []
    assert lines(result.stdout, "Recipients:") == ["Recipients: 3"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--shifts", "RN1,OLD1"], "already started, cannot be offered: OLD1"),
        (
            ["--shifts", "RN1", "--role", "RN"],
            "--location, --role, --from and --to go with --all-available",
        ),
        (
            ["--all-available", "--to", "2026-07-31"],
            "no open shifts match: nothing to offer (1 started: never offered)",
        ),
        (
            ["--all-available", "--from", "next week"],
            "cannot read 'next week' as a date: use YYYY-MM-DD, e.g. 2026-08-15",
        ),
    ],
)
def test_refusals(stack: CampaignStack, args: list[str], error: str) -> None:
    result = invoke("campaign", "create", "c1", *args, "--yes")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {error}\n"
    items = stack.dynamodb.scan(TableName=stack.outputs["CampaignsTableName"])["Items"]
    assert items == []


def test_the_fan_out_texts_only_who_may_work_a_shift_offered(stack: CampaignStack) -> None:
    result = invoke("campaign", "create", "c1", "--all-available", "--role", "RN", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "Campaign c1 created: texting 1 recipient. Follow it with: shiftsms campaign show c1"
    )
    item = from_item(stack.campaign_item("c1"))
    assert item["offer_roles"] == ["RN"]
    assert item["shift_ids"] == ["RN1"]
    sms = RecordingSms()
    # Sent on the day the campaign was made: the live offer finds RN1 not yet started.
    campaign_app, sender_app = apps(stack, sms, now=NOW.timestamp)
    campaign_app.handle(stream_event(stack.insert_record("c1")), None)
    drain(stack, sender_app.handle, FakeContext())
    assert [s.to for s in sms.sent] == [ANA]
    assert "RN1" in sms.sent[0].body
    assert from_item(stack.campaign_item("c1"))["recipients"] == 1


def test_the_fan_out_of_a_campaign_without_roles_texts_everyone(stack: CampaignStack) -> None:
    stack.add_shift("ANY1", "Any day")
    result = invoke("campaign", "create", "c2", "--shifts", "ANY1,RN1", "--yes")
    assert result.exit_code == 0, result.output
    assert "offer_roles" not in from_item(stack.campaign_item("c2"))
    sms = RecordingSms()
    campaign_app, sender_app = apps(stack, sms)
    campaign_app.handle(stream_event(stack.insert_record("c2")), None)
    drain(stack, sender_app.handle, FakeContext())
    assert sorted(s.to for s in sms.sent) == [ANA, BEN, CY]
