"""Ctrl-C in ``shiftsms demo``: it says so, exits 130 and leaves nothing running."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

INTERRUPTED = "Error: interrupted: the demo's sandbox is stopped and its files removed\n"


def children_of(pid: int) -> set[int]:
    """Every live process whose parent is ``pid`` (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def in_session(sid: int) -> set[int]:
    """Every live process of session ``sid`` (the demo started a session of its own)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def start_demo(tmp_path: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "TMPDIR": str(tmp_path)}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "shiftsms", "demo"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def wait_for_line(lines: queue.Queue[str], text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            if text in lines.get(timeout=left):
                return
        except queue.Empty:
            break
    pytest.fail(f"the demo never printed {text!r}")


@pytest.mark.parametrize(
    ("after", "to_group"),
    [
        ("4. Staff reply", False),  # functions are running; only the CLI gets the signal
        ("No AWS account", True),  # while the stack deploys; the whole group, as a terminal
    ],
)
def test_ctrl_c_says_interrupted_exits_130_and_stops_everything(
    tmp_path: Path, after: str, to_group: bool
) -> None:
    proc, lines = start_demo(tmp_path)
    try:
        wait_for_line(lines, after)
        workers = children_of(proc.pid)
        if not to_group:
            assert workers, "the function processes should be running by now"
        if to_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        assert proc.stderr is not None
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    assert code == 130
    assert err == INTERRUPTED
    deadline = time.monotonic() + 10
    while in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_session(proc.pid) == set()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("shiftsms-demo-")] == []
