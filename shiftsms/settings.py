"""Settings read once from the environment into typed objects, one class per function.

Each Lambda reads only what it uses: :class:`InboundSettings` (inbound SMS),
:class:`FanOutSettings` (campaign fan-out), :class:`SenderSettings` (campaign sender) and
:class:`DueSettings` (the scheduled due-work function).
The template sets exactly those variables on each function (a test holds both to it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from shiftsms.core import phone, spend
from shiftsms.core.self_service import QuietHours
from shiftsms.core.waitlist import DEFAULT_HOLD_MINUTES, MIN_HOLD_MINUTES
from shiftsms.errors import NotConfigured


@dataclass(frozen=True)
class ConnectSettings:
    """Amazon Connect call-back target; present only when call-backs are enabled."""

    instance_id: str
    contact_flow_id: str
    queue_id: str = ""
    source_number: str = ""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = str(env.get(name, "")).strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise NotConfigured(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = str(env.get(name, "")).strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise NotConfigured(f"{name} must be a number, got {raw!r}") from exc


def _max_price(env: Mapping[str, str]) -> str:
    """``MAX_PRICE_PER_MESSAGE`` ("" is no cap); NotConfigured if AWS would refuse it."""
    raw = str(env.get("MAX_PRICE_PER_MESSAGE", ""))
    try:
        return spend.max_price(raw) or ""
    except ValueError as exc:
        raise NotConfigured(f"MAX_PRICE_PER_MESSAGE must be {exc}") from exc


def _hours(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not math.isfinite(value) or value < 0:
        raise NotConfigured(f"{name} must be 0 (off) or a positive number of hours")
    return value


def _hold_minutes(env: Mapping[str, str]) -> float:
    """``HOLD_MINUTES``: a positive number of minutes, at least :data:`MIN_HOLD_MINUTES`."""
    value = _float(env, "HOLD_MINUTES", DEFAULT_HOLD_MINUTES)
    if not math.isfinite(value) or value <= 0 or value > 1440:
        raise NotConfigured("HOLD_MINUTES must be a number of minutes from 0.05 to 1440")
    return max(MIN_HOLD_MINUTES, value)


def _numbers(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of E.164 numbers; NotConfigured naming one that is not."""
    found: list[str] = []
    for raw in str(env.get(name, "")).split(","):
        if not raw.strip():
            continue
        try:
            number = phone.normalise(raw)
        except ValueError as exc:
            raise NotConfigured(f"{name}: {exc}") from exc
        if number not in found:
            found.append(number)
    return tuple(found)


def _quiet_hours(env: Mapping[str, str]) -> str:
    """``QUIET_HOURS`` (``22:00-07:00``, "" none); NotConfigured if it cannot be read."""
    raw = str(env.get("QUIET_HOURS", "")).strip()
    try:
        QuietHours.parse(raw)
    except ValueError as exc:
        raise NotConfigured(f"QUIET_HOURS: {exc}") from exc
    return raw


def _required(env: Mapping[str, str], *names: str) -> dict[str, str]:
    """``names`` from ``env``; NotConfigured naming every one that is missing or empty."""
    found = {n: str(env.get(n, "")) for n in names}
    missing = [n for n, v in found.items() if not v]
    if missing:
        raise NotConfigured(f"missing environment: {', '.join(missing)}")
    return found


def _environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


