"""The phone network of the sandbox: End User Messaging SMS and Amazon Connect at the API level.

Requests are checked against botocore's own service model (unknown or missing members, types,
lengths, patterns, enums), so a request the emulator accepts is one AWS would parse. Sent texts
land in an outbox; call-backs in a call log. Like End User Messaging, the sandbox keeps an
opt-out list: a phone that texts STOP (or another opt-out keyword) is opted out, START or
UNSTOP opts it back in, and sends to an opted-out number fail with ``ConflictException``
(reason ``DESTINATION_PHONE_NUMBER_OPTED_OUT``). A send that names a protect configuration
(``ProtectConfigurationId``) whose SMS rule for the destination's country is BLOCK fails with
``ConflictException`` (reason ``DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION``) and
reaches no phone; the rule sets are read and changed with
``Get``/``UpdateProtectConfigurationCountryRuleSet``.

A send that names a configuration set (``ConfigurationSetName``) has its text events
published, as End User Messaging does, to the set's SNS event destinations: a
``TEXT_PENDING`` (not final), then a final ``TEXT_DELIVERED``, each with the parts, a price and
carrier fee per part from :data:`RATES` and the send's ``Context``. Two reserved numbers make
the other cases happen: texts to :data:`UNREACHABLE` end ``TEXT_UNREACHABLE`` (still in the
outbox: the sandbox shows what was sent), and both events of a text to
:data:`DELIVERED_TWICE` are published again, the pending one after the final (late and out of
order, as receipts arrive).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import botocore.session
import phonenumbers
from botocore.model import OperationModel, Shape

from shiftsms.core.commands import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS
from shiftsms.core.delivery import event_json
from shiftsms.core.gsm import segment_info
from shiftsms.local import config_sets
from shiftsms.local.protect import REGISTRY, ProtectConfiguration, register_with_moto

SMS_SERVICE = "pinpoint-sms-voice-v2"
CONNECT_SERVICE = "connect"
OPTED_OUT = "DESTINATION_PHONE_NUMBER_OPTED_OUT"
COUNTRY_BLOCKED = "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION"
ACCOUNT_ID = "123456789012"
# Countries End User Messaging keeps SMS rules for: phonenumbers' two-letter regions.
SMS_COUNTRIES = tuple(sorted(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2))

register_with_moto()  # the template's AWS::SMSVOICE::ProtectConfiguration deploys into moto

# US dollars per part (price, carrier fee) by destination country: a small rate table.
RATES = {
    "GB": (Decimal("0.0395"), Decimal("0")),
    "IE": (Decimal("0.0720"), Decimal("0")),
    "US": (Decimal("0.00581"), Decimal("0.00302")),
}
DEFAULT_RATE = (Decimal("0.0500"), Decimal("0"))
# Reserved sandbox numbers (Ofcom's drama range): never reached; final event sent twice.
UNREACHABLE = frozenset({"+447700900789"})
DELIVERED_TWICE = frozenset({"+447700900456"})

# End User Messaging answers these keywords itself (the sandbox uses its default texts).
OPT_OUT_REPLY = (
    "You have been unsubscribed and will receive no more messages. Reply START to opt in."
)
OPT_IN_REPLY = "You are subscribed again. Reply STOP to opt out."
HELP_REPLY = "Shift booking texts. Reply STOP to opt out."


def _country(to: str) -> str:
    """The destination's ISO country ("" when it cannot be told)."""
    try:
        number = phonenumbers.parse(to)
    except phonenumbers.NumberParseException:
        return ""
    # a number outside the ranges phonenumbers lists: its calling code's country
    return phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code or 0
    )


class ApiError(Exception):
    """An AWS error response: code, message, HTTP status and modelled extra members."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operation(service: str, name: str) -> OperationModel:
    """botocore's model of one operation."""
    return _model(service).operation_model(name)  # type: ignore[no-any-return]


