"""The audit trail: who changed which shift, allow-list entry or campaign, and how.

From the stream records of the real tables (moto), through the audit function, to what
`shiftsms audit` shows; and the pure rules that decide what an entry says.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode
from moto import mock_aws

from shiftsms.aws.audit_table import AuditTable
from shiftsms.aws.dynamo import actor_fields, from_item, stamp_writes
from shiftsms.cli import audit as audit_cli
from shiftsms.cli import output as cli_output
from shiftsms.cli.context import CliContext
from shiftsms.core import lambda_events
from shiftsms.core.actor import UNKNOWN, acting_as, cli_actor, fn_actor, sms_actor
from shiftsms.core.audit import CAMPAIGN, SHIFT, STAFF, entry_from_images, staff_subject
from shiftsms.core.periods import parse_period
from shiftsms.core.phone import fingerprint
from shiftsms.handlers import inbound
from shiftsms.handlers.audit import AuditApp
from shiftsms.local.poller import _jsonable
from shiftsms.settings import AuditSettings, InboundSettings
from tests.clitools import invoke, table_rows
from tests.conftest import REGION, TEMPLATE, Deployed, function_environment, sns_event
from tests.fakes import RecordingSms

ANA = "+447700900123"
CLI = cli_actor("arn:aws:sts::123456789012:user/moto")  # moto's caller identity
AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
STAMP = "2026-11-28T12:00:00.000001Z"


# -- what an entry says ---------------------------------------------------------------------


def test_a_new_shift_is_created_by_the_writer_that_stamped_it() -> None:
    new = {"shift_id": "XYZ123", "shift_info": "15/08 nights", "shift_status": "available"}
    entry = entry_from_images(SHIFT, "e1", AT, None, {**new, **actor_fields(CLI, AT)})
    assert entry is not None
    assert (entry.subject, entry.action, entry.by) == ("shift#XYZ123", "created", CLI)
    assert entry.changes == {
        "shift_id": (None, "XYZ123"),
        "shift_info": (None, "15/08 nights"),
        "shift_status": (None, "available"),
    }


def test_a_booking_names_the_masked_sender_and_keeps_the_number_apart() -> None:
    old = {"shift_id": "XYZ123", "shift_status": "available", **actor_fields(CLI, AT)}
    by = sms_actor(ANA, "m-1")
    new = {
        "shift_id": "XYZ123",
        "shift_status": "taken",
        "employee": ANA,
        "booking_ref": "m-1",
        **actor_fields(by, AT + timedelta(minutes=5)),
    }
    entry = entry_from_images(SHIFT, "e2", AT, old, new)
    assert entry is not None
    assert entry.by == "sms:+44********23:m-1"
    assert entry.changes == {
        "employee": (None, "+44********23"),
        "shift_status": ("available", "taken"),
    }
    assert entry.numbers == (ANA,)
    assert entry.holder == fingerprint(ANA)
    assert entry.unmasked(entry.changes["employee"][1] or "") == ANA


def test_a_write_that_did_not_stamp_the_item_is_by_unknown() -> None:
    stamped = {"shift_id": "X1", "shift_info": "old", **actor_fields(CLI, AT)}
    console = {**stamped, "shift_info": "typed in the console"}
    entry = entry_from_images(SHIFT, "e3", AT, stamped, console)
    assert entry is not None
    assert (entry.by, entry.changes) == (UNKNOWN, {"shift_info": ("old", "typed in the console")})
    removed = entry_from_images(SHIFT, "e4", AT, stamped, None)
    assert removed is not None
    assert (removed.action, removed.by) == ("removed", UNKNOWN)


def test_a_removal_names_who_marked_the_item_just_before_deleting_it() -> None:
    booked = {"shift_id": "X1", "employee": ANA, **actor_fields(sms_actor(ANA, "m-1"), AT)}
    later = actor_fields(CLI, AT + timedelta(minutes=1))
    marked = {**booked, **later, "removing": later["changed_at"]}
    assert entry_from_images(SHIFT, "e9", AT, booked, marked) is None  # the mark: no change
    removed = entry_from_images(SHIFT, "e10", AT, marked, None)
    assert removed is not None
    assert (removed.action, removed.by) == ("removed", CLI)
    assert "removing" not in removed.changes
    # a mark that is not the last write (a booking since, then a delete in the console)
    rebooked = {**marked, **actor_fields(sms_actor(ANA, "m-2"), AT + timedelta(minutes=2))}
    stale = entry_from_images(SHIFT, "e11", AT, rebooked, None)
    assert stale is not None
    assert stale.by == UNKNOWN


def test_an_alias_item_of_a_console_shift_is_no_change_to_audit() -> None:
    alias = {"shift_id": "key#XYZ123", "stored_id": "xyz123", **actor_fields(fn_actor("keys"), AT)}
    assert entry_from_images(SHIFT, "e12", AT, None, alias) is None
    assert entry_from_images(SHIFT, "e13", AT, alias, None) is None


def test_counters_alone_are_not_a_change_but_a_status_is() -> None:
    old = {"campaign_id": "C1", "campaign_status": "sending", "sent": Decimal(3)}
    counted = {**old, "sent": Decimal(4), **actor_fields(fn_actor("sender"), AT)}
    assert entry_from_images(CAMPAIGN, "e5", AT, old, counted) is None
    later = actor_fields(fn_actor("sender"), AT + timedelta(seconds=1))
    done = {**counted, "campaign_status": "done", **later}
    entry = entry_from_images(CAMPAIGN, "e6", AT, counted, done)
    assert entry is not None
    assert (entry.by, entry.changes) == ("fn:sender", {"campaign_status": ("sending", "done")})


def test_an_allow_list_entry_is_filed_under_its_fingerprint_never_its_number() -> None:
    new = {"phone": ANA, "name": "Ana", "campaigns": True, "expires": Decimal(1767225600)}
    entry = entry_from_images(STAFF, "e7", AT, None, new)
    assert entry is not None
    assert entry.subject == f"staff#{fingerprint(ANA)}"
    assert entry.changes["phone"] == (None, "+44********23")
    assert entry.changes["campaigns"] == (None, "true")
    assert entry.changes["expires"] == (None, "1767225600")  # a number is not a phone number
    assert ANA not in json.dumps(entry.changes)


def test_times_and_ids_are_kept_whole_and_free_text_is_redacted() -> None:
    new = {
        "shift_id": "X1",
        "starts_at": "2026-11-03T00:04:33.600000+00:00",
        "shift_info": "call Ana on 07700 900123",
        "booking_ref": "1234567890",
    }
    entry = entry_from_images(SHIFT, "e8", AT, None, new)
    assert entry is not None
    assert entry.changes["starts_at"] == (None, "2026-11-03T00:04:33.600000+00:00")
    assert entry.changes["booking_ref"] == (None, "1234567890")
    assert entry.changes["shift_info"] == (None, "call Ana on 077******23")


@pytest.mark.parametrize(
    ("text", "period"),
    [("7d", timedelta(days=7)), ("12h", timedelta(hours=12)), (" 2W ", timedelta(weeks=2))],
)
def test_periods(text: str, period: timedelta) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize("text", ["", "7", "d", "0d", "7y", "-1d"])
def test_a_period_without_number_and_unit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="like 7d"):
        parse_period(text)


# -- stamping writes --------------------------------------------------------------------------


def _table(client: Any, name: str, key: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _stored(client: Any, table: str, key: str, value: str) -> dict[str, Any]:
    item = client.get_item(TableName=table, Key={key: {"S": value}})["Item"]
    return from_item(item)


def test_writes_of_audited_tables_carry_the_actor_in_force() -> None:
    with mock_aws():
        client = stamp_writes(boto3.client("dynamodb", region_name=REGION), {"shifts"})
        _table(client, "shifts", "shift_id")
        _table(client, "state", "id")
        with acting_as(fn_actor("campaign")):
            client.put_item(TableName="shifts", Item={"shift_id": {"S": "X1"}})
            client.update_item(
                TableName="shifts",
                Key={"shift_id": {"S": "X1"}},
                UpdateExpression="SET shift_info = :i REMOVE employee",
                ExpressionAttributeValues={":i": {"S": "new"}},
            )
            client.update_item(  # no SET clause of its own
                TableName="shifts",
                Key={"shift_id": {"S": "X3"}},
                UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
            client.transact_write_items(
                TransactItems=[{"Put": {"TableName": "shifts", "Item": {"shift_id": {"S": "X2"}}}}]
            )
            client.batch_write_item(
                RequestItems={"shifts": [{"PutRequest": {"Item": {"shift_id": {"S": "X4"}}}}]}
            )
            client.put_item(TableName="state", Item={"id": {"S": "not audited"}})
        for shift_id in ("X1", "X2", "X3", "X4"):
            item = _stored(client, "shifts", "shift_id", shift_id)
            assert item["changed_by"] == "fn:campaign", shift_id
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", item["changed_at"])
        assert _stored(client, "shifts", "shift_id", "X1")["shift_info"] == "new"
        assert _stored(client, "state", "id", "not audited") == {"id": "not audited"}


def test_with_no_actor_a_write_goes_as_it_was_and_a_default_is_asked_once() -> None:
    asked: list[str] = []

    def default() -> str:
        asked.append("sts")
        return CLI

    with mock_aws():
        plain = stamp_writes(boto3.client("dynamodb", region_name=REGION), {"shifts"})
        _table(plain, "shifts", "shift_id")
        plain.put_item(TableName="shifts", Item={"shift_id": {"S": "X1"}})
        assert _stored(plain, "shifts", "shift_id", "X1") == {"shift_id": "X1"}
        cli = stamp_writes(boto3.client("dynamodb", region_name=REGION), {"shifts"}, default)
        cli.get_item(TableName="shifts", Key={"shift_id": {"S": "X1"}})
        assert asked == []  # a read names nobody
        cli.put_item(TableName="shifts", Item={"shift_id": {"S": "X2"}})
        assert _stored(cli, "shifts", "shift_id", "X2")["changed_by"] == CLI
        assert asked == ["sts"]


# -- end to end on the deployed template -----------------------------------------------------


class Streams:
    """The audited tables' streams from now on, delivered to the audit function as Lambda would."""

    def __init__(self, deployed: Deployed) -> None:
        self.deployed = deployed
        # In process, moto answers DynamoDB Streams only at an endpoint named outright.
        self.client = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
        )
        self.app = AuditApp(
            AuditSettings.from_env(function_environment(deployed.outputs["AuditFunctionName"]))
        )
        self.iterators: dict[str, str] = {}
        for output in ("ShiftsTableName", "StaffTableName", "CampaignsTableName"):
            arn = deployed.dynamodb.describe_table(TableName=deployed.outputs[output])["Table"][
                "LatestStreamArn"
            ]
            shard = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
            self.iterators[arn] = self.client.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]

    def records(self) -> list[dict[str, Any]]:
        """Every record written since the last call, as the mapping hands them over."""
        found = []
        for arn, iterator in self.iterators.items():
            page = self.client.get_records(ShardIterator=iterator)
            self.iterators[arn] = page["NextShardIterator"]
            found += [
                lambda_events.stream_record(_jsonable(r), source_arn=arn, region=REGION)
                for r in page["Records"]
            ]
        return found

    def deliver(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self.app.handle(lambda_events.event(records), None)


@pytest.fixture
def streams(deployed: Deployed) -> Iterator[Streams]:
    yield Streams(deployed)


def audit_items(deployed: Deployed) -> list[dict[str, Any]]:
    items = deployed.dynamodb.scan(TableName=deployed.outputs["AuditTableName"])["Items"]
    return sorted((from_item(i) for i in items), key=lambda i: str(i["at_event"]))


def text_in(deployed: Deployed, sender: str, body: str, message_id: str) -> None:
    env = function_environment(deployed.outputs["InboundFunctionName"])
    app = inbound.InboundApp(InboundSettings.from_env(env), sms=RecordingSms())
    message = {
        "originationNumber": sender,
        "destinationNumber": "+447700900000",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": message_id,
        "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    assert app.handle(sns_event(message), None) == {"handled": 1, "dropped": 0}


def test_removals_by_the_cli_are_credited_to_its_caller(
    deployed: Deployed, streams: Streams
) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    assert invoke("shifts", "add", "XYZ123", "--info", "15/08 nights").exit_code == 0
    assert invoke("shifts", "add", "XYZ124", "--info", "16/08 nights").exit_code == 0
    text_in(deployed, ANA, "XYZ123", "m-book-1")
    assert invoke("shifts", "remove", "XYZ123", "--yes", "--no-notify").exit_code == 0
    assert invoke("shifts", "remove", "XYZ124", "--yes").exit_code == 0
    assert invoke("allowlist", "remove", ANA).exit_code == 0
    assert streams.deliver(streams.records()) == {"batchItemFailures": []}
    stored = audit_items(deployed)
    removals = {i["subject"]: i["changed_by"] for i in stored if i["action"] == "removed"}
    assert removals == {
        "shift#XYZ123": CLI,
        "shift#XYZ124": CLI,
        f"staff#{staff_subject(ANA)}": CLI,
    }
    # the marks written before each delete are no entries of their own
    assert [i["action"] for i in stored if i["subject"] == "shift#XYZ124"] == [
        "created",
        "removed",
    ]


def test_every_change_is_recorded_once_with_who_made_it(
    deployed: Deployed, streams: Streams, tmp_path: Path
) -> None:
    assert invoke("allowlist", "add", ANA, "--name", "Ana").exit_code == 0
    assert invoke("shifts", "add", "XYZ123", "--info", "15/08 nights").exit_code == 0
    text_in(deployed, ANA, "XYZ123", "m-book-1")
    deployed.dynamodb.update_item(  # by hand, as in the console
        TableName=deployed.outputs["ShiftsTableName"],
        Key={"shift_id": {"S": "XYZ123"}},
        UpdateExpression="SET shift_info = :i",
        ExpressionAttributeValues={":i": {"S": "15/08 nights, ward 5"}},
    )
    records = streams.records()
    assert streams.deliver(records) == {"batchItemFailures": []}
    assert streams.deliver(records) == {"batchItemFailures": []}  # delivered twice
    stored = audit_items(deployed)
    shift = [i for i in stored if i["subject"] == "shift#XYZ123"]
    assert [(i["action"], i["changed_by"]) for i in shift] == [
        ("created", CLI),
        ("changed", "sms:+44********23:m-book-1"),
        ("changed", UNKNOWN),
    ]
    assert shift[1]["changes"] == {
        "booked_at": {"new": shift[1]["changes"]["booked_at"]["new"]},
        "employee": {"new": "+44********23"},
        "shift_status": {"old": "available", "new": "taken"},
    }
    staff = [i for i in stored if i["subject"] == f"staff#{staff_subject(ANA)}"]
    assert [(i["action"], i["changed_by"]) for i in staff] == [("created", CLI)]
    assert len(stored) == 4
    assert all(ANA not in json.dumps(i["changes"]) for i in stored)
    assert {i["day"] for i in stored} == {datetime.now(UTC).date().isoformat()}
    assert all(int(i["expires_at"]) > datetime.now(UTC).timestamp() + 399 * 86400 for i in stored)

    result = invoke("audit", "--shift", "xyz123")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows[0] == ["When", "What", "Change", "By"]
    assert [r[1] for r in rows[1:] if r[1]] == ["shift XYZ123"] * 3
    assert [r[3] for r in rows[1:] if r[3]] == [CLI, "sms:+44********23:m-book-1", UNKNOWN]
    assert "shift_status: available -> taken" in [r[2] for r in rows]
    assert result.stdout.splitlines()[-1] == "3 changes."
    assert ANA not in result.stdout

    result = invoke("audit", "--phone", "07700 900123", "--json", "--full-numbers")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)
    assert (entry["kind"], entry["subject"], entry["action"], entry["by"]) == (
        "staff",
        ANA,
        "created",
        CLI,
    )
    assert entry["changes"]["phone"] == {"old": None, "new": ANA}

    path = tmp_path / "audit.csv"
    result = invoke("audit", "--since", "1h", "--csv", str(path))
    assert result.exit_code == 0, result.output
    rows_written = list(csv.DictReader(path.open(encoding="utf-8")))
    assert {(r["kind"], r["subject"]) for r in rows_written} == {
        ("shift", "XYZ123"),
        ("staff", "+44********23"),
    }
    assert result.stdout == f"Wrote {len(rows_written)} rows (4 changes) to {path}.\n"
    assert ANA not in path.read_text(encoding="utf-8")


def test_audit_reads_by_subject_or_by_day_never_a_scan(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.clitools import record_dynamodb_calls

    calls = record_dynamodb_calls(monkeypatch)
    monkeypatch.setattr(audit_cli, "now", lambda: datetime(2026, 11, 28, 12, tzinfo=UTC))
    assert invoke("audit", "--since", "3d").exit_code == 0
    assert calls == ["Query"] * 4  # 25th (from noon) to 28th: one Query per UTC day
    calls.clear()
    assert invoke("audit", "--shift", "X1").exit_code == 0
    assert calls == ["Query"]


def test_options_that_do_not_go_together_are_refused(deployed: Deployed) -> None:
    result = invoke("audit", "--shift", "X1", "--phone", ANA)
    assert result.exit_code == 2
    assert result.stderr == "Error: give --shift or --phone, not both\n"
    result = invoke("audit", "--since", "7 days")
    assert result.exit_code == 2
    assert "'7 days' is not a period" in result.stderr


UNWRITABLE = {
    "no folder": ("missing/audit.csv", "cannot write {path}: folder {parent} does not exist"),
    "folder is a file": ("a-file/audit.csv", "cannot write {path}: {parent} is not a folder"),
    "a folder": (".", "{path} is a folder, not a file"),
}


def aws_clients(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every AWS client the CLI asks for (and make none)."""
    services: list[str] = []
    monkeypatch.setattr(CliContext, "client", lambda self, service: services.append(service))
    return services


@pytest.mark.parametrize(("where", "reason"), UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_a_csv_file_that_cannot_be_written_is_refused_before_any_aws_call(
    where: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    path = tmp_path / where
    services = aws_clients(monkeypatch)
    result = invoke("audit", "--csv", str(path))
    assert result.exit_code == 2
    message = reason.format(path=path, parent=path.parent)
    assert result.stderr == (
        f"Error: Invalid value for '--csv': {message} (see: shiftsms audit --help)\n"
    )
    assert result.stdout == ""
    assert services == []


def test_a_csv_file_in_a_folder_that_is_not_writable_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as if the folder were read-only (os.access says yes to root, whatever the mode)
    monkeypatch.setattr(cli_output.os, "access", lambda path, mode: False)
    services = aws_clients(monkeypatch)
    result = invoke("audit", "--csv", str(tmp_path / "audit.csv"))
    assert result.exit_code == 2
    assert f"cannot write {tmp_path / 'audit.csv'}: no permission" in result.stderr
    assert services == []


def test_an_entry_is_stored_once_per_stream_event(deployed: Deployed) -> None:
    table = AuditTable(deployed.dynamodb, deployed.outputs["AuditTableName"])
    entry = entry_from_images(SHIFT, "e1", AT, None, {"shift_id": "X1"})
    assert entry is not None
    assert table.record(entry) is True
    assert table.record(entry) is False
    assert [e.event_id for e in table.for_subject("shift#X1")] == ["e1"]
    assert [e.event_id for e in table.between(AT, AT + timedelta(seconds=1))] == ["e1"]
    assert list(table.between(AT + timedelta(seconds=1), AT + timedelta(days=1))) == []


def test_an_entry_edited_out_of_shape_is_skipped_not_a_crash(deployed: Deployed) -> None:
    name = deployed.outputs["AuditTableName"]
    table = AuditTable(deployed.dynamodb, name)
    entry = entry_from_images(SHIFT, "e1", AT, None, {"shift_id": "X1"})
    assert entry is not None and table.record(entry)
    (good,) = deployed.dynamodb.scan(TableName=name)["Items"]
    bad = [
        {"at": {"S": "soon"}},  # not a time
        {"at": {"N": "12"}, "changes": {"L": [{"S": "x"}]}},  # changes as a list
    ]
    for i, changed in enumerate(bad):
        item = {**good, "at_event": {"S": f"{good['at_event']['S']}-{i}"}, **changed}
        deployed.dynamodb.put_item(TableName=name, Item=item)
    missing = {k: v for k, v in good.items() if k != "at"}
    deployed.dynamodb.put_item(TableName=name, Item={**missing, "at_event": {"S": "z"}})
    assert [e.event_id for e in table.for_subject("shift#X1")] == ["e1"]
    assert [e.event_id for e in table.between(AT, AT + timedelta(seconds=1))] == ["e1"]


# -- the template --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, problems = decode(str(TEMPLATE))
    assert not problems, problems
    assert isinstance(tpl, dict)
    return tpl


def test_each_audited_table_streams_both_images_to_the_audit_function(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    mapped = {
        r["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and r["Properties"]["FunctionName"] == {"Ref": "AuditFunction"}
    }
    assert mapped == {"ShiftsTable", "StaffTable", "CampaignsTable"}
    for table in mapped:
        spec = resources[table]["Properties"]["StreamSpecification"]
        assert spec == {"StreamViewType": "NEW_AND_OLD_IMAGES"}, table


def test_the_audit_function_may_only_add_entries(template: dict[str, Any]) -> None:
    role = template["Resources"]["AuditFunctionRole"]["Properties"]["Policies"][0]
    on_audit = [
        s["Action"]
        for s in role["PolicyDocument"]["Statement"]
        if s["Resource"] == {"Fn::GetAtt": ["AuditTable", "Arn"]}
    ]
    assert on_audit == ["dynamodb:PutItem"]
    props = template["Resources"]["AuditTable"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    params = list(template["Parameters"])
    assert params[params.index("LogRetentionDays") + 1] == "AuditRetentionDays"
    assert template["Parameters"]["AuditRetentionDays"]["Default"] == 400
    env = template["Resources"]["AuditFunction"]["Properties"]["Environment"]["Variables"]
    assert env["AUDIT_RETENTION_DAYS"] == {"Ref": "AuditRetentionDays"}
