"""What a booking costs with and without the timed-shift rules, and what REQUEST reads as past
shifts pile up.

Part 1, one booking, through the adapter and through the real handler, on the real template
deployed into an in-process moto: the DynamoDB requests made (by operation) and the capacity
they consume. moto reports a constant ConsumedCapacity, so capacity is computed from the item
sizes by DynamoDB's published rules: a read is 1 unit per 4 KB of the item (0.5 eventually
consistent), a write 1 unit per 1 KB; in a transaction both count twice.

- untimed, sample path: ``ShiftsTable.book`` (one conditional UpdateItem, no rules);
- untimed, checked: ``book_checked`` on an untimed shift (role rule only: GetItem + UpdateItem);
- timed, checked: ``book_checked`` on a timed shift with every rule, the person holding N
  shifts (GetItem shift, GetItem person, TransactWriteItems of the shift and the person).

Part 2, one REQUEST through the handler at several table sizes, each with a tenth of the
shifts past (half of those never booked, so still ``available``) and 5 open: items DynamoDB
read on the shifts table (ScannedCount of each Query, items a BatchGetItem returned).

    python bench/booking_rules.py [--sizes 1000,10000,100000] [--held 0,10]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto import mock_aws

from shiftsms.aws.shifts_table import ShiftsTable, start_key
from shiftsms.core.booking_rules import RuleSettings, ShiftToBook, check_booking
from shiftsms.core.models import Shift, StaffMember
from shiftsms.handlers import inbound
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, REGION, deploy_template, function_environment, sns_event
from tests.fakes import RecordingSms

ANA = "+447700900123"
BEN = "+447700900456"
OPEN = 5
NOW = datetime.now(UTC).replace(microsecond=0)


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size, near enough: names plus values (numbers and maps roughly)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode()) + len(json.dumps(value, separators=(",", ":")).encode())
    return total


class Meter:
    """Counts DynamoDB requests by operation and the capacity they would consume."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.ops: Counter[str] = Counter()
        self.rcu = 0.0
        self.wcu = 0.0
        self.read_items: Counter[str] = Counter()
        self._params: dict[str, Any] = {}
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def reset(self) -> None:
        self.ops.clear()
        self.read_items.clear()
        self.rcu = self.wcu = 0.0

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._params = dict(params)

    def _size(self, table: str, key: dict[str, Any]) -> int:
        got = self.client.get_item(TableName=table, Key=key).get("Item") if key else None
        return item_bytes(got) if got else 1

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name, params = model.name, self._params
        if name in {"DescribeTable"} or getattr(self, "_inside", False):
            return
        self._inside = True
        try:
            self.ops[name] += 1
            consistent = 1.0 if params.get("ConsistentRead") else 0.5
            if name == "GetItem":
                item = parsed.get("Item")
                self.rcu += consistent * math.ceil(item_bytes(item) / 4096) if item else consistent
                self.read_items[params["TableName"]] += 1 if item else 0
            elif name == "Query":
                items = parsed.get("Items", [])
                size = sum(item_bytes(i) for i in items)
                self.rcu += consistent * max(1, math.ceil(size / 4096))
                self.read_items[params.get("IndexName") or params["TableName"]] += int(
                    parsed.get("ScannedCount", 0)
                )
            elif name == "BatchGetItem":
                for table, items in parsed.get("Responses", {}).items():
                    for item in items:
                        self.rcu += 0.5 * math.ceil(item_bytes(item) / 4096)
                    self.read_items[f"{table} (batch)"] += len(items)
            elif name in {"UpdateItem", "PutItem", "DeleteItem"}:
                size = max(
                    item_bytes(params.get("Item", {})),
                    self._size(params["TableName"], params.get("Key", {})),
                )
                self.wcu += math.ceil(size / 1024)
            elif name == "TransactWriteItems":
                for entry in params["TransactItems"]:
                    ((kind, body),) = entry.items()
                    if kind == "ConditionCheck":
                        self.rcu += 2 * 1
                        continue
                    size = self._size(body["TableName"], body.get("Key", {}))
                    self.wcu += 2 * math.ceil(size / 1024)
        finally:
            self._inside = False


def _env() -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )


def _span(days: float, hours: float = 8) -> tuple[str, str]:
    start = (NOW + timedelta(days=days)).replace(minute=0, second=0)
    return start.isoformat(timespec="minutes"), (start + timedelta(hours=hours)).isoformat(
        timespec="minutes"
    )


def _app() -> tuple[inbound.InboundApp, dict[str, str], RecordingSms]:
    info = deploy_template()
    env = function_environment(info.outputs["InboundFunctionName"])
    sms = RecordingSms()
    app = inbound.InboundApp(Settings.from_env(env), sms=sms)
    app.service.staff.put(StaffMember(phone=ANA, name="Ana"))
    app.service.staff.put(StaffMember(phone=BEN, name="Ben"))
    return app, info.outputs, sms


def _text(app: inbound.InboundApp, body: str, message_id: str) -> None:
    message = {
        "originationNumber": ANA,
        "destinationNumber": ORIGINATION,
        "messageBody": body,
        "inboundMessageId": message_id,
    }
    assert app.handle(sns_event(json.dumps(message)), None) == {"handled": 1, "dropped": 0}


