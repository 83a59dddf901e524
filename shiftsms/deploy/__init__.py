"""Deploy code: the Lambda bundle, change sets, stack events; no terminal output (the CLI renders).

Public API (``shiftsms deploy`` and the local sandbox both call it)::

    from shiftsms.deploy import Deployer, DeployOptions

    result = Deployer(session, on_event=print, confirm=lambda change_set: True).deploy(
        DeployOptions(origination_number="+447700900000", approved_numbers=["+447700900123"])
    )
"""

from shiftsms.deploy.bundle import Bundle, build_bundle
from shiftsms.deploy.deployer import (
    BundleReady,
    ChangeSetReady,
    ConnectOptions,
    Deployer,
    DeployEvent,
    DeployOptions,
    DeployResult,
    DestroyResult,
    Progress,
    StackStatus,
    configure_two_way,
    parse_numbers,
    seed_allow_list,
)
from shiftsms.deploy.stack import Change, ChangeSet, StackEvent
from shiftsms.errors import (
    BucketNotOurs,
    BundleError,
    DeployAborted,
    DeployError,
    Failure,
    StackBusy,
    StackFailed,
)

__all__ = [
    "BucketNotOurs",
    "Bundle",
    "BundleError",
    "BundleReady",
    "Change",
    "ChangeSet",
    "ChangeSetReady",
    "ConnectOptions",
    "DeployAborted",
    "DeployError",
    "DeployEvent",
    "DeployOptions",
    "DeployResult",
    "Deployer",
    "DestroyResult",
    "Failure",
    "Progress",
    "StackBusy",
    "StackEvent",
    "StackFailed",
    "StackStatus",
    "build_bundle",
    "configure_two_way",
    "parse_numbers",
    "seed_allow_list",
]
