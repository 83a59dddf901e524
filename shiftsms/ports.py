"""The ports services run against. AWS adapters implement them; tests may use fakes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, StaffMember


class ShiftStore(Protocol):
    """The shifts table."""

    def book(self, shift_id: str, employee: str, booking_ref: str, at: datetime) -> BookingOutcome:
        """Atomically book an available shift for ``employee`` (one conditional write).

        ``booking_ref`` (the inbound message id) makes a retried booking report BOOKED again.
        """
        ...

    def release(self, shift_id: str, employee: str | None = None) -> DropOutcome:
        """Make a taken shift available again; with ``employee``, only if they hold it."""
        ...

    def open_page(self, after: str | None, limit: int) -> tuple[list[Shift], bool]:
        """Up to ``limit`` available shifts with ids after ``after``, and whether more follow."""
        ...

    def count_open(self, after: str | None) -> int:
        """How many available shifts have ids after ``after``."""
        ...

    def get(self, shift_id: str) -> Shift | None:
        """One shift, or None."""
        ...

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The shifts that exist among ``shift_ids``."""
        ...

    def put(self, shift: Shift, *, replace: bool = False) -> None:
        """Create a shift; raise ShiftExists if the id is taken and not ``replace``."""
        ...

    def delete(self, shift_id: str) -> None:
        """Delete a shift; raise ShiftNotFound if there is none."""
        ...

    def by_status(self, status: str) -> Iterator[Shift]:
        """Every shift with ``status`` (through the status index, paginated)."""
        ...


class StaffStore(Protocol):
    """The allow list (which is also the campaign roster)."""

    def get(self, phone: str) -> StaffMember | None:
        """The allow-list entry for an E.164 number, or None."""
        ...

    def set_opted_out(self, phone: str, opted_out: bool, at: datetime) -> None:
        """Record an opt-out or opt-in (no-op for numbers not on the list)."""
        ...

    def set_list_cursor(self, phone: str, cursor: str | None) -> None:
        """Remember where the sender's list of open shifts stopped, for MORE."""
        ...

    def put(self, member: StaffMember, *, replace: bool = True) -> bool:
        """Add or update an entry; return True if it was new."""
        ...

    def delete(self, phone: str) -> None:
        """Remove an entry; raise StaffNotFound if there is none."""
        ...

    def all(self) -> Iterator[StaffMember]:
        """Every entry (operator listing; not for hot paths)."""
        ...

    def recipients(self) -> Iterator[StaffMember]:
        """Entries that get campaigns and have not opted out (sparse index, paginated)."""
        ...


class SmsSender(Protocol):
    """End User Messaging SMS."""

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """Send one text; return its message id. Raise a SendError subclass on failure."""
        ...


class Caller(Protocol):
    """Amazon Connect outbound call-backs."""

    def call_back(self, to: str, note: str, token: str) -> str:
        """Start (idempotently, by ``token``) a call to ``to``; return the contact id."""
        ...


class ReplyLimiter(Protocol):
    """Bounds what unknown senders can make us spend."""

    def allow_unauthorised_reply(self, sender: str, at: datetime) -> bool:
        """True at most once per sender per window, and within a global hourly cap."""
        ...
