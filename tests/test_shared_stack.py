"""The stack that tests share: each test gets every table empty and every queue purged."""

from __future__ import annotations

import boto3
import pytest

from shiftsms.local.protect import REGISTRY
from tests.conftest import REGION, Deployed, shared_stack
from tests.sms_voice import InProcessSmsVoice

TABLES = (
    "ShiftsTableName",
    "StaffTableName",
    "StateTableName",
    "CampaignsTableName",
    "AuditTableName",
)
KEYS = {
    "ShiftsTableName": "shift_id",
    "StaffTableName": "phone",
    "StateTableName": "id",
    "CampaignsTableName": "campaign_id",
    "AuditTableName": "subject",
}
# The sort key of a table that has one.
SORT_KEYS = {"AuditTableName": {"at_event": {"S": "same-time"}}}


def queue_urls() -> list[str]:
    return list(boto3.client("sqs", region_name=REGION).list_queues().get("QueueUrls", []))


def messages(url: str) -> int:
    attrs = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


# Two runs of one test write the same keys: whichever runs second finds nothing of the first.
@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_empty_tables_and_queues(deployed: Deployed, run: int) -> None:
    names = [deployed.outputs[t] for t in TABLES]
    all_tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert sorted(all_tables) == sorted(names)
    urls = queue_urls()
    # the send, reply and delivery-event queues, their DLQs, and the failure queues of the
    # inbound function and of the three stream consumers (campaign fan-out, shift keys, audit)
    assert len(urls) == 10
    for output in TABLES:
        table = deployed.outputs[output]
        assert deployed.dynamodb.scan(TableName=table)["Items"] == [], output
        # Fails if the other run's item is still there.
        deployed.dynamodb.put_item(
            TableName=table,
            Item={
                KEYS[output]: {"S": "same-key"},
                **SORT_KEYS.get(output, {}),
                "run": {"N": str(run)},
            },
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": KEYS[output]},
        )
    sqs = boto3.client("sqs", region_name=REGION)
    for url in urls:
        assert messages(url) == 0, url
        sqs.send_message(QueueUrl=url, MessageBody=f"run {run}")
        in_flight = sqs.send_message(QueueUrl=url, MessageBody=f"run {run}, received")
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert in_flight["MessageId"] in {m["MessageId"] for m in received}


# Protect rules live outside moto (the stand-in's registry): a change must not outlive its test.
@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_the_protect_rules_the_stack_was_deployed_with(
    deployed: Deployed, sms_voice: InProcessSmsVoice, run: int
) -> None:
    protect_id = deployed.outputs["ProtectConfigurationId"]
    item = REGISTRY.find(protect_id)
    assert item is not None
    assert [item.status("SMS", c) for c in ("GB", "FR")] == ["ALLOW", "ALLOW"]  # as new
    sms = sms_voice.attach(boto3.client("pinpoint-sms-voice-v2", region_name=REGION))
    sms.update_protect_configuration_country_rule_set(
        ProtectConfigurationId=protect_id,
        NumberCapability="SMS",
        CountryRuleSetUpdates={"FR": {"ProtectStatus": "BLOCK"}},
    )
    assert item.status("SMS", "FR") == "BLOCK"


def test_the_stack_is_deployed_again_when_something_else_changed_the_account() -> None:
    with shared_stack():
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="stray",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    with shared_stack() as second:
        tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
        assert "stray" not in tables
        assert len(tables) == 5
    assert second.name == "shiftsms"
    with shared_stack({"DefaultPhoneRegion": "US"}) as other:
        assert other.parameters["DefaultPhoneRegion"] == "US"
    with shared_stack() as third:
        assert third.parameters["DefaultPhoneRegion"] == "GB"
