"""Operator commands at scale: ``shifts import`` and ``shifts list --json`` against the AWS CLI.

One ``ThreadedMotoServer`` on 127.0.0.1 holds two stacks of the real template. ``shiftsms
shifts import`` of N rows runs on one, and the AWS CLI does the same reads and writes on the
other: ``aws dynamodb batch-get-item`` of 100 ids (consistent, key only) to find those that
exist, then ``aws dynamodb batch-write-item`` of 25 for the new ones. ``shiftsms shifts list
--json`` of 5,000 shifts (one Scan) is set against ``aws dynamodb query`` of the ``by-status``
index (both statuses, paginated by the CLI; the target) and ``aws dynamodb scan`` of the table
(the same reads). Both run in this process (the AWS CLI through its own
driver, ``awscli.clidriver``, so its interpreter start-up is not counted once per request);
every HTTP request each sends to DynamoDB is counted.

    python bench/operator_scale.py [--sizes 5000,50000] [--list-size 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awscli.clidriver import create_clidriver
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from shiftsms.aws import clients
from shiftsms.cli import app
from tests.conftest import REGION, deploy_template

BATCH_GET, BATCH_WRITE = 100, 25
# The targets: import needs at most one request per 10 rows; list --json takes at most 1.5
# times the AWS CLI's query of the same index; a terminal table shows 50 rows and the rest.
IMPORT_REQUESTS_PER_ROW, LIST_RATIO, TABLE_ROWS = 0.1, 1.5, 50


class Requests:
    """Counts the HTTP requests sent to DynamoDB (a botocore ``before-send`` hook)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **_: Any) -> None:
        self.count += 1


@contextlib.contextmanager
def counting_shiftsms_requests(counter: Requests) -> Iterator[None]:
    """Count the DynamoDB requests of every client shiftsms creates in the block."""
    original = clients.client

    def client(service: str, session: Any = None) -> Any:
        made = original(service, session)
        if service == "dynamodb":
            made.meta.events.register("before-send.dynamodb", counter)
        return made

    clients.client = client
    try:
        yield
    finally:
        clients.client = original


def shiftsms(*args: str) -> str:
    """Run ``shiftsms ARGS`` in this process; its stdout (fail loudly on an error)."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    if result.exit_code != 0:
        raise SystemExit(f"shiftsms {' '.join(args)} failed: {result.output}")
    return result.stdout


class AwsCli:
    """The AWS CLI's driver, in this process, counting its DynamoDB requests."""

    def __init__(self) -> None:
        self.driver = create_clidriver()
        self.requests = Requests()
        self.driver.session.register("before-send.dynamodb", self.requests)

    def __call__(self, *args: str) -> Any:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = self.driver.main(["--output", "json", *args])
        if code != 0:
            raise SystemExit(f"aws {' '.join(args[:2])} failed with exit code {code}")
        text = out.getvalue()
        return json.loads(text) if text.strip() else {}


def csv_text(size: int, prefix: str) -> str:
    rows = "".join(
        f"{prefix}{i:06d},{(i % 28) + 1:02d}/12 {i % 12 + 1}h nightshift\n" for i in range(size)
    )
    return "shift_id,shift_info\n" + rows


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def aws_cli_import(aws: AwsCli, table: str, ids: list[str], infos: list[str], tmp: Path) -> int:
    """What ``shifts import`` does, as AWS CLI calls: read 100 ids, write the new ones by 25.
    Returns how many rows were added."""
    added = 0
    request_file = tmp / "request.json"
    for start in range(0, len(ids), BATCH_GET):
        chunk = list(range(start, min(start + BATCH_GET, len(ids))))
        get = {
            table: {
                "Keys": [{"shift_id": {"S": ids[i]}} for i in chunk],
                "ConsistentRead": True,
                "ProjectionExpression": "shift_id",
            }
        }
        while get:
            request_file.write_text(json.dumps(get))
            resp = aws("dynamodb", "batch-get-item", "--request-items", f"file://{request_file}")
            there = {item["shift_id"]["S"] for item in resp["Responses"].get(table, [])}
            get = resp.get("UnprocessedKeys") or {}
        new = [i for i in chunk if ids[i] not in there]
        for part in range(0, len(new), BATCH_WRITE):
            puts: list[Any] = [
                {
                    "PutRequest": {
                        "Item": {
                            "shift_id": {"S": ids[i]},
                            "shift_info": {"S": infos[i]},
                            "shift_status": {"S": "available"},
                        }
                    }
                }
                for i in new[part : part + BATCH_WRITE]
            ]
            while puts:
                request_file.write_text(json.dumps({table: puts}))
                resp = aws(
                    "dynamodb", "batch-write-item", "--request-items", f"file://{request_file}"
                )
                puts = (resp.get("UnprocessedItems") or {}).get(table, [])
            added += len(new[part : part + BATCH_WRITE])
    return added


def aws_cli_list(aws: AwsCli, table: str) -> int:
    """``aws dynamodb query`` of the status index, for both statuses; how many items."""
    total = 0
    for status in ("available", "taken"):
        resp = aws(
            "dynamodb",
            "query",
            "--table-name",
            table,
            "--index-name",
            "by-status",
            "--key-condition-expression",
            "shift_status = :s",
            "--expression-attribute-values",
            json.dumps({":s": {"S": status}}),
        )
        total += len(resp.get("Items", []))
    return total


