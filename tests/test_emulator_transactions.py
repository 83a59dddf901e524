"""A cancelled DynamoDB transaction in the sandbox behaves as in DynamoDB: nothing it did
stays, and the table's stream goes on as before.

moto 5.2 rolls a cancelled transaction back by putting deep copies of its tables in place of
the tables, so a stream reader's shard iterator keeps reading the replaced table's stream:
every later write is invisible to it (the sandbox's campaign function then never saw a
campaign created after a failed booking), and the cancelled transaction's own writes show up
in that stream as if they had happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shiftsms.local.aws import client
from shiftsms.local.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    em = Emulator(port=0).start()
    try:
        yield em
    finally:
        em.stop()


def _table(ddb: Any, name: str) -> str:
    arn: str = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    return arn


class Reader:
    """Reads a stream from its newest record on, as the sandbox's stream pollers do."""

    def __init__(self, endpoint: str, arn: str) -> None:
        self.streams = client("dynamodbstreams", endpoint)
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]

    def read(self) -> list[tuple[str, str]]:
        """(event name, id) of the records since the last read."""
        page = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = page["NextShardIterator"]
        return [(r["eventName"], r["dynamodb"]["Keys"]["id"]["S"]) for r in page.get("Records", [])]


def _failing_transaction(ddb: Any) -> None:
    """A transaction whose first write succeeds and whose second condition fails."""
    with pytest.raises(ClientError) as failed:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "shifts", "Item": {"id": {"S": "phantom"}}}},
                {
                    "Update": {
                        "TableName": "campaigns",
                        "Key": {"id": {"S": "c1"}},
                        "UpdateExpression": "SET n = :n",
                        "ConditionExpression": "attribute_not_exists(id)",
                        "ExpressionAttributeValues": {":n": {"N": "2"}},
                    }
                },
            ]
        )
    assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_writes_after_a_cancelled_transaction_reach_the_stream(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    shifts, campaigns = _table(ddb, "shifts"), _table(ddb, "campaigns")
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c1"}})
    readers = {
        name: Reader(emulator.endpoint, arn)
        for name, arn in [("shifts", shifts), ("campaigns", campaigns)]
    }

    _failing_transaction(ddb)
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c2"}})
    ddb.put_item(TableName="shifts", Item={"id": {"S": "XYZ123"}})

    assert readers["campaigns"].read() == [("INSERT", "c2")]
    assert readers["shifts"].read() == [("INSERT", "XYZ123")]


def test_a_cancelled_transaction_leaves_no_item_and_no_stream_record(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    shifts = _table(ddb, "shifts")
    _table(ddb, "campaigns")
    ddb.put_item(TableName="campaigns", Item={"id": {"S": "c1"}})
    reader = Reader(emulator.endpoint, shifts)

    _failing_transaction(ddb)

    assert "Item" not in ddb.get_item(TableName="shifts", Key={"id": {"S": "phantom"}})
    assert ddb.get_item(TableName="campaigns", Key={"id": {"S": "c1"}})["Item"] == {
        "id": {"S": "c1"}
    }
    assert reader.read() == []


def test_a_committed_transaction_streams_each_write_once_in_order(emulator: Emulator) -> None:
    ddb = client("dynamodb", emulator.endpoint)
    shifts = _table(ddb, "shifts")
    ddb.put_item(TableName="shifts", Item={"id": {"S": "a"}})
    reader = Reader(emulator.endpoint, shifts)

    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "shifts", "Item": {"id": {"S": "b"}}}},
            {
                "Update": {
                    "TableName": "shifts",
                    "Key": {"id": {"S": "a"}},
                    "UpdateExpression": "SET n = :n",
                    "ConditionExpression": "attribute_exists(id)",
                    "ExpressionAttributeValues": {":n": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": "shifts", "Key": {"id": {"S": "gone"}}}},
        ]
    )
    ddb.put_item(TableName="shifts", Item={"id": {"S": "c"}})

    assert reader.read() == [("INSERT", "b"), ("MODIFY", "a"), ("INSERT", "c")]
