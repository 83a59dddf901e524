"""The fill report: shifts posted and filled, how fast, what the texts cost, per person.

Reads stored records only: the audit trail for the range (one Query per UTC day), the send
records by day (``SendRecords.sent_on`` / ``day_totals``, a day index), and, for shifts
filled in the range but posted before it, their items by key. Never a Scan.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from shiftsms.core.audit import CAMPAIGN, CREATED, SHIFT, STAFF, AuditEntry
from shiftsms.core.commands import is_alias
from shiftsms.core.models import ShiftStatus, StaffMember
from shiftsms.core.phone import fingerprint, mask
from shiftsms.core.shift_times import UnreadableTime, from_iso
from shiftsms.ports import AuditTrail, ShiftStore


class SendRecordLike(Protocol):
    """What the report reads of one send record (``shiftsms.core.delivery.SendRecord``)."""

    @property
    def campaign_id(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def sent_at(self) -> datetime | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def delivery_status(self) -> str | None: ...
    @property
    def parts(self) -> int | None: ...
    @property
    def price_usd(self) -> Decimal | None: ...
    @property
    def carrier_fee_usd(self) -> Decimal | None: ...


class DayTotalsLike(Protocol):
    """What the report reads of one UTC day's totals (``shiftsms.core.delivery.DayTotals``)."""

    @property
    def texts(self) -> int: ...
    @property
    def parts(self) -> int: ...
    @property
    def cost_usd(self) -> Decimal: ...


class SendRecordsLike(Protocol):
    """The send records port (``shiftsms.ports.SendRecords``), as far as the report uses it."""

    def sent_on(self, day: date) -> Iterator[SendRecordLike]:
        """Every text sent on one UTC day."""
        ...

    def day_totals(self, day: date) -> DayTotalsLike:
        """One UTC day's totals."""
        ...


@dataclass
class Person:
    """One person's share: offers texted, shifts booked, hours booked."""

    label: str
    offers: int = 0
    bookings: int = 0
    hours: float = 0.0
    # Their name on the allow list ("" when not found there).
    name: str = ""


@dataclass
class Report:
    """The numbers ``shiftsms report`` shows."""

    start: datetime
    end: datetime
    posted: int = 0
    filled: int = 0
    filled_of_posted: int = 0
    fill_minutes: list[float] = field(default_factory=list)
    texts: int = 0
    segments: int = 0
    cost_usd: Decimal = Decimal(0)
    opt_outs: int = 0
    per_day: dict[date, tuple[int, int]] = field(default_factory=dict)  # posted, filled
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def fill_rate(self) -> float | None:
        """Shifts posted in the range that were filled, as a share of those posted."""
        return self.filled_of_posted / self.posted if self.posted else None

    @property
    def cost_per_filled(self) -> Decimal | None:
        """What the texts cost per shift filled."""
        return (self.cost_usd / self.filled).quantize(Decimal("0.0001")) if self.filled else None

    def fill_time(self, share: float) -> float | None:
        """Minutes from first offer to booking at ``share`` (0.5 median, 0.9 p90), nearest rank."""
        if not self.fill_minutes:
            return None
        ordered = sorted(self.fill_minutes)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class _Shift:
    location: str | None = None
    role: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    posted_at: datetime | None = None
    taken_at: datetime | None = None
    holder: str | None = None
    holder_label: str | None = None
    # Given back (DROP, release) since it was last taken, and not taken again: not filled.
    given_back: bool = False
    # Everyone who took it (fingerprint -> masked number), for the per-person labels.
    takers: dict[str, str] = field(default_factory=dict)


def _new(entry: AuditEntry, name: str) -> str | None:
    return entry.changes.get(name, (None, None))[1]


def _ids(raw: str | None) -> list[str]:
    try:
        loaded = json.loads(raw or "[]")
    except ValueError:
        return [raw] if raw else []
    return [str(i) for i in loaded] if isinstance(loaded, list) else []


def _hours(shift: _Shift) -> float:
    if not shift.starts_at or not shift.ends_at:
        return 0.0
    try:
        return (from_iso(shift.ends_at) - from_iso(shift.starts_at)).total_seconds() / 3600
    except UnreadableTime:
        return 0.0


def _utc_days(start: datetime, end: datetime) -> Iterator[date]:
    day = start.astimezone(UTC).date()
    while day <= end.astimezone(UTC).date():
        yield day
        day += timedelta(days=1)


def _matches(value: str | None, wanted: str | None) -> bool:
    return wanted is None or (value or "").casefold() == wanted.casefold()


class Roster(Protocol):
    """The allow list, as far as the report reads it."""

    def recipients(self) -> Iterator[StaffMember]:
        """The people campaigns are sent to (an index, not a Scan)."""
        ...


