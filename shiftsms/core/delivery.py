"""Delivery receipts: End User Messaging's text events, and the send records they settle. Pure.

End User Messaging publishes one JSON event per status change of a text sent through a
configuration set (to its event destination): ``eventType`` (``TEXT_DELIVERED``, ...),
``messageId``, ``messageStatus``, ``isFinal``, ``eventTimestamp`` and
``messageRequestTimestamp`` (Unix milliseconds), ``totalMessageParts``,
``totalMessagePrice``, ``totalCarrierFee`` (US dollars) and ``context`` (what the send gave
in ``Context``). Events arrive late, twice and out of order; carrier receipts can take 72 h.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# The text statuses End User Messaging reports (``eventType`` is ``TEXT_`` + the status).
DELIVERED_STATUSES = frozenset({"DELIVERED", "SUCCESSFUL"})
TEXT_STATUSES = frozenset(
    {
        "SUCCESSFUL",
        "DELIVERED",
        "SENT",
        "PENDING",
        "QUEUED",
        "INVALID",
        "INVALID_MESSAGE",
        "UNREACHABLE",
        "CARRIER_UNREACHABLE",
        "BLOCKED",
        "CARRIER_BLOCKED",
        "SPAM",
        "UNKNOWN",
        "TTL_EXPIRED",
        "PROTECT_BLOCKED",
    }
)
EVENT_PREFIX = "TEXT_"
# The ``kind`` a send names in its Context (the shared contract).
KINDS = ("campaign", "reply", "offer", "reminder", "notify")


class UnknownEvent(ValueError):
    """An event of a type shiftsms does not record (voice, MMS, registrations, new types)."""


class MalformedEvent(ValueError):
    """An event that is not End User Messaging's text event JSON."""


@dataclass(frozen=True)
class SendRecord:
    """What shiftsms knows of one text it sent (or meant to send) and what it cost.

    ``recipient`` is the phone fingerprint, never the number. ``outcome`` is what the send did
    (sent, failed, opted_out, skipped, ...); ``delivery_status`` what the carrier last said
    (None: nothing yet). Texts outside a campaign (replies) have ``campaign_id`` and ``run`` "".
    """

    campaign_id: str
    run: str
    recipient: str
    sent_at: datetime | None
    outcome: str
    delivery_status: str | None = None
    parts: int | None = None
    price_usd: Decimal | None = None
    carrier_fee_usd: Decimal | None = None
    message_id: str | None = None

    @property
    def cost_usd(self) -> Decimal:
        """Price and carrier fee reported so far (0 when none)."""
        return (self.price_usd or Decimal(0)) + (self.carrier_fee_usd or Decimal(0))


@dataclass(frozen=True)
class DayTotals:
    """Every text sent on one UTC day (campaign texts and replies): counts and cost."""

    day: date
    texts: int = 0
    parts: int = 0
    cost_usd: Decimal = Decimal(0)
    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True)
class DeliveryEvent:
    """One text event, read from End User Messaging's JSON."""

    event_type: str
    message_id: str
    status: str
    is_final: bool
    at: datetime
    requested_at: datetime
    parts: int | None = None
    price_usd: Decimal | None = None
    carrier_fee_usd: Decimal | None = None
    context: Mapping[str, str] = field(default_factory=dict)

    @property
    def delivered(self) -> bool:
        """True for a final delivered (or carrier-accepted) status."""
        return self.is_final and self.status in DELIVERED_STATUSES

    @property
    def failed(self) -> bool:
        """True for any other final status."""
        return self.is_final and self.status not in DELIVERED_STATUSES

    @property
    def cost_usd(self) -> Decimal:
        """Price and carrier fee of the text (0 when not reported)."""
        return (self.price_usd or Decimal(0)) + (self.carrier_fee_usd or Decimal(0))

    @property
    def kind(self) -> str:
        """The send's kind from its Context ("" when it named none)."""
        return str(self.context.get("kind", ""))

    @property
    def campaign_id(self) -> str:
        return str(self.context.get("campaign_id", ""))

    @property
    def run(self) -> str:
        return str(self.context.get("run", ""))

    @property
    def reoffer(self) -> str:
        """The re-offer round of a campaign text ("" for the campaign's own offer)."""
        return str(self.context.get("reoffer", ""))

    @property
    def recipient(self) -> str:
        """The recipient's phone fingerprint from the Context ("" when none)."""
        return str(self.context.get("recipient", ""))

    @property
    def day(self) -> date:
        """The UTC day the text was sent (requested): the day its totals count on."""
        return self.requested_at.date()


