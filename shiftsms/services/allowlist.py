"""Operator use cases on the allow list (the roster): add, update, remove, list, import."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import phonenumbers

from shiftsms.core.catalogue import DEFAULT_LANGUAGE, check_language
from shiftsms.core.models import Shift, ShiftStatus, StaffChange, StaffEdit, StaffMember
from shiftsms.core.phone import InvalidPhoneNumber, normalise
from shiftsms.core.self_service import snoozed
from shiftsms.core.shift_info import check_role, role_key
from shiftsms.core.shift_times import ShiftTimeError, Span, from_iso, span_from_item
from shiftsms.errors import InvalidInput, RowsRejected, StaffNotFound
from shiftsms.ports import StaffStore
from shiftsms.services.csv_rows import (
    CsvRecord,
    ImportResult,
    duplicates,
    read_csv,
    write_new,
)

FALLBACK_REGION = "GB"
# The Pinpoint segment export of the original sample: Id,ChannelType,Address,User.UserId.
PINPOINT_COLUMNS = ("channeltype", "address")
PINPOINT_NAME = "user.userid"
PINPOINT_OPT_OUT = "optout"
PLAIN_COLUMNS = ("phone", "name")
# A plain file's optional roles column: "RN;HCA" (roles may hold spaces, as "Band 5").
ROLES_COLUMN, ROLES_SEPARATOR = "roles", ";"
# A plain file's optional language column: en, es, pl (empty: en).
LANG_COLUMN = "lang"
# Add-then-update rounds of add() (a round is lost only if the number is removed meanwhile).
ADD_ATTEMPTS = 3
# ``allowlist show`` counts the hours of timed shifts held within this many days before now.
HOURS_WINDOW = timedelta(days=28)


class TakenShifts(Protocol):
    """What ``allowlist show`` reads of the shifts table: every taken shift, in full."""

    def full_by_status(self, status: str) -> list[Shift]:
        """Every shift stored with exactly ``status``, with all its attributes."""
        ...


@dataclass(frozen=True)
class StaffProfile:
    """One person as ``allowlist show`` tells it."""

    member: StaffMember
    # Their language, once the entry has one (None: the stack's default).
    language: str | None
    # The snooze still in force (ISO 8601 UTC), else None.
    snoozed_until: str | None
    # Shifts they hold that have not ended: timed ones soonest first, then untimed ones.
    upcoming: tuple[Shift, ...]
    # Hours of their timed shifts within the 28 days before now (the part inside the window).
    hours_last_28_days: float


def _span(shift: Shift) -> Span | None:
    try:
        return span_from_item({"starts_at": shift.starts_at, "ends_at": shift.ends_at})
    except ShiftTimeError:
        return None


def _snooze_in_force(member: StaffMember, now: datetime) -> str | None:
    if not member.snoozed_until:
        return None
    try:
        until = from_iso(member.snoozed_until)
    except ShiftTimeError:
        return None
    return member.snoozed_until if snoozed(until, now) else None


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    """``roles`` checked (GSM-7, short), one spelling each (``rn`` and ``RN`` are one), sorted.

    Raises InvalidInput (UnreadableLabel) naming a role staff could not read.
    """
    kept: dict[str, str] = {}
    for raw in roles:
        role = check_role(raw)
        kept.setdefault(role_key(role), role)
    return tuple(sorted(kept.values()))


def check_region(region: str) -> str:
    """``region`` upper-cased if phonenumbers knows it (``GB``, ``US``); else InvalidInput."""
    code = (region or "").strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"{region!r} is not a region code such as GB, US or FR")
    return code


@dataclass(frozen=True)
class StaffRow:
    """One valid row of an import file."""

    line: int
    member: StaffMember


@dataclass(frozen=True)
class StaffFile:
    """A parsed, fully valid import file."""

    format: str  # "pinpoint" or "plain"
    rows: list[StaffRow]
    not_sms: int = 0  # Pinpoint rows of another channel (EMAIL, PUSH...), left out


@dataclass
class AllowlistService:
    """The operator's allow-list use cases, run against a staff store."""

    store: StaffStore
    default_region: str = FALLBACK_REGION
    clock: Callable[[], datetime] = utc_now

    def number(self, raw: str) -> str:
        """``raw`` as E.164 (numbers without ``+`` read in the default region)."""
        return normalise(raw, self.default_region)

    def add(
        self,
        number: str,
        name: str | None = None,
        *,
        campaigns: bool | None = None,
        groups: Sequence[str] | None = None,
        roles: Sequence[str] | None = None,
        language: str | None = None,
    ) -> StaffChange:
        """Add a number, or change only the fields given if it is already on the list.

        A new entry takes campaigns unless ``campaigns`` is False, and English unless
        ``language`` is given; opt-out state is never written. Raises InvalidPhoneNumber (the
        message says why) or InvalidInput (an unknown language among them).
        """
        phone = self.number(number)
        edit = self._edit(name, campaigns, groups, roles, language)
        for _ in range(ADD_ATTEMPTS):
            member = edit.applied_to(
                StaffMember(phone=phone, added_at=self.clock().isoformat(timespec="seconds"))
            )
            if self.store.put(member, replace=False):
                return StaffChange(None, self.store.get(phone) or member)
            try:
                return self.store.update(phone, edit)
            except StaffNotFound:
                continue  # removed between the two writes: add it afresh
        raise StaffNotFound(f"{phone} was removed while it was being added; try again")

    def update(
        self,
        number: str,
        name: str | None = None,
        *,
        campaigns: bool | None = None,
        groups: Sequence[str] | None = None,
        roles: Sequence[str] | None = None,
        language: str | None = None,
    ) -> StaffChange:
        """Change only the fields given of an entry (``roles=[]``: none). Raises
        StaffNotFound or InvalidInput."""
        edit = self._edit(name, campaigns, groups, roles, language)
        if edit.empty:
            raise InvalidInput(
                "nothing to change: give --name, --campaigns/--no-campaigns, --group, "
                "--no-groups, --role, --no-roles or --lang"
            )
        return self.store.update(self.number(number), edit)

    @staticmethod
    def _edit(
        name: str | None,
        campaigns: bool | None,
        groups: Sequence[str] | None,
        roles: Sequence[str] | None = None,
        language: str | None = None,
    ) -> StaffEdit:
        clean_groups = None if groups is None else tuple(sorted({g.strip() for g in groups}))
        if clean_groups is not None and any(not g for g in clean_groups):
            raise InvalidInput("a group name cannot be empty")
        return StaffEdit(
            name=None if name is None else name.strip(),
            campaigns=campaigns,
            groups=clean_groups,
            roles=None if roles is None else check_roles(roles),
            language=None if language is None else check_language(language),
        )

    def remove(self, number: str) -> str:
        """Take a number off the list; return it as E.164. Raises StaffNotFound."""
        phone = self.number(number)
        self.store.delete(phone)
        return phone

    def profile(self, number: str, shifts: TakenShifts, now: datetime) -> StaffProfile:
        """Their entry, snooze, upcoming shifts and recent hours. Raises StaffNotFound.

        Reads every taken shift (an operator command, never a hot path): the shifts table
        has no index by holder, and the person item keeps only a week of past shifts.
        """
        phone = self.number(number)
        member = self.store.get(phone)
        if member is None:
            raise StaffNotFound(f"{phone} is not on the allow list")
        held = [
            s
            for s in shifts.full_by_status(ShiftStatus.TAKEN.value)
            if s.employee == phone and s.shift_status is ShiftStatus.TAKEN
        ]
        timed = [(span, s) for s in held if (span := _span(s)) is not None]
        upcoming = [s for span, s in sorted(timed, key=lambda p: p[0].start) if span.end > now]
        upcoming += sorted((s for s in held if _span(s) is None), key=lambda s: s.shift_id)
        since = now - HOURS_WINDOW
        worked = sum(
            (max(timedelta(0), min(span.end, now) - max(span.start, since)) for span, _ in timed),
            timedelta(0),
        )
        hours = worked.total_seconds() / 3600
        return StaffProfile(
            member=member,
            language=getattr(member, "language", None) or None,
            snoozed_until=_snooze_in_force(member, now),
            upcoming=tuple(upcoming),
            hours_last_28_days=round(hours, 2),
        )

    def snoozed_until(self, member: StaffMember, now: datetime) -> str | None:
        """The snooze still in force on ``member`` (ISO 8601 UTC), else None."""
        return _snooze_in_force(member, now)

    def members(self) -> list[StaffMember]:
        """Every entry, by name then number."""
        return sorted(self.store.all(), key=lambda m: (m.name.casefold(), m.phone))

    def read_file(self, text: str) -> StaffFile:
        """Validate a Pinpoint segment CSV or a ``phone,name[,roles][,lang]`` CSV (roles
        ``RN;HCA``, lang ``es``; empty: English).

        Raises RowsRejected naming each bad line (invalid number, with the reason; a role
        staff could not read; an unknown language; a number that appears twice) so that
        nothing is imported from a file with any bad row.
        """
        table = read_csv(text)
        if all(c in table.columns for c in PINPOINT_COLUMNS):
            kind, phone_col, name_col = "pinpoint", "address", PINPOINT_NAME
        elif "phone" in table.columns:
            kind, phone_col, name_col = "plain", "phone", "name"
        else:
            raise RowsRejected(
                [
                    (
                        1,
                        "the header must be phone,name or the Pinpoint segment export's "
                        "Id,ChannelType,Address,User.UserId",
                    )
                ]
            )
        problems: list[tuple[int, str]] = list(table.problems)
        rows: list[StaffRow] = []
        not_sms = 0
        for rec in table.records:
            if kind == "pinpoint" and rec.get("channeltype").upper() != "SMS":
                not_sms += 1
                continue
            try:
                phone = self.number(rec.get(phone_col))
                roles = check_roles(
                    r for r in rec.get(ROLES_COLUMN).split(ROLES_SEPARATOR) if r.strip()
                )
                lang = rec.get(LANG_COLUMN).strip()
                language = check_language(lang) if lang else DEFAULT_LANGUAGE
            except (InvalidPhoneNumber, InvalidInput) as exc:
                problems.append((rec.line, str(exc)))
                continue
            member = replace(self._member(rec, phone, name_col), roles=roles, language=language)
            rows.append(StaffRow(rec.line, member))
        problems.extend(duplicates([(r.line, r.member.phone) for r in rows]))
        if problems:
            raise RowsRejected(problems)
        return StaffFile(kind, rows, not_sms)

    def _member(self, rec: CsvRecord, phone: str, name_col: str) -> StaffMember:
        return StaffMember(
            phone=phone,
            name=rec.get(name_col),
            opted_out=rec.get(PINPOINT_OPT_OUT).upper() == "ALL",
            added_at=self.clock().isoformat(timespec="seconds"),
        )

    def import_rows(
        self, rows: Iterable[StaffRow], on_row: Callable[[StaffRow], None] | None = None
    ) -> ImportResult:
        """Add each row; numbers already on the list are skipped, never changed."""
        return write_new(
            rows,
            add=lambda row: self.store.put(row.member, replace=False),
            key=lambda row: row.member.phone,
            on_row=on_row,
        )
