"""Campaign fan-out end to end on the emulator: N recipients, every one texted exactly once.

Deploys the real template into an in-process moto, puts N staff on the allow list, writes a
campaign item as the CLI does, delivers its stream INSERT record to the campaign handler, then
drains the send queue ten messages at a time through the sender handler from W concurrent
"invocations" (threads), as Lambda's SQS poller would with MaximumConcurrency W. Texts go to a
recording sender; the rate limiter is the real one (the shared counter in the state table).

Prints: recipients texted once / more than once / never, time to enqueue, the achieved send
rate against the configured rate, the busiest one-second stretches, and peak memory.

The emulator, not shiftsms, bounds the pace here: moto handles one request at a time (see
``serialise_emulator``) and its SQS touches every queued message on each call, so a single
process sustains 30 to 50 texts a second with 10,000 jobs queued. The default rate is set
below that, so the ratio measures the limiter rather than the emulator; four workers hide the
emulator's per-call latency as more concurrent invocations would.

    python bench/campaign_fanout.py [--recipients 10000] [--rate 30] [--workers 4]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import resource
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

for name, value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-west-2",
    "AWS_REGION": "eu-west-2",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(name, value)
os.environ.pop("AWS_ENDPOINT_URL", None)

import moto.core.botocore_stubber  # noqa: E402
import moto.sqs.models  # noqa: E402

from shiftsms.core.campaign_text import SAMPLE_SHIFTS, compose  # noqa: E402
from shiftsms.core.campaigns import Campaign  # noqa: E402
from shiftsms.handlers.logs import logger  # noqa: E402
from shiftsms.handlers.sender import SenderApp  # noqa: E402
from tests.campaign_support import (  # noqa: E402
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    poll_once,
    stream_event,
)

logging.getLogger("moto").setLevel(logging.ERROR)
logger.setLevel(logging.WARNING)


def cheaper_emulator_clock() -> None:
    """Give moto's SQS a cheaper millisecond clock (same values).

    moto checks every queued message's visibility on each SendMessage, ReceiveMessage and
    DeleteMessage through a datetime round trip of several microseconds, so with 10,000
    messages queued each call costs tens of milliseconds of emulator time. ``time.time()``
    gives the same milliseconds far cheaper; queue semantics are unchanged. AWS has no such
    cost: this only keeps the emulator from dominating the numbers.
    """
    moto.sqs.models.unix_time_millis = lambda dt=None: (  # type: ignore[assignment]
        time.time() * 1000.0 if dt is None else dt.timestamp() * 1000.0
    )


def serialise_emulator() -> None:
    """Run one emulated request at a time, as DynamoDB serialises the writes to one item.

    moto does not lock around an update: two threads adding to the same counter can lose one
    of the additions, which AWS never does. The worker threads stand for separate Lambda
    invocations, so their requests must not interleave inside the emulator.
    """
    stubber = moto.core.botocore_stubber.BotocoreStubber
    original = stubber.process_request
    lock = threading.Lock()

    def process_request(self: object, request: object) -> object:
        with lock:
            return original(self, request)  # type: ignore[arg-type]

    stubber.process_request = process_request  # type: ignore[method-assign,assignment]


class TimedSms:
    """A recording SmsSender that keeps when each text was handed over."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[tuple[str, float]] = []

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        now = time.time()
        with self.lock:
            self.sent.append((to, now))
            return f"m-{len(self.sent)}"


