"""Import time of each Lambda handler module, in a fresh interpreter each run.

For every module in ``lambdas/``: ``python -X importtime -c "import lambdas.<name>"`` in a new
process, ``--runs`` times (default 10); prints the median of the import's cumulative time as
``-X importtime`` reports it, the median wall time of the whole process, and checks that
neither typer nor rich is in ``sys.modules`` after importing the handler (they belong to the
CLI; a handler that pulls them in pays for them on every cold start).

    python bench/cold_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("typer", "rich", "moto", "pytest")

PROBE = """
import json, sys
import {module}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r})))
"""


def handler_modules() -> list[str]:
    return sorted(
        f"lambdas.{p.stem}" for p in (ROOT / "lambdas").glob("*.py") if p.stem != "__init__"
    )


def import_time_us(module: str) -> tuple[int, float, list[str]]:
    """One fresh interpreter: (cumulative import us of ``module``, wall s, forbidden loaded)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    code = PROBE.format(module=module, forbidden=set(FORBIDDEN))
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    wall = time.perf_counter() - started
    cumulative = 0
    for line in proc.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            cumulative = int(parts[1])
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    return cumulative, wall, loaded


def top_imports(module: str, count: int = 5) -> list[tuple[int, str]]:
    """The slowest top-level packages ``module`` pulls in (one run, cumulative us each).

    Cumulative times nest (botocore is inside boto3), so they do not add up.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    tops: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].strip()
        if "." not in name and not name.startswith("_"):
            tops[name] = max(tops.get(name, 0), int(parts[1]))
    return sorted(((us, name) for name, us in tops.items()), reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters per module")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {args.runs} fresh interpreters per module")
    print(
        f"{'module':<24} | {'import (median)':>15} | {'min':>8} | {'max':>8} | "
        f"{'process wall':>12} | typer/rich loaded"
    )
    failures: list[str] = []
    for module in handler_modules():
        runs = [import_time_us(module) for _ in range(max(1, args.runs))]
        imports = [r[0] for r in runs]
        walls = [r[1] for r in runs]
        loaded = sorted({m for r in runs for m in r[2]})
        ui = [m for m in loaded if m.split(".")[0] in ("typer", "rich")]
        ui_note = "YES: " + ", ".join(ui) if ui else "no"
        print(
            f"{module:<24} | {statistics.median(imports) / 1000:>12.1f} ms | "
            f"{min(imports) / 1000:>5.1f} ms | {max(imports) / 1000:>5.1f} ms | "
            f"{statistics.median(walls) * 1000:>9.0f} ms | {ui_note}"
        )
        if loaded:
            failures.append(f"{module} imports {', '.join(loaded)}")
        for cumulative, name in top_imports(module):
            print(f"{'':<24}   {cumulative / 1000:>8.1f} ms  {name}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        raise SystemExit(1)
    print(f"ok: no handler imports {', '.join(FORBIDDEN)}")


if __name__ == "__main__":
    main()
