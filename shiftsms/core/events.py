"""Read the inbound-SMS JSON that End User Messaging publishes to SNS. Pure; raises one error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shiftsms.core.models import InboundSms

MAX_BODY = 1600


class MalformedEvent(ValueError):
    """A notification that is not an inbound SMS we can act on (logged and dropped)."""


def _text(payload: dict[str, Any], name: str, *, required: bool) -> str:
    value = payload.get(name)
    if value is None:
        if required:
            raise MalformedEvent(f"missing {name}")
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"{name} is not a string")
    if required and not value.strip():
        raise MalformedEvent(f"empty {name}")
    return value


def sent_time(timestamp: object) -> str:
    """An SNS ``Timestamp`` as sortable UTC text with milliseconds; "" if it is not one."""
    if not isinstance(timestamp, str):
        return ""
    try:
        at = datetime.fromisoformat(timestamp)
    except ValueError:
        return ""
    if at.tzinfo is None:
        return ""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_inbound(message: object, timestamp: object = None) -> InboundSms:
    """The SNS ``Message`` (a JSON string) and its ``Timestamp`` as an :class:`InboundSms`."""
    if not isinstance(message, str):
        raise MalformedEvent("Message is not a string")
    try:
        payload = json.loads(message)
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent("Message is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent("Message is not a JSON object")
    return InboundSms(
        message_id=_text(payload, "inboundMessageId", required=True)[:200],
        sender=_text(payload, "originationNumber", required=True)[:32],
        destination=_text(payload, "destinationNumber", required=False)[:256],
        body=_text(payload, "messageBody", required=False)[:MAX_BODY],
        keyword=_text(payload, "messageKeyword", required=False)[:30],
        sent_at=sent_time(timestamp),
    )
