"""Operator use cases on the allow list (the roster): add, update, remove, list, import."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import phonenumbers

from shiftsms.core.catalogue import DEFAULT_LANGUAGE, check_language
from shiftsms.core.models import StaffChange, StaffEdit, StaffMember
from shiftsms.core.phone import InvalidPhoneNumber, normalise
from shiftsms.core.shift_info import check_role, role_key
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