@dataclass(frozen=True)
class InboundSettings:
    """What the inbound SMS function needs: tables, the number, reply limits, Connect."""

    shifts_table: str
    staff_table: str
    state_table: str = ""
    origination_identity: str = ""
    connect: ConnectSettings | None = None
    reply_max_segments: int = 1
    unauthorised_replies_per_hour: int = 30
    unauthorised_reply_window_hours: int = 24
    agent_cooldown_minutes: int = 30
    idempotency_ttl_seconds: int = 24 * 3600
    protect_configuration_id: str = ""
    max_price_per_message: str = ""
    # Timed shifts: the wall clock replies show, and the booking rules (0 turns one off).
    time_zone: str = "Europe/London"
    min_rest_hours: float = 11.0
    max_weekly_hours: float = 48.0
    reply_queue_url: str = ""
    send_rate_per_second: float = 1.0
    # Told of every campaign's bookings, drops and filling (ManagerNumbers); the campaigns
    # table says which campaign offered a shift and whom else to tell ("": nobody is told).
    campaigns_table: str = ""
    manager_numbers: tuple[str, ...] = ()
    # How long a shift given back is held for the next person on its waitlist.
    hold_minutes: float = DEFAULT_HOLD_MINUTES
    # DROP closer than this to a timed shift's start is refused (0: no cutoff).
    drop_cutoff_hours: float = 0.0
    # A reminder this long before each timed shift booked by text (0: none).
    reminder_hours: float = 12.0
    # End User Messaging configuration set every reply names (its events: delivery receipts).
    configuration_set: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> InboundSettings:
        """Build from the inbound function's environment variables."""
        env = _environ(env)
        req = _required(env, "SHIFTS_TABLE", "STAFF_TABLE")
        connect = None
        if env.get("CONNECT_INSTANCE_ID") and env.get("CONNECT_CONTACT_FLOW_ID"):
            connect = ConnectSettings(
                instance_id=env["CONNECT_INSTANCE_ID"],
                contact_flow_id=env["CONNECT_CONTACT_FLOW_ID"],
                queue_id=env.get("CONNECT_QUEUE_ID", ""),
                source_number=env.get("CONNECT_SOURCE_NUMBER", ""),
            )
        return cls(
            shifts_table=req["SHIFTS_TABLE"],
            staff_table=req["STAFF_TABLE"],
            state_table=env.get("STATE_TABLE", ""),
            origination_identity=env.get("ORIGINATION_IDENTITY", ""),
            connect=connect,
            reply_max_segments=max(1, _int(env, "REPLY_MAX_SEGMENTS", 1)),
            unauthorised_replies_per_hour=_int(env, "UNAUTHORISED_REPLIES_PER_HOUR", 30),
            agent_cooldown_minutes=max(1, _int(env, "AGENT_COOLDOWN_MINUTES", 30)),
            protect_configuration_id=env.get("PROTECT_CONFIGURATION_ID", ""),
            max_price_per_message=_max_price(env),
            time_zone=env.get("TIME_ZONE", "") or "Europe/London",
            min_rest_hours=_hours(env, "MIN_REST_HOURS", 11.0),
            max_weekly_hours=_hours(env, "MAX_WEEKLY_HOURS", 48.0),
            reply_queue_url=env.get("REPLY_QUEUE_URL", ""),
            send_rate_per_second=_float(env, "SEND_RATE_PER_SECOND", 1.0),
            campaigns_table=env.get("CAMPAIGNS_TABLE", ""),
            manager_numbers=_numbers(env, "MANAGER_NUMBERS"),
            hold_minutes=_hold_minutes(env),
            drop_cutoff_hours=_hours(env, "DROP_CUTOFF_HOURS", 0.0),
            reminder_hours=_hours(env, "REMINDER_HOURS", 12.0),
            configuration_set=env.get("CONFIGURATION_SET", ""),
        )


# The inbound function's settings under their former name.
Settings = InboundSettings


@dataclass(frozen=True)
class FanOutSettings:
    """What the campaign fan-out needs: the campaigns and staff tables, the send queue."""

    campaigns_table: str
    staff_table: str
    send_queue_url: str
    message_ttl_seconds: int = 4 * 3600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FanOutSettings:
        """Build from the campaign function's environment variables."""
        env = _environ(env)
        req = _required(env, "CAMPAIGNS_TABLE", "STAFF_TABLE", "SEND_QUEUE_URL")
        return cls(
            campaigns_table=req["CAMPAIGNS_TABLE"],
            staff_table=req["STAFF_TABLE"],
            send_queue_url=req["SEND_QUEUE_URL"],
            message_ttl_seconds=_int(env, "MESSAGE_TTL_SECONDS", 4 * 3600),
        )


