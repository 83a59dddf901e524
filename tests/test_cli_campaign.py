"""``shiftsms campaign``: exact output, exit codes, and what the campaigns table stores."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shiftsms.aws.delivery_records import DynamoSendRecords
from shiftsms.aws.dynamo import from_item
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.cli import campaign as campaign_cli
from shiftsms.core.campaign_text import SAMPLE_CAMPAIGN_MESSAGE
from shiftsms.core.campaigns import Campaign
from shiftsms.core.delivery import parse_event
from shiftsms.core.models import StaffMember
from shiftsms.core.phone import mask
from shiftsms.handlers.sender import SenderApp
from shiftsms.services.campaigns import RecipientLine
from tests.campaign_support import (
    CampaignStack,
    FakeContext,
    apps,
    campaign_stack,
    drain,
    stream_event,
)
from tests.clitools import command_paths, invoke, table_rows
from tests.conftest import deliver_shift_keys
from tests.fakes import FreeSlots, RecordingSms

ANA, BEN = "+447700900101", "+447700900102"
TEXT = (
    "Open shifts: 15/08 5h nightshift XYZ123, 18/08 3h dayshift XYZ124. "
    "Reply a code to book, REQUEST for all open shifts, STOP to opt out."
)
SENT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack() as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        deployed.add_shift("XYZ124", "18/08 3h dayshift")
        deployed.add_shift("XYZ125", "19/08 8h dayshift", status="taken")
        deployed.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"))
        yield deployed


def campaign_items(stack: CampaignStack) -> dict[str, dict[str, object]]:
    """Every campaign item, by id (less who changed it and when: see tests/test_audit.py)."""
    items = stack.dynamodb.scan(TableName=stack.outputs["CampaignsTableName"])["Items"]
    return {
        i["campaign_id"]["S"]: {
            k: v for k, v in from_item(i).items() if k not in {"changed_by", "changed_at"}
        }
        for i in items
    }


DRAFT = [
    "Campaign:   c1",
    f"Text:       {TEXT}",
    "Encoding:   GSM-7, 134 characters, 1 segment",
    "Shifts:     XYZ123, XYZ124",
    "Recipients: 2",
    "Billed:     2 segments (2 recipients x 1 segment), about $0.08",
]


def test_every_campaign_command_has_help() -> None:
    paths = [p for p in command_paths() if p[:1] == ["campaign"]]
    assert paths == [["campaign", "create"], ["campaign", "list"], ["campaign", "show"]]
    for path in paths:
        result = invoke(*path, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.stdout


def test_dry_run_shows_text_and_cost_and_writes_nothing(stack: CampaignStack) -> None:
    result = invoke("campaign", "create", "c1", "--shifts", "xyz123, XYZ124", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [*DRAFT, "Dry run: nothing written."]
    assert result.stderr == ""
    assert campaign_items(stack) == {}


def test_a_draft_warns_of_recipients_outside_the_stacks_countries(stack: CampaignStack) -> None:
    # the stack's countries default to its number's (GB); a French and a Polish number too
    stack.add_staff(StaffMember("+33612345678", "Zoe"), StaffMember("+48512345678", "Ola"))
    result = invoke("campaign", "create", "c1", "--shifts", "XYZ123", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Recipients: 4" in result.stdout.splitlines()
    warning = " ".join(result.stderr.split())
    assert warning.startswith(
        "Warning: 2 recipients outside the stack's countries (GB): FR 1, PL 1; their texts "
        "will be refused and counted failed"
    ), warning
    # (with GB numbers only, the draft warns of nothing: see the dry-run test above)


def test_create_offers_a_console_id_in_mixed_case_by_its_code(stack: CampaignStack) -> None:
    deliver_shift_keys(stack.outputs)  # what the fixture and earlier tests wrote
    stack.add_shift("nIght7", "20/08 nights")
    assert deliver_shift_keys(stack.outputs) == 1
    result = invoke("campaign", "create", "c1", "--shifts", "NIGHT7", "--yes")
    assert result.exit_code == 0, result.output
    assert campaign_items(stack)["c1"]["shift_ids"] == ["nIght7"]
    assert "Shifts:     nIght7" in result.stdout.splitlines()


def test_create_asks_and_writes_the_sample_item(stack: CampaignStack) -> None:
    result = invoke("campaign", "create", "c1", "--shifts", "XYZ123,XYZ124", input="y\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        *DRAFT,
        "Send this campaign? [y/N]: y",
        "Campaign c1 created: texting 2 recipients. Follow it with: shiftsms campaign show c1",
    ]
    item = campaign_items(stack)["c1"]
    assert item["campaign_message"] == SAMPLE_CAMPAIGN_MESSAGE
    assert item["campaign_status"] == "new"
    assert item["shift_ids"] == ["XYZ123", "XYZ124"]
    assert item["sms_text"] == TEXT
    assert set(item) == {
        "campaign_id",
        "campaign_message",
        "campaign_status",
        "shift_ids",
        "created_at",
        "sms_text",
        "live_offers",
    }
    assert item["live_offers"] is True


def test_declining_writes_nothing(stack: CampaignStack) -> None:
    result = invoke("campaign", "create", "c1", "--shifts", "XYZ123,XYZ124", input="n\n")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-2:] == ["Send this campaign? [y/N]: n", "Not sent."]
    assert campaign_items(stack) == {}


def test_generated_id(stack: CampaignStack) -> None:
    result = invoke("campaign", "create", "--all-available", "--yes")
    assert result.exit_code == 0, result.output
    (campaign_id,) = campaign_items(stack)
    assert re.fullmatch(r"c\d{8}-\d{4}-[0-9a-f]{4}", campaign_id)
    assert result.stdout.splitlines()[0] == f"Campaign:   {campaign_id}"


def test_message_is_wrapped_and_its_real_codes_tracked(stack: CampaignStack) -> None:
    result = invoke("campaign", "create", "c2", "--message", "Sat “late” XYZ124 – ask Jo", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:4] == [
        'Text:       Open shifts: Sat "late" XYZ124 - ask Jo. Reply a code to book, '
        "REQUEST for all open shifts, STOP to opt out.",
        "Encoding:   GSM-7, 108 characters, 1 segment",
        "Shifts:     XYZ124",
    ]
    item = campaign_items(stack)["c2"]
    assert item["campaign_message"] == 'Sat "late" XYZ124 - ask Jo'
    assert item["shift_ids"] == ["XYZ124"]


KEYWORD = "that word is an SMS keyword, so staff could not book it"
ONE_SOURCE = "Error: give exactly one of --shifts, --all-available or --message"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--shifts", "XYZ123,NOPE1"], "Error: unknown shift codes: NOPE1"),
        (["--shifts", "XYZ125"], "Error: already taken, cannot be offered: XYZ125"),
        (["--shifts", "STOP"], f"Error: 'STOP': {KEYWORD}"),
        ([], ONE_SOURCE),
        (["--all-available", "--message", "x"], ONE_SOURCE),
        (["--message", "  "], "Error: the message is empty: list the shifts and their codes"),
    ],
)
def test_bad_input_is_a_usage_error(stack: CampaignStack, args: list[str], error: str) -> None:
    result = invoke("campaign", "create", "c1", *args, "--yes")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [error]
    assert campaign_items(stack) == {}


def test_existing_id_is_refused(stack: CampaignStack) -> None:
    assert invoke("campaign", "create", "c1", "--shifts", "XYZ123", "--yes").exit_code == 0
    result = invoke("campaign", "create", "c1", "--shifts", "XYZ124", "--yes")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: campaign c1 already exists"]
    assert campaign_items(stack)["c1"]["shift_ids"] == ["XYZ123"]


def test_no_open_shifts(stack: CampaignStack) -> None:
    shifts = ShiftsTable(stack.dynamodb, stack.outputs["ShiftsTableName"])
    for code in ("XYZ123", "XYZ124"):
        shifts.book(code, ANA, "m-1", SENT)
    result = invoke("campaign", "create", "c1", "--all-available", "--yes")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["Error: there are no open shifts to offer"]


def test_list_empty(stack: CampaignStack) -> None:
    result = invoke("campaign", "list")
    assert result.exit_code == 0
    assert result.stdout == (
        "No campaigns yet. Create one with: shiftsms campaign create --all-available\n"
    )
    assert json.loads(invoke("campaign", "list", "--json").stdout) == []


def sent_campaign(stack: CampaignStack, monkeypatch: pytest.MonkeyPatch) -> RecordingSms:
    """Campaign c1 (XYZ123, XYZ124) created, fanned out and sent at SENT; Ana books XYZ123."""
    created = "2026-11-28T08:55:00+00:00"
    campaign = Campaign("c1", SAMPLE_CAMPAIGN_MESSAGE, shift_ids=("XYZ123", "XYZ124"))
    stack.campaigns().create(replace(campaign, created_at=created))
    sms = RecordingSms()
    campaign_app, _ = apps(stack, sms)
    campaign_app.service.clock = lambda: SENT
    sender_app = SenderApp(
        stack.sender_settings(), sms=sms, limiter=FreeSlots(), now=SENT.timestamp
    )
    campaign_app.handle(stream_event(stack.insert_record("c1")), None)
    drain(stack, sender_app.handle, FakeContext())
    ShiftsTable(stack.dynamodb, stack.outputs["ShiftsTableName"]).book(
        "XYZ123", ANA, "m-9", SENT + timedelta(minutes=3, seconds=20)
    )
    return sms


def test_show_after_a_booking(stack: CampaignStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sms = sent_campaign(stack, monkeypatch)
    assert sorted(s.to for s in sms.sent) == [ANA, BEN]
    result = invoke("campaign", "show", "c1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Campaign:   c1",
        "Status:     done",
        "Created:    2026-11-28T08:55:00+00:00",
        "Sent at:    2026-11-28T09:00:00+00:00",
        f"Text:       {TEXT}",
        "Recipients: 2 (sent 2, failed 0, opted out 0, skipped 0, dead-lettered 0, pending 0)",
        "Delivery:   delivered 0, failed 0, pending 2 (0 parts, cost $0.0000)",
        "Dead-lettered: 0 send jobs in the send DLQ (all campaigns)",
        "Shifts:     1 of 2 booked",
        f"  XYZ123  15/08 5h nightshift: booked by Ana ({mask(ANA)}), 3m 20s after the text",
        "  XYZ124  18/08 3h dayshift: not booked",
    ]
    # The holder's whole number only when asked for.
    full = invoke("campaign", "show", "c1", "--full-numbers").stdout
    assert f"booked by Ana ({ANA}), 3m 20s after the text" in full


def test_show_json(stack: CampaignStack, monkeypatch: pytest.MonkeyPatch) -> None:
    sent_campaign(stack, monkeypatch)
    result = invoke("campaign", "show", "c1", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "campaign_id": "c1",
        "status": "done",
        "message": SAMPLE_CAMPAIGN_MESSAGE,
        "text": TEXT,
        "created_at": "2026-11-28T08:55:00+00:00",
        "sent_at": "2026-11-28T09:00:00+00:00",
        "recipients": 2,
        "sent": 2,
        "failed": 0,
        "opted_out": 0,
        "pending": 0,
        "skipped": 0,
        "skipped_filled": 0,
        "dead_lettered": 0,
        "skipped_capped": 0,
        "reoffered": 0,
        "send_dlq_depth": 0,
        "reason": None,
        "problems": [],
        "delivery": {"delivered": 0, "failed": 0, "pending": 2, "parts": 0, "cost_usd": "0"},
        "shifts": [
            {
                "shift_id": "XYZ123",
                "shift_info": "15/08 5h nightshift",
                "status": "taken",
                "employee": mask(ANA),  # masked unless asked
                "employee_name": "Ana",
                "booked_at": "2026-11-28T09:03:20+00:00",
                "seconds_to_book": 200,
                "waitlist": 0,
            },
            {
                "shift_id": "XYZ124",
                "shift_info": "18/08 3h dayshift",
                "status": "available",
                "employee": None,
                "employee_name": None,
                "booked_at": None,
                "seconds_to_book": None,
                "waitlist": 0,
            },
        ],
        "mode": "first-come",
        "waves_sent": None,
        "window_closes_at": None,
    }
    assert ANA not in result.stdout
    full = invoke("campaign", "show", "c1", "--json", "--full-numbers")
    assert json.loads(full.stdout)["shifts"][0]["employee"] == ANA


def _receipts(stack: CampaignStack, sms: RecordingSms) -> None:
    """End User Messaging's final events for c1's texts: Ana's delivered (and reported twice),
    Ben's unreachable; each one part at 0.0395 plus a 0.0025 carrier fee."""
    records = DynamoSendRecords(
        stack.dynamodb, stack.outputs["StateTableName"], stack.outputs["CampaignsTableName"]
    )
    at = int(SENT.timestamp() * 1000)
    for i, text in enumerate(sms.sent, start=1):
        status = "DELIVERED" if text.to == ANA else "UNREACHABLE"
        event = {
            "eventType": f"TEXT_{status}",
            "eventVersion": "1.0",
            "eventTimestamp": at + 5000,
            "isFinal": True,
            "messageId": f"msg-{i}",
            "messageRequestTimestamp": at,
            "messageStatus": status,
            "context": text.context,
            "totalMessageParts": 1,
            "totalMessagePrice": 0.0395,
            "totalCarrierFee": 0.0025,
        }
        for _ in range(2 if text.to == ANA else 1):
            records.record(parse_event(json.dumps(event)))


