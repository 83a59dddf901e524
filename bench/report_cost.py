"""What ``shiftsms report --since 30d`` costs as the data grows: time and items read.

The real template is deployed into an in-process moto and the audit table is bulk-loaded with
the entries the audit function would have written for N shifts over 30 days (each posted,
offered by a campaign of 20 shifts, and booked) and M texts. The report is built the way the
command builds it (``FillReport`` on ``AuditTable``, the shifts table, and the send records)
and a botocore hook counts the items DynamoDB returned to it (Query ``Count``, BatchGetItem).
Send records come from the delivery adapter when this build has one, else from an in-memory
store that counts the records it hands over. Three runs:

- ``base``: 1,000 shifts and 50,000 texts in the 30 days;
- ``10x in range``: 10,000 shifts and 500,000 texts in the same 30 days;
- ``10x history``: the base data in range, plus 9 times as much in the 60 days before.

    python bench/report_cost.py [--shifts 1000] [--sends 50000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from moto import mock_aws

from shiftsms.aws.audit_table import AuditTable, entry_item
from shiftsms.aws.dynamo import to_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.audit import entry_from_images
from shiftsms.core.phone import fingerprint
from shiftsms.services.report import FillReport
from tests.conftest import REGION, deploy_template

END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAYS = 30
STAFF = 200
PER_CAMPAIGN = 20


@dataclass(frozen=True)
class Record:
    """A send record with the contract's fields."""

    campaign_id: str
    run: str
    recipient: str
    sent_at: datetime | None
    outcome: str
    delivery_status: str | None = "DELIVERED"
    parts: int | None = 1
    price_usd: Decimal | None = Decimal("0.0400")
    carrier_fee_usd: Decimal | None = Decimal("0.0030")
    message_id: str | None = None


@dataclass(frozen=True)
class Totals:
    day: date
    texts: int
    parts: int
    cost_usd: Decimal
    delivered: int
    failed: int


@dataclass
class MemorySends:
    """Send records by UTC day, counting every record handed over."""

    by_day: dict[date, list[Record]] = field(default_factory=dict)
    read: int = 0

    def add(self, record: Record) -> None:
        assert record.sent_at is not None
        self.by_day.setdefault(record.sent_at.date(), []).append(record)

    def sent_on(self, day: date) -> Iterator[Record]:
        for record in self.by_day.get(day, []):
            self.read += 1
            yield record

    def day_totals(self, day: date) -> Totals:
        self.read += 1  # one stored totals item a day
        mine = self.by_day.get(day, [])
        cost = sum(((r.price_usd or 0) + (r.carrier_fee_usd or 0) for r in mine), Decimal(0))
        return Totals(day, len(mine), sum(r.parts or 1 for r in mine), cost, len(mine), 0)


@dataclass
class Reads:
    """Items DynamoDB returned, per operation (a botocore hook)."""

    items: dict[str, int] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        client.meta.events.register("after-call.dynamodb", self._after)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            read = int(parsed.get("Count", 0))
        elif model.name == "BatchGetItem":
            read = sum(len(v) for v in parsed.get("Responses", {}).values())
        else:
            return
        self.items[model.name] = self.items.get(model.name, 0) + read


