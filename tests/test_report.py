"""``shiftsms report``: the numbers a ward manager asks for, from stored records only.

The service runs on in-memory stores (the audit trail, send records by day, the shifts); the
command on the deployed template in moto, its send records replaced by the same fake.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shiftsms.aws.audit_table import AuditTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.cli import report as report_cli
from shiftsms.cli.context import CliContext
from shiftsms.core.audit import AuditEntry, entry_from_images
from shiftsms.core.models import Shift, ShiftStatus, StaffMember
from shiftsms.core.phone import fingerprint
from shiftsms.services.report import FillReport, bars
from tests.clitools import invoke, record_dynamodb_calls, table_rows
from tests.conftest import Deployed
from tests.fakes import MemoryAuditTrail, MemoryShifts

LONDON = ZoneInfo("Europe/London")
ANA, BEN = "+447700900123", "+447700900456"
END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
START = END - timedelta(days=30)
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """A send record with the contract's fields."""

    campaign_id: str
    run: str
    recipient: str
    sent_at: datetime | None
    outcome: str
    delivery_status: str | None = None
    parts: int | None = None
    price_usd: Decimal | None = None
    carrier_fee_usd: Decimal | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Totals:
    day: date
    texts: int
    parts: int
    cost_usd: Decimal
    delivered: int = 0
    failed: int = 0


@dataclass
class MemorySends:
    """SendRecords by UTC day; counts the days read."""

    records: list[Record] = field(default_factory=list)
    days_read: list[date] = field(default_factory=list)
    totals_read: list[date] = field(default_factory=list)

    def sent_on(self, day: date) -> Iterator[Record]:
        self.days_read.append(day)
        return iter([r for r in self.records if r.sent_at and r.sent_at.date() == day])

    def day_totals(self, day: date) -> Totals:
        self.totals_read.append(day)
        mine = [r for r in self.records if r.sent_at and r.sent_at.date() == day]
        return Totals(
            day=day,
            texts=len(mine),
            parts=sum(r.parts or 1 for r in mine),
            cost_usd=sum(((r.price_usd or 0) + (r.carrier_fee_usd or 0) for r in mine), Decimal(0)),
        )


class Story:
    """Changes as the audit function would record them."""

    def __init__(self) -> None:
        self.trail = MemoryAuditTrail()
        self.sends = MemorySends()
        self.shifts = MemoryShifts()
        self.n = 0

    def change(
        self, kind: str, at: datetime, old: dict[str, Any] | None, new: dict[str, Any]
    ) -> None:
        self.n += 1
        entry = entry_from_images(kind, f"e{self.n}", at, old, new)
        assert entry is not None
        self.trail.record(entry)

    def post(
        self,
        shift_id: str,
        at: datetime,
        hours: int = 12,
        location: str = "Ward 7",
        role: str = "RN",
    ) -> None:
        starts = at + timedelta(days=3)
        self.change(
            "shift",
            at,
            None,
            {
                "shift_id": shift_id,
                "shift_status": "available",
                "location": location,
                "role": role,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=hours)).isoformat(),
            },
        )

    def offer(self, campaign_id: str, at: datetime, *shift_ids: str) -> None:
        self.change(
            "campaign", at, None, {"campaign_id": campaign_id, "shift_ids": list(shift_ids)}
        )

    def book(self, shift_id: str, phone: str, at: datetime) -> None:
        self.change(
            "shift",
            at,
            {"shift_id": shift_id, "shift_status": "available"},
            {"shift_id": shift_id, "shift_status": "taken", "employee": phone},
        )

    def text(self, campaign_id: str, phone: str, at: datetime, outcome: str = "sent") -> None:
        self.sends.records.append(
            Record(
                campaign_id,
                "r1",
                fingerprint(phone),
                at,
                outcome,
                parts=1,
                price_usd=Decimal("0.0400"),
                carrier_fee_usd=Decimal("0.0030"),
            )
        )

    def build(self, **kw: Any) -> Any:
        return FillReport(self.trail, self.sends, self.shifts).build(START, END, LONDON, **kw)


@pytest.fixture
def story() -> Story:
    s = Story()
    s.post("A1", T0)
    s.post("A2", T0, hours=8)
    s.post("B1", T0, location="Ward 9")
    s.offer("c1", T0 + timedelta(minutes=5), "A1", "A2", "B1")
    for phone in (ANA, BEN):
        s.text("c1", phone, T0 + timedelta(minutes=6))
    s.book("A1", ANA, T0 + timedelta(minutes=15))  # 10 min after the offer
    s.book("A2", ANA, T0 + timedelta(minutes=65))  # 60 min
    s.book("B1", BEN, T0 + timedelta(minutes=35))  # 30 min
    s.change(
        "staff",
        T0 + timedelta(hours=2),
        {"phone": BEN, "opted_out": False},
        {"phone": BEN, "opted_out": True},
    )
    return s