def test_show_counts_delivery_receipts_and_cost_once(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _receipts(stack, sent_campaign(stack, monkeypatch))
    result = invoke("campaign", "show", "c1")
    assert result.exit_code == 0, result.output
    assert "Delivery:   delivered 1, failed 1, pending 0 (2 parts, cost $0.0840)" in (
        result.stdout.splitlines()
    )
    data = json.loads(invoke("campaign", "show", "c1", "--json").stdout)
    assert data["delivery"] == {
        "delivered": 1,
        "failed": 1,
        "pending": 0,
        "parts": 2,
        "cost_usd": "0.0840",
    }
    assert "recipients_list" not in data


def test_show_recipients_masks_numbers_unless_asked(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _receipts(stack, sent_campaign(stack, monkeypatch))
    result = invoke("campaign", "show", "c1", "--recipients")
    assert result.exit_code == 0, result.output
    header = ["Recipient", "Name", "Sent", "Delivery", "Parts", "Price", "Carrier fee"]
    rows = sorted(table_rows(result.stdout)[1:], key=lambda r: r[1])
    assert table_rows(result.stdout)[0] == header
    assert rows == [
        ["+44********01", "Ana", "sent", "DELIVERED", "1", "$0.0395", "$0.0025"],
        ["+44********02", "Ben", "sent", "UNREACHABLE", "1", "$0.0395", "$0.0025"],
    ]
    assert BEN not in result.stdout  # (Ana's booking line names her, as it did before)
    full = invoke("campaign", "show", "c1", "--recipients", "--full-numbers", "--json")
    listed = sorted(json.loads(full.stdout)["recipients_list"], key=lambda r: r["recipient"])
    assert listed == [
        {
            "recipient": ANA,
            "name": "Ana",
            "outcome": "sent",
            "delivery_status": "DELIVERED",
            "parts": 1,
            "price_usd": "0.0395",
            "carrier_fee_usd": "0.0025",
        },
        {
            "recipient": BEN,
            "name": "Ben",
            "outcome": "sent",
            "delivery_status": "UNREACHABLE",
            "parts": 1,
            "price_usd": "0.0395",
            "carrier_fee_usd": "0.0025",
        },
    ]


def test_list_shows_status_and_counters(
    stack: CampaignStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent_campaign(stack, monkeypatch)
    stack.campaigns().create(Campaign("c0", "XYZ124", created_at="2026-11-27T10:00:00+00:00"))
    result = invoke("campaign", "list")
    assert result.exit_code == 0
    assert table_rows(result.stdout) == [
        [
            "Campaign",
            "Status",
            "Created",
            "Recipients",
            "Sent",
            "Failed",
            "Opted out",
            "Skipped",
            "Filled",
            "Capped",
            "Pending",
        ],
        ["c1", "done", "2026-11-28T08:55:00+00:00", "2", "2", "0", "0", "0", "0", "0", "0"],
        ["c0", "new", "2026-11-27T10:00:00+00:00", "-", "0", "0", "0", "0", "0", "0", "-"],
    ]
    listed = json.loads(invoke("campaign", "list", "--json").stdout)
    assert [(c["campaign_id"], c["status"], c["sent"]) for c in listed] == [
        ("c1", "done", 2),
        ("c0", "new", 0),
    ]


def test_create_says_when_the_shifts_do_not_all_fit_one_text(stack: CampaignStack) -> None:
    for i in range(3):
        stack.add_shift(f"LONG{i}", f"Sat 2{i}/08 19:00-07:00 Ward {i} night, bring your badge")
    result = invoke(
        "campaign",
        "create",
        "c9",
        "--shifts",
        "LONG0,LONG1,LONG2",
        "--notify",
        "+447700900999",
        input="n\n",
    )
    assert result.exit_code == 1, result.output
    assert "Shifts:     LONG0, LONG1, LONG2" in result.stdout.splitlines()
    assert "Notify:     +447700900999 (bookings, drops, filled)" in result.stdout.splitlines()
    # Said before the question, on stderr.
    assert " ".join(result.stderr.split()) == (
        "Warning: the 3 shifts do not all fit one text: each text lists the soonest 2 still "
        "open and says how many more (REQUEST lists them); the campaign tracks all of them"
    )
    assert campaign_items(stack) == {}


def test_create_with_notify_stores_the_numbers(stack: CampaignStack) -> None:
    result = invoke(
        "campaign",
        "create",
        "c1",
        "--shifts",
        "XYZ123",
        "--notify",
        "07700 900999",
        "--notify",
        "+447700900998",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert campaign_items(stack)["c1"]["notify"] == ["+447700900998", "+447700900999"]
    bad = invoke("campaign", "create", "c2", "--shifts", "XYZ123", "--notify", "12", "--yes")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("Error: --notify: '12': ")


@dataclass
class BookingPhone(RecordingSms):
    """The first person texted books XYZ123 straight away."""

    shifts: ShiftsTable | None = None

    def send(self, to: str, body: str, origination: str, **kw: Any) -> str:
        message_id = super().send(to, body, origination, **kw)
        if len(self.sent) == 1 and self.shifts is not None:
            self.shifts.book("XYZ123", to, "m-1", datetime.now(UTC))
        return message_id


def test_a_filled_campaign_texts_nobody_after_the_booking(stack: CampaignStack) -> None:
    assert invoke("campaign", "create", "c1", "--shifts", "XYZ123", "--yes").exit_code == 0
    sms = BookingPhone(shifts=ShiftsTable(stack.dynamodb, stack.outputs["ShiftsTableName"]))
    campaign_app, sender_app = apps(stack, sms, limiter=FreeSlots())
    assert sender_app.sender.offers is not None
    sender_app.sender.offers.max_age_seconds = 0  # every job reads the shift again
    campaign_app.handle(stream_event(stack.insert_record("c1")), None)
    drain(stack, sender_app.handle, FakeContext())
    assert len(sms.sent) == 1
    result = invoke("campaign", "show", "c1")
    assert (
        "Recipients: 2 (sent 1, failed 0, opted out 0, skipped 0, skipped (filled) 1, "
        "dead-lettered 0, pending 0)"
    ) in result.stdout.splitlines()
    assert "Shifts:     1 of 1 booked" in result.stdout.splitlines()
    listed = json.loads(invoke("campaign", "list", "--json").stdout)
    assert [(c["sent"], c["skipped_filled"], c["status"]) for c in listed] == [(1, 1, "done")]


def test_show_unknown_campaign(stack: CampaignStack) -> None:
    result = invoke("campaign", "show", "nope")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["Error: no campaign nope"]


def test_a_text_that_was_never_sent_shows_no_delivery_to_wait_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = (
        RecipientLine("+44********01", "Ana", "sent", None, None, None, None),
        RecipientLine("+44********02", "Ben", "failed", None, None, None, None),
        RecipientLine("+44********03", None, "opted_out", None, None, None, None),
    )
    campaign_cli._show_recipients(lines)
    assert table_rows(capsys.readouterr().out)[1:] == [
        ["+44********01", "Ana", "sent", "pending", "-", "-", "-"],  # a receipt may come
        ["+44********02", "Ben", "failed", "-", "-", "-", "-"],  # none ever will
        ["+44********03", "-", "opted_out", "-", "-", "-", "-"],
    ]
