"""The sandbox's End User Messaging publishes text events through the configuration set."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from shiftsms.core.delivery import parse_event
from shiftsms.local import config_sets
from shiftsms.local.telecom import ApiError, Telecom

ORIGIN = "+447700900000"
ANA, BEN, CLEO = "+447700900123", "+447700900456", "+447700900789"
TOPIC = "arn:aws:sns:eu-west-2:123456789012:shiftsms-DeliveryEventsTopic"
TEXT = "Open shifts: XYZ123 15/08 5h nightshift. Reply a code to book."


@pytest.fixture
def telecom() -> Telecom:
    config_sets.REGISTRY.create(
        "eu-west-2",
        "test-texts",
        [config_sets.Destination(TOPIC, frozenset({"TEXT_ALL"}))],
    )
    phone = Telecom("eu-west-2")
    phone.add_number(ORIGIN)
    return phone


def _send(telecom: Telecom, to: str, **extra: object) -> tuple[str, list[tuple[str, str]]]:
    published: list[tuple[str, str]] = []
    telecom.publish = lambda topic, message: published.append((topic, message))
    body = {
        "DestinationPhoneNumber": to,
        "OriginationIdentity": ORIGIN,
        "MessageBody": TEXT,
        "ConfigurationSetName": "test-texts",
        "Context": {"kind": "campaign", "campaign_id": "c1"},
        **extra,
    }
    message_id = telecom.sms_api("SendTextMessage", body)["MessageId"]
    return message_id, published


def test_a_text_is_reported_delivered_with_its_price(telecom: Telecom) -> None:
    message_id, published = _send(telecom, ANA)
    assert {topic for topic, _ in published} == {TOPIC}
    events = [parse_event(message) for _, message in published]
    assert [(e.event_type, e.is_final) for e in events] == [
        ("TEXT_PENDING", False),
        ("TEXT_DELIVERED", True),
    ]
    assert [e.message_id for e in events] == [message_id, message_id]
    assert events[0].at < events[1].at  # the pending one happened first
    final = events[-1]
    assert final.message_id == message_id
    assert (final.parts, final.price_usd, final.carrier_fee_usd) == (
        1,
        Decimal("0.0395"),
        Decimal("0"),
    )
    assert dict(final.context) == {"kind": "campaign", "campaign_id": "c1"}
    raw = json.loads(published[-1][1])
    assert raw["destinationPhoneNumber"] == ANA
    assert raw["isoCountryCode"] == "GB"


def test_the_reserved_numbers_fail_and_are_reported_twice(telecom: Telecom) -> None:
    _, to_cleo = _send(telecom, CLEO)
    assert [json.loads(m)["eventType"] for _, m in to_cleo] == ["TEXT_PENDING", "TEXT_UNREACHABLE"]
    _, to_ben = _send(telecom, BEN)
    assert [json.loads(m)["eventType"] for _, m in to_ben] == [
        "TEXT_PENDING",
        "TEXT_DELIVERED",
        "TEXT_PENDING",  # late: after the final
        "TEXT_DELIVERED",  # twice
    ]


def test_no_configuration_set_no_events_and_an_unknown_one_is_refused(
    telecom: Telecom,
) -> None:
    published: list[tuple[str, str]] = []
    telecom.publish = lambda topic, message: published.append((topic, message))
    body = {"DestinationPhoneNumber": ANA, "OriginationIdentity": ORIGIN, "MessageBody": TEXT}
    telecom.sms_api("SendTextMessage", body)
    assert published == []
    with pytest.raises(ApiError) as refused:
        telecom.sms_api("SendTextMessage", {**body, "ConfigurationSetName": "nope"})
    assert refused.value.code == "ResourceNotFoundException"
    assert len(telecom.outbox) == 1  # the refused text reached no phone