@dataclass(frozen=True)
class ShiftKeySettings:
    """What the shift-key function needs: the shifts table."""

    shifts_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ShiftKeySettings:
        """Build from the shift-key function's environment variables."""
        req = _required(_environ(env), "SHIFTS_TABLE")
        return cls(shifts_table=req["SHIFTS_TABLE"])


@dataclass(frozen=True)
class SenderSettings:
    """What the campaign sender needs: markers, counters, the allow list, the number, the rate."""

    campaigns_table: str
    staff_table: str
    state_table: str
    origination_identity: str
    send_rate_per_second: float = 1.0
    protect_configuration_id: str = ""
    max_price_per_message: str = ""
    # A claim older than this was left by a dead sender: its job's redelivery sends it.
    send_claim_timeout_seconds: int = 120
    # The send queue's maxReceiveCount: a job failing on this receive is dead-lettered next
    # (0: unknown, nothing is recorded as dead-lettered).
    send_max_receive_count: int = 0
    # Live offers read the campaign's shifts at send time ("": texts are sent as queued),
    # and check the booking rules against what each recipient holds.
    shifts_table: str = ""
    min_rest_hours: float = 11.0
    max_weekly_hours: float = 48.0
    # At most this many campaign texts to one person a day in ``time_zone`` (0: no cap).
    max_offers_per_day: int = 0
    time_zone: str = "Europe/London"
    # Campaign texts due in this nightly period (``22:00-07:00``; "" none) wait for its end.
    quiet_hours: str = ""
    # End User Messaging configuration set every text names (its events: delivery receipts).
    configuration_set: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SenderSettings:
        """Build from the sender function's environment variables."""
        env = _environ(env)
        req = _required(
            env, "CAMPAIGNS_TABLE", "STAFF_TABLE", "STATE_TABLE", "ORIGINATION_IDENTITY"
        )
        return cls(
            campaigns_table=req["CAMPAIGNS_TABLE"],
            staff_table=req["STAFF_TABLE"],
            state_table=req["STATE_TABLE"],
            origination_identity=req["ORIGINATION_IDENTITY"],
            send_rate_per_second=_float(env, "SEND_RATE_PER_SECOND", 1.0),
            protect_configuration_id=env.get("PROTECT_CONFIGURATION_ID", ""),
            max_price_per_message=_max_price(env),
            send_claim_timeout_seconds=max(1, _int(env, "SEND_CLAIM_TIMEOUT_SECONDS", 120)),
            send_max_receive_count=max(0, _int(env, "SEND_MAX_RECEIVE_COUNT", 0)),
            shifts_table=env.get("SHIFTS_TABLE", ""),
            min_rest_hours=_hours(env, "MIN_REST_HOURS", 11.0),
            max_weekly_hours=_hours(env, "MAX_WEEKLY_HOURS", 48.0),
            max_offers_per_day=max(0, _int(env, "MAX_OFFERS_PER_DAY", 0)),
            time_zone=env.get("TIME_ZONE", "") or "Europe/London",
            quiet_hours=_quiet_hours(env),
            configuration_set=env.get("CONFIGURATION_SET", ""),
        )