def add_staff(stack: CampaignStack, n: int) -> list[str]:
    """N allow-list entries that get campaigns (batch writes, the shape StaffTable.put writes)."""
    phones = [f"+44770{i:07d}" for i in range(n)]
    table = stack.outputs["StaffTableName"]
    for start in range(0, n, 25):
        requests: list[dict[str, object]] = [
            {
                "PutRequest": {
                    "Item": {
                        "phone": {"S": p},
                        "name": {"S": f"Staff {p[-4:]}"},
                        "campaigns": {"BOOL": True},
                        "opted_out": {"BOOL": False},
                        "recipient_pool": {"S": "all"},
                    }
                }
            }
            for p in phones[start : start + 25]
        ]
        stack.dynamodb.batch_write_item(RequestItems={table: requests})
    return phones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="SendRatePerSecond (MPS)")
    parser.add_argument("--workers", type=int, default=4, help="concurrent sender invocations")
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="trace the fan-out's allocations (tracemalloc; slows the fan-out several times)",
    )
    args = parser.parse_args()
    cheaper_emulator_clock()
    serialise_emulator()

    with campaign_stack({"SendRatePerSecond": str(args.rate)}) as stack:
        phones = add_staff(stack, args.recipients)
        sms = TimedSms()
        campaign_app, _ = apps(stack, sms)
        composed = compose(SAMPLE_SHIFTS)
        campaign_app.service.campaigns.create(
            Campaign("bench-1", composed.message, shift_ids=composed.shown)
        )
        record = stack.insert_record("bench-1")

        if args.trace_memory:
            tracemalloc.start()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        result = campaign_app.handle(stream_event(record), FakeContext(remaining_ms=300_000))
        enqueue_seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        fanout_peak = tracemalloc.get_traced_memory()[1] if args.trace_memory else 0
        tracemalloc.stop()
        assert result == {"batchItemFailures": []}, result
        queued = stack.counts()

        senders = [SenderApp(stack.sender_settings(), sms=sms) for _ in range(args.workers)]
        arn = stack.queue_arn()
        failures = Counter[int]()

        def worker(index: int) -> None:
            app = senders[index]
            while True:
                delivered, failed = poll_once(stack, app.handle, FakeContext(), queue_arn=arn)
                failures[index] += failed
                if not delivered:
                    return

        send_started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        send_seconds = time.perf_counter() - send_started

        per_number = Counter(to for to, _ in sms.sent)
        once = sum(1 for p in phones if per_number[p] == 1)
        twice = sum(1 for p in phones if per_number[p] > 1)
        never = sum(1 for p in phones if per_number[p] == 0)
        times = sorted(t for _, t in sms.sent)
        windows = Counter(int(t) for t in times)
        # N texts take N slots of 1/rate: from the first text to one slot after the last.
        span = times[-1] - times[0] + 1 / args.rate if times else 0.0
        achieved = len(times) / span if span else 0.0
        # Busiest second-long sliding window, for reference (the limiter counts aligned seconds).
        sliding, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - 1.0:
                j += 1
            sliding = max(sliding, i - j + 1)
        item = stack.campaign_item("bench-1")
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Gaps shorter than 1/rate: texts handed over closer together than their booked times
        # (a worker reached its time late, after the next one's): thread scheduling jitter.
        short = sum(1 for g in gaps if g < 1 / args.rate - 0.002)

        print(f"recipients               {args.recipients}")
        print(f"jobs queued              {queued}")
        print(f"texted exactly once      {once}")
        print(f"texted more than once    {twice}")
        print(f"never texted             {never}")
        print(f"campaign counters        sent={item.get('sent', {}).get('N')} "
              f"recipients={item.get('recipients', {}).get('N')}")  # fmt: skip
        print(f"time to enqueue          {enqueue_seconds:.2f} s "
              f"({args.recipients / enqueue_seconds:.0f} jobs/s)")  # fmt: skip
        print(f"send phase               {send_seconds:.1f} s with {args.workers} workers, "
              f"{sum(failures.values())} retried batch items")  # fmt: skip
        print(f"configured rate          {args.rate:g} /s")
        print(f"achieved rate            {achieved:.2f} /s over {span:.1f} s "
              f"(ratio {achieved / args.rate:.3f})")  # fmt: skip
        print(f"busiest second           {max(windows.values()) if windows else 0} texts "
              f"(clock-aligned), {sliding} (any one-second stretch)")  # fmt: skip
        closest = min(gaps, default=0) * 1000
        print(f"texts closer than 1/rate {short} of {len(gaps)} gaps "
              f"(closest {closest:.1f} ms; 1/rate = {1000 / args.rate:.1f} ms)")  # fmt: skip
        print(f"fan-out peak RSS growth  {rss_after - rss_before:.0f} MB, emulator included")
        if args.trace_memory:
            print(f"fan-out peak (traced)    {fanout_peak / 1e6:.1f} MB, emulator included")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process peak RSS         {maxrss:.0f} MB, emulator included")


if __name__ == "__main__":
    main()
