"""The sandbox fires the stack's schedule rules as EventBridge would (moto fires none)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shiftsms.local.cfn_template import load_template
from shiftsms.local.deploy import deploy
from shiftsms.local.emulator import Emulator
from shiftsms.local.invocation import Invocation
from shiftsms.local.pump import EventPump
from shiftsms.local.schedule_poller import (
    SchedulePoller,
    ScheduleRule,
    rate_seconds,
    schedule_rules,
    schedule_seconds,
)
from tests.conftest import event_fixture

TEMPLATE = Path(__file__).resolve().parent.parent / "cloudformation" / "template.yaml"
RULE_ARN = "arn:aws:events:eu-west-2:123456789012:rule/shiftsms-DueSchedule-1A2B3C4D5E6F"


class RecordingFunction:
    """Stands in for a function pool: records events, answers from a script."""

    name = "due"

    def __init__(self, answers: list[Invocation] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answers = answers or []

    def invoke(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return self.answers.pop(0) if self.answers else Invocation(ok=True)


def test_the_templates_schedule_rule_is_found_with_its_function() -> None:
    rules = schedule_rules(load_template(TEMPLATE.read_text()))
    assert rules == [ScheduleRule("DueSchedule", "rate(1 minute)", "DueFunction")]
    assert [rate_seconds(e) for e in ("rate(1 minute)", "rate(5 minutes)", "rate(2 hours)")] == [
        60,
        300,
        7200,
    ]
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_disabled_rules_and_targets_that_are_not_functions_are_not_fired() -> None:
    template = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function"},
            "Q": {"Type": "AWS::SQS::Queue"},
            "Off": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 minute)",
                    "State": "DISABLED",
                    "Targets": [{"Id": "a", "Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}],
                },
            },
            "ToQueue": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "ScheduleExpression": "rate(1 minute)",
                    "Targets": [{"Id": "a", "Arn": {"Fn::GetAtt": ["Q", "Arn"]}}],
                },
            },
        }
    }
    assert schedule_rules(template) == []


def test_the_interval_is_configurable_and_falls_back_on_nonsense() -> None:
    assert schedule_seconds({"SHIFTSMS_SCHEDULE_SECONDS": "1.5"}) == 1.5
    assert schedule_seconds({"SHIFTSMS_SCHEDULE_SECONDS": "soon"}) == 5.0
    assert schedule_seconds({"SHIFTSMS_SCHEDULE_SECONDS": "0"}) == 5.0
    assert schedule_seconds({}) == 5.0


def test_a_rule_fires_a_scheduled_event_once_per_period_and_survives_a_failure() -> None:
    function = RecordingFunction([Invocation(ok=False, error="RuntimeError: boom")])
    poller = SchedulePoller(
        function,  # type: ignore[arg-type]
        rule_arn=RULE_ARN,
        region="eu-west-2",
        every=0.2,
        stop=threading.Event(),
    )
    assert poller.poll() is False
    assert function.events == []  # not before the first period
    deadline = time.monotonic() + 5
    while len(function.events) < 2 and time.monotonic() < deadline:
        poller.poll()
        time.sleep(0.01)
    assert len(function.events) == 2  # the failed run did not stop the next one
    fixture = event_fixture("eventbridge_scheduled")
    first = function.events[0]
    assert set(first) == set(fixture)
    assert {k: first[k] for k in ("detail-type", "source", "resources", "account", "region")} == {
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [RULE_ARN],
        "account": "123456789012",
        "region": "eu-west-2",
    }
    assert first["id"] != function.events[1]["id"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    em = Emulator(port=0).start()
    em.telecom.add_number("+447700900000")
    try:
        yield em
    finally:
        em.stop()


def test_the_pump_fires_the_deployed_due_schedule_at_the_due_function(
    emulator: Emulator, tmp_path: Path
) -> None:
    result = deploy(emulator.endpoint, "eu-west-2", "shiftsms", "+447700900000")
    pump = EventPump(emulator.endpoint, "eu-west-2", "shiftsms", tmp_path, schedule_every=3600)
    try:
        params, resources = pump._stack()
        keys = pump._schedules(resources, params["CodeBucket"])
        function = result.stack.outputs["DueFunctionName"]
        assert keys == {f"schedule:DueSchedule:{function}"}
        (poller,) = pump.pollers[f"schedule:DueSchedule:{function}"]
        assert isinstance(poller, SchedulePoller)
        assert poller.runner.name == function
        assert poller.every == 60  # the rule's rate is shorter than the hour asked for
        assert poller.rule_arn.startswith("arn:aws:events:eu-west-2:123456789012:rule/")
        assert pump._schedules(resources, params["CodeBucket"]) == keys  # not started twice
    finally:
        pump.stop()
