"""Who gets the shift: a claim window with the fewest-hours award against first come.

Simulates windows of eligible repliers, each with random hours booked in the last 28 days
and a random reply order (the order their texts reached them and they answered). First come
gives the shift to the first reply; the window gives it by ``shiftsms.core.award`` (the code
the due function runs when a window closes). Reported: the share of shifts that went to the
replier with the fewest hours (new random hours each window; ties count for any of them),
and, for the same staff over every window (each award adds 8 h), the least and most hours
anyone ends with.

    python bench/fair_award.py [--windows 200] [--repliers 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shiftsms.core.award import AwardRule, Replier, award_order

START = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


def _pick(name: str, repliers: list[Replier], window: int) -> Replier:
    if name == "first come":
        return repliers[0]
    rule = AwardRule.FEWEST_HOURS if name.endswith("fewest-hours") else AwardRule.EARLIEST
    return award_order(repliers, rule, f"W{window}")[0]


NAMES = ("first come", "window, earliest", "window, fewest-hours")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--repliers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    staff = [f"p{i:02d}" for i in range(args.repliers)]

    # 1. Each window: new random hours and a random reply order (the check).
    fewest = dict.fromkeys(NAMES, 0)
    for window in range(args.windows):
        order = rng.sample(staff, len(staff))
        repliers = [
            Replier(who, START + timedelta(seconds=5 * i), float(rng.randrange(0, 49)))
            for i, who in enumerate(order)
        ]
        least = min(r.hours for r in repliers)
        for name in NAMES:
            fewest[name] += _pick(name, repliers, window).hours == least

    # 2. The same staff over many windows: each award adds an 8 h shift to the winner.
    spread = {}
    for name in NAMES:
        hours = dict.fromkeys(staff, 0.0)
        for window in range(args.windows):
            order = rng.sample(staff, len(staff))
            repliers = [
                Replier(who, START + timedelta(seconds=5 * i), hours[who])
                for i, who in enumerate(order)
            ]
            hours[_pick(name, repliers, window).who] += 8
        spread[name] = (min(hours.values()), max(hours.values()))

    print(f"{args.windows} windows, {args.repliers} eligible repliers, random reply order\n")
    print(f"{'award':22} {'to the fewest-hours replier':>28} {'hours after, min-max':>22}")
    for name in NAMES:
        share = 100 * fewest[name] / args.windows
        low, high = spread[name]
        print(f"{name:22} {share:27.1f}% {low:>13.0f} - {high:<6.0f}")


if __name__ == "__main__":
    main()
