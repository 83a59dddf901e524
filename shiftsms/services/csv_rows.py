"""Reading operator CSV files row by row, with the line number each row starts on."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from shiftsms.errors import RowsRejected


@dataclass(frozen=True)
class CsvRecord:
    """One data row: the line it starts on and its cells by (lower-cased) column name."""

    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell under ``column`` ('' when the column or cell is missing)."""
        return (self.cells.get(column) or "").strip()


@dataclass(frozen=True)
class CsvTable:
    """A CSV file with a header: its column names (lower-cased), its well-formed rows, and
    ``(line, reason)`` for rows that are not (more cells than the header has columns)."""

    columns: list[str]
    records: list[CsvRecord]
    problems: list[tuple[int, str]]


def read_csv(text: str) -> CsvTable:
    """Parse ``text`` (a CSV with a header line); blank lines are skipped.

    Raises RowsRejected for an empty file or text that is not CSV at all.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] | None = None
    records: list[CsvRecord] = []
    problems: list[tuple[int, str]] = []
    consumed = 0
    try:
        for row in reader:
            line, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                continue
            if len(row) > len(header):
                problems.append((line, f"{len(row)} cells, the header has {len(header)}"))
                continue
            records.append(CsvRecord(line, dict(zip(header, row, strict=False))))
    except csv.Error as exc:
        problems.append((reader.line_num, f"not valid CSV: {exc}"))
    if header is None:
        raise RowsRejected([(1, "the file is empty: a header line is required")])
    if any(why.startswith("not valid CSV") for _, why in problems):
        raise RowsRejected(problems)
    return CsvTable(header, records, problems)


def duplicates(keys: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """``(line, problem)`` for every key that appears again after its first line."""
    first: dict[str, int] = {}
    for line, key in keys:
        if key in first:
            yield line, f"{key} appears again (first on line {first[key]})"
        else:
            first[key] = line


def stopped_note(added: int) -> str:
    """What to tell the user when an import stops part way (the error is reported as well)."""
    return (
        f"the import stopped after adding {added} row{'s' if added != 1 else ''}; "
        "run it again: rows already added are skipped"
    )


Row = TypeVar("Row")


@dataclass
class ImportResult:
    """The keys an import added, and those it skipped because they were already there."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def write_new(
    rows: Iterable[Row],
    add: Callable[[Row], bool],
    key: Callable[[Row], str],
    on_row: Callable[[Row], None] | None = None,
) -> ImportResult:
    """Write each row with ``add`` (False: it already existed and was left alone).

    If a write fails part way, the error carries a note saying how many rows were added.
    """
    result = ImportResult()
    try:
        for row in rows:
            (result.added if add(row) else result.skipped).append(key(row))
            if on_row is not None:
                on_row(row)
    except Exception as exc:
        exc.add_note(stopped_note(len(result.added)))
        raise
    return result


def write_new_in_chunks(
    rows: Sequence[Row],
    find_existing: Callable[[Sequence[Row]], set[str]],
    write: Callable[[Sequence[Row], Callable[[list[str]], None]], None],
    *,
    key: Callable[[Row], str],
    on_row: Callable[[Row], None] | None = None,
    chunk: int = 100,
) -> ImportResult:
    """Like :func:`write_new`, a chunk of rows at a time: ``find_existing`` says which keys
    of the chunk are there already (skipped), ``write`` writes the others, calling back with
    the keys of each part written (so a stopped import says how many it added)."""
    result = ImportResult()
    try:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            there = find_existing(part)
            new = [row for row in part if key(row) not in there]
            result.skipped.extend(key(row) for row in part if key(row) in there)
            by_key = {key(row): row for row in new}

            def written(keys: list[str], by_key: dict[str, Row] = by_key) -> None:
                result.added.extend(keys)
                if on_row is not None:
                    for k in keys:
                        on_row(by_key[k])

            if new:
                write(new, written)
            if on_row is not None:
                for row in part:
                    if key(row) in there:
                        on_row(row)
    except Exception as exc:
        exc.add_note(stopped_note(len(result.added)))
        raise
    return result
