"""SMS segments billed per recipient for the original sample's example campaign.

The original AWS sample wrapped the campaign message ("15/08 5h nightshift XYZ123, 18/08 3h
dayshift XYZ124") in fixed instructions; shiftsms lists the shifts and adds one short line on
how to book. Both are GSM-7, so the count is exact for any carrier.

    python bench/segments.py [--recipients 1000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shiftsms.core.campaign_text import (
    SAMPLE_CAMPAIGN_MESSAGE,
    SAMPLE_SHIFTS,
    compose,
    original_text,
)
from shiftsms.core.gsm import segment_info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    args = parser.parse_args()

    texts = {
        "shiftsms": compose(SAMPLE_SHIFTS).text,
        "original, Connect enabled": original_text(SAMPLE_CAMPAIGN_MESSAGE, True),
        "original, Connect disabled": original_text(SAMPLE_CAMPAIGN_MESSAGE, False),
    }
    base = segment_info(texts["shiftsms"]).segments
    print(f"campaign message: {SAMPLE_CAMPAIGN_MESSAGE!r}\n")
    print(f"{'text':28} {'encoding':8} {'chars':>5} {'segments':>8} "
          f"{'per ' + str(args.recipients):>10} {'vs shiftsms':>11}")  # fmt: skip
    for name, text in texts.items():
        info = segment_info(text)
        print(f"{name:28} {info.encoding:8} {info.units:5d} {info.segments:8d} "
              f"{info.segments * args.recipients:10d} {info.segments / base:10.1f}x")  # fmt: skip
    print()
    for name, text in texts.items():
        print(f"{name}:\n  {text}\n")


if __name__ == "__main__":
    main()