def _write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def load(
    client: Any,
    outputs: dict[str, str],
    sends: MemorySends,
    shifts: int,
    texts: int,
    start: datetime,
    days: int,
    tag: str,
) -> int:
    """Audit entries for ``shifts`` shifts and ``texts`` texts spread over ``days`` from
    ``start``; returns the audit items written."""
    span = timedelta(days=days).total_seconds()
    staff = [f"+4477009{i:05d}" for i in range(STAFF)]
    items = []
    n = 0

    def add(kind: str, at: datetime, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        nonlocal n
        n += 1
        entry = entry_from_images(kind, f"{tag}{n}", at, old, new)
        assert entry is not None
        items.append(to_item(entry_item(entry, 400)))

    for i in range(shifts):
        posted = start + timedelta(seconds=span * i / shifts)
        shift_id = f"{tag}{i:06d}"
        begins = posted + timedelta(days=2)
        add(
            "shift",
            posted,
            None,
            {
                "shift_id": shift_id,
                "shift_status": "available",
                "location": f"Ward {i % 9}",
                "role": "RN",
                "starts_at": begins.isoformat(),
                "ends_at": (begins + timedelta(hours=12)).isoformat(),
            },
        )
        if i % PER_CAMPAIGN == PER_CAMPAIGN - 1:
            ids = [f"{tag}{k:06d}" for k in range(i - PER_CAMPAIGN + 1, i + 1)]
            add(
                "campaign",
                posted + timedelta(minutes=1),
                None,
                {"campaign_id": f"c{tag}{i}", "shift_ids": ids},
            )
        add(
            "shift",
            posted + timedelta(minutes=30 + i % 90),
            {"shift_id": shift_id, "shift_status": "available"},
            {"shift_id": shift_id, "shift_status": "taken", "employee": staff[i % STAFF]},
        )
    _write(client, outputs["AuditTableName"], items)
    campaigns = max(1, shifts // PER_CAMPAIGN)
    for j in range(texts):
        at = start + timedelta(seconds=span * j / texts)
        k = j * campaigns // texts  # the campaign sending at that time
        campaign = f"c{tag}{k * PER_CAMPAIGN + PER_CAMPAIGN - 1}"
        sends.add(Record(campaign, "r1", fingerprint(staff[j % STAFF]), at, "sent"))
    return len(items)


def run(label: str, shifts: int, texts: int, history: int) -> dict[str, Any]:
    with mock_aws():
        info = deploy_template()
        client = boto3.client("dynamodb", region_name=REGION)
        sends = MemorySends()
        start = END - timedelta(days=DAYS)
        audit_items = load(client, info.outputs, sends, shifts, texts, start, DAYS, "S")
        if history:
            audit_items += load(
                client,
                info.outputs,
                sends,
                shifts * history,
                texts * history,
                start - timedelta(days=2 * DAYS),
                2 * DAYS,
                "H",
            )
        reads = Reads()
        reads.attach(client)
        report = FillReport(
            AuditTable(client, info.outputs["AuditTableName"]),
            sends,
            ShiftsTable(client, info.outputs["ShiftsTableName"]),
        )
        began = time.perf_counter()
        built = report.build(start, END, ZoneInfo("Europe/London"))
        seconds = time.perf_counter() - began
    return {
        "label": label,
        "audit_items": audit_items,
        "seconds": seconds,
        "dynamodb_items": sum(reads.items.values()),
        "send_records": sends.read,
        "filled": built.filled,
        "texts": built.texts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", type=int, default=1000)
    parser.add_argument("--sends", type=int, default=50_000)
    args = parser.parse_args()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    rows = [
        run("base", args.shifts, args.sends, 0),
        run("10x in range", args.shifts * 10, args.sends * 10, 0),
        run("10x history", args.shifts, args.sends, 9),
    ]
    base = rows[0]
    print(f"shiftsms report --since {DAYS}d, moto in-process")
    print(
        f"{'data':<14}{'audit items':>12}{'time s':>9}{'DynamoDB items':>16}{'send records':>14}"
        f"{'x time':>8}{'x items':>9}"
    )
    for r in rows:
        print(
            f"{r['label']:<14}{r['audit_items']:>12,}{r['seconds']:>9.2f}{r['dynamodb_items']:>16,}"
            f"{r['send_records']:>14,}{r['seconds'] / base['seconds']:>8.1f}"
            f"{r['dynamodb_items'] / base['dynamodb_items']:>9.1f}"
        )
    print("filled shifts found:", ", ".join(f"{r['label']} {r['filled']:,}" for r in rows))


if __name__ == "__main__":
    main()
