"""Amazon Connect outbound call-backs (``StartOutboundVoiceContact``)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.errors import CallError
from shiftsms.settings import ConnectSettings

if TYPE_CHECKING:
    from mypy_boto3_connect import ConnectClient

TRANSIENT = frozenset({"ThrottlingException", "InternalServiceException", "LimitExceededException"})


class ConnectCaller:
    """Caller on Amazon Connect: the employee's note travels as a contact attribute."""

    def __init__(self, client: ConnectClient, settings: ConnectSettings) -> None:
        self.client = client
        self.settings = settings

    def call_back(self, to: str, note: str, token: str) -> str:
        """Start a call to ``to``; a repeated ``token`` starts no second call."""
        request: dict[str, Any] = {
            "DestinationPhoneNumber": to,
            "ContactFlowId": self.settings.contact_flow_id,
            "InstanceId": self.settings.instance_id,
            # Connect keeps a client token for 7 days; a redelivered AGENT reuses it.
            "ClientToken": hashlib.sha256(token.encode("utf-8")).hexdigest(),
            "Attributes": {"note": note or "(none)", "source": "shiftsms"},
        }
        if self.settings.queue_id:
            request["QueueId"] = self.settings.queue_id
        if self.settings.source_number:
            request["SourcePhoneNumber"] = self.settings.source_number
        try:
            resp = self.client.start_outbound_voice_contact(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in TRANSIENT:
                raise  # the whole message is retried; the client token prevents a second call
            raise CallError(f"Connect refused the call-back: {code}") from exc
        return str(resp.get("ContactId", ""))