def validate(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Problems with ``value`` against ``shape`` (an empty list when AWS would accept it)."""
    where = path or shape.name
    check = _CHECKS.get(shape.type_name)
    return check(shape, value, where) if check else []


def _structure(shape: Shape, value: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object"]
    members = shape.members  # type: ignore[attr-defined]
    problems = [f"{where}: unknown member {k}" for k in value if k not in members]
    problems += [
        f"{where}: missing required member {k}" for k in shape.required_members if k not in value
    ]
    for k, v in value.items():
        if k in members:
            problems += validate(members[k], v, f"{where}.{k}")
    return problems


def _list(shape: Shape, value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        return [f"{where}: expected a list"]
    problems = _length(shape, len(value), where)
    for i, v in enumerate(value):
        problems += validate(shape.member, v, f"{where}[{i}]")  # type: ignore[attr-defined]
    return problems


def _map(shape: Shape, value: Any, where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected a map"]
    problems = _length(shape, len(value), where)
    for k, v in value.items():
        problems += validate(shape.key, k, f"{where} key")  # type: ignore[attr-defined]
        problems += validate(shape.value, v, f"{where}.{k}")  # type: ignore[attr-defined]
    return problems


def _string(shape: Shape, value: Any, where: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: expected a string"]
    problems = _length(shape, len(value), where)
    # Some models escape twice (``\\+``); read those patterns as the service does.
    pattern = str(shape.metadata.get("pattern", "")).replace("\\\\", "\\")
    if pattern and not re.fullmatch(pattern, value):
        problems.append(f"{where}: does not match {pattern}")
    enum = list(getattr(shape, "enum", []) or [])
    if enum and value not in enum:
        problems.append(f"{where}: must be one of {', '.join(enum)}")
    return problems


def _integer(shape: Shape, value: Any, where: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{where}: expected an integer"]
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        return [f"{where}: out of range [{low}, {high}]"]
    return []


def _boolean(shape: Shape, value: Any, where: str) -> list[str]:
    return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]


_CHECKS: dict[str, Callable[[Shape, Any, str], list[str]]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "boolean": _boolean,
}


def _length(shape: Shape, size: int, where: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        return [f"{where}: shorter than {low}"]
    if high is not None and size > high:
        return [f"{where}: longer than {high}"]
    return []


def check_request(service: str, op_name: str, body: dict[str, Any], error: str) -> None:
    """Raise ``error`` (an AWS validation error code) if ``body`` does not fit the model."""
    shape = operation(service, op_name).input_shape
    problems = validate(shape, body) if shape is not None else []
    if problems:
        raise ApiError(error, "; ".join(problems[:5]))


def now_iso() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class SentText:
    """One SMS the sandbox delivered to a phone."""

    seq: int
    message_id: str
    origination: str
    destination: str
    body: str
    segments: int
    encoding: str
    message_type: str
    sent_at: str
    context: dict[str, str] = field(default_factory=dict)
    source: str = "SendTextMessage"


@dataclass
class CallBack:
    """One outbound call Connect was asked to place."""

    seq: int
    contact_id: str
    destination: str
    instance_id: str
    contact_flow_id: str
    queue_id: str
    source_number: str
    attributes: dict[str, str]
    client_token: str
    at: str


@dataclass
class PhoneNumber:
    """An origination number of the sandbox account."""

    number: str
    number_id: str
    two_way_channel: str = ""
    two_way_enabled: bool = False


class Telecom:
    """Outbox, call log, opt-out list and origination numbers; safe across server threads."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.cond = threading.Condition()
        self.outbox: list[SentText] = []
        self.calls: list[CallBack] = []
        self.opted_out: set[str] = set()
        self.numbers: dict[str, PhoneNumber] = {}
        self._seq = 0
        self.closed = False
        # Set by the emulator: publishes an inbound SMS (JSON string) to an SNS topic.
        self.publish: Callable[[str, str], None] | None = None

    # -- numbers -------------------------------------------------------------------------

    def add_number(self, number: str) -> PhoneNumber:
        """Lease an origination number (idempotent)."""
        with self.cond:
            for known in self.numbers.values():
                if known.number == number:
                    return known
            pn = PhoneNumber(number=number, number_id=f"phone-{uuid.uuid4().hex}")
            self.numbers[pn.number_id] = pn
            return pn

    def _number_arn(self, pn: PhoneNumber) -> str:
        return f"arn:aws:sms-voice:{self.region}:{ACCOUNT_ID}:phone-number/{pn.number_id}"

    def _number_json(self, pn: PhoneNumber) -> dict[str, Any]:
        info: dict[str, Any] = {
            "PhoneNumberArn": self._number_arn(pn),
            "PhoneNumberId": pn.number_id,
            "PhoneNumber": pn.number,
            "Status": "ACTIVE",
            "IsoCountryCode": "GB",
            "MessageType": "TRANSACTIONAL",
            "NumberCapabilities": ["SMS"],
            "NumberType": "LONG_CODE",
            "MonthlyLeasingPrice": "0.00",
            "TwoWayEnabled": pn.two_way_enabled,
            "SelfManagedOptOutsEnabled": False,
            "OptOutListName": "Default",
            "DeletionProtectionEnabled": False,
            "CreatedTimestamp": 0,
        }
        if pn.two_way_channel:
            info["TwoWayChannelArn"] = pn.two_way_channel
        return info

    def _find_number(self, ident: str) -> PhoneNumber | None:
        for pn in self.numbers.values():
            if ident in (pn.number_id, pn.number, self._number_arn(pn)):
                return pn
        return None

    # -- End User Messaging --------------------------------------------------------------

    def sms_api(self, op_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Serve one End User Messaging operation."""
        handlers = {
            "SendTextMessage": self.send_text_message,
            "DescribePhoneNumbers": self.describe_phone_numbers,
            "UpdatePhoneNumber": self.update_phone_number,
            "GetProtectConfigurationCountryRuleSet": self.get_country_rule_set,
            "UpdateProtectConfigurationCountryRuleSet": self.update_country_rule_set,
        }
        handler = handlers.get(op_name)
        if handler is None:
            raise ApiError(
                "ValidationException",
                f"{op_name} is not emulated by the shiftsms sandbox",
                Reason="UNKNOWN_OPERATION",
            )
        check_request(SMS_SERVICE, op_name, body, "ValidationException")
        return handler(body)

    def send_text_message(self, body: dict[str, Any]) -> dict[str, Any]:
        """``SendTextMessage``: deliver to the outbox unless the destination opted out."""
        to = body["DestinationPhoneNumber"]
        origination = body.get("OriginationIdentity", "")
        pn = self._find_number(origination) if origination else None
        if origination and pn is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"origination identity {origination} not found",
                ResourceType="phone-number",
                ResourceId=origination,
            )
        protect = body.get("ProtectConfigurationId")
        if protect:
            self._check_protect(self._protect(protect), to)
        config = self._config_set(body.get("ConfigurationSetName"))
        with self.cond:
            if to in self.opted_out:
                raise ApiError(
                    "ConflictException",
                    "The destination phone number is opted out.",
                    Reason=OPTED_OUT,
                    ResourceType="opt-out-list",
                    ResourceId="Default",
                )
            if body.get("DryRun"):
                return {"MessageId": ""}
            text = self._deliver(
                origination=pn.number if pn else "",
                to=to,
                body=body["MessageBody"],
                message_type=body.get("MessageType", "TRANSACTIONAL"),
                context=body.get("Context") or {},
            )
        if config is not None:
            self._emit_events(config, text)
        return {"MessageId": text.message_id}

    # -- configuration sets and their text events ----------------------------------------

    @staticmethod
    def _config_set(ident: str | None) -> config_sets.ConfigurationSet | None:
        if not ident:
            return None
        item = config_sets.REGISTRY.find(ident)
        if item is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"configuration set {ident} not found",
                ResourceType="configuration-set",
                ResourceId=ident,
            )
        return item

    def _emit_events(self, config: config_sets.ConfigurationSet, text: SentText) -> None:
        """Publish the text's events to the set's destinations: pending, then final (for one
        number, both again: the pending one after the final, so out of order)."""
        if self.publish is None:
            return
        country = _country(text.destination)
        price, fee = RATES.get(country, DEFAULT_RATE)
        requested = datetime.fromisoformat(text.sent_at)
        final = "UNREACHABLE" if text.destination in UNREACHABLE else "DELIVERED"
        pending, last = ("PENDING", False, 1), (final, True, 2)
        steps = [pending, last]
        if text.destination in DELIVERED_TWICE:
            steps += [pending, last]  # the pending one late (after the final), the final again
        for status, is_final, millis in steps:
            event = event_json(
                status=status,
                message_id=text.message_id,
                is_final=is_final,
                at=requested + timedelta(milliseconds=millis),
                requested_at=requested,
                origination=text.origination,
                destination=text.destination,
                iso_country=country,
                parts=text.segments,
                price_usd=price * text.segments,
                carrier_fee_usd=fee * text.segments,
                context=text.context,
                message_type=text.message_type,
                encoding="GSM" if text.encoding == "GSM-7" else "UCS2",
            )
            for topic in config.topics_for(event["eventType"]):
                self.publish(topic, json.dumps(event))

    # -- protect configurations ----------------------------------------------------------

    @staticmethod
    def _protect(ident: str) -> ProtectConfiguration:
        item = REGISTRY.find(ident)
        if item is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"protect configuration {ident} not found",
                ResourceType="protect-configuration",
                ResourceId=ident,
            )
        return item

    @staticmethod
    def _check_protect(item: ProtectConfiguration, to: str) -> None:
        """Refuse a send to a country the protect configuration blocks (as AWS does)."""
        country = _country(to)
        if country and item.status("SMS", country) == "BLOCK":
            raise ApiError(
                "ConflictException",
                f"Messages to {country} are blocked by protect configuration {item.protect_id}.",
                Reason=COUNTRY_BLOCKED,
                ResourceType="protect-configuration",
                ResourceId=item.protect_id,
            )

    def _rule_set(self, item: ProtectConfiguration, capability: str) -> dict[str, Any]:
        return {
            "ProtectConfigurationArn": item.arn,
            "ProtectConfigurationId": item.protect_id,
            "NumberCapability": capability,
            "CountryRuleSet": {
                c: {"ProtectStatus": item.status(capability, c)} for c in SMS_COUNTRIES
            },
        }

    def get_country_rule_set(self, body: dict[str, Any]) -> dict[str, Any]:
        """``GetProtectConfigurationCountryRuleSet``: every country's status (ALLOW unless set)."""
        item = self._protect(body["ProtectConfigurationId"])
        with self.cond:
            return self._rule_set(item, body["NumberCapability"])

    def update_country_rule_set(self, body: dict[str, Any]) -> dict[str, Any]:
        """``UpdateProtectConfigurationCountryRuleSet``: set the given countries only."""
        item = self._protect(body["ProtectConfigurationId"])
        updates = body["CountryRuleSetUpdates"]
        unknown = sorted(set(updates) - set(SMS_COUNTRIES))
        if unknown:
            raise ApiError(
                "ValidationException",
                f"unsupported country codes: {', '.join(unknown[:5])}",
                Reason="INVALID_PARAMETER",
            )
        capability = body["NumberCapability"]
        with self.cond:
            rules = item.rules.setdefault(capability, {})
            for country, rule in updates.items():
                rules[country] = rule["ProtectStatus"]
            return self._rule_set(item, capability)

    def _deliver(
        self,
        *,
        origination: str,
        to: str,
        body: str,
        message_type: str = "TRANSACTIONAL",
        context: dict[str, str] | None = None,
        source: str = "SendTextMessage",
    ) -> SentText:
        """Put one text in the outbox (caller holds the lock) and wake waiters."""
        self._seq += 1
        info = segment_info(body)
        text = SentText(
            seq=self._seq,
            message_id=str(uuid.uuid4()),
            origination=origination,
            destination=to,
            body=body,
            segments=info.segments,
            encoding=info.encoding,
            message_type=message_type,
            sent_at=now_iso(),
            context=dict(context or {}),
            source=source,
        )
        self.outbox.append(text)
        self.cond.notify_all()
        return text

    def describe_phone_numbers(self, body: dict[str, Any]) -> dict[str, Any]:
        """``DescribePhoneNumbers`` (all, or by id)."""
        ids = body.get("PhoneNumberIds")
        with self.cond:
            found = [
                self._number_json(pn)
                for pn in self.numbers.values()
                if not ids or pn.number_id in ids or self._number_arn(pn) in ids
            ]
        if ids and not found:
            raise ApiError(
                "ResourceNotFoundException",
                "phone number not found",
                ResourceType="phone-number",
                ResourceId=ids[0],
            )
        return {"PhoneNumbers": found}

    def update_phone_number(self, body: dict[str, Any]) -> dict[str, Any]:
        """``UpdatePhoneNumber``: two-way SMS on or off and its SNS channel."""
        with self.cond:
            pn = self._find_number(body["PhoneNumberId"])
            if pn is None or body["PhoneNumberId"] == pn.number:
                raise ApiError(
                    "ResourceNotFoundException",
                    f"phone number {body['PhoneNumberId']} not found",
                    ResourceType="phone-number",
                    ResourceId=body["PhoneNumberId"],
                )
            if "TwoWayChannelArn" in body:
                pn.two_way_channel = body["TwoWayChannelArn"]
            if "TwoWayEnabled" in body:
                pn.two_way_enabled = bool(body["TwoWayEnabled"])
            return self._number_json(pn)

    # -- Connect -------------------------------------------------------------------------

    def start_outbound_voice_contact(self, body: dict[str, Any]) -> dict[str, Any]:
        """``StartOutboundVoiceContact``: record the call; a repeated ClientToken starts none."""
        check_request(
            CONNECT_SERVICE, "StartOutboundVoiceContact", body, "InvalidParameterException"
        )
        token = body.get("ClientToken") or str(uuid.uuid4())
        with self.cond:
            for call in self.calls:
                if call.client_token == token:
                    return {"ContactId": call.contact_id}
            self._seq += 1
            call = CallBack(
                seq=self._seq,
                contact_id=str(uuid.uuid4()),
                destination=body["DestinationPhoneNumber"],
                instance_id=body["InstanceId"],
                contact_flow_id=body["ContactFlowId"],
                queue_id=body.get("QueueId", ""),
                source_number=body.get("SourcePhoneNumber", ""),
                attributes=dict(body.get("Attributes") or {}),
                client_token=token,
                at=now_iso(),
            )
            self.calls.append(call)
            self.cond.notify_all()
        return {"ContactId": call.contact_id}

    # -- phones --------------------------------------------------------------------------

    def receive(self, sender: str, to: str, body: str) -> dict[str, Any]:
        """A phone texts ``body`` to ``to``: keywords first, then the two-way channel.

        Returns the inbound message as published, and any automatic keyword reply.
        """
        words = body.strip().split()
        keyword = words[0].upper() if words else ""
        auto_reply = None
        with self.cond:
            pn = self._find_number(to)
            if pn is None:
                raise ApiError("ResourceNotFoundException", f"{to} is not a sandbox number")
            if keyword in OPT_OUT_KEYWORDS:
                self.opted_out.add(sender)
                auto_reply = OPT_OUT_REPLY
            elif keyword in OPT_IN_KEYWORDS:
                self.opted_out.discard(sender)
                auto_reply = OPT_IN_REPLY
            elif keyword == "HELP":
                auto_reply = HELP_REPLY
            else:
                keyword = ""
            if auto_reply:
                self._deliver(origination=pn.number, to=sender, body=auto_reply, source="keyword")
            channel = pn.two_way_channel if pn.two_way_enabled else ""
        message = {
            "originationNumber": sender,
            "destinationNumber": pn.number,
            "messageKeyword": keyword,
            "messageBody": body,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": "",
        }
        published = False
        if channel and self.publish is not None:
            self.publish(channel, json.dumps(message))
            published = True
        return {"message": message, "published": published, "auto_reply": auto_reply}

    # -- reading -------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The sequence number of the newest text or call."""
        with self.cond:
            return self._seq

    def texts(self, to: str | None = None, after: int = 0) -> list[SentText]:
        """Texts delivered after sequence number ``after`` (to ``to`` when given)."""
        with self.cond:
            return [t for t in self.outbox if t.seq > after and (to is None or t.destination == to)]

    def wait_texts(self, to: str | None, after: int, timeout: float) -> list[SentText]:
        """Like :meth:`texts`, waiting up to ``timeout`` seconds for at least one."""
        with self.cond:
            self.cond.wait_for(
                lambda: self.closed or bool(self._texts_unlocked(to, after)), timeout=timeout
            )
            return self._texts_unlocked(to, after)

    def _texts_unlocked(self, to: str | None, after: int) -> list[SentText]:
        return [t for t in self.outbox if t.seq > after and (to is None or t.destination == to)]

    def close(self) -> None:
        """Wake every waiter (the emulator is stopping)."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    # -- state ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Everything worth keeping across a restart."""
        with self.cond:
            return {
                "seq": self._seq,
                "outbox": [asdict(t) for t in self.outbox],
                "calls": [asdict(c) for c in self.calls],
                "opted_out": sorted(self.opted_out),
            }

    def restore(self, data: dict[str, Any]) -> None:
        """Load what :meth:`to_json` saved (numbers and channels are set up afresh)."""
        with self.cond:
            self.outbox = [SentText(**t) for t in data.get("outbox", [])]
            self.calls = [CallBack(**c) for c in data.get("calls", [])]
            self.opted_out = set(data.get("opted_out", []))
            self._seq = max(int(data.get("seq", 0)), *(t.seq for t in self.outbox), 0)
