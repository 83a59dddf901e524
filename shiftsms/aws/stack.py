"""Find the deployed resources from the CloudFormation stack's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shiftsms.errors import NotConfigured, StackNotFound
from shiftsms.settings import StackSettings

__all__ = ["DEFAULT_STACK", "StackInfo", "StackNotFound", "describe", "is_stack_missing"]

DEFAULT_STACK = "shiftsms"


def is_stack_missing(exc: ClientError) -> bool:
    """True if DescribeStacks failed because the named stack does not exist.

    CloudFormation answers a missing stack with ``ValidationError`` (HTTP 400), its one error
    code for a stack name it cannot use; the message text is never read.
    """
    return str(exc.response.get("Error", {}).get("Code", "")) == "ValidationError"


@dataclass(frozen=True)
class StackInfo:
    """A stack's name, status, outputs and parameters."""

    name: str
    status: str
    outputs: dict[str, str]
    parameters: dict[str, str]

    def output(self, key: str) -> str:
        """One output; NotConfigured (a clear message) if the stack lacks it."""
        value = self.outputs.get(key, "")
        if not value:
            raise NotConfigured(
                f"stack {self.name!r} has no output {key}: is it a shiftsms stack, "
                "fully deployed? Deploy it again"
            )
        return value

    def settings(self) -> StackSettings:
        """Settings for services run from the CLI against this stack."""
        out = self.outputs
        return StackSettings(
            shifts_table=out.get("ShiftsTableName", ""),
            staff_table=out.get("StaffTableName", ""),
            campaigns_table=out.get("CampaignsTableName", ""),
            state_table=out.get("StateTableName", ""),
            origination_identity=out.get("OriginationIdentity", ""),
            send_queue_url=out.get("SendQueueUrl", ""),
            send_dlq_url=out.get("SendDlqUrl", ""),
            default_region=out.get("DefaultPhoneRegion", "GB") or "GB",
            time_zone=out.get("TimeZone", "") or "Europe/London",
        )


def describe(cloudformation: Any, name: str) -> StackInfo:
    """Read ``name``'s status, outputs and parameters; raise StackNotFound if absent."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if is_stack_missing(exc):
            raise StackNotFound(f"stack {name!r} not found") from exc
        raise
    stack = stacks[0]
    return StackInfo(
        name=stack["StackName"],
        status=stack["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters={
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])
        },
    )
