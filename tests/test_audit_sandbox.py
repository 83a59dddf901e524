"""The audit trail in the local sandbox: the pump feeds the audit function from three streams,
beside the campaign function on the campaigns stream."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from shiftsms.local.aws import environment
from tests.test_local_sandbox import base_env, down, free_port, sandbox_dir, shiftsms, up

pytestmark = pytest.mark.slow
__all__ = ["sandbox_dir"]  # the fixture
ANA = "+447700900123"


def test_the_sandbox_records_who_changed_what(sandbox_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    env = base_env(tmp_path)
    pid = up(sandbox_dir, port, env)
    aws = {**env, **environment(f"http://127.0.0.1:{port}")}
    for args in (
        ("allowlist", "add", ANA, "--name", "Ana"),
        ("shifts", "add", "XYZ123", "--info", "15/08 5h nightshift"),
    ):
        assert shiftsms(*args, env=aws).returncode == 0
    booked = shiftsms(
        "local", "sms", "--state-dir", str(sandbox_dir), "--from", ANA, "XYZ123", env=env
    )
    assert booked.stdout == "Booked: XYZ123. Thank you!\n"
    deadline = time.monotonic() + 30
    entries: list[dict[str, object]] = []
    while len(entries) < 2 and time.monotonic() < deadline:
        result = shiftsms("audit", "--shift", "XYZ123", "--json", env=aws)
        assert result.returncode == 0, result.stderr
        entries = json.loads(result.stdout)
        time.sleep(0.5)
    assert [(e["action"], str(e["by"]).split(":")[0]) for e in entries] == [
        ("created", "cli"),
        ("changed", "sms"),
    ]
    assert str(entries[1]["by"]).startswith("sms:+44********23:")  # and the message id
    assert ANA not in json.dumps(entries)
    down(sandbox_dir, port, pid, env)
