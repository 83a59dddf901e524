"""Operator use cases on shifts: add, import, list, release, remove."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from shiftsms.core.commands import InvalidShiftId, validate_shift_id
from shiftsms.core.gsm import to_gsm7
from shiftsms.core.models import DropOutcome, Shift, ShiftStatus
from shiftsms.errors import (
    InvalidInput,
    RowsRejected,
    ShiftExists,
    ShiftNotFound,
    ShiftNotTaken,
)
from shiftsms.ports import ShiftStore
from shiftsms.services.csv_rows import ImportResult, duplicates, read_csv, write_new

STATUSES = tuple(ShiftStatus)
ID_COLUMN, INFO_COLUMN, STATUS_COLUMN = "shift_id", "shift_info", "shift_status"
CSV_COLUMNS = (ID_COLUMN, INFO_COLUMN, STATUS_COLUMN)


class AdminShiftStore(ShiftStore, Protocol):
    """A ShiftStore that can also change a shift's text in place (keeping any booking)."""

    def set_info(self, shift_id: str, shift_info: str) -> Shift:
        """Set ``shift_info`` on an existing shift; raise ShiftNotFound if there is none."""
        ...


def clean_info(raw: str) -> str:
    """Shift text as staff will receive it: GSM-7 only (what has no GSM-7 form is dropped),
    on one line, runs of space collapsed."""
    info = " ".join(to_gsm7(raw or "", replacement="").split())
    if not info:
        raise InvalidInput("shift info is empty: say when and what the shift is")
    return info


@dataclass(frozen=True)
class AddedShift:
    """The outcome of adding one shift."""

    shift: Shift
    given_info: str
    replaced: bool = False

    @property
    def info_changed(self) -> bool:
        """True when the text was rewritten to GSM-7 (or its spacing tidied)."""
        return self.given_info != self.shift.shift_info


@dataclass(frozen=True)
class ShiftRow:
    """One valid row of an import file."""

    line: int
    shift: Shift
    given_info: str


@dataclass(frozen=True)
class ShiftFile:
    """A parsed, fully valid import file."""

    rows: list[ShiftRow]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rewritten(self) -> list[ShiftRow]:
        """Rows whose info was rewritten to GSM-7."""
        return [r for r in self.rows if r.given_info != r.shift.shift_info]


def read_file(text: str) -> ShiftFile:
    """Validate a ``shift_id,shift_info[,shift_status]`` CSV; raise RowsRejected if any
    row is bad (bad id, empty info, unknown status, an id repeated in the file)."""
    table = read_csv(text)
    missing = [c for c in (ID_COLUMN, INFO_COLUMN) if c not in table.columns]
    if missing:
        raise RowsRejected(
            [
                (
                    1,
                    f"the header must name the columns {','.join(CSV_COLUMNS[:2])}"
                    f"[,{STATUS_COLUMN}]; missing: {', '.join(missing)}",
                )
            ]
        )
    problems: list[tuple[int, str]] = list(table.problems)
    rows: list[ShiftRow] = []
    for rec in table.records:
        try:
            code = validate_shift_id(rec.get(ID_COLUMN))
            text = clean_info(rec.get(INFO_COLUMN))
        except (InvalidShiftId, InvalidInput) as exc:
            problems.append((rec.line, str(exc)))
            continue
        status = rec.get(STATUS_COLUMN).lower() or ShiftStatus.AVAILABLE
        if status not in STATUSES:
            problems.append(
                (rec.line, f"{code}: status {status!r} is not one of {', '.join(STATUSES)}")
            )
            continue
        given = rec.cells.get(INFO_COLUMN) or ""
        rows.append(ShiftRow(rec.line, Shift(code, text, ShiftStatus(status)), given.strip()))
    problems.extend(duplicates([(r.line, r.shift.shift_id) for r in rows]))
    if problems:
        raise RowsRejected(problems)
    ignored = [c for c in table.columns if c and c not in CSV_COLUMNS]
    return ShiftFile(rows, ignored)


@dataclass
class ShiftService:
    """The operator's shift use cases, run against a shift store."""

    store: AdminShiftStore

    def add(self, shift_id: str, info: str, *, replace: bool = False) -> AddedShift:
        """Create an available shift; with ``replace``, an existing one only gets the new text.

        Replacing never touches a booking: a taken shift stays taken by the same employee.
        Raises InvalidShiftId, InvalidInput (empty info) or ShiftExists.
        """
        code = validate_shift_id(shift_id)
        text = clean_info(info)
        shift = Shift(shift_id=code, shift_info=text)
        try:
            self.store.put(shift)
        except ShiftExists:
            if not replace:
                raise
            return AddedShift(self.store.set_info(code, text), info.strip(), replaced=True)
        return AddedShift(shift, info.strip())

    def import_rows(
        self, rows: Iterable[ShiftRow], on_row: Callable[[ShiftRow], None] | None = None
    ) -> ImportResult:
        """Write each row as a new shift; ids that already exist are skipped, never changed."""
        return write_new(rows, self._put_new, key=lambda row: row.shift.shift_id, on_row=on_row)

    def _put_new(self, row: ShiftRow) -> bool:
        try:
            self.store.put(row.shift)
        except ShiftExists:
            return False
        return True

    def listing(self, status: str | None = None) -> Iterator[Shift]:
        """Shifts with ``status`` (both statuses when None), read through the status index."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status {status!r} is not one of {', '.join(STATUSES)}")
        for wanted in (status,) if status else STATUSES:
            yield from self.store.by_status(wanted)

    def get(self, shift_id: str) -> Shift:
        """One shift; raise ShiftNotFound if there is none."""
        code = validate_shift_id(shift_id)
        shift = self.store.get(code)
        if shift is None:
            raise ShiftNotFound(f"no shift {code}")
        return shift

    def release(self, shift_id: str) -> Shift:
        """Make a taken shift available again; return the shift as it was before."""
        before = self.get(shift_id)
        outcome = self.store.release(before.shift_id)
        if outcome is DropOutcome.UNKNOWN:
            raise ShiftNotFound(f"no shift {before.shift_id}")
        if outcome is DropOutcome.NOT_YOURS:
            raise ShiftNotTaken(
                f"shift {before.shift_id} is not taken, so there is nothing to release"
            )
        return before

    def remove(self, shift_id: str) -> None:
        """Delete a shift; raise ShiftNotFound if there is none."""
        self.store.delete(validate_shift_id(shift_id))
