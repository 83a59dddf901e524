"""The stack's alarms and dashboard as AWS stores them, and ``shiftsms status`` showing alarms.

moto's CloudFormation skips ``AWS::CloudWatch::Alarm``, so the alarms are put with moto's
CloudWatch API under the names the template gives them; the dashboard moto does create.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cfnlint.decode import decode
from moto import mock_aws

from shiftsms.aws.alarms import alarms_in_alarm
from shiftsms.aws.stack import StackInfo
from shiftsms.core.metrics import (
    BOOKED,
    NAMESPACE,
    OFFERED,
    SEGMENTS,
    TEXTS_DELIVERED,
    TEXTS_FAILED,
    TEXTS_SENT,
)
from shiftsms.deploy import deployer
from tests.clitools import invoke
from tests.conftest import REGION, TEMPLATE, deploy_template

REASON = (
    "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (01/12/26 21:00:00)] was greater "
    "than the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
)


def template_alarm_names(stack: str) -> list[str]:
    """The names the template gives its alarms, in a stack called ``stack``."""
    tpl, problems = decode(str(TEMPLATE))
    assert not problems
    assert isinstance(tpl, dict)
    return sorted(
        r["Properties"]["AlarmName"]["Fn::Sub"].replace("${AWS::StackName}", stack)
        for r in tpl["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    )


def put_alarm(cloudwatch: Any, name: str, state: str = "OK", reason: str = "fine") -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


@pytest.fixture
def stack() -> Iterator[tuple[StackInfo, Any]]:
    with mock_aws():
        info = deploy_template()
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for name in template_alarm_names(info.name):
            put_alarm(cloudwatch, name)
        yield info, cloudwatch


def test_status_shows_each_alarm_of_the_stack_in_alarm(stack: tuple[StackInfo, Any]) -> None:
    _, cloudwatch = stack
    put_alarm(cloudwatch, "shiftsms/send-dlq-not-empty", "ALARM", REASON)
    put_alarm(cloudwatch, "shiftsms/sender-function-errors", "ALARM", "1 error")
    # Another stack's alarm, whose stack name starts with this one's, is not this stack's.
    put_alarm(cloudwatch, "shiftsms-dev/sender-function-errors", "ALARM", "not ours")

    as_json = invoke("status", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["alarms"] == [
        {"name": "shiftsms/send-dlq-not-empty", "state": "ALARM", "reason": REASON},
        {"name": "shiftsms/sender-function-errors", "state": "ALARM", "reason": "1 error"},
    ]
    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert human.stderr.splitlines() == [
        f"Alarm: shiftsms/send-dlq-not-empty: {REASON}",
        "Alarm: shiftsms/sender-function-errors: 1 error",
    ]
    assert "Alarms: 2 in ALARM" in human.stdout.splitlines()


def test_status_with_every_alarm_ok_warns_of_nothing(stack: tuple[StackInfo, Any]) -> None:
    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert human.stderr == ""
    assert "Alarms: none in ALARM" in human.stdout.splitlines()
    assert json.loads(invoke("status", "--json").stdout)["alarms"] == []


def test_alarms_are_read_by_the_stacks_prefix_in_alarm_state() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    page = {
        "MetricAlarms": [
            {"AlarmName": "shiftsms/send-dlq-not-empty", "StateValue": "ALARM", "StateReason": "r"}
        ],
        "CompositeAlarms": [],
    }
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "describe_alarms",
            page,
            {
                "AlarmNamePrefix": "shiftsms/",
                "StateValue": "ALARM",
                "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
            },
        )
        alarms = alarms_in_alarm(cloudwatch, "shiftsms")
        stub.assert_no_pending_responses()
    assert [a.as_dict() for a in alarms or []] == [
        {"name": "shiftsms/send-dlq-not-empty", "state": "ALARM", "reason": "r"}
    ]


def test_a_caller_who_may_not_read_alarms_gets_the_rest_of_the_status(
    stack: tuple[StackInfo, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(cloudwatch: Any, name: str) -> None:
        with Stubber(cloudwatch) as stub:
            stub.add_client_error("describe_alarms", "AccessDenied", "not allowed", 403)
            return alarms_in_alarm(cloudwatch, name)

    monkeypatch.setattr(deployer, "alarms_in_alarm", denied)
    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert human.stderr == (
        "Warning: alarms unknown: not allowed to read CloudWatch alarms "
        "(cloudwatch:DescribeAlarms)\n"
    )
    assert "Allow list: 0" in human.stdout.splitlines()
    assert json.loads(invoke("status", "--json").stdout)["alarms"] is None


def test_dashboard_shows_every_metric_every_functions_errors_and_every_queues_depth(
    stack: tuple[StackInfo, Any],
) -> None:
    info, cloudwatch = stack
    dashboard = cloudwatch.get_dashboard(DashboardName=info.outputs["DashboardName"])
    assert dashboard["DashboardName"] == "shiftsms"
    widgets = {
        w["properties"]["title"]: w for w in json.loads(dashboard["DashboardBody"])["widgets"]
    }
    metric_rows = {
        title: [tuple(m[:4]) for m in w["properties"]["metrics"]] for title, w in widgets.items()
    }
    resources = boto3.client("cloudformation", region_name=REGION).list_stack_resources(
        StackName=info.name
    )["StackResourceSummaries"]
    sqs = boto3.client("sqs", region_name=REGION)
    queues = sorted(
        sqs.get_queue_attributes(QueueUrl=r["PhysicalResourceId"], AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"].rsplit(":", 1)[1]
        for r in resources
        if r["ResourceType"] == "AWS::SQS::Queue"
    )
    functions = sorted(
        r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::Function"
    )
    assert len(queues) == len([r for r in resources if r["ResourceType"] == "AWS::SQS::Queue"])
    assert sorted(row[3] for row in metric_rows["Queue depths (messages visible)"]) == queues
    assert {row[:3] for row in metric_rows["Queue depths (messages visible)"]} == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    }
    assert sorted(row[3] for row in metric_rows["Function errors"]) == functions
    assert {row[:3] for row in metric_rows["Function errors"]} == {
        ("AWS/Lambda", "Errors", "FunctionName")
    }
    assert ("shiftsms", "TextsSent", "service", "shiftsms") in metric_rows["Texts"]
    assert ("shiftsms", "TextsDelivered", "service", "shiftsms") in metric_rows["Texts"]
    assert ("shiftsms", "TextsFailed", "service", "shiftsms") in metric_rows["Texts"]
    # every custom metric the functions emit is on the board
    emitted = {TEXTS_SENT, TEXTS_DELIVERED, TEXTS_FAILED, BOOKED, OFFERED, SEGMENTS}
    shown = {row[1] for rows in metric_rows.values() for row in rows if row[0] == NAMESPACE}
    assert shown == emitted
    assert {w["properties"]["region"] for w in widgets.values()} == {REGION}


@pytest.mark.parametrize("email", ["", "ward-ops@example.org"])
def test_the_stack_deploys_with_and_without_an_alarm_email(email: str) -> None:
    with mock_aws():
        info = deploy_template(parameters={"AlarmEmail": email})
        sns = boto3.client("sns", region_name=REGION)
        attributes = sns.get_topic_attributes(TopicArn=info.outputs["AlarmTopicArn"])
        key_id = info.outputs["EncryptionKeyArn"].rsplit("/", 1)[1]
        assert attributes["Attributes"]["KmsMasterKeyId"] == key_id
