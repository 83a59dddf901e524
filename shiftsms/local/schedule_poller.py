"""EventBridge schedule rules -> their target functions, fired by the sandbox (moto does not).

The rules come from the deployed template (``AWS::Events::Rule`` with a
``ScheduleExpression``, state ``ENABLED``, targets naming a function of the stack). AWS fires
``rate(1 minute)`` once a minute; the sandbox fires every rule every few seconds
(:data:`SANDBOX_SCHEDULE_SECONDS`, or ``SHIFTSMS_SCHEDULE_SECONDS``), so a demo's short
windows close in seconds. As EventBridge invokes asynchronously, a failed run is only logged:
the next firing is the retry.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shiftsms.core import lambda_events
from shiftsms.local.cfn_template import _ref
from shiftsms.local.poller import Invoker, Poller

log = logging.getLogger("shiftsms.local.pump")

SANDBOX_SCHEDULE_SECONDS = 5.0
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")


def schedule_seconds(env: dict[str, str] | None = None) -> float:
    """How often the sandbox fires schedule rules (``SHIFTSMS_SCHEDULE_SECONDS``, > 0)."""
    raw = (os.environ if env is None else env).get("SHIFTSMS_SCHEDULE_SECONDS", "")
    try:
        value = float(raw) if raw.strip() else SANDBOX_SCHEDULE_SECONDS
    except ValueError:
        value = SANDBOX_SCHEDULE_SECONDS
    return value if value > 0 else SANDBOX_SCHEDULE_SECONDS


def rate_seconds(expression: str) -> int | None:
    """The period of a ``rate(...)`` expression in seconds (None for ``cron(...)``)."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    unit = match.group(2).rstrip("s")
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]


@dataclass(frozen=True)
class ScheduleRule:
    """One schedule rule of the stack and the function it targets."""

    logical_id: str
    expression: str
    function_logical_id: str


def schedule_rules(template: dict[str, Any]) -> list[ScheduleRule]:
    """The enabled schedule rules of ``template`` whose targets are functions of it."""
    resources = template.get("Resources") or {}
    found: list[ScheduleRule] = []
    for logical, resource in resources.items():
        if resource.get("Type") != "AWS::Events::Rule":
            continue
        props = resource.get("Properties") or {}
        expression = props.get("ScheduleExpression")
        if not isinstance(expression, str) or props.get("State", "ENABLED") != "ENABLED":
            continue
        for target in props.get("Targets") or []:
            function = _ref(target.get("Arn"))
            if (resources.get(function) or {}).get("Type") == "AWS::Lambda::Function":
                found.append(ScheduleRule(logical, expression, function))
    return found


class SchedulePoller(Poller):
    """Fires one schedule rule at its function every ``every`` seconds."""

    def __init__(
        self,
        runner: Invoker,
        *,
        rule_arn: str,
        region: str,
        every: float,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"schedule-{runner.name}", stop)
        self.runner = runner
        self.rule_arn = rule_arn
        self.region = region
        self.every = every
        self.max_idle_wait = min(0.5, every / 4)
        self.next_at = time.monotonic() + every

    def event(self, at: datetime) -> dict[str, Any]:
        """The scheduled event for a firing at ``at``."""
        return lambda_events.scheduled_event(
            event_id=str(uuid.uuid4()),
            time=at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            rule_arn=self.rule_arn,
            account=self.rule_arn.split(":")[4],
            region=self.region,
        )

    def poll(self) -> bool:
        """Fire once the period has passed; a failed run waits for the next firing."""
        if time.monotonic() < self.next_at:
            return False
        self.next_at = time.monotonic() + self.every
        outcome = self.runner.invoke(self.event(datetime.now(UTC)))
        if not outcome.ok:
            log.warning("%s: scheduled run failed: %s", self.runner.name, outcome.error)
        return False
