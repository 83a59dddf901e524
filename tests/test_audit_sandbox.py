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

    # A campaign: created by the CLI, then moved on by the campaign function on its own.
    assert shiftsms("shifts", "add", "XYZ124", "--info", "16/08 day", env=aws).returncode == 0
    created = shiftsms("campaign", "create", "--shifts", "XYZ124", "--yes", env=aws)
    assert created.returncode == 0, created.stderr
    deadline = time.monotonic() + 30
    by_fn: list[dict[str, object]] = []
    while not by_fn and time.monotonic() < deadline:
        result = shiftsms("audit", "--since", "1h", "--json", env=aws)
        assert result.returncode == 0, result.stderr
        campaign = [e for e in json.loads(result.stdout) if e["kind"] == "campaign"]
        by_fn = [e for e in campaign if str(e["by"]).startswith("fn:")]
        time.sleep(0.5)
    assert campaign[0]["action"] == "created"
    assert str(campaign[0]["by"]).startswith("cli:")
    assert by_fn, campaign
    # credited to the function that made the change, by its deployed name
    assert all("CampaignFunction" in str(e["by"]) for e in by_fn), by_fn
    down(sandbox_dir, port, pid, env)
