"""``shiftsms shifts release`` offers the shift down its waitlist, as a DROP does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.cli import shifts as cli_shifts
from shiftsms.cli.context import CliContext
from shiftsms.core.models import Shift, StaffMember
from shiftsms.core.phone import fingerprint
from tests.clitools import invoke
from tests.conftest import ORIGINATION, REGION, Deployed

ANA, BEN, CAL = "+447700900101", "+447700900102", "+447700900103"
AT = datetime(2026, 7, 14, 18, 10, tzinfo=UTC)


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """End User Messaging as the CLI sees it, every request pinned."""
    client = boto3.client("pinpoint-sms-voice-v2", region_name=REGION)
    original = CliContext.client

    def pick(self: CliContext, service: str) -> Any:
        return client if service == "pinpoint-sms-voice-v2" else original(self, service)

    monkeypatch.setattr(CliContext, "client", pick)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_release_holds_the_shift_for_the_first_eligible_person_waiting(
    deployed: Deployed, sms: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_shifts, "now", lambda: AT)  # 19:10 in London
    out = deployed.outputs
    staff = StaffTable(deployed.dynamodb, out["StaffTableName"])
    for phone in (ANA, BEN, CAL):
        staff.put(StaffMember(phone))
    staff.set_opted_out(BEN, True, AT)  # skipped, never texted
    shifts = ShiftsTable(deployed.dynamodb, out["ShiftsTableName"], out["StaffTableName"])
    shifts.put(Shift("B2", "15/08 5h"))
    shifts.book("B2", ANA, "m1", AT)
    shifts.join_waitlist("B2", BEN)
    shifts.join_waitlist("B2", CAL)
    sms.add_response(
        "send_text_message",
        {"MessageId": "msg-1"},
        {
            "DestinationPhoneNumber": CAL,
            "OriginationIdentity": ORIGINATION,
            "MessageBody": "B2 is free again and held for you until 19:25. Reply YES to take it.",
            "MessageType": "TRANSACTIONAL",
            "Context": {"kind": "offer", "recipient": fingerprint(CAL)},
            # as the functions send it: receipts and cost, countries, the price cap (default)
            "ConfigurationSetName": out["ConfigurationSetName"],
            "ProtectConfigurationId": out["ProtectConfigurationId"],
            "MaxPrice": "0.20",
        },
    )
    result = invoke("shifts", "release", "B2", "--no-notify", "--full-numbers")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Shift B2 is available again (it was taken by {ANA}).",
        f"Held for {CAL}, the first on its waitlist who may take it.",
    ]
    view = shifts.waitlist_view("B2")
    assert view is not None and view.held_for == CAL and view.waitlist == ()
    # Only CAL can book it now.
    assert shifts.book("B2", ANA, "m2", AT).value == "taken"
