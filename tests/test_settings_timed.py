"""The timed-shift settings: what the inbound function reads, and the CLI's time zone."""

from __future__ import annotations

import pytest

from shiftsms.aws.stack import StackInfo
from shiftsms.errors import NotConfigured
from shiftsms.settings import InboundSettings

BASE = {"SHIFTS_TABLE": "s", "STAFF_TABLE": "t"}


def test_defaults_are_london_11h_rest_and_48h_a_week() -> None:
    settings = InboundSettings.from_env(BASE)
    assert (settings.time_zone, settings.min_rest_hours, settings.max_weekly_hours) == (
        "Europe/London",
        11.0,
        48.0,
    )


def test_the_template_values_are_read_and_zero_is_kept_as_off() -> None:
    env = {**BASE, "TIME_ZONE": "Europe/Warsaw", "MIN_REST_HOURS": "0", "MAX_WEEKLY_HOURS": "60"}
    settings = InboundSettings.from_env(env)
    assert (settings.time_zone, settings.min_rest_hours, settings.max_weekly_hours) == (
        "Europe/Warsaw",
        0.0,
        60.0,
    )


@pytest.mark.parametrize("raw", ["-1", "nan", "inf", "eleven"])
def test_a_rule_value_that_is_not_hours_is_a_configuration_error(raw: str) -> None:
    with pytest.raises(NotConfigured, match="MIN_REST_HOURS"):
        InboundSettings.from_env({**BASE, "MIN_REST_HOURS": raw})


def test_the_cli_reads_the_stack_time_zone_output() -> None:
    outputs = {"ShiftsTableName": "s", "StaffTableName": "t", "TimeZone": "America/New_York"}
    info = StackInfo(name="x", status="UPDATE_COMPLETE", outputs=outputs, parameters={})
    assert info.settings().time_zone == "America/New_York"
    older = StackInfo(name="x", status="UPDATE_COMPLETE", outputs={}, parameters={})
    assert older.settings().time_zone == "Europe/London"


HOLDS = [("", 15.0), ("0.1", 0.1), ("0.01", 0.05), ("90", 90.0)]


@pytest.mark.parametrize(("raw", "minutes"), HOLDS)
def test_hold_minutes_may_be_a_fraction_for_trying_the_flow_out(raw: str, minutes: float) -> None:
    assert InboundSettings.from_env({**BASE, "HOLD_MINUTES": raw}).hold_minutes == minutes


@pytest.mark.parametrize("raw", ["0", "-5", "nan", "inf", "soon"])
def test_a_hold_that_is_not_minutes_is_a_configuration_error(raw: str) -> None:
    with pytest.raises(NotConfigured, match="HOLD_MINUTES"):
        InboundSettings.from_env({**BASE, "HOLD_MINUTES": raw})