def aws_cli_scan(aws: AwsCli, table: str) -> int:
    """``aws dynamodb scan`` of the table (the reads ``shifts list`` does); how many items."""
    return len(aws("dynamodb", "scan", "--table-name", table).get("Items", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000", help="import sizes, comma separated")
    parser.add_argument("--list-size", type=int, default=5000, help="shifts to list")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    os.environ.update(env)
    os.environ.pop("AWS_PROFILE", None)
    verdicts: list[tuple[str, bool]] = []
    try:
        deploy_template("shiftsms")
        theirs = deploy_template("awscli-bench").outputs["ShiftsTableName"]
        aws = AwsCli()
        ours_requests = Requests()
        print(f"moto {host}:{port}; shiftsms and the AWS CLI, in this process\n")
        header = f"{'':34} {'rows':>7} {'requests':>9} {'req/row':>8} {'seconds':>8}"
        print(header, flush=True)
        with tempfile.TemporaryDirectory() as tmp_dir, counting_shiftsms_requests(ours_requests):
            tmp = Path(tmp_dir)
            # list --json of list_size shifts: a table that holds exactly that many
            lister = deploy_template("list-bench").outputs["ShiftsTableName"]
            text = csv_text(args.list_size, "L")
            path = tmp / "list.csv"
            path.write_text(text, encoding="utf-8")
            shiftsms("--stack-name", "list-bench", "shifts", "import", str(path))

            ours_requests.count = 0
            ours_s, out = timed(
                lambda: shiftsms("--stack-name", "list-bench", "shifts", "list", "--json")
            )
            assert len(json.loads(out)) == args.list_size
            row(f"list --json {args.list_size:,}: shiftsms", args.list_size, ours_requests, ours_s)
            aws.requests.count = 0
            cli_s, listed = timed(lambda: aws_cli_list(aws, lister))
            assert listed == args.list_size, listed
            row(f"query {args.list_size:,}: AWS CLI", args.list_size, aws.requests, cli_s)
            print(f"{'':34} shiftsms / AWS CLI time: {ours_s / cli_s:.2f}x")
            aws.requests.count = 0
            scan_s, scanned = timed(lambda: aws_cli_scan(aws, lister))
            row(f"scan {args.list_size:,}: AWS CLI", scanned, aws.requests, scan_s)
            print(f"{'':34} shiftsms / AWS CLI scan time: {ours_s / scan_s:.2f}x")
            verdicts.append(
                (
                    f"list --json {args.list_size:,} within {LIST_RATIO}x of the AWS CLI "
                    f"({ours_s / cli_s:.2f}x)",
                    ours_s <= LIST_RATIO * cli_s,
                )
            )

            ours_requests.count = 0
            table_s, out = timed(lambda: shiftsms("--stack-name", "list-bench", "shifts", "list"))
            last = out.splitlines()[-1]
            print(
                f"list (table) {args.list_size:,}: {table_s:.2f} s, "
                f"{ours_requests.count} requests; last line: {last!r}\n"
            )
            rest = args.list_size - TABLE_ROWS
            verdicts.append(
                (
                    f"the table shows {TABLE_ROWS} rows and says {rest:,} more",
                    f"{rest:,} more" in last and len(re.findall(r"\bL\d{6}\b", out)) == TABLE_ROWS,
                )
            )

            for n, size in enumerate(sizes):
                text = csv_text(size, f"R{n}S")
                path = tmp / f"shifts-{size}.csv"
                path.write_text(text, encoding="utf-8")
                ids = [line.split(",")[0] for line in text.splitlines()[1:]]
                infos = [line.split(",", 1)[1] for line in text.splitlines()[1:]]

                ours_requests.count = 0
                ours_s, out = timed(lambda path=path: shiftsms("shifts", "import", str(path)))
                assert out.startswith(f"Added {size} shifts"), out
                row(f"import {size:,}: shiftsms", size, ours_requests, ours_s)
                per_row = ours_requests.count / size
                verdicts.append(
                    (
                        f"import {size:,}: at most {IMPORT_REQUESTS_PER_ROW} requests per row "
                        f"({per_row:.3f})",
                        per_row <= IMPORT_REQUESTS_PER_ROW,
                    )
                )

                aws.requests.count = 0
                cli_s, added = timed(
                    lambda ids=ids, infos=infos: aws_cli_import(aws, theirs, ids, infos, tmp)
                )
                assert added == size, added
                row(f"import {size:,}: AWS CLI", size, aws.requests, cli_s)
                print(f"{'':34} shiftsms / AWS CLI time: {ours_s / cli_s:.2f}x\n")
    finally:
        server.stop()
    print("targets:")
    for label, met in verdicts:
        print(f"  {'met   ' if met else 'MISSED'} {label}")
    if not all(met for _, met in verdicts):
        raise SystemExit(1)


def row(label: str, rows: int, requests: Requests, seconds: float) -> None:
    n = requests.count
    print(f"{label:34} {rows:>7,} {n:>9,} {n / rows:>8.3f} {seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