def test_the_numbers_a_manager_asks_for(story: Story) -> None:
    r = story.build()
    assert (r.posted, r.filled, r.filled_of_posted, r.fill_rate) == (3, 3, 3, 1.0)
    assert sorted(r.fill_minutes) == [10.0, 30.0, 60.0]
    assert (r.fill_time(0.5), r.fill_time(0.9)) == (30.0, 60.0)
    assert (r.texts, r.segments, r.cost_usd) == (2, 2, Decimal("0.0860"))
    assert r.cost_per_filled == Decimal("0.0287")
    assert r.opt_outs == 1
    assert r.per_day == {date(2026, 11, 20): (3, 3)}
    people = {p.label: (p.offers, p.bookings, p.hours) for p in r.people.values()}
    assert people == {"+44********23": (1, 2, 20.0), "+44********56": (1, 1, 12.0)}


def test_an_alias_item_kept_on_the_trail_by_an_older_build_is_no_shift_posted(
    story: Story,
) -> None:
    alias = AuditEntry(
        kind="shift",
        subject_id="key#A1",
        at=T0,
        event_id="old-alias",
        action="created",
        by="fn:shift-keys",
        changes={"shift_id": (None, "key#A1"), "stored_id": (None, "a1")},
    )
    story.trail.record(alias)
    r = story.build()
    assert (r.posted, r.filled) == (3, 3)


def drop(story: Story, shift_id: str, phone: str, at: datetime) -> None:
    story.change(
        "shift",
        at,
        {"shift_id": shift_id, "shift_status": "taken", "employee": phone},
        {"shift_id": shift_id, "shift_status": "available"},
    )


def test_a_shift_given_back_counts_for_whoever_holds_it_at_the_end_or_not_at_all(
    story: Story,
) -> None:
    drop(story, "B1", BEN, T0 + timedelta(hours=3))  # given back; taken again by Ana
    story.book("B1", ANA, T0 + timedelta(hours=4))
    drop(story, "A2", ANA, T0 + timedelta(hours=5))  # given back, still open at the end
    r = story.build()
    assert (r.posted, r.filled, r.filled_of_posted) == (3, 2, 2)
    assert sorted(r.fill_minutes) == [10.0, 30.0]  # B1 was first filled 30 min after its offer
    people = {p.label: (p.bookings, p.hours) for p in r.people.values()}
    assert people == {"+44********23": (2, 24.0), "+44********56": (0, 0.0)}


def test_a_location_keeps_its_shifts_and_their_campaigns_texts(story: Story) -> None:
    story.offer("c2", T0 + timedelta(hours=3), "B1")
    story.text("c2", BEN, T0 + timedelta(hours=3))
    r = story.build(location="ward 7")
    assert (r.posted, r.filled, sorted(r.fill_minutes)) == (2, 2, [10.0, 60.0])
    assert r.texts == 2  # c1 offered a Ward 7 shift; c2 only Ward 9's
    assert {p.label: p.bookings for p in r.people.values()} == {
        "+44********23": 2,
        "+44********56": 0,
    }


def test_a_role_keeps_its_shifts_and_their_campaigns_texts(story: Story) -> None:
    story.post("H1", T0 + timedelta(hours=1), hours=8, role="HCA")
    story.offer("c3", T0 + timedelta(hours=1, minutes=5), "H1")
    story.text("c3", ANA, T0 + timedelta(hours=1, minutes=6))
    story.book("H1", BEN, T0 + timedelta(hours=1, minutes=25))
    r = story.build(role="hca")  # as typed, in any case
    assert (r.posted, r.filled, r.fill_minutes) == (1, 1, [20.0])
    assert r.texts == 1  # only c3 offered an HCA shift
    assert {p.label: (p.offers, p.bookings, p.hours) for p in r.people.values()} == {
        "+44********23": (1, 0, 0.0),
        "+44********56": (0, 1, 8.0),
    }
    assert story.build(role="RN").posted == 3


def test_a_shift_posted_before_the_range_is_read_by_key_for_its_place(story: Story) -> None:
    story.shifts.put(Shift("OLD1", "x", ShiftStatus.TAKEN, employee=BEN, location="Ward 9"))
    story.book("OLD1", BEN, T0 + timedelta(days=1))
    r = story.build(location="Ward 9")
    assert (r.posted, r.filled, r.filled_of_posted) == (1, 2, 1)
    assert r.fill_minutes == [30.0]  # OLD1 was never offered in the range


def test_whole_days_are_read_as_totals_and_the_edges_record_by_record(story: Story) -> None:
    story.text("c1", ANA, START - timedelta(minutes=1))  # the day the range starts: too early
    r = story.build()
    assert r.texts == 2
    assert story.sends.days_read == [START.date() + timedelta(days=i) for i in range(31)]
    assert story.sends.totals_read == story.sends.days_read[1:-1]


