"""Domain records shared by the core, the services and the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class ShiftStatus(StrEnum):
    """A shift's status, under the original sample's values."""

    AVAILABLE = "available"
    TAKEN = "taken"

    @classmethod
    def read(cls, raw: object) -> ShiftStatus | None:
        """A stored ``shift_status`` in any case (``Available``); None if it names neither."""
        text = raw.strip().lower() if isinstance(raw, str) else ""
        return cls(text) if text in cls._value2member_map_ else None


# Kept for existing callers; new code names ShiftStatus.
AVAILABLE = ShiftStatus.AVAILABLE
TAKEN = ShiftStatus.TAKEN


@dataclass(frozen=True)
class Shift:
    """One open (overtime) shift, as stored under the original sample's attribute names."""

    shift_id: str
    shift_info: str = ""
    # None: the stored status is neither (typed by hand); such a shift is not offered.
    shift_status: ShiftStatus | None = ShiftStatus.AVAILABLE
    employee: str | None = None
    booked_at: str | None = None
    # A timed shift (ISO 8601 with offset); a console item with none has no time rules.
    starts_at: str | None = None
    ends_at: str | None = None
    location: str | None = None
    # The role a person must hold to book it; None: anyone on the allow list.
    role: str | None = None

    @property
    def available(self) -> bool:
        """True while nobody holds the shift."""
        return self.shift_status is ShiftStatus.AVAILABLE

    @property
    def status_text(self) -> str:
        """The status as shown to an operator (``no status`` for one that names neither)."""
        return self.shift_status.value if self.shift_status else "no status"


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
    # The roles (grades) they may work, e.g. ("RN",); shifts without a role need none.
    roles: tuple[str, ...] = field(default=())
    # The language their texts are sent in (a catalogue code: en, es, pl), stored as ``lang``.
    language: str = "en"
    # SNOOZE: no campaign offers before this instant (ISO 8601 UTC); None: not snoozed.
    snoozed_until: str | None = None


@dataclass(frozen=True)
class StaffEdit:
    """The fields of an allow-list entry an operator asked to change (None: leave as is)."""

    name: str | None = None
    campaigns: bool | None = None
    groups: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    language: str | None = None

    def applied_to(self, member: StaffMember) -> StaffMember:
        """``member`` with the given fields changed."""
        return replace(
            member,
            name=member.name if self.name is None else self.name,
            campaigns=member.campaigns if self.campaigns is None else self.campaigns,
            groups=member.groups if self.groups is None else tuple(sorted(self.groups)),
            roles=member.roles if self.roles is None else tuple(sorted(self.roles)),
            language=member.language if self.language is None else self.language,
        )

    @property
    def empty(self) -> bool:
        """True when no field is given."""
        fields = (self.name, self.campaigns, self.groups, self.roles, self.language)
        return all(v is None for v in fields)


@dataclass(frozen=True)
class StaffChange:
    """An allow-list entry before and after an add or update (``before`` None: it is new)."""

    before: StaffMember | None
    after: StaffMember

    @property
    def created(self) -> bool:
        """True when the number was not on the list before."""
        return self.before is None

    @property
    def changed(self) -> tuple[str, ...]:
        """The operator-set fields that differ: name, campaigns, groups, roles, language."""
        if self.before is None:
            return ()
        return tuple(
            f
            for f in ("name", "campaigns", "groups", "roles", "language")
            if getattr(self.before, f) != getattr(self.after, f)
        )


@dataclass(frozen=True)
class InboundSms:
    """One inbound SMS as End User Messaging publishes it to SNS."""

    message_id: str
    sender: str
    destination: str
    body: str
    keyword: str = ""
    # When SNS published it (ISO 8601, UTC, milliseconds); the same on every retry. A command
    # changes a shift only if nothing changed it since this time.
    sent_at: str = ""


class BookingOutcome(StrEnum):
    """What happened to one code in a booking text."""

    BOOKED = "booked"
    ALREADY_YOURS = "already_yours"
    TAKEN = "taken"
    UNKNOWN = "unknown"


class DropOutcome(StrEnum):
    """What happened to one code in a DROP text."""

    RELEASED = "released"
    # A retried DROP that released it, the holder having booked it again since: theirs.
    STILL_YOURS = "still_yours"
    # Closer to the start than DropCutoffHours: kept, the holder is told to call the ward.
    TOO_LATE = "too_late"
    NOT_YOURS = "not_yours"
    UNKNOWN = "unknown"
