"""Replies that cannot go at once: queued durably, sent once from the reply queue, or dead-lettered.

The real template in moto, the real inbound and sender handlers, End User Messaging faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode
from moto import mock_aws

from shiftsms.aws.send_queue import SqsDeadLetters
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.models import StaffMember
from shiftsms.handlers.inbound import InboundApp
from shiftsms.settings import InboundSettings
from tests.campaign_support import disable_emulated_mappings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms
from tests.reply_support import send_queued_replies

ANA = "+447700900123"
BOOKED = "Booked: XYZ123. Thank you!"
TEMPLATE = Path(__file__).resolve().parents[1] / "cloudformation" / "template.yaml"


@pytest.fixture
def outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        info = deploy_template(parameters={"SendRatePerSecond": "1000"})
        disable_emulated_mappings(info)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        StaffTable(dynamodb, info.outputs["StaffTableName"]).put(StaffMember(ANA, "Ana"))
        dynamodb.put_item(
            TableName=info.outputs["ShiftsTableName"],
            Item={"shift_id": {"S": "XYZ123"}, "shift_status": {"S": "available"}},
        )
        yield info.outputs


def inbound(outputs: dict[str, str], sms: Any) -> InboundApp:
    env = function_environment(outputs["InboundFunctionName"])
    return InboundApp(InboundSettings.from_env(env), sms=sms)


def message(body: str, message_id: str) -> dict[str, str]:
    return {
        "originationNumber": ANA,
        "destinationNumber": ORIGINATION,
        "messageBody": body,
        "inboundMessageId": message_id,
    }


def lambda_tries(app: InboundApp, event: dict[str, Any]) -> None:
    """An asynchronous invocation and Lambda's two retries, as far as each gets."""
    for _ in range(3):
        try:
            app.handle(event, None)
            return
        except Exception:
            continue


def shift(outputs: dict[str, str]) -> dict[str, Any]:
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=outputs["ShiftsTableName"], Key={"shift_id": {"S": "XYZ123"}}
    )["Item"]
    return {k: next(iter(v.values())) for k, v in item.items()}


def test_a_reply_throttled_on_every_try_is_sent_from_the_reply_queue(
    outputs: dict[str, str],
) -> None:
    sms = RecordingSms(throttle_next=3)  # every one of Lambda's tries
    app = inbound(outputs, sms)
    lambda_tries(app, sns_event(message("XYZ123", "m-1")))
    assert shift(outputs)["employee"] == ANA
    assert sms.to(ANA) == []
    assert send_queued_replies(outputs, sms) == 0  # still throttled: tried again later
    assert send_queued_replies(outputs, sms) == 0
    assert send_queued_replies(outputs, sms) == 1
    assert sms.to(ANA) == [BOOKED]
    # A repeated inbound event and a repeated queue delivery send nothing more.
    app.handle(sns_event(message("XYZ123", "m-1")), None)
    assert send_queued_replies(outputs, sms) == 0
    assert sms.to(ANA) == [BOOKED]
    assert shift(outputs)["employee"] == ANA


def test_a_reply_is_queued_once_however_often_its_message_is_retried(
    outputs: dict[str, str],
) -> None:
    sms = RecordingSms(throttle_next=1)
    app = inbound(outputs, sms)
    event = sns_event(message("XYZ123", "m-2"))
    app.handle(event, None)
    # Lambda retries the event although the first try finished (a lost acknowledgement):
    # the idempotency record is gone, the reply marker is not.
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=outputs["StateTableName"],
        Key={"id": {"S": next(iter(_idempotency_keys(outputs)))}},
    )
    app.handle(event, None)
    assert send_queued_replies(outputs, sms) == 1
    assert sms.to(ANA) == [BOOKED]


def _idempotency_keys(outputs: dict[str, str]) -> list[str]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=outputs["StateTableName"])[
        "Items"
    ]
    keys = [i["id"]["S"] for i in items if not i["id"]["S"].startswith(("reply#", "send-rate"))]
    assert len(keys) == 1, keys
    return keys


def test_a_reply_that_fails_on_every_try_lands_in_the_reply_dlq(outputs: dict[str, str]) -> None:
    sms = RecordingSms(throttle_next=100)
    lambda_tries(inbound(outputs, sms), sns_event(message("XYZ123", "m-3")))
    sqs = boto3.client("sqs", region_name=REGION)
    dead = SqsDeadLetters(sqs, outputs["ReplyDlqUrl"])
    for _ in range(6):  # the queue's maxReceiveCount
        assert send_queued_replies(outputs, sms) == 0
    assert dead.depth() == 0
    assert send_queued_replies(outputs, sms) == 0  # the 7th receive moves it on
    assert dead.depth() == 1
    assert sms.to(ANA) == []
    assert shift(outputs)["employee"] == ANA  # the booking stands


def _statements(tpl: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = tpl["Resources"][role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"] if "Action" in s]


def _granted(tpl: dict[str, Any], role: str, resource: str) -> set[str]:
    """Actions ``role`` is given on the queue resource ``resource``."""
    found: set[str] = set()
    for st in _statements(tpl, role):
        res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if {"Fn::GetAtt": [resource, "Arn"]} in res:
            acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            found |= set(acts)
    return found


def test_the_reply_queues_are_encrypted_outputs_with_least_privilege() -> None:
    tpl, problems = decode(str(TEMPLATE))
    assert not problems and isinstance(tpl, dict)
    res = tpl["Resources"]
    for name in ("ReplyQueue", "ReplyDLQ"):
        assert res[name]["Properties"]["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}
    assert res["ReplyQueue"]["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ReplyDLQ", "Arn"]},
        "maxReceiveCount": 6,
    }
    assert tpl["Outputs"]["ReplyQueueUrl"]["Value"] == {"Ref": "ReplyQueue"}
    assert tpl["Outputs"]["ReplyDlqUrl"]["Value"] == {"Ref": "ReplyDLQ"}
    mapping = res["ReplyQueueMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "SenderFunction"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ReplyQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert _granted(tpl, "InboundFunctionRole", "ReplyQueue") == {"sqs:SendMessage"}
    assert _granted(tpl, "SenderFunctionRole", "ReplyQueue") == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }
    assert _granted(tpl, "CampaignFunctionRole", "ReplyQueue") == set()
    for role in ("InboundFunctionRole", "SenderFunctionRole", "CampaignFunctionRole"):
        assert _granted(tpl, role, "ReplyDLQ") == set()