def test_an_unreadable_time_counts_no_hours(story: Story) -> None:
    story.change("shift", T0, None, {"shift_id": "Z1", "starts_at": "soon", "ends_at": "later"})
    story.book("Z1", BEN, T0 + timedelta(hours=1))
    r = story.build()
    assert {p.label: p.hours for p in r.people.values()}["+44********56"] == 12.0


def test_an_empty_range_has_no_rates() -> None:
    r = Story().build()
    assert (r.posted, r.fill_rate, r.fill_time(0.5), r.cost_per_filled) == (0, None, None, None)


def test_bars_scale_to_the_largest() -> None:
    assert bars([0, 1, 2], width=4) == ["", "██", "████"]
    assert bars([]) == []


# -- the command, on the deployed template ---------------------------------------------------


def test_report_reads_by_day_never_a_scan_and_prints_masked(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    trail = AuditTable(deployed.dynamodb, deployed.outputs["AuditTableName"])
    story = Story()
    story.trail = trail  # type: ignore[assignment]
    story.post("A1", T0)
    story.offer("c1", T0 + timedelta(minutes=5), "A1")
    story.text("c1", ANA, T0 + timedelta(minutes=6))
    story.book("A1", ANA, T0 + timedelta(minutes=47))
    story.text("c1", BEN, T0 + timedelta(minutes=6))  # offered, booked nothing
    staff = StaffTable(deployed.dynamodb, deployed.outputs["StaffTableName"])
    staff.put(StaffMember(ANA, "Ana"))
    staff.put(StaffMember(BEN, "Ben"))
    monkeypatch.setattr(report_cli, "now", lambda: END)
    monkeypatch.setattr(report_cli, "send_records", lambda cli: story.sends)
    calls = record_dynamodb_calls(monkeypatch)
    result = invoke("report", "--since", "30d")
    assert result.exit_code == 0, result.output
    # one per UTC day of the audit's by-day index, and the allow list's recipients index
    assert calls == ["Query"] * 32
    rows = {r[0]: r[1] for r in table_rows(result.stdout) if len(r) == 2}
    assert rows["Shifts posted"] == "1"
    assert rows["Fill rate"] == "100% (1 of 1)"
    assert rows["Time to fill (from the first offer)"] == "median 42 min, p90 42 min"
    assert rows["Cost"] == "$0.0860 ($0.0860 per filled shift)"
    assert "Fill report 2026-10-31 to 2026-11-30 (Europe/London)" in result.stdout
    people = [r for r in table_rows(result.stdout) if len(r) == 6]
    # Ben booked nothing: the send records know him only by a fingerprint, the allow list
    # by name and number
    assert people == [
        ["Person", "Name", "Offers", "Bookings", "Hours", ""],
        ["+44********23", "Ana", "1", "1", "12", "█" * 30],
        ["+44********56", "Ben", "1", "0", "0", ""],
    ]
    assert ANA not in result.stdout and BEN not in result.stdout

    result = invoke("report", "--json")
    data = json.loads(result.stdout)
    assert (data["shifts_filled"], data["fill_rate"], data["cost_usd"]) == (1, 1.0, "0.0860")
    assert data["people"] == [
        {"person": "+44********23", "name": "Ana", "offers": 1, "bookings": 1, "hours": 12.0},
        {"person": "+44********56", "name": "Ben", "offers": 1, "bookings": 0, "hours": 0.0},
    ]

    path = tmp_path / "people.csv"
    assert invoke("report", "--csv", str(path)).exit_code == 0
    assert list(csv.reader(path.open(encoding="utf-8"))) == [
        ["person", "name", "offers", "bookings", "hours"],
        ["+44********23", "Ana", "1", "1", "12.0"],
        ["+44********56", "Ben", "1", "0", "0.0"],
    ]


def test_a_bad_period_is_a_usage_error(deployed: Deployed) -> None:
    result = invoke("report", "--since", "month")
    assert result.exit_code == 2
    assert "'month' is not a period" in result.stderr


def test_json_and_csv_together_are_a_usage_error(deployed: Deployed, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    result = invoke("report", "--json", "--csv", str(path))
    assert result.exit_code == 2
    assert "give --json or --csv, not both" in result.stderr
    assert not path.exists()


UNWRITABLE = {
    "no folder": ("missing/people.csv", "cannot write {path}: folder {parent} does not exist"),
    "a folder": (".", "{path} is a folder, not a file"),
}


@pytest.mark.parametrize(("where", "reason"), UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_a_csv_file_that_cannot_be_written_is_refused_before_the_report_is_built(
    where: str, reason: str, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    services: list[str] = []
    original = CliContext.client

    def client(self: CliContext, service: str) -> Any:
        services.append(service)
        return original(self, service)

    monkeypatch.setattr(CliContext, "client", client)
    path = tmp_path / where
    result = invoke("report", "--csv", str(path))
    assert result.stdout == ""  # no report printed first
    assert result.exit_code == 2
    message = reason.format(path=path, parent=path.parent)
    assert result.stderr == (
        f"Error: Invalid value for '--csv': {message} (see: shiftsms report --help)\n"
    )
    assert services == []
