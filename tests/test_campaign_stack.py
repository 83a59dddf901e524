"""The campaign resources as deployed (moto): mappings, queues, timeouts, environment."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from shiftsms.aws.send_markers import CLAIM_LEASE_SECONDS
from shiftsms.settings import FanOutSettings, SenderSettings
from tests.campaign_support import CampaignStack, campaign_stack
from tests.conftest import REGION


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack({"SendRatePerSecond": "3", "SenderConcurrency": "4"}) as deployed:
        yield deployed


def mappings(stack: CampaignStack) -> dict[str, dict[str, object]]:
    lam = boto3.client("lambda", region_name=REGION)
    by_function = {}
    for esm in lam.list_event_source_mappings()["EventSourceMappings"]:
        name = str(esm["FunctionArn"]).rsplit(":", 1)[1]
        by_function[name] = esm
    return by_function


def test_stream_mapping_takes_inserts_with_partial_failures(stack: CampaignStack) -> None:
    esm = mappings(stack)[stack.outputs["CampaignFunctionName"]]
    assert esm["EventSourceArn"] == stack.stream_arn()
    assert esm["StartingPosition"] == "LATEST"
    assert esm["BatchSize"] == 10
    assert esm["FilterCriteria"] == {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["BisectBatchOnFunctionError"] is True
    assert esm["MaximumRetryAttempts"] == 5
    (dlq,) = [u for u in stack.sqs.list_queues()["QueueUrls"] if "CampaignStreamDLQ" in u]
    dlq_arn = stack.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])
    assert esm["DestinationConfig"] == {
        "OnFailure": {"Destination": dlq_arn["Attributes"]["QueueArn"]}
    }


def test_queue_mapping_reports_failures_and_caps_concurrency(stack: CampaignStack) -> None:
    lam = boto3.client("lambda", region_name=REGION)
    (esm,) = (
        e
        for e in lam.list_event_source_mappings()["EventSourceMappings"]
        if e["EventSourceArn"] == stack.queue_arn()
    )
    assert str(esm["FunctionArn"]).endswith(":" + stack.outputs["SenderFunctionName"])
    assert esm["BatchSize"] == 10
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["ScalingConfig"] == {"MaximumConcurrency": 4}


def test_send_queue_outlives_the_sender_and_redrives(stack: CampaignStack) -> None:
    attrs = stack.sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    lam = boto3.client("lambda", region_name=REGION)
    sender = lam.get_function_configuration(FunctionName=stack.outputs["SenderFunctionName"])
    assert int(attrs["VisibilityTimeout"]) >= 6 * sender["Timeout"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 8
    assert redrive["deadLetterTargetArn"].rsplit(":", 1)[1] == stack.dlq_url().rsplit("/", 1)[1]
    assert stack.outputs["SendDlqUrl"] == stack.dlq_url()
    # A claim outlives any live invocation, and is stale when a dead one's job comes back.
    assert sender["Timeout"] < CLAIM_LEASE_SECONDS < int(attrs["VisibilityTimeout"])
    assert sender["Handler"] == "lambdas.sender.handler"
    campaign = lam.get_function_configuration(FunctionName=stack.outputs["CampaignFunctionName"])
    assert campaign["Handler"] == "lambdas.campaign.handler"


def test_functions_get_the_settings_they_need(stack: CampaignStack) -> None:
    campaign = FanOutSettings.from_env(stack.campaign_env)
    assert campaign.campaigns_table == stack.outputs["CampaignsTableName"]
    assert campaign.staff_table == stack.outputs["StaffTableName"]
    assert campaign.send_queue_url == stack.queue_url
    assert campaign.message_ttl_seconds == 14400
    sender = SenderSettings.from_env(stack.sender_env)
    assert sender.send_rate_per_second == 3.0
    assert sender.state_table == stack.outputs["StateTableName"]
    assert sender.campaigns_table == stack.outputs["CampaignsTableName"]
    assert sender.origination_identity == "+447700900000"
