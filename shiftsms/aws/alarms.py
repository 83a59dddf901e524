"""The stack's CloudWatch alarms: which of them are in ALARM, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

ALARM = "ALARM"
ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException"})


def alarm_prefix(stack: str) -> str:
    """The start of every alarm name of ``stack`` (a stack name cannot hold ``/``)."""
    return f"{stack}/"


@dataclass(frozen=True)
class AlarmState:
    """One alarm: its name, its state (``ALARM``, ``OK``, ``INSUFFICIENT_DATA``), AWS's reason."""

    name: str
    state: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """Plain data (for ``--json``)."""
        return {"name": self.name, "state": self.state, "reason": self.reason}


def alarms_in_alarm(cloudwatch: Any, stack: str) -> list[AlarmState] | None:
    """The stack's alarms now in ALARM, by name; None if the caller may not read alarms."""
    found = []
    try:
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=alarm_prefix(stack),
            StateValue=ALARM,
            AlarmTypes=["MetricAlarm", "CompositeAlarm"],
        )
        for page in pages:
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found.append(
                    AlarmState(
                        name=str(alarm["AlarmName"]),
                        state=str(alarm.get("StateValue", "")),
                        reason=str(alarm.get("StateReason", "")),
                    )
                )
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in ACCESS_DENIED:
            return None
        raise
    # Filtered here too: not every implementation of the API applies both filters at once.
    return sorted((a for a in found if a.state == ALARM), key=lambda a: a.name)
