"""The exact End User Messaging and Connect requests we make, pinned against botocore's model.

moto has no backend for either service, so botocore's ``Stubber`` checks every request
(parameter names, types, required members) and the error mapping. Where the Stubber could be
kinder than AWS (how a modeled error field such as ``Reason`` arrives), a fake HTTP response
goes through botocore's real response parser instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import Shape, StructureShape
from botocore.stub import Stubber

from shiftsms.aws.connect import ConnectCaller
from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.errors import CallError, RecipientOptedOut, SendRejected, SendThrottled
from shiftsms.settings import ConnectSettings

ANA = "+447700900123"
ORIGIN = "+447700900000"
CONNECT = ConnectSettings(
    instance_id="12345678-1234-1234-1234-123456789012",
    contact_flow_id="abcdef01-2345-6789-abcd-ef0123456789",
    queue_id="fedcba98-7654-3210-fedc-ba9876543210",
    source_number="+442079460000",
)


def _client(service: str, **config: Any) -> Any:
    return boto3.client(
        service,
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


@pytest.fixture
def sms_client() -> Any:
    return _client("pinpoint-sms-voice-v2")


@pytest.fixture
def connect_client() -> Any:
    return _client("connect")


@pytest.fixture
def sms_stub(sms_client: Any) -> Iterator[Stubber]:
    with Stubber(sms_client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def connect_stub(connect_client: Any) -> Iterator[Stubber]:
    with Stubber(connect_client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _check_against_model(client: Any, operation: str, params: dict[str, Any]) -> None:
    """What the Stubber leaves out: string lengths, enums and patterns of the model."""
    shape = client.meta.service_model.operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    assert set(shape.required_members) <= set(params)
    for name, value in params.items():
        member: Shape = shape.members[name]
        if member.type_name != "string":
            continue
        meta = member.metadata
        assert meta.get("min", 0) <= len(value) <= meta.get("max", 10**9), name
        enum = getattr(member, "enum", None)
        if enum:
            assert value in enum, name
        if "pattern" in meta:
            # Connect's model escapes its phone pattern twice ("\\+"): read it once unescaped.
            pattern = meta["pattern"].replace("\\\\", "\\")
            assert re.fullmatch(pattern.rstrip("$"), value), (name, pattern, value)


# -- SendTextMessage -----------------------------------------------------------------------


def test_send_text_message_request(sms_client: Any, sms_stub: Stubber) -> None:
    expected = {
        "DestinationPhoneNumber": ANA,
        "OriginationIdentity": ORIGIN,
        "MessageBody": "Booked: XYZ123. Thank you!",
        "MessageType": "TRANSACTIONAL",
    }
    sms_stub.add_response("send_text_message", {"MessageId": "mid-1"}, expected)
    sender = EndUserMessagingSms(sms_client)
    assert sender.send(ANA, "Booked: XYZ123. Thank you!", ORIGIN) == "mid-1"
    _check_against_model(sms_client, "SendTextMessage", expected)


def test_send_text_message_with_ttl_context_and_configuration_set(
    sms_client: Any, sms_stub: Stubber
) -> None:
    expected = {
        "DestinationPhoneNumber": ANA,
        "OriginationIdentity": ORIGIN,
        "MessageBody": "New shifts: XYZ123",
        "MessageType": "TRANSACTIONAL",
        "TimeToLive": 14400,
        "Context": {"campaign": "c-1"},
        "ConfigurationSetName": "shiftsms",
    }
    sms_stub.add_response("send_text_message", {"MessageId": "mid-2"}, expected)
    sender = EndUserMessagingSms(sms_client, configuration_set="shiftsms")
    message_id = sender.send(
        ANA, "New shifts: XYZ123", ORIGIN, context={"campaign": "c-1"}, ttl_seconds=14400
    )
    assert message_id == "mid-2"
    _check_against_model(sms_client, "SendTextMessage", expected)


@pytest.mark.parametrize(("ttl", "sent"), [(1, 5), (10**7, 259200)])
def test_time_to_live_is_clamped_to_the_model_range(
    sms_client: Any, sms_stub: Stubber, ttl: int, sent: int
) -> None:
    sms_stub.add_response(
        "send_text_message",
        {"MessageId": "m"},
        {
            "DestinationPhoneNumber": ANA,
            "OriginationIdentity": ORIGIN,
            "MessageBody": "x",
            "MessageType": "TRANSACTIONAL",
            "TimeToLive": sent,
        },
    )
    EndUserMessagingSms(sms_client).send(ANA, "x", ORIGIN, ttl_seconds=ttl)


def test_opted_out_destination_is_recipient_opted_out(sms_client: Any, sms_stub: Stubber) -> None:
    sms_stub.add_client_error(
        "send_text_message",
        service_error_code="ConflictException",
        service_message="The destination phone number is opted out.",
        http_status_code=400,
        modeled_fields={
            "Message": "The destination phone number is opted out.",
            "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
            "ResourceType": "opt-out",
            "ResourceId": "Default",
        },
    )
    with pytest.raises(RecipientOptedOut) as caught:
        EndUserMessagingSms(sms_client).send(ANA, "hi", ORIGIN)
    assert isinstance(caught.value.__cause__, ClientError)


def test_other_conflicts_are_rejections_not_opt_outs(sms_client: Any, sms_stub: Stubber) -> None:
    sms_stub.add_client_error(
        "send_text_message",
        service_error_code="ConflictException",
        service_message="Destination not verified",
        http_status_code=400,
        modeled_fields={"Reason": "DESTINATION_PHONE_NUMBER_NOT_VERIFIED"},
    )
    with pytest.raises(SendRejected, match="DESTINATION_PHONE_NUMBER_NOT_VERIFIED") as caught:
        EndUserMessagingSms(sms_client).send(ANA, "hi", ORIGIN)
    assert not isinstance(caught.value, RecipientOptedOut)


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerException"])
def test_throttling_is_send_throttled(sms_client: Any, sms_stub: Stubber, code: str) -> None:
    sms_stub.add_client_error("send_text_message", service_error_code=code, http_status_code=429)
    with pytest.raises(SendThrottled):
        EndUserMessagingSms(sms_client).send(ANA, "hi", ORIGIN)


@pytest.mark.parametrize(
    "code",
    [
        "ValidationException",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ServiceQuotaExceededException",
    ],
)
def test_permanent_errors_are_send_rejected(sms_client: Any, sms_stub: Stubber, code: str) -> None:
    sms_stub.add_client_error(
        "send_text_message",
        service_error_code=code,
        service_message=f"Invalid destination {ANA}",
        http_status_code=400,
    )
    with pytest.raises(SendRejected) as caught:
        EndUserMessagingSms(sms_client).send(ANA, "hi", ORIGIN)
    assert type(caught.value) is SendRejected
    message = str(caught.value)
    assert message.startswith(code)
    assert ANA not in message and "900123" not in message  # may be logged: no full number


class _Raw:
    """Just enough of a urllib3 response for botocore's AWSResponse."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _serve(client: Any, operation: str, status: int, body: dict[str, Any]) -> None:
    """Answer ``operation`` with a raw HTTP response parsed by botocore's real parser."""

    def send(request: Any, **_: Any) -> AWSResponse:
        headers = {
            "x-amzn-RequestId": "req-1",
            "Content-Type": "application/x-amz-json-1.0",
        }
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))

    client.meta.events.register(f"before-send.*.{operation}", send)


