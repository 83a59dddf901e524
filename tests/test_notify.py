"""Managers told of a campaign's bookings, drops and filling (``--notify``, ``ManagerNumbers``).

First the notifier's decisions on in-memory fakes, then the real template in moto with the
deployed inbound handler: each notice goes once, through the reply path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shiftsms.aws.campaign_links import DynamoCampaignLinks
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.core import replies
from shiftsms.core.campaigns import Campaign, CampaignStatus
from shiftsms.core.gsm import is_gsm7, segments
from shiftsms.core.models import InboundSms, Shift, StaffMember
from shiftsms.errors import NotConfigured
from shiftsms.handlers.inbound import InboundApp
from shiftsms.services.campaigns import CampaignPlanner
from shiftsms.services.inbound import InboundService
from shiftsms.services.notify import ManagerNotifier
from shiftsms.settings import InboundSettings
from tests import fakes
from tests.campaign_support import CampaignStack, campaign_stack
from tests.conftest import ORIGINATION, function_environment, sns_event
from tests.fakes import RecordingSms

ANA, BEN = "+447700900101", "+447700900102"
BOSS, DEPUTY = "+447700900901", "+447700900902"
START = datetime(2030, 8, 10, 9, 0, tzinfo=UTC)
PHONES = {"Ana": ANA, "Ben": BEN}


@dataclass
class Outbox:
    """Texts by reference: a reference already sent is not sent again (the reply markers)."""

    sent: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __call__(self, ref: str, to: str, text: str) -> None:
        self.sent.setdefault(ref, (to, text))

    def texts(self) -> list[tuple[str, str]]:
        return sorted(self.sent.values())


@dataclass
class World:
    shifts: fakes.MemoryShifts
    links: fakes.MemoryLinks
    notifier: ManagerNotifier
    outbox: Outbox

    def book(self, code: str, name: str, ref: str, after: timedelta) -> None:
        self.shifts.book(code, PHONES[name], ref, START + after)
        self.notifier.booked([code], name, ref, START + after, self.outbox)


def world(*codes: str, notify: tuple[str, ...] = (BOSS,), managers: tuple[str, ...] = ()) -> World:
    shifts = fakes.MemoryShifts()
    for code in codes:
        shifts.put(Shift(code, f"{code} info"))
    campaigns = fakes.MemoryCampaigns()
    campaigns.items["c1"] = Campaign(
        "c1",
        "x",
        status=CampaignStatus.SENDING,
        shift_ids=codes,
        fanout_at=START.isoformat(timespec="seconds"),
        notify=notify,
        live=True,
    )
    links = fakes.MemoryLinks()
    links.tag(codes, "c1")
    notifier = ManagerNotifier(links, campaigns, shifts, managers=managers)
    return World(shifts, links, notifier, Outbox())


def test_a_booking_is_told_and_the_filling_with_the_time_it_took() -> None:
    w = world("XYZ123", "XYZ124", managers=(DEPUTY,))
    w.book("XYZ123", "Ana", "m-1", timedelta(seconds=40))
    assert w.outbox.texts() == [
        (BOSS, "XYZ123 booked by Ana (c1): 1 of 2 booked."),
        (DEPUTY, "XYZ123 booked by Ana (c1): 1 of 2 booked."),
    ]
    w.book("XYZ124", "Ben", "m-2", timedelta(minutes=3, seconds=20))
    assert sorted(t for to, t in w.outbox.texts() if to == BOSS) == [
        "Campaign c1 filled in 3m 20s: 2 of 2 booked.",
        "XYZ123 booked by Ana (c1): 1 of 2 booked.",
        "XYZ124 booked by Ben (c1): 2 of 2 booked.",
    ]
    assert len(w.outbox.sent) == 6


def test_a_retried_booking_tells_nobody_twice() -> None:
    w = world("XYZ123")
    w.book("XYZ123", "Ana", "m-1", timedelta(seconds=5))
    w.notifier.booked(["XYZ123"], "Ana", "m-1", START, w.outbox)
    assert w.outbox.texts() == [
        (BOSS, "Campaign c1 filled in 5s: 1 of 1 booked."),
        (BOSS, "XYZ123 booked by Ana (c1): 1 of 1 booked."),
    ]


def test_a_drop_is_told_and_the_next_filling_is_told_again() -> None:
    w = world("XYZ123")
    w.book("XYZ123", "Ana", "m-1", timedelta(seconds=5))
    w.shifts.release("XYZ123", ANA, ref="m-2")
    w.notifier.dropped(["XYZ123"], "Ana", "m-2", START + timedelta(minutes=1), w.outbox)
    assert (BOSS, "XYZ123 dropped by Ana (c1): open again, 0 of 1 booked.") in w.outbox.texts()
    w.book("XYZ123", "Ben", "m-3", timedelta(hours=2, minutes=5))
    filled = [t for _, t in w.outbox.texts() if t.startswith("Campaign")]
    assert filled == [
        "Campaign c1 filled in 2h 05m: 1 of 1 booked.",
        "Campaign c1 filled in 5s: 1 of 1 booked.",
    ]


def test_a_second_message_completing_a_filled_campaign_does_not_tell_it_again() -> None:
    w = world("XYZ123")
    w.book("XYZ123", "Ana", "m-1", timedelta(seconds=5))
    w.links.filled["c1"] = "m-1"
    w.notifier.booked(["XYZ123"], "Ana", "m-9", START, w.outbox)  # a racing message
    assert [t for _, t in w.outbox.texts() if t.startswith("Campaign")] == [
        "Campaign c1 filled in 5s: 1 of 1 booked."
    ]


def test_shifts_of_no_campaign_and_campaigns_with_nobody_to_tell_send_nothing() -> None:
    w = world("XYZ123", notify=())
    w.book("XYZ123", "Ana", "m-1", timedelta(seconds=5))
    w.shifts.put(Shift("LOOSE1", "not offered"))
    w.notifier.booked(["LOOSE1"], "Ana", "m-2", START, w.outbox)
    assert w.outbox.sent == {}


def test_a_notice_sent_without_an_outbox_names_its_kind_in_context() -> None:
    w = world("XYZ123")
    staff = fakes.MemoryStaff()
    staff.put(StaffMember(ANA, "Ana"))
    sms = RecordingSms()
    service = InboundService(
        InboundSettings("shifts", "staff", origination_identity=ORIGINATION),
        w.shifts,
        staff,
        sms,
        fakes.CountingReplyLimiter(),
        None,
        notifier=w.notifier,
        clock=lambda: START,
    )
    service.handle(InboundSms("m-1", ANA, ORIGINATION, "XYZ123"))
    assert [(s.to, s.body, (s.context or {}).get("kind")) for s in sms.sent] == [
        (ANA, "Booked: XYZ123. Thank you!", "reply"),
        (BOSS, "XYZ123 booked by Ana (c1): 1 of 1 booked.", "notify"),
        (BOSS, sms.sent[2].body, "notify"),  # and the campaign is filled
    ]
    assert sms.sent[2].body.startswith("Campaign c1 filled in ")


def test_notices_are_one_gsm7_segment_with_the_longest_values() -> None:
    code, who, campaign = "A" * 20, "Zoë " + "W" * 60, "c" * 64
    for template in (replies.NOTIFY_BOOKED, replies.NOTIFY_DROPPED):
        text = replies.shift_notice(
            template, code, who=who, campaign=campaign, booked=100, total=100
        )
        assert is_gsm7(text) and segments(text) == 1, text
    filled = replies.filled_notice(campaign, 100, 40 * 86400)
    assert is_gsm7(filled) and segments(filled) == 1
    assert filled.endswith("filled in 40d 0h: 100 of 100 booked.")


# -- the deployed inbound function, in moto -------------------------------------------------


@pytest.fixture
def stack() -> Iterator[CampaignStack]:
    with campaign_stack({"ManagerNumbers": DEPUTY}) as deployed:
        deployed.add_shift("XYZ123", "15/08 5h nightshift")
        deployed.add_shift("XYZ124", "18/08 3h dayshift")
        deployed.add_staff(StaffMember(ANA, "Ana"), StaffMember(BEN, "Ben"))
        yield deployed


def text_in(sender: str, body: str, message_id: str) -> dict[str, Any]:
    return sns_event(
        {
            "originationNumber": sender,
            "destinationNumber": ORIGINATION,
            "messageBody": body,
            "inboundMessageId": message_id,
        }
    )


def test_bookings_and_the_filling_reach_both_the_campaign_and_stack_managers(
    stack: CampaignStack,
) -> None:
    planner = CampaignPlanner(
        campaigns=stack.campaigns(),
        staff=stack.staff(),
        shifts=ShiftsTable(stack.dynamodb, stack.outputs["ShiftsTableName"]),
        links=DynamoCampaignLinks(
            stack.dynamodb, stack.outputs["ShiftsTableName"], stack.outputs["CampaignsTableName"]
        ),
    )
    draft = planner.prepare("c1", shift_ids=["XYZ123", "XYZ124"], notify=[BOSS])
    planner.create(draft)
    sms = RecordingSms()
    app = InboundApp(
        InboundSettings.from_env(function_environment(stack.outputs["InboundFunctionName"])),
        sms=sms,
    )
    app.handle(text_in(ANA, "XYZ123", "m-1"), None)
    app.handle(text_in(ANA, "XYZ123", "m-1"), None)  # SNS delivers it again
    app.handle(text_in(BEN, "XYZ124", "m-2"), None)
    app.handle(text_in(ANA, "DROP XYZ123", "m-3"), None)
    assert sms.to(ANA) == ["Booked: XYZ123. Thank you!", "Released: XYZ123."]
    for manager in (BOSS, DEPUTY):
        told = sms.to(manager)
        assert told[:3] == [
            "XYZ123 booked by Ana (c1): 1 of 2 booked.",
            "XYZ124 booked by Ben (c1): 2 of 2 booked.",
            told[2],
        ]
        assert told[2].startswith("Campaign c1 filled in ")
        assert told[3:] == ["XYZ123 dropped by Ana (c1): open again, 1 of 2 booked."]
    # each notice names its kind in Context, so its receipts and cost are told apart
    kinds = {(s.to, (s.context or {}).get("kind")) for s in sms.sent}
    assert kinds == {(ANA, "reply"), (BEN, "reply"), (BOSS, "notify"), (DEPUTY, "notify")}
    stored = stack.campaigns().get("c1")
    assert stored is not None and stored.notify == (BOSS,)


def test_manager_numbers_are_read_once_each_and_a_bad_one_is_refused_at_cold_start() -> None:
    env = {"SHIFTS_TABLE": "s", "STAFF_TABLE": "t"}
    read = InboundSettings.from_env({**env, "MANAGER_NUMBERS": f"{BOSS}, {DEPUTY},{BOSS}"})
    assert read.manager_numbers == (BOSS, DEPUTY)
    assert InboundSettings.from_env({**env, "MANAGER_NUMBERS": ""}).manager_numbers == ()
    with pytest.raises(
        NotConfigured, match="MANAGER_NUMBERS: '12': start it with \\+ and the country code"
    ):
        InboundSettings.from_env({**env, "MANAGER_NUMBERS": "12"})
