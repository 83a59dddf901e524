"""The README's shell examples, run as written against a local sandbox (as sqlite-utils tests
its docs): a documented command that stops working fails here.

Every line of every ```bash block is either run or skipped by a rule of ``SKIPPED`` below, with
the reason; a line that is neither fails the test, so a new example is run from the day it is
written. Rules of the run:

* Each ``##`` section with examples runs in a folder of its own, against a sandbox of its own,
  its lines in order (a ``\\`` continues a line). A section whose first command is
  ``shiftsms local up`` starts that sandbox itself, as written except ``--port 0`` (any free
  port); any other section gets one started for it and pointed at by the environment.
* ``export`` lines set the environment of the lines after them; the sandbox's endpoint
  replaces the documented ``http://127.0.0.1:4599``.
* Files the examples name (``shifts.csv``...) are written first, from ``FILES``.
* Each line runs in ``bash -o pipefail`` with no terminal and no input, and must exit 0; a
  trailing comment ``# prints: TEXT`` must be found in what it printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCUMENTED_ENDPOINT = "http://127.0.0.1:4599"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("jq") is None, reason="the examples pipe into jq"),
]

# Lines that are not run, by pattern, and why.
SKIPPED = {
    r"^python3 -m venv ": "creates a virtualenv and installs the package: what CI itself does",
    r"^\. \.venv/bin/activate$": "the tests already run inside the installed package's venv",
    r"^shiftsms( --region \S+)? deploy ": "needs an AWS account and an End User Messaging number",
    r"^ruff check \. && ": "the checks and test suite that run this very test",
    r"^~/\.cache/checkov-venv/": "a separately installed linter (downloads from PyPI)",
    r"^python bench/": "benchmarks: minutes of load, measured numbers, no pass or fail",
    r"^pip install -e '\.\[bench\]'": "installs the AWS CLI a benchmark needs (from PyPI)",
}

FILES = {
    "shifts.csv": "shift_id,shift_info\nXYZ124,16/08 8h dayshift\nXYZ125,17/08 6h lateshift\n",
    "segment-export.csv": (
        "Id,ChannelType,Address,User.UserId,OptOut\n"
        "1,SMS,+447700900456,Ben,NONE\n"
        "2,EMAIL,cleo@example.com,Cleo,NONE\n"
        "3,SMS,+447700900789,Cleo,NONE\n"
    ),
}


@dataclass
class Section:
    """One ``##`` section's example lines, in order."""

    title: str
    lines: list[str] = field(default_factory=list)


def sections(text: str) -> list[Section]:
    """The ```bash lines of the README, by ``##`` section (continuations joined)."""
    found: list[Section] = []
    title, in_bash, pending = "", False, ""
    for raw in text.splitlines():
        if not in_bash and raw.startswith("## "):
            title = raw[3:].strip()
        elif raw.strip() == "```bash":
            in_bash = True
            if not found or found[-1].title != title:
                found.append(Section(title))
        elif in_bash and raw.strip() == "```":
            in_bash = False
        elif in_bash:
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1]
                continue
            pending = ""
            if line and not line.startswith("#"):
                found[-1].lines.append(line)
    return found


def skip_reason(line: str) -> str | None:
    return next((why for pattern, why in SKIPPED.items() if re.search(pattern, line)), None)


def split_comment(line: str) -> tuple[str, str | None]:
    """The command and what its ``# prints:`` comment expects (None if no such comment)."""
    command, _, comment = line.partition("  #")
    comment = comment.strip()
    expected = comment.removeprefix("prints:").strip() if comment.startswith("prints:") else None
    return command.strip(), expected


def runnable(section: Section) -> list[str]:
    return [line for line in section.lines if skip_reason(line) is None]


SECTIONS = {s.title: s for s in sections(README) if runnable(s)}


def test_every_example_line_is_run_or_skipped_for_a_reason() -> None:
    assert list(SECTIONS) == ["Command line", "Local sandbox"]
    lines = [line for s in sections(README) for line in s.lines]
    unused = [p for p in SKIPPED if not any(re.search(p, line) for line in lines)]
    assert unused == [], "a skip rule that matches no README line: remove it"
    # The parser finds the blocks: each section's first example, as the README writes it.
    assert runnable(SECTIONS["Command line"])[0] == (
        'shiftsms shifts add XYZ123 --info "15/08 5h nightshift"'
    )
    assert split_comment(runnable(SECTIONS["Local sandbox"])[0])[0] == "shiftsms local up"


class Shell:
    """Runs example lines in a folder, with an environment that ``export`` lines change."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHIFTSMS_"))}
        self.env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            COLUMNS="200",
            NO_COLOR="1",
        )
        self.endpoint = ""

    def run(self, line: str) -> str:
        command, expected = split_comment(line)
        if command.startswith("export "):
            command = command.replace(DOCUMENTED_ENDPOINT, self.endpoint)
            for pair in command.removeprefix("export ").split():
                name, _, value = pair.partition("=")
                self.env[name] = value
            return ""
        if re.fullmatch(r"shiftsms local up( .*)?", command):
            command += " --port 0"
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stderr}"
        if expected is not None:
            assert expected in done.stdout, f"`{command}` did not print {expected!r}"
        if command.startswith("shiftsms local up"):
            started = re.search(r"Sandbox running on (\S+) ", done.stdout)
            assert started is not None, done.stdout
            self.endpoint = started[1]
        return done.stdout


@pytest.mark.parametrize("title", list(SECTIONS))
def test_readme_examples_run_on_a_sandbox(title: str, tmp_path: Path) -> None:
    section = SECTIONS[title]
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    shell = Shell(tmp_path)
    lines = runnable(section)
    own_sandbox = split_comment(lines[0])[0].startswith("shiftsms local up")
    try:
        if not own_sandbox:
            shell.run("shiftsms local up")
            shell.run(
                "export " + f"AWS_ENDPOINT_URL={shell.endpoint} AWS_ACCESS_KEY_ID=sandbox "
                "AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=eu-west-2 AWS_DEFAULT_REGION=eu-west-2"
            )
        for line in lines:
            printed = shell.run(line)
            if split_comment(line)[0] == "shiftsms local up":
                documented = next(x for x in lines if x.startswith("export AWS_ENDPOINT_URL="))
                shown = documented.replace(DOCUMENTED_ENDPOINT, shell.endpoint)
                assert f"  {shown}\n" in printed, "the README's export line is not the one shown"
        if not own_sandbox:
            shell.run("shiftsms local down")
    finally:
        if (tmp_path / ".shiftsms" / "sandbox.json").exists():
            subprocess.run(
                [sys.executable, "-m", "shiftsms", "local", "down"],
                cwd=tmp_path,
                capture_output=True,
                timeout=60,
                check=False,
            )
