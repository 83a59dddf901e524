"""End User Messaging SMS (``pinpoint-sms-voice-v2``): send one text, map its errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.core.phone import redact
from shiftsms.errors import DestinationBlocked, RecipientOptedOut, SendRejected, SendThrottled

if TYPE_CHECKING:
    from mypy_boto3_pinpoint_sms_voice_v2 import PinpointSMSVoiceV2Client

# Errors that a later retry can fix; everything else is a permanent refusal.
TRANSIENT = frozenset({"ThrottlingException", "InternalServerException", "ServiceUnavailable"})
OPTED_OUT = "DESTINATION_PHONE_NUMBER_OPTED_OUT"
COUNTRY_BLOCKED = "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION"


class EndUserMessagingSms:
    """SmsSender on End User Messaging SMS ``SendTextMessage``."""

    def __init__(
        self,
        client: PinpointSMSVoiceV2Client,
        configuration_set: str | None = None,
        *,
        protect_configuration: str | None = None,
        max_price: str | None = None,
    ) -> None:
        """``protect_configuration`` (an id or ARN) is named on every send, so End User
        Messaging refuses a destination in a country it blocks. ``max_price``: US dollars a
        text may cost at most (``MaxPrice``; None: no cap)."""
        self.client = client
        self.configuration_set = configuration_set
        self.protect_configuration = protect_configuration
        self.max_price = max_price

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """Send ``body`` to ``to`` as a TRANSACTIONAL text; return End User Messaging's id."""
        request: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "OriginationIdentity": origination,
            "MessageBody": body,
            "MessageType": "TRANSACTIONAL",
        }
        if ttl_seconds is not None:
            request["TimeToLive"] = max(5, min(259200, ttl_seconds))
        if context:
            request["Context"] = dict(context)
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        if self.protect_configuration:
            request["ProtectConfigurationId"] = self.protect_configuration
        if self.max_price:
            # A text that would cost more is refused: ValidationException PRICE_OVER_THRESHOLD.
            request["MaxPrice"] = self.max_price
        try:
            resp = self.client.send_text_message(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            # botocore puts an error shape's modeled members (ConflictException.Reason) at the
            # top of the response, beside "Error"; it is the same with the Stubber.
            reason = str(exc.response.get("Reason", ""))
            if code == "ConflictException" and reason == OPTED_OUT:
                raise RecipientOptedOut("recipient has opted out") from exc
            if code == "ConflictException" and reason == COUNTRY_BLOCKED:
                raise DestinationBlocked(f"{code}: {reason}") from exc
            if code in TRANSIENT:
                raise SendThrottled(f"{code}: retry later") from exc
            # AWS messages may quote the destination number: never carry it into logs.
            detail = reason or redact(str(error.get("Message", "")))
            raise SendRejected(f"{code}: {detail}" if detail else code) from exc
        return str(resp.get("MessageId", ""))
