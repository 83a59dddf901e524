"""End User Messaging SMS in process, for tests that deploy into moto (which has none).

The deploy's clients for ``pinpoint-sms-voice-v2`` are answered by the sandbox's
``Telecom`` (which checks each request against botocore's model) from a ``before-call``
hook, as botocore's Stubber answers: the request never leaves the process.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.awsrequest import AWSResponse

from shiftsms.local.telecom import ApiError, Telecom

SERVICE = "pinpoint-sms-voice-v2"


class InProcessSmsVoice:
    """Answers every call of the clients it is attached to from one ``Telecom``."""

    def __init__(self, region: str) -> None:
        self.telecom = Telecom(region)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def attach(self, client: Any) -> Any:
        """Serve ``client``'s calls from here; returns the client."""
        client.meta.events.register_first(f"before-call.{SERVICE}", self._answer)
        return client

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, Any]:
        raw = params.get("body") or b"{}"
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        self.calls.append((model.name, body))
        try:
            result = self.telecom.sms_api(model.name, body)
        except ApiError as exc:
            error = {"Error": {"Code": exc.code, "Message": exc.message}, **exc.extra}
            return AWSResponse("", exc.status, {}, None), error  # type: ignore[arg-type]
        return AWSResponse("", 200, {}, None), result  # type: ignore[arg-type]
