"""Operator use cases on shifts: add, import, list, release, remove."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from shiftsms.core.catalogue import ENGLISH, Catalogue, catalogue
from shiftsms.core.commands import InvalidShiftId, validate_shift_id
from shiftsms.core.delivery import send_context
from shiftsms.core.gsm import to_gsm7
from shiftsms.core.models import Shift, ShiftStatus
from shiftsms.core.phone import fingerprint
from shiftsms.core.shift_info import check_location, check_role, compose_info, role_key
from shiftsms.core.shift_times import (
    ShiftTimeError,
    Span,
    Window,
    has_started,
    listing_key,
    shift_span,
    span_from_item,
)
from shiftsms.errors import (
    InvalidInput,
    RowsRejected,
    SendError,
    ShiftChanged,
    ShiftExists,
    ShiftNotFound,
    ShiftNotTaken,
)
from shiftsms.ports import ShiftStore, SmsSender, StaffStore
from shiftsms.services.csv_rows import ImportResult, duplicates, read_csv, write_new_in_chunks
from shiftsms.services.waitlist import WaitlistService

STATUSES = tuple(ShiftStatus)
ID_COLUMN, INFO_COLUMN, STATUS_COLUMN = "shift_id", "shift_info", "shift_status"
TIME_COLUMNS = ("starts_at", "ends_at", "location", "role")
CSV_COLUMNS = (ID_COLUMN, INFO_COLUMN, STATUS_COLUMN, *TIME_COLUMNS)


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ShiftTerms:
    """When, where and for whom a shift is, as an operator typed it (None: not given)."""

    start: str | None = None
    end: str | None = None
    location: str | None = None
    role: str | None = None

    @property
    def given(self) -> bool:
        """True when any of them is given."""
        return any(v is not None for v in (self.start, self.end, self.location, self.role))


def timed_shift(
    code: str,
    info: str | None,
    terms: ShiftTerms,
    zone: ZoneInfo,
    now: datetime,
    *,
    read_in: ZoneInfo | None = None,
) -> Shift:
    """The available shift ``code`` with ``terms`` checked; ``info`` composed when None, its
    times on the wall clock of ``zone`` (the stack's, as staff see every other time).

    Times without an offset are read in ``read_in`` (default ``zone``). Raises InvalidInput
    (a ShiftTimeError or UnreadableLabel among them) for a start without an end (or the
    reverse), a time that cannot be read, an end not after the start or over 24 h after it,
    a start before ``now``, a role or location staff could not read, or neither info nor a
    time, location or role to compose it from.
    """
    if (terms.start is None) != (terms.end is None):
        raise InvalidInput("give both a start and an end, or neither")
    span = (
        shift_span(terms.start, terms.end, read_in or zone, now)
        if terms.start is not None and terms.end is not None
        else None
    )
    location = check_location(terms.location) if terms.location is not None else None
    role = check_role(terms.role) if terms.role is not None else None
    if info is not None:
        text = clean_info(info)
    elif terms.given:
        text = compose_info(span, zone, location, role)
    else:
        raise InvalidInput("give --info, or --start and --end to compose it from")
    return Shift(
        shift_id=code,
        shift_info=text,
        starts_at=span.starts_at() if span else None,
        ends_at=span.ends_at() if span else None,
        location=location,
        role=role,
    )


def shift_span_of(shift: Shift) -> Span | None:
    """A stored shift's span; None when untimed, or when its times cannot be read."""
    item = {"shift_id": shift.shift_id, "starts_at": shift.starts_at, "ends_at": shift.ends_at}
    try:
        return span_from_item({k: v for k, v in item.items() if v is not None})
    except ShiftTimeError:
        return None


def shift_started(shift: Shift, now: datetime) -> bool:
    """True when a timed shift's start is not after ``now``."""
    return has_started(shift_span_of(shift), now)


@dataclass(frozen=True)
class ShiftFilter:
    """Which shifts a listing or a campaign takes: start in a window, a location, a role."""

    window: Window = field(default_factory=Window)
    location: str | None = None
    role: str | None = None

    def __call__(self, shift: Shift) -> bool:
        """True when ``shift`` matches every given condition (an untimed one fails a window)."""
        if self.window.start is not None or self.window.end is not None:
            span = shift_span_of(shift)
            if span is None or span.start not in self.window:
                return False
        if self.location is not None and role_key(shift.location or "") != role_key(self.location):
            return False
        return self.role is None or role_key(shift.role or "") == role_key(self.role)


def in_full(store: ListingShiftStore, status: str) -> list[Shift]:
    """Every shift stored with ``status``, read in full (times, location and role too)."""
    return store.full_by_status(status)


def soonest_first(shifts: Iterable[Shift]) -> list[Shift]:
    """Timed shifts soonest first, then untimed ones by code."""
    return sorted(shifts, key=lambda s: listing_key(shift_span_of(s), s.shift_id))


class ListingShiftStore(ShiftStore, Protocol):
    """A ShiftStore that lists the ids under a status (the status index, keys only)."""

    def ids_by_status(self, status: str) -> Iterator[str]:
        """The id of every shift stored with exactly ``status``."""
        ...

    def full_by_status(self, status: str) -> list[Shift]:
        """Every shift stored with exactly ``status``, with all its attributes, in id order."""
        ...

    def every_shift(self) -> list[Shift]:
        """Every shift that has a status (in any spelling), in full, in id order."""
        ...


class AdminShiftStore(ListingShiftStore, Protocol):
    """A ShiftStore with the operator's writes: conditional on what was read, and in bulk."""

    def set_info(self, shift_id: str, shift_info: str) -> Shift:
        """Set ``shift_info`` on an existing shift; raise ShiftNotFound if there is none."""
        ...

    def release_as_seen(self, seen: Shift) -> None:
        """Make the shift available while it is as ``seen``; else ShiftChanged/ShiftNotFound."""
        ...

    def delete_as_seen(self, seen: Shift) -> None:
        """Delete the shift while it is as ``seen``; else ShiftChanged/ShiftNotFound."""
        ...

    def existing_ids(self, shift_ids: Sequence[str]) -> set[str]:
        """Which of ``shift_ids`` exist (read in batches)."""
        ...

    def put_many(
        self, shifts: Sequence[Shift], on_written: Callable[[list[str]], None] | None = None
    ) -> None:
        """Write new shifts in batches; ``on_written`` gets the ids of each batch written."""
        ...

    def first_by_status(self, status: str, limit: int) -> tuple[list[Shift], bool]:
        """Up to ``limit`` shifts with ``status``, and whether more may follow."""
        ...

    def count_by_status(self, status: str, after: str | None = None) -> int:
        """How many shifts have ``status`` (and ids after ``after``)."""
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


def read_file(
    text: str,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
    *,
    read_in: ZoneInfo | None = None,
) -> ShiftFile:
    """Validate a ``shift_id,shift_info[,shift_status][,starts_at,ends_at,location,role]``
    CSV; raise RowsRejected if any row is bad (bad id, empty info with nothing to compose it
    from, unknown status, a time, location or role ``shifts add`` would refuse, an id
    repeated in the file). Times without an offset are read in ``read_in`` (default
    ``zone``) and checked at ``now``; composed infos show them in ``zone``."""
    zone = zone or ZoneInfo("Europe/London")
    now = now or utc_now()
    table = read_csv(text)
    missing = [c for c in (ID_COLUMN, INFO_COLUMN) if c not in table.columns]
    if missing:
        raise RowsRejected(
            [
                (
                    1,
                    f"the header must name the columns {','.join(CSV_COLUMNS[:2])}"
                    f"[,{STATUS_COLUMN}][,{','.join(TIME_COLUMNS)}]; "
                    f"missing: {', '.join(missing)}",
                )
            ]
        )
    problems: list[tuple[int, str]] = list(table.problems)
    rows: list[ShiftRow] = []
    for rec in table.records:
        terms = ShiftTerms(*(rec.get(c) or None for c in TIME_COLUMNS))
        given = (rec.cells.get(INFO_COLUMN) or "").strip()
        try:
            code = validate_shift_id(rec.get(ID_COLUMN))
            shift = timed_shift(
                code, given or (None if terms.given else ""), terms, zone, now, read_in=read_in
            )
        except (InvalidShiftId, InvalidInput) as exc:
            problems.append((rec.line, str(exc)))
            continue
        status = rec.get(STATUS_COLUMN).lower() or ShiftStatus.AVAILABLE
        if status not in STATUSES:
            problems.append(
                (rec.line, f"{code}: status {status!r} is not one of {', '.join(STATUSES)}")
            )
            continue
        shift = replace(shift, shift_status=ShiftStatus(status))
        rows.append(ShiftRow(rec.line, shift, given or shift.shift_info))
    problems.extend(duplicates([(r.line, r.shift.shift_id) for r in rows]))
    if problems:
        raise RowsRejected(problems)
    ignored = [c for c in table.columns if c and c not in CSV_COLUMNS]
    return ShiftFile(rows, ignored)


@dataclass
class ShiftService:
    """The operator's shift use cases, run against a shift store."""

    store: AdminShiftStore
    sms: SmsSender | None = None
    origination: str = ""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    clock: Callable[[], datetime] = utc_now
    # Where times given without an offset are read (``--tz``; None: ``zone``).
    read_in: ZoneInfo | None = None
    # Offers a released shift to the first eligible person on its waitlist (None: no offers).
    waitlist: WaitlistService | None = None
    # The allow list, for the holder's language (None: the holder is told in English).
    staff: StaffStore | None = None

    def add(
        self,
        shift_id: str,
        info: str | None,
        *,
        terms: ShiftTerms | None = None,
        replace: bool = False,
    ) -> AddedShift:
        """Create an available shift; with ``replace``, an existing one only gets the new text.

        ``terms`` (start, end, location, role) are checked and stored; without ``info`` the
        text is composed from them. Replacing never touches a booking (a taken shift stays
        taken by the same employee) and changes only the info. Raises InvalidShiftId,
        InvalidInput (empty info, bad terms) or ShiftExists.
        """
        code = validate_shift_id(shift_id)
        terms = terms or ShiftTerms()
        if replace and terms.given:
            raise InvalidInput("--replace changes only the info: remove the shift to change more")
        shift = timed_shift(code, info, terms, self.zone, self.clock(), read_in=self.read_in)
        given = info.strip() if info is not None else shift.shift_info
        try:
            self.store.put(shift)
        except ShiftExists:
            if not replace:
                raise
            return AddedShift(self.store.set_info(code, shift.shift_info), given, replaced=True)
        return AddedShift(shift, given)

    def import_rows(
        self, rows: Sequence[ShiftRow], on_row: Callable[[ShiftRow], None] | None = None
    ) -> ImportResult:
        """Write each row as a new shift; ids that already exist are skipped, never changed.

        Rows go in chunks of 100: one batch read finds the ids already there, then the new
        ones are written 25 a request. Between a chunk's read and its write (one request)
        an id someone else creates is overwritten by the file's row.
        """
        return write_new_in_chunks(
            rows,
            find_existing=lambda chunk: self.store.existing_ids([r.shift.shift_id for r in chunk]),
            write=lambda chunk, written: self.store.put_many(
                [r.shift for r in chunk], on_written=written
            ),
            key=lambda row: row.shift.shift_id,
            on_row=on_row,
        )

    def listing(self, status: str | None = None) -> Iterator[Shift]:
        """Shifts with ``status`` (both statuses when None), read through the status index."""
        for wanted in self._statuses(status):
            yield from self.store.by_status(wanted)

    def matching(self, status: str | None = None, only: ShiftFilter | None = None) -> list[Shift]:
        """The shifts of :meth:`listing` that ``only`` takes: available before taken, each
        soonest first with untimed ones after timed ones."""
        keep = only or ShiftFilter()
        if status is None:  # every shift: each read once, then grouped by status
            every = self.store.every_shift()
            groups = [[s for s in every if s.shift_status == w] for w in STATUSES]
        else:
            groups = [in_full(self.store, w) for w in self._statuses(status)]
        return [shift for group in groups for shift in soonest_first(s for s in group if keep(s))]

    def started(self, shift: Shift) -> bool:
        """True when ``shift`` is timed and its start has passed (its status is unchanged)."""
        return shift_started(shift, self.clock())

    def first(self, status: str | None = None, limit: int = 50) -> tuple[list[Shift], int]:
        """The first ``limit`` shifts of :meth:`listing`, and how many more there are
        (counted on the index, no items read)."""
        shown: list[Shift] = []
        more = 0
        for wanted in self._statuses(status):
            room = limit - len(shown)
            if room <= 0:
                more += self.store.count_by_status(wanted)
                continue
            page, maybe_more = self.store.first_by_status(wanted, room)
            shown.extend(page)
            if maybe_more:
                after = page[-1].shift_id if page else None
                more += self.store.count_by_status(wanted, after)
        return shown, more

    @staticmethod
    def _statuses(status: str | None) -> tuple[str, ...]:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status {status!r} is not one of {', '.join(STATUSES)}")
        return (status,) if status else STATUSES

    def get(self, shift_id: str) -> Shift:
        """One shift; raise ShiftNotFound if there is none."""
        code = validate_shift_id(shift_id)
        shift = self.store.get(code)
        if shift is None:
            raise ShiftNotFound(f"no shift {code}")
        return shift

    def release(self, shift_id: str, *, notify: bool = True) -> Cancelled:
        """Make a taken shift available again, only if it is still as read (same holder and
        booking); text the holder unless not ``notify``. Returns the shift as it was.

        Raises ShiftNotFound, ShiftNotTaken, or ShiftChanged (saying what it is now).
        """
        before = self.get(shift_id)
        if before.shift_status is not ShiftStatus.TAKEN:
            raise ShiftNotTaken(
                f"shift {before.shift_id} is not taken, so there is nothing to release"
            )
        try:
            self.store.release_as_seen(before)
        except ShiftChanged as exc:
            raise _changed(before, exc.now, "nothing was released") from exc
        told = self._tell_holder(before, removed=False) if notify else None
        offered = (
            self.waitlist.advance(before.shift_id, self.clock(), given_back_by=before.employee)
            if self.waitlist
            else None
        )
        return Cancelled(before, told, offered)

    def remove(self, seen: Shift, *, notify: bool = True) -> Cancelled:
        """Delete the shift ``seen`` (from :meth:`get`), only if it is still as seen; text its
        holder, if it was taken, unless not ``notify``.

        Raises ShiftNotFound or ShiftChanged (saying what it is now).
        """
        try:
            self.store.delete_as_seen(seen)
        except ShiftChanged as exc:
            raise _changed(seen, exc.now, "nothing was removed") from exc
        told = None
        if notify and seen.shift_status is ShiftStatus.TAKEN:
            told = self._tell_holder(seen, removed=True)
        return Cancelled(seen, told)

    def _tell_holder(self, shift: Shift, *, removed: bool) -> HolderText | None:
        if not shift.employee:
            return None
        member = self.staff.get(shift.employee) if self.staff is not None else None
        text = cancelled_text(
            shift, removed=removed, texts=catalogue(member.language if member else None)
        )
        if self.sms is None or not self.origination:
            return HolderText(shift.employee, text, error="no SMS sender configured")
        try:
            message_id = self.sms.send(
                shift.employee,
                text,
                self.origination,
                context=send_context(
                    "notify",
                    fingerprint(shift.employee),
                    shift_id=shift.shift_id,
                    reason="cancelled-by-operator",
                ),
            )
        except SendError as exc:
            return HolderText(shift.employee, text, error=str(exc))
        except Exception as exc:  # the change is made: a failed text is reported, not raised
            return HolderText(shift.employee, text, error=f"{type(exc).__name__}: {exc}")
        return HolderText(shift.employee, text, message_id=message_id)


@dataclass(frozen=True)
class HolderText:
    """The text telling a holder their booking was cancelled: its id, or why it failed."""

    to: str
    text: str
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Cancelled:
    """A release or removal done: the shift as it was, and the holder's text (None: not
    sent, because nobody held it or the operator said not to)."""

    before: Shift
    told: HolderText | None
    # Who the released shift is now held for (the first eligible person waiting), if anyone.
    offered_to: str | None = None


def describe(shift: Shift) -> str:
    """What a shift is, for an operator: ``available`` or ``taken by X (booked at T)``."""
    if shift.available:
        return "available"
    status = shift.status_text
    held = f"{status} by {shift.employee}" if shift.employee else status
    return held + (f" (booked at {shift.booked_at})" if shift.booked_at else "")


def _changed(seen: Shift, now: Shift, what: str) -> ShiftChanged:
    if now.shift_info != seen.shift_info and describe(now) == describe(seen):
        state = f'its info is now "{now.shift_info}"'
    else:
        state = f"it is now {describe(now)}"
    return ShiftChanged(f"shift {seen.shift_id} changed since it was read: {state}; {what}", now)


def cancelled_text(shift: Shift, *, removed: bool, texts: Catalogue = ENGLISH) -> str:
    """The one-segment text telling the holder the ward cancelled their booking."""
    key = "SHIFT_CANCELLED" if removed else "BOOKING_CANCELLED"
    code = to_gsm7(shift.shift_id)
    info = " ".join(to_gsm7(shift.shift_info, replacement="").split())
    room = texts.single - texts.units(texts.text(key, shift=code)) - len(" ()")
    named = f"{code} ({texts.fit(info, room)})" if info and room >= 8 else code
    return texts.fit(texts.text(key, shift=named), texts.single)
