"""What one REQUEST costs as the shifts table grows: items DynamoDB reads and reply segments.

For each table size (100 ... 100,000 shifts, 5 of them open, spread across the key range) the
real template is deployed into an in-process moto, the table is bulk-loaded with
BatchWriteItem, and REQUEST goes through the real Lambda handler a few times. A botocore hook
counts what DynamoDB read on the shifts table (``ScannedCount`` of each Query/Scan, one per
item a GetItem returns). The original sample's approach, a Scan filtered on ``shift_status``,
is measured the same way: once as it was written (one Scan call, which stops at DynamoDB's
1 MB page) and once paginated to the end (what finding every open shift would cost).

    python bench/request_cost.py [--sizes 100,1000,10000,100000] [--requests 5]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto import mock_aws

from shiftsms.core.gsm import segments
from shiftsms.core.models import StaffMember
from shiftsms.handlers import inbound
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms

OPEN = 5
ANA = "+447700900123"
INFO = "28/11 nights"  # short enough that all 5 open shifts fit one segment


@dataclass
class ReadCounter:
    """Counts items DynamoDB reads per table, from each response (a botocore hook)."""

    table: str = ""
    items: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.table = str(params.get("TableName", ""))

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            read = int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "GetItem":
            read = 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            read = sum(len(v) for v in parsed.get("Responses", {}).values())
        else:
            return
        self.items[self.table] = self.items.get(self.table, 0) + read
        self.calls[self.table] = self.calls.get(self.table, 0) + 1

    def reset(self) -> None:
        self.items.clear()
        self.calls.clear()


def open_positions(size: int) -> set[int]:
    """Where the open shifts sit: spread evenly, the last one near the end of the table."""
    return {size * (k + 1) // OPEN - 1 for k in range(OPEN)}


def load(client: Any, table: str, size: int) -> float:
    """Write ``size`` shifts (5 open) with BatchWriteItem; return seconds taken."""
    started = time.perf_counter()
    open_at = open_positions(size)
    batch: list[dict[str, Any]] = []
    for i in range(size):
        item: dict[str, Any] = {
            "shift_id": {"S": f"S{i:06d}"},
            "shift_info": {"S": INFO},
            "shift_status": {"S": "available" if i in open_at else "taken"},
        }
        if i not in open_at:
            item["employee"] = {"S": "+447700900456"}
            item["booked_at"] = {"S": "2026-11-01T09:00:00+00:00"}
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25 or i == size - 1:
            request = {table: batch}
            while request:
                resp = client.batch_write_item(RequestItems=request)
                request = resp.get("UnprocessedItems") or {}
            batch = []
    return time.perf_counter() - started


def original_scan(client: Any, table: str, counter: ReadCounter) -> tuple[int, int, int, int]:
    """The sample's REQUEST: Scan filtered on status. Returns (read, found) for one call, and
    (read, found) paginated to the end."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "shift_status = :a",
        "ExpressionAttributeValues": {":a": {"S": "available"}},
    }
    counter.reset()
    first = client.scan(**kwargs)
    one_read, one_found = counter.items.get(table, 0), len(first["Items"])
    counter.reset()
    found = 0
    for page in client.get_paginator("scan").paginate(**kwargs):
        found += len(page["Items"])
    return one_read, one_found, counter.items.get(table, 0), found


@dataclass
class Row:
    size: int
    load_s: float
    request_reads: float
    request_calls: float
    total_reads: float
    segments: int
    request_ms: float
    reply: str
    scan_one_read: int
    scan_one_found: int
    scan_all_read: int
    scan_all_found: int


def measure(size: int, requests: int) -> Row:
    with mock_aws():
        info = deploy_template()
        env = function_environment(info.outputs["InboundFunctionName"])
        sms = RecordingSms()
        app = inbound.InboundApp(Settings.from_env(env), sms=sms)
        app.service.staff.put(StaffMember(phone=ANA, name="Ana"))
        client = app.service.shifts.client  # type: ignore[attr-defined]
        table = info.outputs["ShiftsTableName"]
        load_s = load(client, table, size)

        counter = ReadCounter()
        counter.attach(client)
        reads: list[int] = []
        totals: list[int] = []
        calls: list[int] = []
        times: list[float] = []
        for n in range(requests):
            counter.reset()
            message = {
                "originationNumber": ANA,
                "destinationNumber": ORIGINATION,
                "messageBody": "REQUEST",
                "inboundMessageId": f"bench-{size}-{n}",
            }
            started = time.perf_counter()
            result = app.handle(sns_event(json.dumps(message)), None)  # the handler's body
            times.append(time.perf_counter() - started)
            assert result == {"handled": 1, "dropped": 0}, result
            reads.append(counter.items.get(table, 0))
            calls.append(counter.calls.get(table, 0))
            totals.append(sum(counter.items.values()))
        reply = sms.sent[-1].body
        shown = sum(f"S{i:06d}" in reply for i in open_positions(size))
        assert shown == OPEN, reply
        one_read, one_found, all_read, all_found = original_scan(client, table, counter)
        return Row(
            size=size,
            load_s=load_s,
            request_reads=statistics.median(reads),
            request_calls=statistics.median(calls),
            total_reads=statistics.median(totals),
            segments=segments(reply),
            request_ms=statistics.median(times) * 1000,
            reply=reply,
            scan_one_read=one_read,
            scan_one_found=one_found,
            scan_all_read=all_read,
            scan_all_found=all_found,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000", help="table sizes")
    parser.add_argument("--requests", type=int, default=5, help="REQUESTs per size (median)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # moto's notes on template resources it skips
    logging.getLogger("shiftsms").setLevel(logging.WARNING)
    # Only ever the in-process emulator: a fixed region, fake credentials, no endpoint override.
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )

    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[Row] = []
    for size in sizes:
        row = measure(size, args.requests)
        rows.append(row)
        print(f"  loaded {size:>7,} shifts in {row.load_s:6.1f}s", file=sys.stderr)

    print(f"REQUEST through the handler, {OPEN} open shifts, median of {args.requests} runs")
    print(
        f"{'shifts':>8} | {'shift items read':>16} | {'shift calls':>11} | "
        f"{'all items read':>14} | {'segments':>8} | {'ms (moto)':>9} || "
        f"{'orig Scan 1 call: read/found':>28} | {'orig Scan paginated: read/found':>31}"
    )
    for r in rows:
        print(
            f"{r.size:>8,} | {r.request_reads:>16g} | {r.request_calls:>11g} | "
            f"{r.total_reads:>14g} | {r.segments:>8} | {r.request_ms:>9.1f} || "
            f"{f'{r.scan_one_read:,} / {r.scan_one_found} of {OPEN}':>28} | "
            f"{f'{r.scan_all_read:,} / {r.scan_all_found} of {OPEN}':>31}"
        )
    small, large = rows[0], rows[-1]
    print()
    print(
        f"ratio largest/smallest ({large.size:,} vs {small.size:,} shifts): "
        f"REQUEST items read {large.request_reads / small.request_reads:.2f}x; "
        f"original paginated Scan {large.scan_all_read / small.scan_all_read:.0f}x"
    )
    print(f"reply at {large.size:,}: {large.reply!r}")
    print(
        "note: items read = what DynamoDB evaluated (ScannedCount of each Query/Scan, GetItem "
        "hits) on the shifts table; 'all' adds the allow-list GetItem (idempotency writes are "
        "not reads). moto reports a constant ConsumedCapacity, so it is not used. The ms column "
        "is moto's: it walks every item of an index in Python, so it grows with the table where "
        "DynamoDB's index Query would not."
    )


if __name__ == "__main__":
    main()
