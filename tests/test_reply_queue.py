"""The reply queue and its DLQ in the template: encrypted, outputs, least privilege.

How replies behave when they cannot go at once (queued durably, sent once from the reply
queue, or dead-lettered and shown by ``shiftsms status``): ``tests/test_fault_injection.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.decode import decode

TEMPLATE = Path(__file__).resolve().parents[1] / "cloudformation" / "template.yaml"


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