def test_opted_out_as_aws_sends_it_through_the_real_parser() -> None:
    client = _client("pinpoint-sms-voice-v2", retries={"max_attempts": 1})
    _serve(
        client,
        "SendTextMessage",
        400,
        {
            "__type": "com.amazonaws.pinpointsmsvoicev2#ConflictException",
            "Message": "Conflict",
            "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
            "ResourceType": "opt-out",
            "ResourceId": "Default",
        },
    )
    # The modeled member arrives at the top of the parsed response, beside "Error".
    with pytest.raises(ClientError) as raw:
        client.send_text_message(DestinationPhoneNumber=ANA, MessageBody="hi")
    assert raw.value.response["Error"]["Code"] == "ConflictException"
    assert raw.value.response["Reason"] == "DESTINATION_PHONE_NUMBER_OPTED_OUT"  # type: ignore[typeddict-item]
    with pytest.raises(RecipientOptedOut):
        EndUserMessagingSms(client).send(ANA, "hi", ORIGIN)


def test_throttling_as_aws_sends_it_through_the_real_parser() -> None:
    client = _client("pinpoint-sms-voice-v2", retries={"max_attempts": 1})
    _serve(
        client,
        "SendTextMessage",
        400,
        {"__type": "com.amazonaws.pinpointsmsvoicev2#ThrottlingException", "Message": "Rate"},
    )
    with pytest.raises(SendThrottled):
        EndUserMessagingSms(client).send(ANA, "hi", ORIGIN)