@dataclass(frozen=True)
class DueSettings:
    """What the due-work function needs: the due items (state table); for window awards,
    held offers and reminders the shifts and allow list, the reply queue and number (texts),
    the rules; for waves and quiet hours the campaigns table and the send queue."""

    state_table: str
    shifts_table: str
    staff_table: str
    reply_queue_url: str
    origination_identity: str
    campaigns_table: str
    send_queue_url: str
    message_ttl_seconds: int = 4 * 3600
    time_zone: str = "Europe/London"
    min_rest_hours: float = 11.0
    max_weekly_hours: float = 48.0
    protect_configuration_id: str = ""
    max_price_per_message: str = ""
    # How long a shift given back is held for the next person waiting.
    hold_minutes: float = DEFAULT_HOLD_MINUTES
    # Campaign texts due in quiet hours wait for their end (QuietHours, "" = none).
    quiet_hours: str = ""
    # End User Messaging configuration set every held offer names (delivery receipts).
    configuration_set: str = ""
    # A claim window's winner of a timed shift is reminded this many hours before (0: never).
    reminder_hours: float = 12.0
    # The stack's ManagerNumbers: told of window awards, as of bookings by text.
    manager_numbers: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DueSettings:
        """Build from the due function's environment variables."""
        env = _environ(env)
        req = _required(
            env,
            "STATE_TABLE",
            "SHIFTS_TABLE",
            "STAFF_TABLE",
            "REPLY_QUEUE_URL",
            "ORIGINATION_IDENTITY",
            "CAMPAIGNS_TABLE",
            "SEND_QUEUE_URL",
        )
        return cls(
            state_table=req["STATE_TABLE"],
            shifts_table=req["SHIFTS_TABLE"],
            staff_table=req["STAFF_TABLE"],
            reply_queue_url=req["REPLY_QUEUE_URL"],
            origination_identity=req["ORIGINATION_IDENTITY"],
            campaigns_table=req["CAMPAIGNS_TABLE"],
            send_queue_url=req["SEND_QUEUE_URL"],
            message_ttl_seconds=_int(env, "MESSAGE_TTL_SECONDS", 4 * 3600),
            time_zone=env.get("TIME_ZONE", "") or "Europe/London",
            min_rest_hours=_hours(env, "MIN_REST_HOURS", 11.0),
            max_weekly_hours=_hours(env, "MAX_WEEKLY_HOURS", 48.0),
            reminder_hours=_hours(env, "REMINDER_HOURS", 12.0),
            protect_configuration_id=env.get("PROTECT_CONFIGURATION_ID", ""),
            max_price_per_message=_max_price(env),
            quiet_hours=_quiet_hours(env),
            hold_minutes=_hold_minutes(env),
            configuration_set=env.get("CONFIGURATION_SET", ""),
            manager_numbers=_numbers(env, "MANAGER_NUMBERS"),
        )


@dataclass(frozen=True)
class DeliverySettings:
    """What the delivery function needs: the state table (records), the campaigns table."""

    state_table: str
    campaigns_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliverySettings:
        """Build from the delivery function's environment variables."""
        env = _environ(env)
        req = _required(env, "STATE_TABLE", "CAMPAIGNS_TABLE")
        return cls(state_table=req["STATE_TABLE"], campaigns_table=req["CAMPAIGNS_TABLE"])


@dataclass(frozen=True)
class StackSettings:
    """What the CLI finds from the stack's outputs (not from the environment)."""

    shifts_table: str
    staff_table: str
    campaigns_table: str = ""
    state_table: str = ""
    origination_identity: str = ""
    send_queue_url: str = ""
    send_dlq_url: str = ""
    default_region: str = "GB"
    # The stack's TimeZone: operator times without an offset are read in it.
    time_zone: str = "Europe/London"


@dataclass(frozen=True)
class AuditSettings:
    """What the audit function needs: the audited tables (to tell records apart), the trail."""

    audit_table: str
    shifts_table: str
    staff_table: str
    campaigns_table: str
    audit_retention_days: int = 400

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuditSettings:
        """Build from the audit function's environment variables."""
        env = _environ(env)
        req = _required(env, "AUDIT_TABLE", "SHIFTS_TABLE", "STAFF_TABLE", "CAMPAIGNS_TABLE")
        return cls(
            audit_table=req["AUDIT_TABLE"],
            shifts_table=req["SHIFTS_TABLE"],
            staff_table=req["STAFF_TABLE"],
            campaigns_table=req["CAMPAIGNS_TABLE"],
            audit_retention_days=max(1, _int(env, "AUDIT_RETENTION_DAYS", 400)),
        )
