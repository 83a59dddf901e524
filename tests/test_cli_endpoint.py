"""The real console entry point, in its own process, against an emulator via AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import REGION, deploy_template


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on 127.0.0.1 with the real template deployed into it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        deploy_template()
        yield url
    finally:
        server.stop()


def shiftsms(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "shiftsms", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_operator_session_through_the_endpoint(endpoint: str, tmp_path: Path) -> None:
    added = shiftsms(endpoint, "shifts", "add", "XYZ123", "--info", "15/08 5h nightshift")
    assert (added.returncode, added.stdout, added.stderr) == (
        0,
        "Added shift XYZ123: 15/08 5h nightshift\n",
        "",
    )
    again = shiftsms(endpoint, "shifts", "add", "XYZ123", "--info", "other")
    assert again.returncode == 1
    assert again.stderr == "Error: shift XYZ123 already exists: use --replace to change its info\n"

    staff = tmp_path / "staff.csv"
    staff.write_text("phone,name\n07700 900123,Ana\n", encoding="utf-8")
    imported = shiftsms(endpoint, "allowlist", "import", str(staff))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "Added 1 number, skipped 0 already on the allow list.\n"

    listed = shiftsms(endpoint, "shifts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [s["shift_id"] for s in json.loads(listed.stdout)] == ["XYZ123"]
    roster = shiftsms(endpoint, "allowlist", "list", "--json")
    assert [(m["phone"], m["name"]) for m in json.loads(roster.stdout)] == [
        ("+447700900123", "Ana")
    ]

    missing = shiftsms(endpoint, "--stack-name", "nope", "shifts", "list")
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: stack 'nope' not found")
    assert "Traceback" not in missing.stderr