class FillReport:
    """Builds a :class:`Report` from the audit trail, the send records and the shifts."""

    def __init__(
        self,
        trail: AuditTrail,
        sends: SendRecordsLike,
        shifts: ShiftStore,
        roster: Roster | None = None,
    ) -> None:
        """The stores the report reads (none is written); ``roster`` names the people (the
        allow list's campaign recipients; None: people are shown by masked number only)."""
        self.trail = trail
        self.sends = sends
        self.shifts = shifts
        self.roster = roster

    def build(
        self,
        start: datetime,
        end: datetime,
        zone: ZoneInfo,
        *,
        location: str | None = None,
        role: str | None = None,
    ) -> Report:
        """The report for ``[start, end)``; days are the stack's (``zone``)."""
        report = Report(start=start, end=end)
        entries = list(self.trail.between(start, end))
        shifts: dict[str, _Shift] = defaultdict(_Shift)
        offered: dict[str, datetime] = {}
        campaigns: dict[str, list[str]] = {}
        for entry in entries:
            if entry.kind == SHIFT:
                if not is_alias(entry.subject_id):  # an alias item a build before kept
                    self._shift_entry(shifts[entry.subject_id], entry)
            elif entry.kind == CAMPAIGN and entry.action == CREATED:
                ids = _ids(_new(entry, "shift_ids"))
                campaigns[entry.subject_id] = ids
                for shift_id in ids:
                    offered.setdefault(shift_id, entry.at)
            elif entry.kind == STAFF and _new(entry, "opted_out") == "true":
                report.opt_outs += 1
        self._fill_in_older(shifts)
        chosen = {
            k: s
            for k, s in shifts.items()
            if _matches(s.location, location) and _matches(s.role, role)
        }
        self._count_shifts(report, chosen, offered, zone)
        filtered = location is not None or role is not None
        wanted = {c for c, ids in campaigns.items() if set(ids) & set(chosen)} if filtered else None
        labels = {who: label for s in shifts.values() for who, label in s.takers.items()}
        self._count_sends(report, start, end, wanted, labels)
        self._name_people(report)
        return report

    def _name_people(self, report: Report) -> None:
        """Name each person the roster knows; one only a fingerprint stands for gets their
        masked number (both from the allow list: the send records hold no numbers)."""
        if self.roster is None or not report.people:
            return
        known = {fingerprint(m.phone): m for m in self.roster.recipients()}
        for who, person in report.people.items():
            member = known.get(who)
            if member is not None:
                person.name = member.name or ""
                person.label = mask(member.phone)

    @staticmethod
    def _shift_entry(shift: _Shift, entry: AuditEntry) -> None:
        for name in ("location", "role", "starts_at", "ends_at"):
            if name in entry.changes:
                setattr(shift, name, _new(entry, name))
        if entry.action == CREATED:
            shift.posted_at = entry.at
        status = ShiftStatus.read(_new(entry, "shift_status"))
        if status is ShiftStatus.TAKEN:
            # Filled when first taken; credited to whoever holds it last (a shift given
            # back and taken by someone else counts for them, once).
            shift.taken_at = shift.taken_at or entry.at
            shift.holder = entry.holder
            employee = next(iter(entry.numbers), None)
            shift.holder_label = mask(employee) if employee else None
            shift.given_back = False
            if shift.holder and shift.holder_label:
                shift.takers[shift.holder] = shift.holder_label
        elif status is ShiftStatus.AVAILABLE and shift.taken_at is not None:
            shift.holder = shift.holder_label = None
            shift.given_back = True

    def _fill_in_older(self, shifts: Mapping[str, _Shift]) -> None:
        """Shifts posted before the range: location, role and times from their items."""
        older = [k for k, s in shifts.items() if s.posted_at is None and s.taken_at is not None]
        for shift_id, item in self.shifts.get_many(older).items() if older else ():
            shift = shifts[shift_id]
            shift.location = shift.location or item.location
            shift.role = shift.role or item.role
            shift.starts_at = shift.starts_at or item.starts_at
            shift.ends_at = shift.ends_at or item.ends_at

    @staticmethod
    def _count_shifts(
        report: Report,
        shifts: Mapping[str, _Shift],
        offered: Mapping[str, datetime],
        zone: ZoneInfo,
    ) -> None:
        days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for shift_id, shift in shifts.items():
            if shift.posted_at is not None:
                report.posted += 1
                days[shift.posted_at.astimezone(zone).date()][0] += 1
                report.filled_of_posted += shift.taken_at is not None and not shift.given_back
            if shift.taken_at is None or shift.given_back:
                continue
            report.filled += 1
            days[shift.taken_at.astimezone(zone).date()][1] += 1
            first = offered.get(shift_id)
            if first is not None and first <= shift.taken_at:
                report.fill_minutes.append((shift.taken_at - first).total_seconds() / 60)
            if shift.holder:
                person = report.people.setdefault(
                    shift.holder, Person(label=shift.holder_label or f"#{shift.holder[:8]}")
                )
                person.bookings += 1
                person.hours += _hours(shift)
        report.per_day = {d: (v[0], v[1]) for d, v in sorted(days.items())}

    def _count_sends(
        self,
        report: Report,
        start: datetime,
        end: datetime,
        campaigns: set[str] | None,
        labels: Mapping[str, str],
    ) -> None:
        for day in _utc_days(start, end):
            whole = campaigns is None and (
                datetime(day.year, day.month, day.day, tzinfo=UTC) >= start
                and datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) <= end
            )
            if whole:
                totals = self.sends.day_totals(day)
                report.texts += totals.texts
                report.segments += totals.parts
                report.cost_usd += totals.cost_usd
            for record in self.sends.sent_on(day):
                if record.sent_at is None or not start <= record.sent_at < end:
                    continue
                in_scope = campaigns is None or record.campaign_id in campaigns
                if not whole and in_scope:
                    report.texts += 1
                    report.segments += record.parts or 1
                    report.cost_usd += (record.price_usd or 0) + (record.carrier_fee_usd or 0)
                if record.campaign_id and record.outcome == "sent" and in_scope:
                    label = labels.get(record.recipient) or f"#{record.recipient[:8]}"
                    person = report.people.setdefault(record.recipient, Person(label=label))
                    person.offers += 1


def bars(values: Sequence[int | float], width: int = 30) -> list[str]:
    """A bar of ``█`` per value, the largest ``width`` long (an empty bar for 0)."""
    top = max(values, default=0)
    return ["█" * (round(width * v / top) if top else 0) for v in values]


def people_by_bookings(report: Report) -> list[Person]:
    """Everyone offered or booked, most bookings first."""
    return sorted(report.people.values(), key=lambda p: (-p.bookings, -p.offers, p.label))