def test_validation_as_aws_sends_it_through_the_real_parser() -> None:
    client = _client("pinpoint-sms-voice-v2", retries={"max_attempts": 1})
    _serve(
        client,
        "SendTextMessage",
        400,
        {
            "__type": "com.amazonaws.pinpointsmsvoicev2#ValidationException",
            "Message": f"Invalid destination phone number {ANA}",
            "Reason": "INVALID_PARAMETER",
            "Fields": [{"Name": "DestinationPhoneNumber", "Message": "invalid"}],
        },
    )
    with pytest.raises(SendRejected, match="ValidationException: INVALID_PARAMETER"):
        EndUserMessagingSms(client).send(ANA, "hi", ORIGIN)


# -- StartOutboundVoiceContact -------------------------------------------------------------


def test_start_outbound_voice_contact_request(connect_client: Any, connect_stub: Stubber) -> None:
    expected = {
        "DestinationPhoneNumber": ANA,
        "ContactFlowId": CONNECT.contact_flow_id,
        "InstanceId": CONNECT.instance_id,
        "QueueId": CONNECT.queue_id,
        "SourcePhoneNumber": CONNECT.source_number,
        "ClientToken": hashlib.sha256(b"inbound-1").hexdigest(),
        "Attributes": {"note": "about Saturday", "source": "shiftsms"},
    }
    connect_stub.add_response("start_outbound_voice_contact", {"ContactId": "c-1"}, expected)
    caller = ConnectCaller(connect_client, CONNECT)
    assert caller.call_back(ANA, "about Saturday", token="inbound-1") == "c-1"
    _check_against_model(connect_client, "StartOutboundVoiceContact", expected)


def test_call_back_token_is_stable_per_message(connect_client: Any, connect_stub: Stubber) -> None:
    """A redelivered AGENT sends the same ClientToken, so Connect places one call."""
    token = hashlib.sha256(b"inbound-7").hexdigest()
    assert len(token) <= 500  # the model's ClientToken limit
    for _ in range(2):
        connect_stub.add_response(
            "start_outbound_voice_contact",
            {"ContactId": "c-1"},
            {
                "DestinationPhoneNumber": ANA,
                "ContactFlowId": CONNECT.contact_flow_id,
                "InstanceId": CONNECT.instance_id,
                "QueueId": CONNECT.queue_id,
                "SourcePhoneNumber": CONNECT.source_number,
                "ClientToken": token,
                "Attributes": {"note": "(none)", "source": "shiftsms"},
            },
        )
    caller = ConnectCaller(connect_client, CONNECT)
    assert caller.call_back(ANA, "", token="inbound-7") == "c-1"
    assert caller.call_back(ANA, "", token="inbound-7") == "c-1"


def test_minimal_connect_settings_send_only_required_members(connect_client: Any) -> None:
    settings = ConnectSettings(instance_id="inst-1", contact_flow_id="flow-1")
    with Stubber(connect_client) as stub:
        stub.add_response(
            "start_outbound_voice_contact",
            {"ContactId": "c-2"},
            {
                "DestinationPhoneNumber": ANA,
                "ContactFlowId": "flow-1",
                "InstanceId": "inst-1",
                "ClientToken": hashlib.sha256(b"m").hexdigest(),
                "Attributes": {"note": "hi", "source": "shiftsms"},
            },
        )
        assert ConnectCaller(connect_client, settings).call_back(ANA, "hi", "m") == "c-2"
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "InternalServiceException", "LimitExceededException"]
)
def test_connect_transient_errors_are_re_raised(
    connect_client: Any, connect_stub: Stubber, code: str
) -> None:
    connect_stub.add_client_error(
        "start_outbound_voice_contact", service_error_code=code, http_status_code=429
    )
    with pytest.raises(ClientError) as caught:
        ConnectCaller(connect_client, CONNECT).call_back(ANA, "", "m")
    assert caught.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",
        "DestinationNotAllowedException",
        "OutboundContactNotPermittedException",
        "InvalidParameterException",
        "ResourceNotFoundException",
    ],
)
def test_connect_refusals_are_call_errors(
    connect_client: Any, connect_stub: Stubber, code: str
) -> None:
    connect_stub.add_client_error(
        "start_outbound_voice_contact",
        service_error_code=code,
        service_message=f"cannot call {ANA}",
        http_status_code=403,
    )
    with pytest.raises(CallError) as caught:
        ConnectCaller(connect_client, CONNECT).call_back(ANA, "", "m")
    assert code in str(caught.value)
    assert ANA not in str(caught.value)
