"""What ``shiftsms report --since 30d`` costs as the data grows: time and items read.

The real template is deployed into an in-process moto and bulk-loaded (``BatchWriteItem``)
with what the functions would have written for N shifts over 30 days (each posted, offered by
a campaign of 20 shifts, and booked) and M texts (each delivered): the audit function's
entries in the audit table, and the delivery adapter's send records
(:mod:`shiftsms.aws.delivery_records`) in the state table, a text record per message in its
UTC day's group and each day's totals. The report is built the way the command builds it
(``FillReport`` on ``AuditTable``, ``DynamoSendRecords`` and ``ShiftsTable``, days in the
stack's time zone) and a botocore hook counts the items DynamoDB returned to it (Query
``Count``, GetItem, BatchGetItem), per table: the send records are the state table's. The
report's texts and offers are checked against the texts loaded in range. Three runs:

- ``base``: 1,000 shifts and 50,000 texts in the 30 days;
- ``10x in range``: 10,000 shifts and 500,000 texts in the same 30 days;
- ``10x history``: the base data in range, plus 9 times as much in the 60 days before.

Targets: the items read grow no faster than the data in range, and the 10x-history run reads
about what the base run reads.

    python bench/report_cost.py [--shifts 1000] [--sends 50000]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from moto import mock_aws

from shiftsms.aws.audit_table import AuditTable, entry_item
from shiftsms.aws.delivery_records import (
    RECORD_DAYS,
    DynamoSendRecords,
    day_group,
    text_id,
    totals_id,
)
from shiftsms.aws.dynamo import to_item
from shiftsms.aws.send_markers import RECORD_GROUP, RECORD_KEY
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core.audit import entry_from_images
from shiftsms.core.phone import fingerprint
from shiftsms.core.shift_times import time_zone
from shiftsms.services.report import FillReport
from tests.conftest import REGION, deploy_template

END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAYS = 30
STAFF = 200
PER_CAMPAIGN = 20
RUN = "r1"
# Every text: one part, delivered 4 s after it was sent, at the contract's price and fee.
PARTS = 1
PRICE_USD = Decimal("0.0400")
CARRIER_FEE_USD = Decimal("0.0030")
DELIVERED_AFTER = timedelta(seconds=4)
# The 10x-history run may read this much more than the base run: the range starts at 12:00
# UTC, and its first UTC day's group holds that morning's older texts too.
HISTORY_SLACK = 1.2


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def text_item(message_id: str, campaign_id: str, recipient: str, at: datetime) -> dict[str, Any]:
    """The text record the delivery adapter keeps of a campaign text sent at ``at`` (UTC)
    after its final DELIVERED event (``DynamoSendRecords.record``)."""
    delivered = _millis(at + DELIVERED_AFTER)
    return to_item(
        {
            "id": text_id(message_id),
            RECORD_GROUP: day_group(at.date()),
            RECORD_KEY: text_id(message_id),
            "kind": "campaign",
            "campaign_id": campaign_id,
            "run": RUN,
            "recipient": recipient,
            "message_id": message_id,
            "sent_at": _millis(at),
            "event_at": delivered,
            "delivery_status": "DELIVERED",
            "delivery_final": True,
            "delivery_at": delivered,
            "parts": PARTS,
            "price_usd": PRICE_USD,
            "carrier_fee_usd": CARRIER_FEE_USD,
            "version": 1,
            "expiration": int((at + timedelta(days=RECORD_DAYS)).timestamp()),
        }
    )


def totals_item(day: date, texts: int) -> dict[str, Any]:
    """The adapter's totals of a UTC day on which ``texts`` texts were sent, all delivered."""
    last = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return to_item(
        {
            "id": totals_id(day),
            "texts": texts,
            "parts": texts * PARTS,
            "cost_usd": texts * (PRICE_USD + CARRIER_FEE_USD),
            "delivered": texts,
            "failed": 0,
            "expiration": int((last + timedelta(days=RECORD_DAYS)).timestamp()),
        }
    )


