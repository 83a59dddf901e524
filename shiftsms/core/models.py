"""Domain records shared by the core, the services and the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

AVAILABLE = "available"
TAKEN = "taken"


@dataclass(frozen=True)
class Shift:
    """One open (overtime) shift, as stored under the original sample's attribute names."""

    shift_id: str
    shift_info: str = ""
    shift_status: str = AVAILABLE
    employee: str | None = None
    booked_at: str | None = None

    @property
    def available(self) -> bool:
        """True while nobody holds the shift."""
        return self.shift_status == AVAILABLE


@dataclass(frozen=True)
class StaffMember:
    """An allow-list entry: who may use the service and who gets campaigns."""

    phone: str
    name: str = ""
    campaigns: bool = True
    opted_out: bool = False
    groups: tuple[str, ...] = field(default=())
    added_at: str | None = None
    list_cursor: str | None = None


@dataclass(frozen=True)
class InboundSms:
    """One inbound SMS as End User Messaging publishes it to SNS."""

    message_id: str
    sender: str
    destination: str
    body: str
    keyword: str = ""


class BookingOutcome(StrEnum):
    """What happened to one code in a booking text."""

    BOOKED = "booked"
    ALREADY_YOURS = "already_yours"
    TAKEN = "taken"
    UNKNOWN = "unknown"


class DropOutcome(StrEnum):
    """What happened to one code in a DROP text."""

    RELEASED = "released"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"
