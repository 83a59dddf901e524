"""Spend guard: ``MaxPricePerMessage`` reaches every SendTextMessage as ``MaxPrice``.

The template's parameter is deployed into moto, each sending function is built from its
deployed environment with no replacement sender, and its End User Messaging client is
stubbed: the request each function makes is pinned against the real API model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from shiftsms.aws.clients import client as aws_client
from shiftsms.aws.send_queue import SqsSendQueue
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.core import spend
from shiftsms.core.campaign_text import SAMPLE_CAMPAIGN_MESSAGE, campaign_text
from shiftsms.core.campaigns import SendJob
from shiftsms.core.models import StaffMember
from shiftsms.errors import NotConfigured, SendRejected
from shiftsms.handlers import inbound, sender
from shiftsms.settings import InboundSettings, SenderSettings
from tests.campaign_support import CampaignStack, FakeContext, campaign_stack, poll_once
from tests.clitools import invoke
from tests.conftest import ORIGINATION, REGION, function_environment, sns_event

ANA = "+447700900101"
# What every send's Context names her by (never the number): her phone's fingerprint.
ANA_FINGERPRINT = hashlib.sha256(ANA.encode()).hexdigest()[:20]
NOW = 1_795_860_000.0
TEXT = campaign_text(SAMPLE_CAMPAIGN_MESSAGE)


def _stubbed_clients(monkeypatch: pytest.MonkeyPatch, module: Any) -> Stubber:
    """Make ``module`` build a stubbed End User Messaging client (real clients otherwise)."""
    sms = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    session = boto3.session.Session(region_name=REGION)
    monkeypatch.setattr(
        module,
        "client",
        lambda service: sms if service == "pinpoint-sms-voice-v2" else aws_client(service, session),
    )
    return Stubber(sms)


@pytest.fixture(params=[None, "0.05", ""], ids=["default", "five-cents", "no-cap"])
def stack(request: pytest.FixtureRequest) -> Iterator[tuple[CampaignStack, str | None]]:
    """The stack deployed with MaxPricePerMessage left out, 0.05 and empty; the MaxPrice due."""
    value = request.param
    parameters = {} if value is None else {"MaxPricePerMessage": value}
    with campaign_stack(parameters) as deployed:
        deployed.add_staff(StaffMember(ANA, "Ana"))
        deployed.dynamodb.put_item(
            TableName=deployed.outputs["CampaignsTableName"],
            Item={"campaign_id": {"S": "camp-p"}, "campaign_message": {"S": "x"}},
        )
        yield deployed, {None: "0.20", "0.05": "0.05", "": None}[value]


def _request(to: str, body: object, max_price: str | None, **extra: object) -> dict[str, object]:
    request: dict[str, object] = {
        "DestinationPhoneNumber": to,
        "OriginationIdentity": ORIGINATION,
        "MessageBody": body,
        "MessageType": "TRANSACTIONAL",
        **extra,
    }
    if max_price is not None:
        request["MaxPrice"] = max_price
    return request


def test_sender_sends_with_the_stacks_max_price(
    stack: tuple[CampaignStack, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed, max_price = stack
    stub = _stubbed_clients(monkeypatch, sender)
    app = sender.SenderApp(deployed.sender_settings(), now=lambda: NOW)
    SqsSendQueue(deployed.sqs, deployed.queue_url).enqueue(
        [SendJob("camp-p", ANA, TEXT, int(NOW) + 3600)]
    )
    expected = _request(
        ANA,
        TEXT,
        max_price,
        TimeToLive=3600,
        Context={"kind": "campaign", "campaign_id": "camp-p", "recipient": ANA_FINGERPRINT},
        ProtectConfigurationId=deployed.sender_env["PROTECT_CONFIGURATION_ID"],
        ConfigurationSetName=deployed.sender_env["CONFIGURATION_SET"],
    )
    with stub:
        stub.add_response("send_text_message", {"MessageId": "m-1"}, expected)
        assert poll_once(deployed, app.handle, FakeContext()) == (1, 0)
        stub.assert_no_pending_responses()
    assert deployed.campaign_item("camp-p")["sent"] == {"N": "1"}


@dataclass
class InboundContext:
    """The parts of a Lambda context Powertools reads."""

    function_name: str = "shiftsms-inbound"
    aws_request_id: str = "8f5e1a2b-0000-4000-8000-000000000001"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:shiftsms-inbound"
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 19_000


def test_inbound_replies_with_the_stacks_max_price(
    stack: tuple[CampaignStack, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed, max_price = stack
    stub = _stubbed_clients(monkeypatch, inbound)
    env = function_environment(deployed.outputs["InboundFunctionName"])
    app = inbound.InboundApp(InboundSettings.from_env(env))
    message = {
        "originationNumber": ANA,
        "destinationNumber": ORIGINATION,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "REQUEST",
        "inboundMessageId": "in-price-1",
        "previousPublishedMessageId": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    with stub:
        expected = _request(
            ANA,
            ANY,
            max_price,
            ProtectConfigurationId=env["PROTECT_CONFIGURATION_ID"],
            ConfigurationSetName=env["CONFIGURATION_SET"],
            Context={"kind": "reply", "recipient": ANA_FINGERPRINT},
        )
        stub.add_response("send_text_message", {"MessageId": "r-1"}, expected)
        app.handle(sns_event(message), InboundContext())
        stub.assert_no_pending_responses()


def test_a_text_over_the_max_price_is_refused_and_counted_failed_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with campaign_stack({"MaxPricePerMessage": "0.01"}) as deployed:
        deployed.add_staff(StaffMember(ANA, "Ana"))
        deployed.dynamodb.put_item(
            TableName=deployed.outputs["CampaignsTableName"],
            Item={"campaign_id": {"S": "camp-p"}, "campaign_message": {"S": "x"}},
        )
        stub = _stubbed_clients(monkeypatch, sender)
        app = sender.SenderApp(deployed.sender_settings(), now=lambda: NOW)
        SqsSendQueue(deployed.sqs, deployed.queue_url).enqueue(
            [SendJob("camp-p", ANA, TEXT, int(NOW) + 3600)]
        )
        expected = _request(
            ANA,
            TEXT,
            "0.01",
            TimeToLive=3600,
            Context={"kind": "campaign", "campaign_id": "camp-p", "recipient": ANA_FINGERPRINT},
            ProtectConfigurationId=deployed.sender_env["PROTECT_CONFIGURATION_ID"],
            ConfigurationSetName=deployed.sender_env["CONFIGURATION_SET"],
        )
        with stub:
            stub.add_client_error(
                "send_text_message",
                service_error_code="ValidationException",
                service_message="The price of the message is over the threshold.",
                http_status_code=400,
                modeled_fields={"Reason": "PRICE_OVER_THRESHOLD"},
                expected_params=expected,
            )
            assert poll_once(deployed, app.handle, FakeContext()) == (1, 0)
            stub.assert_no_pending_responses()
        item = deployed.campaign_item("camp-p")
        assert item["failed"] == {"N": "1"}
        assert "sent" not in item
        assert poll_once(deployed, app.handle, FakeContext()) == (0, 0)


def test_price_over_threshold_is_a_permanent_refusal_naming_the_reason() -> None:
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_text_message",
            service_error_code="ValidationException",
            service_message="Price over threshold for +447700900101",
            http_status_code=400,
            modeled_fields={"Reason": "PRICE_OVER_THRESHOLD"},
            expected_params=_request(ANA, "hi", "0.05"),
        )
        with pytest.raises(SendRejected) as raised:
            EndUserMessagingSms(client, max_price="0.05").send(ANA, "hi", ORIGINATION)
    assert str(raised.value) == "ValidationException: PRICE_OVER_THRESHOLD"


@pytest.mark.parametrize("raw", ["1", "0.123456", "100.00", "$0.20", "0,20"])
def test_a_max_price_aws_would_refuse_stops_the_function_at_start(raw: str) -> None:
    env = {
        "CAMPAIGNS_TABLE": "c",
        "STAFF_TABLE": "s",
        "STATE_TABLE": "t",
        "ORIGINATION_IDENTITY": ORIGINATION,
        "MAX_PRICE_PER_MESSAGE": raw,
    }
    with pytest.raises(NotConfigured, match="MAX_PRICE_PER_MESSAGE must be a price"):
        SenderSettings.from_env(env)


@pytest.mark.parametrize(
    ("segments", "per_segment", "shown"),
    [
        (120, "0.04", "$4.80"),
        (2, "0.04", "$0.08"),
        (3, "0.00581", "$0.02"),
        (1, "0.00581", "$0.01"),
        (1, "0.004", "under $0.01"),
        (0, "0.04", "$0.00"),
    ],
)
def test_estimated_cost_is_shown_to_the_cent(segments: int, per_segment: str, shown: str) -> None:
    assert spend.usd(spend.estimated_cost(segments, Decimal(per_segment))) == shown


@pytest.mark.parametrize(("raw", "parsed"), [("0.04", Decimal("0.04")), ("0", None), ("", None)])
def test_price_per_segment_zero_or_empty_is_no_estimate(raw: str, parsed: Decimal | None) -> None:
    assert spend.price(raw) == parsed


# -- campaign create: the estimate beside the segment count --------------------------------


def _draft(parameters: dict[str, str], staff: int = 3) -> Any:
    with campaign_stack(parameters) as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        deployed.add_staff(*(StaffMember(f"+44770090020{i}", f"P{i}") for i in range(staff)))
        return invoke("campaign", "create", "c1", "--shifts", "XYZ123", "--dry-run")


@pytest.mark.parametrize(
    ("parameters", "billed"),
    [
        ({}, "Billed:     3 segments (3 recipients x 1 segment), about $0.12"),
        (
            {"PricePerSegment": "1.6"},
            "Billed:     3 segments (3 recipients x 1 segment), about $4.80",
        ),
        ({"PricePerSegment": "0"}, "Billed:     3 segments (3 recipients x 1 segment)"),
    ],
    ids=["default-price", "own-price", "no-estimate"],
)
def test_campaign_create_shows_the_estimated_cost(parameters: dict[str, str], billed: str) -> None:
    result = _draft({"MaxPricePerMessage": "", **parameters})
    assert result.exit_code == 0, result.output
    (line,) = [s for s in result.stdout.splitlines() if s.startswith("Billed:")]
    assert line == billed
    assert result.stderr == ""


def test_campaign_create_warns_when_each_text_would_cost_more_than_the_cap() -> None:
    result = _draft({"MaxPricePerMessage": "0.03"})
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Warning: at $0.04 a segment each text costs about $0.04, over the stack's "
        "MaxPricePerMessage $0.03: AWS would refuse every text\n"
    )


def test_campaign_create_within_the_cap_does_not_warn() -> None:
    result = _draft({"MaxPricePerMessage": "0.04"})
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


# -- deploy options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        (
            "--max-price-per-message",
            "1",
            "Error: --max-price-per-message must be a price in US dollars such as 0.20 "
            "(at most 99.99999), got '1'",
        ),
        (
            "--price-per-segment",
            "-0.04",
            "Error: --price-per-segment must be US dollars such as 0.04, got '-0.04'",
        ),
        (
            "--alarm-email",
            "ops.example.org",
            "Error: --alarm-email: not an email address: 'ops.example.org'",
        ),
    ],
)
def test_deploy_refuses_a_value_the_template_would_refuse(
    option: str, value: str, error: str
) -> None:
    result = invoke("deploy", "--origination-number", ORIGINATION, "--yes", option, value)
    assert result.exit_code == 2
    assert result.stderr == error + "\n"
