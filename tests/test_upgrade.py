"""A stack deployed by the previous release (its template kept in tests/data) is updated in
place by ``shiftsms deploy``'s code (a change set): every shift, booking and allow-list entry
is kept, ``by-status`` stays, the new ``by-start`` index answers, and the shifts table's
stream (for the shift-key function) is on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.cloudformation.parsing import ResourceMap
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.kms.models import Key

from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.models import Shift
from shiftsms.deploy.deployer import Deployer, DeployOptions
from tests.conftest import ORIGINATION, REGION, tiny_bundle
from tests.test_deploy import moto_server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.slow  # a threaded moto server, two full deploys

PREVIOUS = Path(__file__).resolve().parent / "data" / "template_577a6f8.yaml"
ANA, BEN = "+447700900123", "+447700900124"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _update_table_in_place(
    cls: type[Table],
    original_resource: Table,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Table:
    """What CloudFormation does to a table whose indexes or stream changed: UpdateTable in
    place, one index created or deleted per stack update (more fails the update), a stream
    added, or its view type changed by turning it off and on again (a new stream ARN); a key
    change would need a replacement, which a retained table with data cannot take."""
    props = cloudformation_json["Properties"]
    if props["KeySchema"] != original_resource.schema:
        raise ValueError("the key schema changed: CloudFormation would replace the table")
    old = {i.name: i for i in original_resource.global_indexes}
    new = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    changes = [{"Create": new[n]} for n in new.keys() - old.keys()]
    changes += [{"Delete": {"IndexName": n}} for n in old.keys() - new.keys()]
    if len(changes) > 1:
        raise ValueError("Cannot perform more than one GSI creation or deletion in a single update")
    dynamodb_backends[account_id][region_name].update_table(
        name=original_resource.name,
        attr_definitions=props["AttributeDefinitions"],
        global_index=changes,
        throughput={},
        billing_mode="",
        stream_spec={},  # turned on before, see _streams_on_before_their_readers
        deletion_protection_enabled=None,
        warm_throughput=None,
    )
    view = (props.get("StreamSpecification") or {}).get("StreamViewType")
    current = original_resource.stream_specification or {}
    was = current.get("StreamViewType") if current.get("StreamEnabled") else None
    if view != was:
        if was is not None:
            original_resource.set_stream_specification({"StreamEnabled": False})
        if view is not None:
            original_resource.set_stream_specification(
                {"StreamEnabled": True, "StreamViewType": view}
            )
    return original_resource


def _update_key_in_place(
    cls: type[Key],
    original_resource: Key,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Key:
    """What CloudFormation does to a key whose policy, description or rotation changed: update
    it in place, same key id and ARN; a key spec, usage or multi-Region change would need a
    replacement, which the retained key the tables are encrypted with cannot take."""
    props = cloudformation_json["Properties"]
    if (
        props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        props.get("MultiRegion", False),
    ) != (original_resource.key_spec, original_resource.key_usage, original_resource.multi_region):
        raise ValueError("the key spec changed: CloudFormation would replace the key")
    original_resource.policy = json.dumps(props["KeyPolicy"])  # KMS keeps a JSON document
    original_resource.description = props.get("Description", "")
    original_resource.key_rotation_status = props.get("EnableKeyRotation", False)
    original_resource.enabled = props.get("Enabled", True)
    return original_resource


@pytest.fixture(autouse=True)
def _tables_update_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's CloudFormation has no table update (the resource would be lost): add it."""
    monkeypatch.setattr(
        Table, "update_from_cloudformation_json", classmethod(_update_table_in_place), raising=False
    )


def _update_with_streams_first(self: ResourceMap, template: dict[str, Any], *args: Any) -> None:
    """CloudFormation updates a table before it creates what reads its new stream (a mapping,
    a role naming its ``StreamArn``); moto creates new resources first. Turn on, first, the
    stream of each table of the stack whose new template asks for one."""
    backend = dynamodb_backends[self._account_id][self._region_name]
    for logical_id, resource in template["Resources"].items():
        view = resource.get("Properties", {}).get("StreamSpecification", {}).get("StreamViewType")
        table = self._parsed_resources.get(logical_id)
        if resource["Type"] == "AWS::DynamoDB::Table" and view and not table.latest_stream_label:
            backend.update_table_streams(table, {"StreamEnabled": True, "StreamViewType": view})
    _original_update(self, template, *args)


_original_update = ResourceMap.update


@pytest.fixture(autouse=True)
def _streams_on_before_their_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    """See _update_with_streams_first."""
    monkeypatch.setattr(ResourceMap, "update", _update_with_streams_first)


