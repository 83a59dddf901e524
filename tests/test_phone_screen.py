"""``shiftsms local phone`` on a real terminal (tmux), read back as a person sees the screen.

The sandbox behind the phone is a small fake (texts delivered when the test drops a file),
so the test drives only what it is about: the terminal. The whole path through a running
sandbox is covered by the sandbox tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ME = "+447700900123"
SERVICE = "+447700900000"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

FAKE_PHONE = r'''
import json, sys, time
from pathlib import Path

from shiftsms.cli import app, local

FOLDER = Path(sys.argv[1])


class FakeSandbox:
    """Texts to the phone are the files deliver-N.txt the test drops in FOLDER."""

    def __init__(self):
        self.seq = 0

    def status(self):
        return {"origination": "+447700900000"}

    def texts(self, to=None, after=None, wait=0.0):
        if after is None:
            return [], 0
        deadline = time.monotonic() + wait
        while True:
            path = FOLDER / f"deliver-{after + 1}.txt"
            if path.exists():
                body = path.read_text()
                text = {"seq": after + 1, "sent_at": "2026-12-01T09:30:00Z",
                        "origination": "+447700900000", "body": body}
                return [text], after + 1
            if time.monotonic() > deadline:
                return [], after
            time.sleep(0.05)

    def text_in(self, phone, body):
        with (FOLDER / "sent.log").open("a") as log:
            log.write(json.dumps([phone, body]) + "\n")
        n = len(list(FOLDER.glob("deliver-*.txt"))) + 1
        (FOLDER / f"deliver-{n}.txt").write_text(f"Got: {body}")
        return {"seq_before": n - 1}


local._client = lambda state_dir: FakeSandbox()
app(["local", "phone", "+447700900123"], prog_name="shiftsms")
'''


class Tmux:
    """One program in a tmux session of its own (own server socket), 120x20."""

    def __init__(self, command: list[str], tmp: Path) -> None:
        self.socket = f"shiftsms-test-{os.getpid()}-{tmp.name}"
        env = {
            **os.environ,
            "NO_COLOR": "1",
            "PYTHONPATH": str(ROOT),
        }
        self.tmux("new-session", "-d", "-x", "120", "-y", "20", "--", *command, env=env)

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
            env=env,
            check=True,
        )
        return done.stdout

    def screen(self) -> list[str]:
        """The visible lines, trailing blanks removed."""
        lines = self.tmux("capture-pane", "-p").rstrip("\n").splitlines()
        return [line.rstrip() for line in lines]

    def wait_for(self, predicate: object, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if callable(predicate) and predicate(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError("the screen shows:\n" + "\n".join(screen))
            time.sleep(0.1)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20, check=False
        )


@pytest.fixture
def phone(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    script = tmp_path / "fake_phone.py"
    script.write_text(FAKE_PHONE)
    folder = tmp_path / "texts"
    folder.mkdir()
    # The pane stays after the program ends (remain-on-exit), so its last words can be read.
    term = Tmux(
        ["sh", "-c", f"{sys.executable} {script} {folder}; echo EXIT=$?; sleep 30"], tmp_path
    )
    try:
        yield term, folder
    finally:
        term.close()


def test_typed_text_shows_once_and_an_arriving_text_does_not_break_it(
    phone: tuple[Tmux, Path],
) -> None:
    term, folder = phone
    banner = (
        f"Phone {ME} - texting {SERVICE}. Type a message and press Enter; Ctrl-D or /quit hangs up."
    )
    term.wait_for(lambda s: any(line.startswith("you:") for line in s))

    term.keys("XYZ1")  # typing, not sent yet
    term.wait_for(lambda s: s[-1] == "you: XYZ1")
    (folder / "deliver-1.txt").write_text("Open: 15/08 5h nightshift XYZ123")
    screen = term.wait_for(lambda s: any("Open:" in line for line in s))
    assert screen == [
        banner,
        f"[09:30:00] {SERVICE}: Open: 15/08 5h nightshift XYZ123",
        "you: XYZ1",
    ]

    term.keys("23", "Enter")  # finish the word and send it
    screen = term.wait_for(lambda s: any("Got: XYZ123" in line for line in s))
    assert screen == [
        banner,
        f"[09:30:00] {SERVICE}: Open: 15/08 5h nightshift XYZ123",
        "you: XYZ123",
        f"[09:30:00] {SERVICE}: Got: XYZ123",
        "you:",
    ]
    assert (folder / "sent.log").read_text() == f'["{ME}", "XYZ123"]\n'

    term.keys("C-d")
    screen = term.wait_for(lambda s: any(line.startswith("EXIT=") for line in s))
    assert screen[-3:] == ["you:", "Hung up.", "EXIT=0"]