def _millis(raw: Any, name: str) -> datetime:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise MalformedEvent(f"{name} is not a Unix time in milliseconds")
    try:
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedEvent(f"{name} is out of range") from exc


def _money(raw: Any, name: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal):
        raise MalformedEvent(f"{name} is not a number")
    value = Decimal(raw)
    if not value.is_finite() or value < 0:
        raise MalformedEvent(f"{name} is not a price")
    return value


def _parts(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise MalformedEvent("totalMessageParts is not a count")
    return raw


def parse_event(raw: str | Mapping[str, Any]) -> DeliveryEvent:
    """The text event in ``raw`` (JSON text, or decoded).

    Raises UnknownEvent for an event type that is not a text status, MalformedEvent for
    anything that is not the documented shape.
    """
    try:
        text = raw if isinstance(raw, str) else json.dumps(raw)
        data = json.loads(text, parse_float=Decimal)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent("not JSON") from exc
    if not isinstance(data, Mapping):
        raise MalformedEvent("not a JSON object")
    event_type = data.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedEvent("no eventType")
    if (
        not event_type.startswith(EVENT_PREFIX)
        or event_type[len(EVENT_PREFIX) :] not in TEXT_STATUSES
    ):
        raise UnknownEvent(f"event type {event_type[:40]} is not recorded")
    message_id = data.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        raise MalformedEvent("no messageId")
    status = data.get("messageStatus") or event_type.removeprefix(EVENT_PREFIX)
    if not isinstance(status, str) or status not in TEXT_STATUSES:
        raise MalformedEvent("messageStatus is not a text status")
    is_final = data.get("isFinal")
    if not isinstance(is_final, bool):
        raise MalformedEvent("isFinal is not true or false")
    context = data.get("context") or {}
    if not isinstance(context, Mapping):
        raise MalformedEvent("context is not an object")
    at = _millis(data.get("eventTimestamp"), "eventTimestamp")
    requested = data.get("messageRequestTimestamp")
    return DeliveryEvent(
        event_type=event_type,
        message_id=message_id,
        status=status,
        is_final=is_final,
        at=at,
        requested_at=at if requested is None else _millis(requested, "messageRequestTimestamp"),
        parts=_parts(data.get("totalMessageParts")),
        price_usd=_money(data.get("totalMessagePrice"), "totalMessagePrice"),
        carrier_fee_usd=_money(data.get("totalCarrierFee"), "totalCarrierFee"),
        context={str(k): str(v) for k, v in context.items()},
    )


def event_json(
    *,
    status: str,
    message_id: str,
    is_final: bool,
    at: datetime,
    requested_at: datetime,
    origination: str,
    destination: str,
    iso_country: str,
    parts: int,
    price_usd: Decimal,
    carrier_fee_usd: Decimal,
    context: Mapping[str, str],
    message_type: str = "TRANSACTIONAL",
    encoding: str = "GSM",
) -> dict[str, Any]:
    """A text event as End User Messaging publishes it (the sandbox emits these)."""
    return {
        "eventType": EVENT_PREFIX + status,
        "eventVersion": "1.0",
        "eventTimestamp": int(at.timestamp() * 1000),
        "isFinal": is_final,
        "originationPhoneNumber": origination,
        "destinationPhoneNumber": destination,
        "isoCountryCode": iso_country,
        "isInternationalSend": False,
        "messageId": message_id,
        "messageRequestTimestamp": int(requested_at.timestamp() * 1000),
        "messageEncoding": encoding,
        "messageType": message_type,
        "messageStatus": status,
        "messageStatusDescription": DESCRIPTIONS.get(status, status.replace("_", " ").lower()),
        "context": dict(context),
        "totalMessageParts": parts,
        "totalMessagePrice": float(price_usd),
        "totalCarrierFee": float(carrier_fee_usd),
    }


DESCRIPTIONS = {
    "DELIVERED": "Message has been accepted by phone",
    "SUCCESSFUL": "Message has been accepted by phone carrier",
    "PENDING": "Message is pending delivery",
    "UNREACHABLE": "Phone is switched off or out of coverage",
}


def send_context(
    kind: str, recipient: str, *, campaign_id: str = "", run: str = "", **extra: str
) -> dict[str, str]:
    """A send's ``Context`` (copied into its events): ``kind``, the campaign and run if any,
    ``recipient`` = the phone fingerprint (given already fingerprinted, never the number).
    End User Messaging takes at most 5 pairs of non-empty values."""
    context = {"kind": kind, "campaign_id": campaign_id, "run": run, "recipient": recipient}
    context.update(extra)
    kept = {k: v for k, v in context.items() if v}
    if len(kept) > 5:
        raise ValueError("End User Messaging takes at most 5 Context entries")
    return kept
