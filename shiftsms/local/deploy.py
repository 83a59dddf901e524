"""How the sandbox deploys: the real ``shiftsms deploy`` code, pointed at the emulator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shiftsms.deploy.deployer import ConnectOptions, Deployer, DeployOptions, DeployResult
from shiftsms.local.aws import client

# Connect ids for the sandbox (its Connect accepts any instance, flow and queue).
SANDBOX_CONNECT = ConnectOptions(
    instance_id="11111111-2222-3333-4444-555555555555",
    contact_flow_id="sandbox-callback-flow",
    queue_id="sandbox-callback-queue",
    source_number="+447700900999",
)


def deploy(
    endpoint: str,
    region: str,
    stack_name: str,
    origination: str,
    *,
    parameters: Mapping[str, str] | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> DeployResult:
    """Deploy the real template and bundle, with Connect on and two-way SMS configured."""
    deployer = Deployer(
        clients=lambda service: client(service, endpoint, region),
        poll_seconds=0.2,
        on_event=on_event or (lambda _event: None),
    )
    return deployer.deploy(
        DeployOptions(
            stack_name=stack_name,
            origination_number=origination,
            connect=SANDBOX_CONNECT,
            parameters=dict(parameters or {}),
            configure_number=True,
        )
    )
