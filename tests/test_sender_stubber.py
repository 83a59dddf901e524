"""The sender's ``SendTextMessage`` request, pinned against the real API model with Stubber."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from shiftsms.aws.send_markers import marker_id
from shiftsms.aws.send_queue import SqsSendQueue
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.core.campaign_text import SAMPLE_CAMPAIGN_MESSAGE, campaign_text
from shiftsms.core.campaigns import SendJob
from shiftsms.core.models import StaffMember
from shiftsms.handlers.sender import SenderApp
from tests.campaign_support import CampaignStack, FakeContext, campaign_stack, poll_once
from tests.conftest import ORIGINATION, REGION
from tests.fakes import FreeSlots

ANA, BEN = "+447700900101", "+447700900102"
NOW = 1_795_860_000.0
TEXT = campaign_text(SAMPLE_CAMPAIGN_MESSAGE)


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack() as deployed:
        deployed.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"))
        deployed.dynamodb.put_item(
            TableName=deployed.outputs["CampaignsTableName"],
            Item={"campaign_id": {"S": "camp-s"}, "campaign_message": {"S": "x"}},
        )
        yield deployed


def request(to: str, ttl: int) -> dict[str, object]:
    return {
        "DestinationPhoneNumber": to,
        "OriginationIdentity": ORIGINATION,
        "MessageBody": TEXT,
        "MessageType": "TRANSACTIONAL",
        "TimeToLive": ttl,
        # the campaign and the recipient's phone fingerprint (never the number)
        "Context": {
            "kind": "campaign",
            "campaign_id": "camp-s",
            "recipient": hashlib.sha256(to.encode()).hexdigest()[:20],
        },
    }


def test_send_text_message_request_is_pinned(stack: CampaignStack) -> None:
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    app = SenderApp(
        stack.sender_settings(),
        sms=EndUserMessagingSms(client),
        limiter=FreeSlots(),
        now=lambda: NOW,
    )
    SqsSendQueue(stack.sqs, stack.queue_url).enqueue(
        [
            SendJob("camp-s", ANA, TEXT, int(NOW) + 3600),
            SendJob("camp-s", BEN, TEXT, int(NOW) + 3600),
        ]
    )
    with Stubber(client) as stub:
        stub.add_response("send_text_message", {"MessageId": "m-ana"}, request(ANA, 3600))
        stub.add_client_error(
            "send_text_message",
            service_error_code="ConflictException",
            service_message="The destination phone number is opted out.",
            http_status_code=400,
            modeled_fields={
                "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
                "ResourceType": "opt-out-list",
                "ResourceId": "Default",
            },
            expected_params=request(BEN, 3600),
        )
        assert poll_once(stack, app.handle, FakeContext()) == (2, 0)
        stub.assert_no_pending_responses()
    state = {
        k: stack.dynamodb.get_item(
            TableName=stack.outputs["StateTableName"], Key={"id": {"S": marker_id("camp-s", k)}}
        )["Item"]
        for k in (ANA, BEN)
    }
    assert state[ANA]["state"] == {"S": "sent"}
    assert state[ANA]["message_id"] == {"S": "m-ana"}
    assert state[BEN]["state"] == {"S": "opted_out"}
    item = stack.campaign_item("camp-s")
    assert (item["sent"], item["opted_out"]) == ({"N": "1"}, {"N": "1"})


def test_ttl_is_what_is_left_of_the_offer(stack: CampaignStack) -> None:
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    app = SenderApp(
        stack.sender_settings(),
        sms=EndUserMessagingSms(client),
        limiter=FreeSlots(),
        now=lambda: NOW,
    )
    SqsSendQueue(stack.sqs, stack.queue_url).enqueue([SendJob("camp-s", ANA, TEXT, int(NOW) + 125)])
    with Stubber(client) as stub:
        stub.add_response("send_text_message", {"MessageId": "m-1"}, request(ANA, 125))
        assert poll_once(stack, app.handle, FakeContext()) == (1, 0)
        stub.assert_no_pending_responses()
