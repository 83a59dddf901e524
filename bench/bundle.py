"""The Lambda bundle: its size (zipped, unzipped, files) and the time to build it.

Builds the bundle from this checkout and the installed distributions, as ``shiftsms deploy``
does, a few times; prints the sizes, the median build time, and whether every build gave the
same bytes.

    python bench/bundle.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shiftsms.deploy.bundle import build_bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="builds to time (default 5)")
    args = parser.parse_args()

    times: list[float] = []
    digests: set[str] = set()
    bundle = None
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        bundle = build_bundle()
        times.append(time.perf_counter() - start)
        digests.add(bundle.sha256)
    assert bundle is not None
    print(f"files:         {bundle.files}")
    print(f"zipped:        {bundle.size / 1_000_000:.2f} MB ({bundle.size} bytes)")
    print(f"unzipped:      {bundle.unzipped_bytes / 1_000_000:.2f} MB")
    print(
        f"build time:    median {statistics.median(times) * 1000:.0f} ms over {len(times)} runs "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )
    print(
        f"reproducible:  {'yes' if len(digests) == 1 else 'NO'} ({len(digests)} distinct digest(s))"
    )
    print(f"key:           {bundle.key}")


if __name__ == "__main__":
    main()
