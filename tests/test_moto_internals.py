"""The private moto internals the sandbox's emulator patches are still there, as it expects.

``shiftsms/local/emulator.py`` replaces three ``LambdaBackend`` methods and ``ChangeSet.apply``
(and ``shiftsms/local/dynamo_transactions.py`` DynamoDB's ``transact_write_items`` and
``StreamShard.add``) and reads a few backend attributes. The ``local`` extra pins moto to the
minor release these were tested on; when a moto update moves one of them, this module names
it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.cloudformation.models import ChangeSet, Stack, cloudformation_backends
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.sqs.models import sqs_backends

from tests.conftest import REGION

ACCOUNT = "123456789012"
MOVED = "moto internal {what} moved: re-check shiftsms/local/emulator.py against this moto"


def params(fn: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(fn).parameters)


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (
            LambdaBackend.send_sns_message,
            ["self", "function_name", "message", "subject", "qualifier"],
        ),
        (LambdaBackend.send_dynamodb_items, ["self", "function_arn", "items", "source"]),
        (LambdaBackend.create_event_source_mapping, ["self", "spec"]),
        (ChangeSet.apply, ["self"]),
        (DynamoDBBackend.transact_write_items, ["self", "transact_items"]),
        (StreamShard.add, ["self", "old", "new"]),
        (Stack._parse_template, ["self"]),
        (Stack._create_output_map, ["self"]),
        (moto_api_backend.reset, []),
        (create_backend_app, ["service"]),
        (DomainDispatcherApplication.__init__, ["self", "create_app"]),
    ],
    ids=lambda v: getattr(v, "__qualname__", "") if callable(v) else "",
)
def test_patched_functions_keep_their_signatures(
    fn: Callable[..., Any], expected: list[str]
) -> None:
    assert params(fn) == expected, MOVED.format(what=fn.__qualname__)


def test_the_request_handler_is_werkzeugs() -> None:
    from werkzeug.serving import WSGIRequestHandler

    assert issubclass(MotoRequestHandler, WSGIRequestHandler), MOVED.format(
        what="MotoRequestHandler"
    )


TEMPLATE = """
Parameters:
  Name: {Type: String, Default: a}
Resources:
  Topic: {Type: AWS::SNS::Topic}
Outputs:
  TopicArn: {Value: !Ref Topic}
"""


@mock_aws
def test_the_attributes_the_patches_read_exist_on_live_objects() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.create_queue(QueueName="q")
    queue = sqs_backends[ACCOUNT][REGION].queues["q"]
    assert isinstance(queue.lambda_event_source_mappings, dict), MOVED.format(
        what="Queue.lambda_event_source_mappings"
    )
    assert isinstance(dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators, dict), (
        MOVED.format(what="DynamoDBStreamsBackend.shard_iterators")
    )

    cf = boto3.client("cloudformation", region_name=REGION)
    cf.create_change_set(
        StackName="s", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    backend = cloudformation_backends[ACCOUNT][REGION]
    (change_set,) = backend.change_sets.values()
    for name in ("stack", "template", "parameters"):
        assert hasattr(change_set, name), MOVED.format(what=f"ChangeSet.{name}")
    stack = change_set.stack
    for name in ("template", "parameters", "output_map"):
        assert hasattr(stack, name), MOVED.format(what=f"Stack.{name}")
