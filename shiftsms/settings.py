"""Settings read once from the environment (a Lambda's, or the CLI's) into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Settings:
    """Everything a handler or service needs to know about its deployment."""

    shifts_table: str
    staff_table: str
    campaigns_table: str = ""
    state_table: str = ""
    origination_identity: str = ""
    send_queue_url: str = ""
    connect: ConnectSettings | None = None
    default_region: str = "GB"
    reply_max_segments: int = 1
    unauthorised_replies_per_hour: int = 30
    unauthorised_reply_window_hours: int = 24
    send_rate_per_second: float = 1.0
    message_ttl_seconds: int = 4 * 3600
    idempotency_ttl_seconds: int = 24 * 3600
    protect_configuration_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build from environment variables (the template sets them on every function)."""
        env = os.environ if env is None else env
        missing = [n for n in ("SHIFTS_TABLE", "STAFF_TABLE") if not env.get(n)]
        if missing:
            raise NotConfigured(f"missing environment: {', '.join(missing)}")
        connect = None
        if env.get("CONNECT_INSTANCE_ID") and env.get("CONNECT_CONTACT_FLOW_ID"):
            connect = ConnectSettings(
                instance_id=env["CONNECT_INSTANCE_ID"],
                contact_flow_id=env["CONNECT_CONTACT_FLOW_ID"],
                queue_id=env.get("CONNECT_QUEUE_ID", ""),
                source_number=env.get("CONNECT_SOURCE_NUMBER", ""),
            )
        return cls(
            shifts_table=env["SHIFTS_TABLE"],
            staff_table=env["STAFF_TABLE"],
            campaigns_table=env.get("CAMPAIGNS_TABLE", ""),
            state_table=env.get("STATE_TABLE", ""),
            origination_identity=env.get("ORIGINATION_IDENTITY", ""),
            send_queue_url=env.get("SEND_QUEUE_URL", ""),
            connect=connect,
            default_region=env.get("DEFAULT_PHONE_REGION", "GB") or "GB",
            reply_max_segments=max(1, _int(env, "REPLY_MAX_SEGMENTS", 1)),
            unauthorised_replies_per_hour=_int(env, "UNAUTHORISED_REPLIES_PER_HOUR", 30),
            send_rate_per_second=_float(env, "SEND_RATE_PER_SECOND", 1.0),
            message_ttl_seconds=_int(env, "MESSAGE_TTL_SECONDS", 4 * 3600),
            protect_configuration_id=env.get("PROTECT_CONFIGURATION_ID", ""),
        )
