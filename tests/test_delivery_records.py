"""Delivery receipts on the deployed tables: each event recorded once, finals never undone."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from shiftsms.aws.delivery_records import DynamoSendRecords
from shiftsms.aws.dynamo import from_item
from shiftsms.aws.send_markers import DynamoSendLedger, marker_id
from shiftsms.core.campaigns import SendJob, SendOutcome
from shiftsms.core.delivery import DayTotals, SendRecord, parse_event
from shiftsms.core.phone import fingerprint
from shiftsms.handlers.delivery import DeliveryApp
from shiftsms.settings import DeliverySettings
from tests.conftest import REGION, Deployed, event_fixture, shared_stack

ANA = "+447700900123"
CAMPAIGN, RUN = "nov-nights", "3fa2c1d0e9b8a7f6"
SENT = datetime(2026, 12, 2, 10, 0, 3, tzinfo=UTC)
DAY = date(2026, 12, 2)


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    with shared_stack() as info:
        yield Deployed(info=info, dynamodb=boto3.client("dynamodb", region_name=REGION))


def delivered() -> dict[str, Any]:
    """The documented TEXT_DELIVERED event (tests/events), a campaign text to Ana."""
    return event_fixture("text_event_delivered")


def variant(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(delivered())
    event.update(changes)
    return event


def pending() -> dict[str, Any]:
    return variant(
        eventType="TEXT_PENDING",
        messageStatus="PENDING",
        isFinal=False,
        eventTimestamp=delivered()["eventTimestamp"] - 60_000,
    )


def unreachable() -> dict[str, Any]:
    return variant(
        eventType="TEXT_UNREACHABLE",
        messageStatus="UNREACHABLE",
        eventTimestamp=delivered()["eventTimestamp"] - 1_000,
    )


def _setup_campaign(deployed: Deployed) -> DynamoSendRecords:
    """A campaign run fanned out to Ana, her text settled as sent (as the sender does)."""
    out = deployed.outputs
    deployed.dynamodb.put_item(
        TableName=out["CampaignsTableName"],
        Item={
            "campaign_id": {"S": CAMPAIGN},
            "campaign_message": {"S": "XYZ123 15/08 5h nightshift"},
            "fanout_token": {"S": RUN},
            "sent": {"N": "1"},
        },
    )
    ledger = DynamoSendLedger(deployed.dynamodb, out["StateTableName"], out["CampaignsTableName"])
    job = SendJob(CAMPAIGN, ANA, "text", 2_000_000_000, run=RUN)
    token = ledger.claim(job, SENT)
    assert token is not None
    ledger.settle(job, token, SendOutcome.SENT, SENT, message_id=delivered()["messageId"])
    return DynamoSendRecords(deployed.dynamodb, out["StateTableName"], out["CampaignsTableName"])


def _campaign(deployed: Deployed) -> dict[str, Any]:
    item = deployed.dynamodb.get_item(
        TableName=deployed.outputs["CampaignsTableName"], Key={"campaign_id": {"S": CAMPAIGN}}
    )["Item"]
    return from_item(item)


def _marker(deployed: Deployed) -> dict[str, Any]:
    item = deployed.dynamodb.get_item(
        TableName=deployed.outputs["StateTableName"],
        Key={"id": {"S": marker_id(CAMPAIGN, ANA, RUN)}},
    )["Item"]
    return from_item(item)


def test_the_fixture_is_the_documented_event_shape() -> None:
    event = parse_event(json.dumps(delivered()))
    assert event.event_type == "TEXT_DELIVERED"
    assert event.status == "DELIVERED"
    assert event.is_final is True
    assert event.parts == 1
    assert event.price_usd == Decimal("0.0395")
    assert event.carrier_fee_usd == Decimal("0.0025")
    assert event.requested_at == datetime(2026, 12, 2, 10, 0, 3, 170000, tzinfo=UTC)
    assert event.context["recipient"] == fingerprint(ANA)
    assert event.campaign_id == CAMPAIGN
    assert event.run == RUN


def test_a_text_delivered_once_counts_once_whatever_comes_twice_or_late(
    deployed: Deployed,
) -> None:
    records = _setup_campaign(deployed)
    changes = [records.record(parse_event(e)) for e in (pending(), delivered(), delivered())]
    changes.append(records.record(parse_event(pending())))  # late, after the final
    assert [(c.applied, c.settled) for c in changes] == [
        (True, False),
        (True, True),
        (False, False),
        (False, False),
    ]
    campaign = _campaign(deployed)
    assert campaign["delivered"] == 1
    assert campaign["parts"] == 1
    assert campaign["cost_usd"] == Decimal("0.0420")
    assert "delivery_failed" not in campaign
    marker = _marker(deployed)
    assert marker["state"] == "sent"
    assert marker["delivery_status"] == "DELIVERED"
    assert marker["price_usd"] == Decimal("0.0395")
    assert ANA not in json.dumps(marker, default=str)  # the marker never holds the number
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 1, Decimal("0.0420"), 1, 0)
    expected = SendRecord(
        campaign_id=CAMPAIGN,
        run=RUN,
        recipient=fingerprint(ANA),
        sent_at=SENT,
        outcome="sent",
        delivery_status="DELIVERED",
        parts=1,
        price_usd=Decimal("0.0395"),
        carrier_fee_usd=Decimal("0.0025"),
        message_id=delivered()["messageId"],
    )
    assert list(records.for_campaign(CAMPAIGN, RUN)) == [expected]
    (on_day,) = records.sent_on(DAY)
    assert on_day == SendRecord(
        **{**expected.__dict__, "sent_at": datetime(2026, 12, 2, 10, 0, 3, 170000, tzinfo=UTC)}
    )
    assert list(records.sent_on(DAY + timedelta(days=1))) == []


def test_cost_is_counted_as_soon_as_an_event_reports_it_and_never_twice(
    deployed: Deployed,
) -> None:
    records = _setup_campaign(deployed)
    # an event before the final one reports the price (what AWS charged so far)
    assert records.record(parse_event(pending())).applied
    campaign = _campaign(deployed)
    assert (campaign.get("parts"), campaign.get("cost_usd")) == (1, Decimal("0.0420"))
    assert "delivered" not in campaign
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 1, Decimal("0.0420"), 0, 0)
    # the final event reports a higher carrier fee: only the difference is added
    final = variant(totalCarrierFee=0.0045, totalMessageParts=2)
    assert records.record(parse_event(final)).settled
    assert records.record(parse_event(final)).applied is False  # redelivered
    campaign = _campaign(deployed)
    assert (campaign["delivered"], campaign["parts"], campaign["cost_usd"]) == (
        1,
        2,
        Decimal("0.0440"),
    )
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 2, Decimal("0.0440"), 1, 0)


def test_a_final_event_without_prices_keeps_the_cost_reported_before(
    deployed: Deployed,
) -> None:
    records = _setup_campaign(deployed)
    assert records.record(parse_event(pending())).applied
    bare = variant()
    for name in ("totalMessagePrice", "totalCarrierFee", "totalMessageParts"):
        bare.pop(name)
    assert records.record(parse_event(bare)).settled
    campaign = _campaign(deployed)
    assert (campaign["delivered"], campaign["parts"], campaign["cost_usd"]) == (
        1,
        1,
        Decimal("0.0420"),
    )
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 1, Decimal("0.0420"), 1, 0)


def test_a_first_final_status_is_never_overwritten_by_another(deployed: Deployed) -> None:
    records = _setup_campaign(deployed)
    assert records.record(parse_event(unreachable())).settled
    assert not records.record(parse_event(delivered())).applied
    campaign = _campaign(deployed)
    assert campaign["delivery_failed"] == 1
    assert "delivered" not in campaign
    assert _marker(deployed)["delivery_status"] == "UNREACHABLE"
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 1, Decimal("0.0420"), 0, 1)


def test_a_reply_is_counted_on_its_day_and_on_no_campaign(deployed: Deployed) -> None:
    records = _setup_campaign(deployed)
    reply = variant(messageId="reply-1", context={"kind": "reply", "recipient": fingerprint(ANA)})
    assert records.record(parse_event(reply)).settled
    assert "delivered" not in _campaign(deployed)
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 1, Decimal("0.0420"), 1, 0)
    (record,) = records.sent_on(DAY)
    assert (record.campaign_id, record.run, record.message_id) == ("", "", "reply-1")


def test_an_event_for_a_deleted_campaign_still_counts_on_its_day(deployed: Deployed) -> None:
    records = _setup_campaign(deployed)
    deployed.dynamodb.delete_item(
        TableName=deployed.outputs["CampaignsTableName"], Key={"campaign_id": {"S": CAMPAIGN}}
    )
    assert records.record(parse_event(delivered())).settled
    assert records.day_totals(DAY).delivered == 1
    assert _marker(deployed)["delivery_status"] == "DELIVERED"


def test_the_handler_drops_bad_and_unknown_events_without_failing_the_batch(
    deployed: Deployed,
) -> None:
    _setup_campaign(deployed)
    event = event_fixture("sqs_text_events")
    (template,) = event["Records"][:1]
    bad = copy.deepcopy(template)
    bad["messageId"] = "bad"
    bad["body"] = json.dumps({"Type": "Notification", "Message": "{not json"})
    voice = copy.deepcopy(template)
    voice["messageId"] = "voice"
    envelope = json.loads(voice["body"])
    envelope["Message"] = json.dumps(variant(eventType="VOICE_COMPLETED"))
    voice["body"] = json.dumps(envelope)
    event["Records"] += [bad, voice, copy.deepcopy(event["Records"][1])]  # and a duplicate
    out = deployed.outputs
    app = DeliveryApp(DeliverySettings(out["StateTableName"], out["CampaignsTableName"]))
    assert app.handle(event, None) == {"batchItemFailures": []}
    assert _campaign(deployed)["delivered"] == 1
    assert _marker(deployed)["delivery_status"] == "DELIVERED"


def _emf(out: str) -> list[dict[str, Any]]:
    """The embedded-metric-format lines in ``out`` (one JSON object per line)."""
    found = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found.append(json.loads(line))
    return found


def test_the_handler_counts_a_text_delivered_once_in_emf(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup_campaign(deployed)
    event = event_fixture("sqs_text_events")
    event["Records"].append(copy.deepcopy(event["Records"][1]))  # the final event, twice
    out = deployed.outputs
    app = DeliveryApp(DeliverySettings(out["StateTableName"], out["CampaignsTableName"]))
    capsys.readouterr()
    assert app.handle(event, None) == {"batchItemFailures": []}
    (line,) = _emf(capsys.readouterr().out)
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "shiftsms"
    assert directive["Dimensions"] == [["service"]]
    assert [m["Name"] for m in directive["Metrics"]] == ["TextsDelivered"]
    assert (line["service"], line["TextsDelivered"]) == ("shiftsms", [1.0])
    assert app.handle(event, None) == {"batchItemFailures": []}  # redelivered: nothing new
    assert _emf(capsys.readouterr().out) == []


class RacedClient:
    """A DynamoDB client whose first read of a text record is overtaken: another event for
    the same text is recorded between that read and the write that follows it."""

    def __init__(self, client: Any, race: Any) -> None:
        self.client = client
        self.race = race

    def get_item(self, **kw: Any) -> Any:
        seen = self.client.get_item(**kw)
        if self.race is not None:
            race, self.race = self.race, None
            race()
        return seen

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_two_deliveries_of_one_final_event_at_once_count_once(deployed: Deployed) -> None:
    records = _setup_campaign(deployed)
    out = deployed.outputs
    racer = DynamoSendRecords(deployed.dynamodb, out["StateTableName"], out["CampaignsTableName"])
    raced = DynamoSendRecords(
        RacedClient(deployed.dynamodb, lambda: racer.record(parse_event(delivered()))),  # type: ignore[arg-type]
        out["StateTableName"],
        out["CampaignsTableName"],
    )
    # its read saw no record; its write finds the racer's and reads again: a duplicate
    assert raced.record(parse_event(delivered())).applied is False
    campaign = _campaign(deployed)
    assert (campaign["delivered"], campaign["parts"], campaign["cost_usd"]) == (
        1,
        1,
        Decimal("0.0420"),
    )
    assert records.day_totals(DAY) == DayTotals(DAY, 1, 1, Decimal("0.0420"), 1, 0)


def test_an_offer_naming_the_campaign_counts_on_its_day_not_on_the_campaign(
    deployed: Deployed,
) -> None:
    records = _setup_campaign(deployed)
    offer = variant(messageId="offer-1", context={**delivered()["context"], "kind": "offer"})
    assert records.record(parse_event(offer)).settled
    assert "delivered" not in _campaign(deployed)
    assert "delivery_status" not in _marker(deployed)
    assert records.day_totals(DAY).delivered == 1


def test_records_edited_out_of_shape_read_as_unknown_values_not_a_crash(
    deployed: Deployed,
) -> None:
    records = _setup_campaign(deployed)
    reply = variant(messageId="reply-1", context={"kind": "reply", "recipient": fingerprint(ANA)})
    assert records.record(parse_event(reply)).settled
    state = deployed.outputs["StateTableName"]
    items = deployed.dynamodb.scan(TableName=state)["Items"]
    (text,) = [i for i in items if i.get("group_id", {}).get("S") == f"day#{DAY.isoformat()}"]
    (totals,) = [i for i in items if i["id"]["S"] == f"day-totals#{DAY.isoformat()}"]
    # As typed by hand in the console: numbers as words, a time that is no time.
    text.update(price_usd={"S": "cheap"}, parts={"S": "two"}, sent_at={"S": "noon"})
    totals.update(texts={"S": "many"}, cost_usd={"S": "NaN"})
    for item in (text, totals):
        deployed.dynamodb.put_item(TableName=state, Item=item)
    (record,) = records.sent_on(DAY)
    assert (record.message_id, record.parts, record.price_usd, record.sent_at) == (
        "reply-1",
        None,
        None,
        None,
    )
    day = records.day_totals(DAY)
    assert (day.texts, day.cost_usd, day.delivered) == (0, Decimal(0), 1)