@dataclass
class Reads:
    """Items DynamoDB returned, per table (a botocore hook): Query ``Count``, GetItem,
    BatchGetItem."""

    items: Counter[str] = field(default_factory=Counter)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    @staticmethod
    def _before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_table"] = params.get("TableName", "")

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        table = context.get("bench_table", "")
        if model.name == "Query":
            self.items[table] += int(parsed.get("Count", 0))
        elif model.name == "GetItem":
            self.items[table] += 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            for name, got in parsed.get("Responses", {}).items():
                self.items[name] += len(got)


def _write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        request = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def load(
    client: Any,
    outputs: dict[str, str],
    sent: Counter[date],
    shifts: int,
    texts: int,
    start: datetime,
    days: int,
    tag: str,
) -> int:
    """Audit entries for ``shifts`` shifts and send records for ``texts`` texts spread over
    ``days`` from ``start``; counts the texts per UTC day in ``sent`` (the day totals are
    written after the last load) and returns the audit items written."""
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
    prints = [fingerprint(number) for number in staff]
    campaigns = max(1, shifts // PER_CAMPAIGN)
    records = []
    for j in range(texts):
        at = start + timedelta(seconds=span * j / texts)
        k = j * campaigns // texts  # the campaign sending at that time
        campaign = f"c{tag}{k * PER_CAMPAIGN + PER_CAMPAIGN - 1}"
        records.append(text_item(f"{tag}-{j:07d}", campaign, prints[j % STAFF], at))
        sent[at.date()] += 1
    _write(client, outputs["StateTableName"], records)
    return len(items)


def run(label: str, shifts: int, texts: int, history: int) -> dict[str, Any]:
    with mock_aws():
        info = deploy_template()
        client = boto3.client("dynamodb", region_name=REGION)
        settings = info.settings()
        state = info.output("StateTableName")
        sent: Counter[date] = Counter()
        start = END - timedelta(days=DAYS)
        audit_items = load(client, info.outputs, sent, shifts, texts, start, DAYS, "S")
        if history:
            audit_items += load(
                client,
                info.outputs,
                sent,
                shifts * history,
                texts * history,
                start - timedelta(days=2 * DAYS),
                2 * DAYS,
                "H",
            )
        _write(client, state, [totals_item(d, n) for d, n in sorted(sent.items())])
        reads = Reads()
        reads.attach(client)
        # as `shiftsms report` builds it (shiftsms/cli/report.py)
        report = FillReport(
            AuditTable(client, info.output("AuditTableName")),
            DynamoSendRecords(client, state, info.output("CampaignsTableName")),
            ShiftsTable(client, settings.shifts_table),
        )
        began = time.perf_counter()
        built = report.build(start, END, time_zone(settings.time_zone))
        seconds = time.perf_counter() - began
    offers = sum(p.offers for p in built.people.values())
    if built.texts != texts or offers != texts:
        raise SystemExit(
            f"{label}: the report counted {built.texts:,} texts and {offers:,} offers, "
            f"not the {texts:,} loaded in range: the bench's items are not the adapter's"
        )
    return {
        "label": label,
        "audit_items": audit_items,
        "seconds": seconds,
        "dynamodb_items": sum(reads.items.values()),
        "send_records": reads.items[state],
        "filled": built.filled,
        "texts": built.texts,
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


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
    in_range = rows[1]["dynamodb_items"] / base["dynamodb_items"]
    history = rows[2]["dynamodb_items"] / base["dynamodb_items"]
    print(
        f"target: items read grow no faster than the data in range: {in_range:.2f}x "
        f"for 10x the data, {_verdict(in_range <= 10)}"
    )
    print(
        f"target: 10x the history reads about what base reads (at most {HISTORY_SLACK}x): "
        f"{history:.2f}x, {_verdict(history <= HISTORY_SLACK)}"
    )


if __name__ == "__main__":
    main()