@pytest.fixture(autouse=True)
def _tables_update_before_what_names_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto creates an update's new resources before it updates the changed ones, where
    CloudFormation follows the references: the audit function's role and mappings name the
    streams this update adds to the tables, so the tables are updated first."""
    original = ResourceMap.update

    def update(self: ResourceMap, template: dict[str, Any], parameters: Any = None) -> None:
        for name, resource in template["Resources"].items():
            table = self._parsed_resources.get(name)
            if resource["Type"] == "AWS::DynamoDB::Table" and isinstance(table, Table):
                _update_table_in_place(
                    Table, table, table.name, resource, self._account_id, self._region_name
                )
        original(self, template, parameters)

    monkeypatch.setattr(ResourceMap, "update", update)


@pytest.fixture(autouse=True)
def _keys_update_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's CloudFormation has no KMS key update either: a modified resource whose model lacks
    one is put in the stack's resource map as None, so every later ``GetAtt EncryptionKey.Arn``
    in the same update fails as "undefined resource". The key policy gains a statement when a
    release adds a service that uses the key (the alarm topic did), so add the in-place update."""
    monkeypatch.setattr(
        Key, "update_from_cloudformation_json", classmethod(_update_key_in_place), raising=False
    )


def aws(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def create_previous_stack() -> dict[str, str]:
    """The stack as the previous release created it; its outputs."""
    s3, cf = aws("s3"), aws("cloudformation")
    bucket = "previous-release-artifacts"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=bucket, Key="bundle.zip", Body=tiny_bundle())
    cf.create_stack(
        StackName="shiftsms",
        TemplateBody=PREVIOUS.read_text(encoding="utf-8"),
        Parameters=[
            {"ParameterKey": "OriginationNumber", "ParameterValue": ORIGINATION},
            {"ParameterKey": "CodeBucket", "ParameterValue": bucket},
            {"ParameterKey": "CodeKey", "ParameterValue": "bundle.zip"},
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    (stack,) = cf.describe_stacks(StackName="shiftsms")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def every_item(table: str) -> list[dict[str, Any]]:
    items = aws("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted((from_item(i) for i in items), key=repr)


def indexes(table: str) -> set[str]:
    described = aws("dynamodb").describe_table(TableName=table)["Table"]
    return {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}


def test_the_previous_release_upgrades_in_place(moto_server: str) -> None:  # noqa: F811
    before = create_previous_stack()
    dynamodb = aws("dynamodb")
    shifts_table, staff_table = before["ShiftsTableName"], before["StaffTableName"]
    assert indexes(shifts_table) == {"by-status"}
    for shift_id, status, employee in (
        ("OPEN1", "available", None),
        ("BOOK1", "taken", ANA),
        ("CONS1", "Available", None),
    ):
        item = {
            "shift_id": {"S": shift_id},
            "shift_info": {"S": f"{shift_id} info"},
            "shift_status": {"S": status},
        }
        if employee:
            item |= {"employee": {"S": employee}, "booked_at": {"S": "2026-11-27T09:00:00+00:00"}}
        dynamodb.put_item(TableName=shifts_table, Item=item)
    for phone, name in ((ANA, "Ana"), (BEN, "Ben")):
        dynamodb.put_item(
            TableName=staff_table,
            Item={
                "phone": {"S": phone},
                "name": {"S": name},
                "campaigns": {"BOOL": True},
                "opted_out": {"BOOL": False},
                "recipient_pool": {"S": "all"},
            },
        )
    shifts_before, staff_before = every_item(shifts_table), every_item(staff_table)

    result = Deployer(poll_seconds=0.01).deploy(DeployOptions())
    assert result.changed

    (stack,) = aws("cloudformation").describe_stacks(StackName="shiftsms")["Stacks"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    after = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert (after["ShiftsTableName"], after["StaffTableName"]) == (shifts_table, staff_table)
    assert after["TimeZone"] == "Europe/London"
    assert every_item(shifts_table) == shifts_before
    assert every_item(staff_table) == staff_before
    assert after["EncryptionKeyArn"] == before["EncryptionKeyArn"]  # the data's key is kept
    key_policy = aws("kms").get_key_policy(KeyId=after["EncryptionKeyArn"], PolicyName="default")
    policy = json.loads(key_policy["Policy"])
    assert "CloudWatchAlarmsPublishToAlarmTopic" in {st["Sid"] for st in policy["Statement"]}
    assert indexes(shifts_table) == {"by-status", "by-start"}
    # The stream the shift-key and audit functions read is on, with old and new images.
    described = dynamodb.describe_table(TableName=shifts_table)["Table"]
    assert described["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }

    # The new index answers: a timed shift added now is listed first, old items after it.
    table = ShiftsTable(dynamodb, shifts_table, staff_table)
    table.put(
        Shift(
            "NEW1",
            "Tue 01/12 07:00-15:00",
            starts_at="2026-12-01T07:00+00:00",
            ends_at="2026-12-01T15:00+00:00",
        )
    )
    on_index = dynamodb.query(
        TableName=shifts_table,
        IndexName="by-start",
        KeyConditionExpression="shift_status = :s AND start_key > :now",
        ExpressionAttributeValues={":s": {"S": "available"}, ":now": {"S": "2026-11-28T12:00:00Z"}},
    )["Items"]
    assert [i["shift_id"]["S"] for i in on_index] == ["NEW1"]
    page = table.open_listing((), NOW, None, 20)
    assert [s.shift_id for s in page.shifts] == ["NEW1", "CONS1", "OPEN1"]
