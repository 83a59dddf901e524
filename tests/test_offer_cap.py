"""MaxOffersPerDay and SNOOZE at send time, through the real campaign and sender handlers on
the deployed template (moto): who is texted, what the campaign counts, what the state holds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.offer_cap import DynamoOfferCap, cap_item_id
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.due import parse_stamp
from shiftsms.core.models import Shift, StaffMember
from shiftsms.handlers import campaign as campaign_handler
from shiftsms.handlers import due as due_handler
from shiftsms.handlers import sender as sender_handler
from shiftsms.services.due_runner import DueRunner
from shiftsms.settings import DueSettings
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    drain,
    stream_event,
)
from tests.clitools import invoke
from tests.conftest import function_environment
from tests.fakes import RecordingSms

ANA, BEN, CY = "+447700900101", "+447700900102", "+447700900103"


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack({"MaxOffersPerDay": "2"}) as deployed:
        for code in ("XYZ123", "XYZ124", "XYZ125"):
            deployed.add_shift(code, f"15/08 nights {code}")
        yield deployed


@pytest.fixture
def sms(stack: CampaignStack, monkeypatch: pytest.MonkeyPatch) -> RecordingSms:
    recording = RecordingSms()
    campaign_app, sender_app = apps(stack, recording)
    monkeypatch.setattr(campaign_handler, "app", lambda: campaign_app)
    monkeypatch.setattr(sender_handler, "app", lambda: sender_app)
    return recording


def send_campaign(stack: CampaignStack, campaign_id: str, code: str) -> None:
    from lambdas.campaign import handler as campaign
    from lambdas.sender import handler as sender

    created = invoke("campaign", "create", campaign_id, "--shifts", code, "--yes")
    assert created.exit_code == 0, created.output
    campaign(stream_event(stack.insert_record(campaign_id)), FakeContext(function_name="c"))
    drain(stack, sender, FakeContext())


def shown(campaign_id: str) -> dict[str, object]:
    result = invoke("campaign", "show", campaign_id, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_a_third_campaign_in_a_day_skips_and_counts_who_had_two(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    stack.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"))
    send_campaign(stack, "c1", "XYZ123")
    send_campaign(stack, "c2", "XYZ124")
    stack.add_staff(StaffMember(CY, "Cy"))  # joins later: has had none today
    send_campaign(stack, "c3", "XYZ125")
    assert [s.to for s in sms.sent if "XYZ125" in s.body] == [CY]
    assert sorted(s.to for s in sms.sent) == [ANA, ANA, BEN, BEN, CY]
    third = shown("c3")
    assert (third["sent"], third["skipped_capped"], third["skipped"], third["pending"]) == (
        1,
        2,
        0,
        0,
    )
    assert third["status"] == "done"
    listing = invoke("campaign", "show", "c3")
    assert "over the daily cap 2" in listing.output


def test_a_retried_job_takes_one_place_in_the_cap(stack: CampaignStack) -> None:
    cap = DynamoOfferCap(stack.dynamodb, stack.outputs["StateTableName"])
    at = datetime(2026, 8, 15, 9, tzinfo=UTC)
    assert cap.take(ANA, "2026-08-15", "c1#r1", 2, at)
    assert cap.take(ANA, "2026-08-15", "c1#r1", 2, at)
    assert cap.take(ANA, "2026-08-15", "c2#r2", 2, at)
    assert not cap.take(ANA, "2026-08-15", "c3#r3", 2, at)
    assert cap.take(ANA, "2026-08-15", "c2#r2", 2, at)  # already counted: still its place
    assert cap.take(ANA, "2026-08-16", "c3#r3", 2, at)  # a new day
    item = stack.dynamodb.get_item(
        TableName=stack.outputs["StateTableName"],
        Key={"id": {"S": cap_item_id(ANA, "2026-08-15")}},
    )["Item"]
    assert set(item["offers"]["SS"]) == {"c1#r1", "c2#r2"}
    assert ANA not in json.dumps(item)


def test_a_snoozed_person_is_skipped_until_the_snooze_ends(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    stack.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"))
    now = datetime.now(UTC)
    assert stack.staff().set_snooze(BEN, now + timedelta(days=3), now)
    send_campaign(stack, "c1", "XYZ123")
    assert [s.to for s in sms.sent] == [ANA]
    assert (shown("c1")["sent"], shown("c1")["skipped"]) == (1, 1)
    assert stack.staff().set_snooze(BEN, None, now)
    send_campaign(stack, "c2", "XYZ124")
    assert sorted(s.to for s in sms.sent if "XYZ124" in s.body) == [ANA, BEN]


def test_the_earliest_start_offered_travels_with_each_job(
    stack: CampaignStack, sms: RecordingSms
) -> None:
    from lambdas.campaign import handler as campaign

    stack.add_staff(StaffMember(ANA, "Ana"))
    shifts = ShiftsTable(
        stack.dynamodb, stack.outputs["ShiftsTableName"], stack.outputs["StaffTableName"]
    )
    shifts.put(
        Shift("LATE1", "late", starts_at="2030-08-16T19:00+01:00", ends_at="2030-08-17T07:00+01:00")
    )
    shifts.put(
        Shift("SOON1", "soon", starts_at="2030-08-15T07:00+01:00", ends_at="2030-08-15T15:00+01:00")
    )
    created = invoke("campaign", "create", "t1", "--shifts", "LATE1,SOON1,XYZ123", "--yes")
    assert created.exit_code == 0, created.output
    assert stack.campaign_item("t1")["first_start"] == {"S": "2030-08-15T07:00+01:00"}
    campaign(stream_event(stack.insert_record("t1")), FakeContext(function_name="c"))
    jobs = [json.loads(m["Body"]) for m in stack.receive()]
    assert [(j["to"], j["starts"]) for j in jobs] == [(ANA, "2030-08-15T07:00+01:00")]
    assert sms.sent == []  # queued, not yet sent


# -- quiet hours: a held campaign text, through the sender and due-work handlers -----------


@pytest.fixture
def quiet_stack() -> Iterator[CampaignStack]:
    """Quiet hours from an hour ago to two hours ahead, on the London wall clock."""
    zone = ZoneInfo("Europe/London")
    now = datetime.now(zone)
    quiet = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=2):%H:%M}"
    with campaign_stack({"QuietHours": quiet}) as deployed:
        deployed.add_shift("XYZ123", "15/08 nights XYZ123")
        yield deployed


def send_in_quiet_hours(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch, clock: list[float]
) -> tuple[RecordingSms, Any, list[dict[str, Any]]]:
    """Campaign q1 of XYZ123 to Ana through the campaign and sender handlers, the sender on
    ``clock``: the texts sent, the sender handler, and the due items holding texts back."""
    from lambdas.campaign import handler as campaign
    from lambdas.sender import handler as sender

    sms = RecordingSms()
    campaign_app, sender_app = apps(stack, sms, now=lambda: clock[0])
    monkeypatch.setattr(campaign_handler, "app", lambda: campaign_app)
    monkeypatch.setattr(sender_handler, "app", lambda: sender_app)
    stack.add_staff(StaffMember(ANA, "Ana"))
    assert invoke("campaign", "create", "q1", "--shifts", "XYZ123", "--yes").exit_code == 0
    campaign(stream_event(stack.insert_record("q1")), FakeContext(function_name="c"))
    drain(stack, sender, FakeContext())
    held = [
        i
        for i in stack.dynamodb.scan(TableName=stack.outputs["StateTableName"])["Items"]
        if i["id"]["S"].startswith("due#offer#")
    ]
    return sms, sender, held


def test_a_campaign_text_due_in_quiet_hours_goes_once_when_they_end(
    quiet_stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, clock = quiet_stack, [time.time()]
    sms, sender, held = send_in_quiet_hours(stack, monkeypatch, clock)
    assert sms.sent == []
    assert shown("q1")["pending"] == 1
    state = stack.outputs["StateTableName"]
    # Keyed by the number's fingerprint; the job it holds names the number, as a send job does.
    assert len(held) == 1 and ANA not in held[0]["id"]["S"]
    # Held until quiet hours end, two hours from now to the minute.
    wait = parse_stamp(held[0]["due_at"]["S"]) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=58) < wait <= timedelta(hours=2)

    env = function_environment(stack.outputs["DueFunctionName"])
    settings = DueSettings.from_env(env)
    runner = DueRunner(
        DynamoDueWork(stack.dynamodb, state), due_handler.handlers(settings, stack.dynamodb)
    )
    end = datetime.now(UTC) + timedelta(hours=2, minutes=1)
    assert runner.run(datetime.now(UTC)).ran == []
    assert len(runner.run(end).ran) == 1
    clock[0] = end.timestamp()
    drain(stack, sender, FakeContext())
    assert [s.to for s in sms.sent] == [ANA]
    assert (shown("q1")["sent"], shown("q1")["pending"]) == (1, 0)
    assert runner.run(end + timedelta(minutes=1)).ran == []


@pytest.fixture
def fall_back_stack() -> Iterator[CampaignStack]:
    """Quiet hours 01:00-06:00 London, over the night the clocks go back (25 Oct 2026)."""
    with campaign_stack({"QuietHours": "01:00-06:00"}) as deployed:
        deployed.add_shift("XYZ123", "15/11 nights XYZ123")
        yield deployed


def test_quiet_hours_over_the_night_the_clocks_go_back_through_the_sender(
    fall_back_stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 01:30 BST, the first of the night's two 01:30s: quiet hours end at 06:00 GMT, five and
    # a half hours later (not four and a half, as a wall-clock difference would say).
    first_half_past_one = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    sms, _, (held,) = send_in_quiet_hours(
        fall_back_stack, monkeypatch, [first_half_past_one.timestamp()]
    )
    assert sms.sent == []
    assert parse_stamp(held["due_at"]["S"]) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