def booking_costs(held_counts: list[int]) -> list[tuple[str, Counter[str], float, float]]:
    rows: list[tuple[str, Counter[str], float, float]] = []
    rules = RuleSettings()
    with mock_aws():
        app, out, _ = _app()
        client = app.service.shifts.client  # type: ignore[attr-defined]
        table = ShiftsTable(client, out["ShiftsTableName"], out["StaffTableName"])
        meter = Meter(client)

        def check(at: datetime) -> Callable[..., Any]:
            return lambda shift, span, held: check_booking(
                ShiftToBook(shift.shift_id, span, shift.role), (), held, rules, at
            )

        meter.reset()
        table.put(Shift("U0", "untimed"))
        meter.reset()
        table.book("U0", ANA, "m0", NOW)
        rows.append(("untimed, sample path (book)", Counter(meter.ops), meter.rcu, meter.wcu))
        table.put(Shift("U1", "untimed"))
        meter.reset()
        table.book_checked("U1", ANA, "m1", NOW, check=check(NOW))
        rows.append(("untimed, checked", Counter(meter.ops), meter.rcu, meter.wcu))
        day = 1.0
        booked = 0
        for held in held_counts:
            while booked < held:  # one 8 h shift every other day: no rule breaks
                code = f"H{booked}"
                table.put(Shift(code, starts_at=_span(day)[0], ends_at=_span(day)[1]))
                table.book_checked(code, ANA, f"h{booked}", NOW, check=check(NOW))
                booked += 1
                day += 2
            code = f"T{held}"
            table.put(Shift(code, starts_at=_span(day)[0], ends_at=_span(day)[1]))
            day += 2
            meter.reset()
            result = table.book_checked(code, ANA, f"t{held}", NOW, check=check(NOW))
            assert result.outcome is not None and result.outcome.value == "booked", result
            booked += 1
            rows.append((f"timed, checked, {held} held", Counter(meter.ops), meter.rcu, meter.wcu))
        # Through the handler: everything one booking text does (allow list, idempotency).
        for label, code, span in (
            ("handler: untimed text", "U9", None),
            ("handler: timed text", "T99", _span(day + 30)),
        ):
            shift = (
                Shift(code, "x")
                if span is None
                else Shift(code, starts_at=span[0], ends_at=span[1])
            )
            table.put(shift)
            meter.reset()
            _text(app, code, f"bench-{code}")
            rows.append((label, Counter(meter.ops), meter.rcu, meter.wcu))
    return rows


def load(client: Any, table: str, size: int, past: int) -> None:
    """``size`` timed shifts: ``past`` of them past (half never booked), 5 open, the rest
    taken; written with BatchWriteItem."""
    batch: list[dict[str, Any]] = []
    open_at = {past + (size - past) * (k + 1) // (OPEN + 1) for k in range(OPEN)}
    for i in range(size):
        if i < past:
            start, end = _span(-1 - i / max(past, 1) * 60)
            status = "available" if i % 2 else "taken"
        else:
            start, end = _span(1 + (i - past) / 24)
            status = "available" if i in open_at else "taken"
        shift = Shift(f"S{i:06d}", "x", starts_at=start, ends_at=end)
        item: dict[str, Any] = {
            "shift_id": {"S": shift.shift_id},
            "shift_info": {"S": "Mon 01/12 07:00-15:00"},
            "shift_status": {"S": status},
            "starts_at": {"S": start},
            "ends_at": {"S": end},
            "start_key": {"S": start_key(shift)},
        }
        if status == "taken":
            item["employee"] = {"S": BEN}
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25 or i == size - 1:
            request: dict[str, Any] = {table: batch}
            while request:
                request = (
                    client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                )
            batch = []


def request_cost(size: int) -> tuple[int, Counter[str], float, float, str]:
    past = size // 10
    with mock_aws():
        app, out, sms = _app()
        client = app.service.shifts.client  # type: ignore[attr-defined]
        started = time.perf_counter()
        load(client, out["ShiftsTableName"], size, past)
        print(f"  loaded {size:,} shifts in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        meter = Meter(client)
        meter.reset()
        _text(app, "REQUEST", f"req-{size}")
        reply = sms.sent[-1].body
        return past, Counter(meter.read_items), meter.rcu, meter.rcu, reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="shifts table sizes")
    parser.add_argument("--held", default="0,10", help="shifts the person holds (part 1)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.getLogger("shiftsms").setLevel(logging.WARNING)
    _env()

    print("Part 1: one booking (requests by operation; capacity from item sizes)")
    base = None
    for label, ops, rcu, wcu in booking_costs([int(h) for h in args.held.split(",")]):
        total = sum(ops.values())
        base = base or (total, rcu + wcu)
        ops_text = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()))
        print(
            f"  {label:<32} {total:>2} requests ({ops_text}); {rcu:g} RCU + {wcu:g} WCU"
            f"  [x{total / base[0]:.1f} requests, x{(rcu + wcu) / base[1]:.1f} capacity"
            " vs the sample path]"
        )

    print("\nPart 2: one REQUEST, a tenth of the shifts past (half never booked), 5 open")
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        started = time.perf_counter()
        past, reads, rcu, _, reply = request_cost(size)
        took = time.perf_counter() - started
        rows.append((size, past, reads, rcu))
        detail = ", ".join(
            f"{k.split('-')[1] if k.startswith('shiftsms-') else k} {v}"
            for k, v in sorted(reads.items())
        )
        print(
            f"  {size:>7,} shifts, {past:>6,} past: {sum(reads.values()):>4} items read "
            f"({detail}); ~{rcu:g} RCU; {took:.0f}s in moto"
        )
        print(f"      reply: {reply!r}")
    first, last = rows[0], rows[-1]
    print(
        f"\nratio {last[0]:,} vs {first[0]:,} shifts ({last[1]:,} vs {first[1]:,} past): "
        f"items read x{sum(last[2].values()) / sum(first[2].values()):.2f}"
    )
    print(
        "note: by-start is read from now on, so a past shift is never read there; console "
        "items (no start_key) are looked for on by-status in at most 2 windows of 25 ids, "
        "whose items a BatchGetItem reads unless by-start already listed them."
    )


if __name__ == "__main__":
    main()
