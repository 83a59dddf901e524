"""``shiftsms status`` shows every queue's depth, and names a dead-letter queue holding messages.

The queues are found from the stack's outputs only (the template is deployed into moto).
"""

from __future__ import annotations

import json

import boto3

from tests.clitools import invoke, table_rows
from tests.conftest import REGION, Deployed


def test_status_shows_every_queue_and_a_dead_letter_queue_holding_a_message(
    deployed: Deployed,
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    out = deployed.outputs
    sqs.send_message(QueueUrl=out["SendDlqUrl"], MessageBody='{"campaign_id": "C1"}')
    sqs.send_message(QueueUrl=out["SendQueueUrl"], MessageBody='{"campaign_id": "C2"}')
    sqs.send_message(QueueUrl=out["SendQueueUrl"], MessageBody='{"campaign_id": "C3"}')
    received = sqs.receive_message(QueueUrl=out["SendQueueUrl"], MaxNumberOfMessages=1)
    assert len(received["Messages"]) == 1  # one in flight, one still visible

    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["queues"] == [
        {
            "name": "DeliveryQueue",
            "url": out["DeliveryQueueUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": False,
        },
        {
            "name": "ReplyQueue",
            "url": out["ReplyQueueUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": False,
        },
        {
            "name": "SendQueue",
            "url": out["SendQueueUrl"],
            "visible": 1,
            "in_flight": 1,
            "dead_letter": False,
        },
        {
            "name": "AuditStreamDlq",
            "url": out["AuditStreamDlqUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": True,
        },
        {
            "name": "CampaignStreamDlq",
            "url": out["CampaignStreamDlqUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": True,
        },
        {
            "name": "DeliveryDlq",
            "url": out["DeliveryDlqUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": True,
        },
        {
            "name": "InboundDlq",
            "url": out["InboundDlqUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": True,
        },
        {
            "name": "ReplyDlq",
            "url": out["ReplyDlqUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": True,
        },
        {
            "name": "SendDlq",
            "url": out["SendDlqUrl"],
            "visible": 1,
            "in_flight": 0,
            "dead_letter": True,
        },
        {
            "name": "ShiftKeyStreamDlq",
            "url": out["ShiftKeyStreamDlqUrl"],
            "visible": 0,
            "in_flight": 0,
            "dead_letter": True,
        },
    ]
    warning = (
        f"Warning: dead-letter queue SendDlq holds 1 message that failed every retry: "
        f"{out['SendDlqUrl']}\n"
    )
    assert result.stderr == warning

    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert human.stderr == warning
    rows = table_rows(human.stdout)
    start = rows.index(["Queue", "Kind", "Messages", "In flight"])
    assert rows[start : start + 11] == [
        ["Queue", "Kind", "Messages", "In flight"],
        ["DeliveryQueue", "work", "0", "0"],
        ["ReplyQueue", "work", "0", "0"],
        ["SendQueue", "work", "1", "1"],
        ["AuditStreamDlq", "dead-letter", "0", "0"],
        ["CampaignStreamDlq", "dead-letter", "0", "0"],
        ["DeliveryDlq", "dead-letter", "0", "0"],
        ["InboundDlq", "dead-letter", "0", "0"],
        ["ReplyDlq", "dead-letter", "0", "0"],
        ["SendDlq", "dead-letter", "1", "0"],
        ["ShiftKeyStreamDlq", "dead-letter", "0", "0"],
    ]


def test_status_says_when_sqs_will_not_give_a_depth(deployed: Deployed) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.delete_queue(QueueUrl=deployed.outputs["CampaignStreamDlqUrl"])
    result = invoke("status")
    assert result.exit_code == 0, result.output
    rows = {row[0]: row for row in table_rows(result.stdout)}
    assert rows["CampaignStreamDlq"] == [
        "CampaignStreamDlq",
        "dead-letter",
        "unknown (AWS.SimpleQueueService.NonExistentQueue)",
        "unknown (AWS.SimpleQueueService.NonExistentQueue)",
    ]
    assert rows["SendDlq"] == ["SendDlq", "dead-letter", "0", "0"]
