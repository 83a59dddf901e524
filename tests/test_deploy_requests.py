"""Deploy requests moto cannot serve or cannot fail: pinned with botocore Stubber."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shiftsms.deploy import deployer as deployer_module
from shiftsms.deploy.deployer import Deployer, DeployOptions, configure_two_way
from shiftsms.deploy.stack import Failure, StackBusy, StackFailed, StackOps
from tests.clitools import invoke
from tests.conftest import REGION

TOPIC = f"arn:aws:sns:{REGION}:123456789012:shiftsms-InboundTopic-ABC"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/shiftsms/1"
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def test_configure_number_turns_on_two_way_with_the_topic_and_no_role() -> None:
    sms = client("pinpoint-sms-voice-v2")
    with Stubber(sms) as stub:
        stub.add_response(
            "update_phone_number",
            {"PhoneNumberId": "phone-123", "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC},
            {"PhoneNumberId": "phone-123", "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC},
        )
        assert configure_two_way(sms, "phone-123", TOPIC) == "phone-123"
        stub.assert_no_pending_responses()


def _number(number_id: str, number: str) -> dict[str, Any]:
    """A DescribePhoneNumbers entry, complete as the API model requires."""
    return {
        "PhoneNumberArn": f"arn:aws:sms-voice:{REGION}:123456789012:phone-number/{number_id}",
        "PhoneNumberId": number_id,
        "PhoneNumber": number,
        "Status": "ACTIVE",
        "IsoCountryCode": "GB",
        "MessageType": "TRANSACTIONAL",
        "NumberCapabilities": ["SMS"],
        "NumberType": "LONG_CODE",
        "MonthlyLeasingPrice": "1.00",
        "TwoWayEnabled": False,
        "SelfManagedOptOutsEnabled": False,
        "OptOutListName": "Default",
        "DeletionProtectionEnabled": False,
        "CreatedTimestamp": T0,
    }


def test_configure_number_finds_the_id_of_an_e164_number() -> None:
    sms = client("pinpoint-sms-voice-v2")
    with Stubber(sms) as stub:
        stub.add_response(
            "describe_phone_numbers",
            {
                "PhoneNumbers": [
                    _number("phone-other", "+447700900999"),
                    _number("phone-ours", "+447700900000"),
                ]
            },
            {},
        )
        stub.add_response(
            "update_phone_number",
            {"PhoneNumberId": "phone-ours"},
            {"PhoneNumberId": "phone-ours", "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC},
        )
        assert configure_two_way(sms, "+447700900000", TOPIC) == "phone-ours"
        stub.assert_no_pending_responses()


def test_configure_number_updates_a_pool() -> None:
    sms = client("pinpoint-sms-voice-v2")
    with Stubber(sms) as stub:
        stub.add_response(
            "update_pool",
            {"PoolId": "pool-9"},
            {"PoolId": "pool-9", "TwoWayEnabled": True, "TwoWayChannelArn": TOPIC},
        )
        assert configure_two_way(sms, "pool-9", TOPIC) == "pool-9"
        stub.assert_no_pending_responses()


def test_configure_number_refuses_a_sender_id_and_an_unknown_number() -> None:
    sms = client("pinpoint-sms-voice-v2")
    with pytest.raises(deployer_module.DeployError, match="sender id cannot receive"):
        configure_two_way(sms, "SHIFTS", TOPIC)
    with Stubber(sms) as stub:
        stub.add_response("describe_phone_numbers", {"PhoneNumbers": []}, {})
        with pytest.raises(deployer_module.DeployError, match="not an End User Messaging"):
            configure_two_way(sms, "+447700900000", TOPIC)


def _stack(status: str) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": "shiftsms",
                "StackId": STACK_ID,
                "StackStatus": status,
                "CreationTime": T0,
            }
        ]
    }


def _event(n: int, logical_id: str, rtype: str, status: str, reason: str = "") -> dict[str, Any]:
    event = {
        "StackId": STACK_ID,
        "EventId": f"e{n}",
        "StackName": "shiftsms",
        "LogicalResourceId": logical_id,
        "ResourceType": rtype,
        "ResourceStatus": status,
        "Timestamp": T0 + timedelta(seconds=n),
    }
    if reason:
        event["ResourceStatusReason"] = reason
    return event


def test_a_failed_update_names_the_resource_and_aws_reason() -> None:
    cf = client("cloudformation")
    ops = StackOps(cf, poll_seconds=0, sleep=lambda _: None)
    seen: list[str] = []
    with Stubber(cf) as stub:
        stub.add_response(
            "describe_stacks", _stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": "shiftsms"}
        )
        stub.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    _event(4, "shiftsms", "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"),
                    _event(
                        3,
                        "SenderFunction",
                        "AWS::Lambda::Function",
                        "UPDATE_FAILED",
                        "Resource update cancelled",
                    ),
                    _event(
                        2,
                        "InboundFunction",
                        "AWS::Lambda::Function",
                        "UPDATE_FAILED",
                        "Runtime python3.13 is not supported in this region",
                    ),
                    _event(1, "shiftsms", "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS"),
                ]
            },
            {"StackName": "shiftsms"},
        )
        with pytest.raises(StackFailed) as failed:
            ops.wait("shiftsms", T0, lambda e: seen.append(f"{e.logical_id} {e.status}"))
    assert str(failed.value) == (
        "stack shiftsms ended in UPDATE_ROLLBACK_COMPLETE: InboundFunction "
        "(AWS::Lambda::Function) UPDATE_FAILED: Runtime python3.13 is not supported in this region"
    )
    assert [f.logical_id for f in failed.value.failures] == ["InboundFunction", "SenderFunction"]
    assert seen[0] == "shiftsms UPDATE_IN_PROGRESS"  # oldest first
    assert len(seen) == 4


def test_a_stack_left_by_a_failed_create_is_refused_with_the_way_out() -> None:
    cf = client("cloudformation")
    deployer = Deployer(clients=lambda service: cf if service == "cloudformation" else None)
    with Stubber(cf) as stub:
        stub.add_response("describe_stacks", _stack("ROLLBACK_COMPLETE"), {"StackName": "shiftsms"})
        with pytest.raises(StackBusy, match=r"ROLLBACK_COMPLETE .* run `shiftsms destroy`"):
            deployer.deploy(DeployOptions(origination_number="+447700900000"))


def test_a_busy_stack_is_refused() -> None:
    cf = client("cloudformation")
    deployer = Deployer(clients=lambda service: cf if service == "cloudformation" else None)
    with Stubber(cf) as stub:
        stub.add_response(
            "describe_stacks", _stack("UPDATE_IN_PROGRESS"), {"StackName": "shiftsms"}
        )
        with pytest.raises(StackBusy, match="busy"):
            deployer.deploy(DeployOptions())


def test_the_cli_prints_every_failure_and_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    failures = [
        Failure(
            "InboundFunction",
            "AWS::Lambda::Function",
            "CREATE_FAILED",
            "Access denied for kms:CreateGrant",
        ),
        Failure(
            "SenderFunction",
            "AWS::Lambda::Function",
            "CREATE_FAILED",
            "Resource creation cancelled",
        ),
    ]

    def fail(self: Deployer, options: DeployOptions) -> None:
        raise StackFailed("shiftsms", "ROLLBACK_COMPLETE", failures)

    monkeypatch.setattr(Deployer, "deploy", fail)
    result = invoke("deploy", "--origination-number", "+447700900000", "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: stack shiftsms ended in ROLLBACK_COMPLETE: InboundFunction "
        "(AWS::Lambda::Function) CREATE_FAILED: Access denied for kms:CreateGrant",
        "  InboundFunction (AWS::Lambda::Function) CREATE_FAILED: Access denied for "
        "kms:CreateGrant",
        "  SenderFunction (AWS::Lambda::Function) CREATE_FAILED: Resource creation cancelled",
    ]


def test_access_denied_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    cf = client("cloudformation")
    stub = Stubber(cf)
    stub.add_client_error(
        "describe_stacks", "AccessDenied", "User is not authorized to perform DescribeStacks"
    )
    stub.activate()
    monkeypatch.setattr(deployer_module, "make_client", lambda service, session=None: cf)
    result = invoke("status")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: access denied: your AWS identity may not call")
    assert "Traceback" not in result.output


def test_a_template_cloudformation_rejects_is_named_as_such() -> None:
    cf = client("cloudformation")
    deployer = Deployer(clients=lambda service: cf)
    with Stubber(cf) as stub:
        stub.add_client_error(
            "get_template_summary",
            "ValidationError",
            "Template format error: YAML not well-formed. (line 3, column 11)",
        )
        with pytest.raises(
            deployer_module.DeployError,
            match=r"^CloudFormation rejected the template: Template format error: YAML",
        ):
            deployer._parameters("shiftsms", "CREATE", {"TemplateBody": "x"}, {})
