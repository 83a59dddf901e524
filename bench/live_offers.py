"""Live offers on the emulator: texts a one-shift campaign sends once the shift is booked.

Deploys the real template into an in-process moto, puts N staff on the allow list and one
shift on offer, creates the campaign as ``campaign create --shifts`` does (a live offer), fans
it out through the campaign handler and drains the send queue through the sender handler
from W concurrent "invocations" at the real shared rate limiter's ``SendRatePerSecond``. The
K-th recipient texts the shift's code back D seconds after their text (the real inbound
handler, whose reply takes the same shared rate), and the sender, composing each text when it
is sent, stops texting the campaign.

Prints: campaign texts sent, against the N that sending the same text to everyone costs,
and against the target (the texts sent before the booking plus one second of sending), the
jobs counted ``skipped_filled``, and how long after the booking the last campaign text went.

    python bench/live_offers.py [--recipients 1000] [--rate 10] [--booker 20] [--delay 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.campaign_fanout import (
    add_staff,
    cheaper_emulator_clock,
    serialise_emulator,
)
from shiftsms.aws.campaign_links import DynamoCampaignLinks
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.handlers.inbound import InboundApp
from shiftsms.handlers.sender import SenderApp
from shiftsms.services.campaigns import CampaignPlanner
from shiftsms.settings import InboundSettings
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    poll_once,
    stream_event,
)
from tests.conftest import ORIGINATION, function_environment, sns_event

SHIFT = "BENCH1"


class Phones:
    """End User Messaging faked: keeps every text and when it went; the K-th campaign text's
    recipient books the shift ``delay`` seconds later."""

    def __init__(self, booker: int, delay: float, book: object) -> None:
        self.lock = threading.Lock()
        self.campaign: list[tuple[str, float]] = []
        self.replies: list[tuple[str, float]] = []
        self.booker, self.delay, self.book = booker, delay, book
        self.booked_at: float | None = None

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
            kind = self.campaign if body.startswith("Open shifts:") else self.replies
            kind.append((to, now))
            if kind is self.campaign and len(self.campaign) == self.booker:
                threading.Timer(self.delay, self._book, args=(to,)).start()
            return f"m-{len(self.campaign) + len(self.replies)}"

    def _book(self, to: str) -> None:
        self.booked_at = time.time()
        self.book(to)  # type: ignore[operator]


def inbound_app(stack: CampaignStack, sms: Phones) -> InboundApp:
    env = function_environment(stack.outputs["InboundFunctionName"])
    return InboundApp(InboundSettings.from_env(env), sms=sms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0, help="SendRatePerSecond (MPS)")
    parser.add_argument("--booker", type=int, default=20, help="which recipient books")
    parser.add_argument("--delay", type=float, default=3.0, help="seconds until they reply")
    parser.add_argument("--workers", type=int, default=2, help="concurrent sender invocations")
    args = parser.parse_args()
    cheaper_emulator_clock()
    serialise_emulator()

    with campaign_stack({"SendRatePerSecond": str(args.rate)}) as stack:
        add_staff(stack, args.recipients)
        stack.add_shift(SHIFT, "Sat 17/08 19:00-07:00 Ward 7")
        holder: list[InboundApp] = []

        def book(phone: str) -> None:
            message = {
                "originationNumber": phone,
                "destinationNumber": ORIGINATION,
                "messageBody": SHIFT,
                "inboundMessageId": "bench-booking",
            }
            holder[0].handle(sns_event(message), None)

        sms = Phones(args.booker, args.delay, book)
        holder.append(inbound_app(stack, sms))
        shifts = ShiftsTable(stack.dynamodb, stack.outputs["ShiftsTableName"])
        planner = CampaignPlanner(
            campaigns=stack.campaigns(),
            staff=stack.staff(),
            shifts=shifts,
            links=DynamoCampaignLinks(
                stack.dynamodb,
                stack.outputs["ShiftsTableName"],
                stack.outputs["CampaignsTableName"],
            ),
        )
        planner.create(planner.prepare("live-1", shift_ids=[SHIFT]))
        campaign_app, _ = apps(stack, sms)
        campaign_app.handle(
            stream_event(stack.insert_record("live-1")), FakeContext(remaining_ms=300_000)
        )

        senders = [SenderApp(stack.sender_settings(), sms=sms) for _ in range(args.workers)]
        arn = stack.queue_arn()

        def worker(index: int) -> None:
            while True:
                delivered, _ = poll_once(stack, senders[index].handle, FakeContext(), queue_arn=arn)
                if not delivered:
                    return

        started = time.time()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - started

        booked_at = sms.booked_at
        item = stack.campaign_item("live-1")
        counters = {k: int(item.get(k, {}).get("N", 0)) for k in ("sent", "skipped_filled")}
        sent = len(sms.campaign)
        print(f"recipients                     {args.recipients}")
        print(f"send rate                      {args.rate:g} /s, {args.workers} workers")
        print(f"booked by recipient            {args.booker}, {args.delay:g} s after the text")
        print(f"shift status                   {shifts.get(SHIFT).status_text}")  # type: ignore[union-attr]
        print(f"campaign texts, send-to-all    {args.recipients}")
        print(f"campaign texts, live offers    {sent}")
        if booked_at is None:
            print("the booking never came (the campaign finished first)")
            return
        before = sum(1 for _, t in sms.campaign if t <= booked_at)
        target = before + math.ceil(args.rate)
        last = max(t for _, t in sms.campaign)
        print(f"  sent before the booking      {before}")
        print(f"  sent after it                {sent - before} "
              f"(last {max(0.0, last - booked_at):.2f} s after the booking)")  # fmt: skip
        verdict = "met" if sent <= target else "missed"
        print(f"  target (before + 1 s)        <= {target}: {verdict}")
        print(f"texts saved                    {args.recipients - sent} "
              f"({(args.recipients - sent) / args.recipients:.1%})")  # fmt: skip
        print(f"campaign counters              sent={counters['sent']} "
              f"skipped_filled={counters['skipped_filled']}")  # fmt: skip
        print(f"replies (the booking's)        {len(sms.replies)}")
        print(f"send phase                     {elapsed:.1f} s")


if __name__ == "__main__":
    main()
