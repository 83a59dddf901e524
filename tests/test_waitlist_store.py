"""Waitlists, holds and offer records as DynamoDB stores them, and the fakes keep the same
contract (each check runs on the adapter in moto and on the fake)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shiftsms import ports
from shiftsms.aws.offers import DynamoOfferLog
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.staff_table import StaffTable
from shiftsms.core.models import BookingOutcome, DropOutcome, Shift, ShiftStatus, StaffMember
from shiftsms.core.phone import fingerprint
from shiftsms.core.waitlist import JoinOutcome, JoinResult, Offer
from tests.conftest import Deployed
from tests.fakes import MemoryOfferLog, MemoryShifts, MemoryStaff

AT = datetime(2026, 7, 14, 18, 10, tzinfo=UTC)
ANA, BEN, CAL, DEE = (f"+44770090010{i}" for i in range(1, 5))


class Store(ports.ShiftStore, ports.WaitlistStore):
    """What the waitlist service and bookings need of the shifts store."""


@pytest.fixture(params=["dynamodb", "fake"])
def backend(request: pytest.FixtureRequest) -> Deployed | None:
    """The deployed stack for the adapter, or None for the fake."""
    if request.param == "fake":
        return None
    deployed: Deployed = request.getfixturevalue("deployed")
    return deployed


def _stores(deployed: Deployed | None) -> Store:
    if deployed is None:
        staff = MemoryStaff()
        shifts = MemoryShifts(staff=staff)
    else:
        out = deployed.outputs
        staff = StaffTable(deployed.dynamodb, out["StaffTableName"])  # type: ignore[assignment]
        shifts = ShiftsTable(  # type: ignore[assignment]
            deployed.dynamodb, out["ShiftsTableName"], out["StaffTableName"]
        )
    for phone in (ANA, BEN, CAL, DEE):
        staff.put(StaffMember(phone))
    return shifts  # type: ignore[return-value]


def _taken(store: Store) -> None:
    store.put(Shift("XYZ123", "Sat nights"))
    assert store.book("XYZ123", ANA, "m1", AT) is BookingOutcome.BOOKED


def test_join_appends_once_in_order_and_is_capped(backend: Deployed | None) -> None:
    store = _stores(backend)
    _taken(store)
    assert store.join_waitlist("XYZ123", BEN) == JoinResult(JoinOutcome.JOINED, 1)
    assert store.join_waitlist("XYZ123", CAL) == JoinResult(JoinOutcome.JOINED, 2)
    assert store.join_waitlist("XYZ123", BEN) == JoinResult(JoinOutcome.ALREADY, 1)
    assert store.join_waitlist("XYZ123", ANA) == JoinResult(JoinOutcome.YOURS)
    assert store.join_waitlist("XYZ123", DEE, cap=2) == JoinResult(JoinOutcome.FULL)
    assert store.join_waitlist("NOPE1", BEN) == JoinResult(JoinOutcome.UNKNOWN)
    view = store.waitlist_view("XYZ123")
    assert view is not None
    assert (view.waitlist, view.held_for, view.version) == ((BEN, CAL), None, 2)


def test_join_refuses_who_lacks_the_shifts_role_and_writes_nothing(
    backend: Deployed | None,
) -> None:
    store = _stores(backend)
    store.put(Shift("RN1", "Sat nights", role="RN"))
    assert store.book("RN1", ANA, "m1", AT) is BookingOutcome.BOOKED
    refused = store.join_waitlist("RN1", BEN, roles=("HCA",))
    assert refused == JoinResult(JoinOutcome.NEEDS_ROLE, role="RN")
    assert store.join_waitlist("RN1", CAL, roles=("rn",)) == JoinResult(JoinOutcome.JOINED, 1)
    view = store.waitlist_view("RN1")
    assert view is not None and view.waitlist == (CAL,)


def test_join_an_open_shift_changes_nothing(backend: Deployed | None) -> None:
    store = _stores(backend)
    store.put(Shift("OPEN1"))
    assert store.join_waitlist("OPEN1", BEN) == JoinResult(JoinOutcome.OPEN)
    view = store.waitlist_view("OPEN1")
    assert view is not None and view.waitlist == () and view.version == 0


def test_a_given_back_shift_with_a_waitlist_is_booked_only_by_its_holder(
    backend: Deployed | None,
) -> None:
    store = _stores(backend)
    _taken(store)
    store.join_waitlist("XYZ123", BEN)
    store.join_waitlist("XYZ123", CAL)
    assert store.release("XYZ123", ANA, ref="m2") is DropOutcome.RELEASED
    # Not offered yet: reserved for the list, nobody books it.
    assert store.book("XYZ123", DEE, "m3", AT) is BookingOutcome.TAKEN
    seen = store.waitlist_view("XYZ123")
    assert seen is not None and seen.offering
    until = AT + timedelta(minutes=15)
    assert store.set_hold(seen, BEN, until, (CAL,)) is True
    assert store.set_hold(seen, CAL, until, ()) is False  # the shift moved on since
    assert store.book("XYZ123", DEE, "m4", AT) is BookingOutcome.TAKEN
    assert store.book("XYZ123", CAL, "m5", AT) is BookingOutcome.TAKEN
    assert store.book("XYZ123", BEN, "m6", AT) is BookingOutcome.BOOKED
    after = store.waitlist_view("XYZ123")
    assert after is not None
    assert (after.shift.employee, after.held_for, after.held_until, after.waitlist) == (
        BEN,
        None,
        None,
        (CAL,),
    )


def test_a_hold_with_nobody_left_opens_the_shift_to_all(backend: Deployed | None) -> None:
    store = _stores(backend)
    _taken(store)
    store.join_waitlist("XYZ123", BEN)
    store.release("XYZ123", ANA, ref="m2")
    seen = store.waitlist_view("XYZ123")
    assert seen is not None
    assert store.set_hold(seen, BEN, AT + timedelta(minutes=15), ()) is True
    held = store.waitlist_view("XYZ123")
    assert held is not None and held.held_until == AT + timedelta(minutes=15)
    assert store.set_hold(held, None, None, ()) is True
    opened = store.waitlist_view("XYZ123")
    assert opened is not None and not opened.offering
    assert store.book("XYZ123", DEE, "m3", AT) is BookingOutcome.BOOKED


def test_a_hold_is_never_set_on_a_taken_shift(backend: Deployed | None) -> None:
    store = _stores(backend)
    _taken(store)
    store.join_waitlist("XYZ123", BEN)
    seen = store.waitlist_view("XYZ123")
    assert seen is not None
    assert store.set_hold(seen, BEN, AT, ()) is False
    shift = store.get("XYZ123")
    assert shift is not None and shift.shift_status is ShiftStatus.TAKEN


def test_the_shift_item_stores_the_waitlist_and_hold(deployed: Deployed) -> None:
    store = _stores(deployed)
    _taken(store)
    store.join_waitlist("XYZ123", BEN)
    store.release("XYZ123", ANA)
    seen = store.waitlist_view("XYZ123")
    assert seen is not None
    store.set_hold(seen, BEN, AT + timedelta(minutes=15), ())
    item = deployed.dynamodb.get_item(
        TableName=deployed.outputs["ShiftsTableName"], Key={"shift_id": {"S": "XYZ123"}}
    )["Item"]
    assert item["waitlist"] == {"L": []}
    assert item["held_for"] == {"S": BEN}
    assert item["held_until"] == {"S": "2026-07-14T18:25+00:00"}
    assert item["wait_version"] == {"N": "2"}


def _offers(deployed: Deployed | None) -> ports.OfferLog:
    if deployed is None:
        return MemoryOfferLog()
    return DynamoOfferLog(deployed.dynamodb, deployed.outputs["StateTableName"])


def test_offer_log_keeps_the_newest_offer_for_seven_days(backend: Deployed | None) -> None:
    offers = _offers(backend)
    assert offers.latest(BEN, AT) is None
    offers.record(BEN, ["XYZ123"], "held", AT)
    offers.record(BEN, ["OLD1", "OLD2"], "campaign", AT - timedelta(minutes=5))  # late
    assert offers.latest(BEN, AT) == Offer(("XYZ123",), "held", AT)
    offers.record(BEN, ["SUN1", "SUN2"], "campaign", AT + timedelta(minutes=1))
    latest = offers.latest(BEN, AT + timedelta(minutes=1))
    assert latest is not None and latest.shift_ids == ("SUN1", "SUN2")
    assert offers.latest(BEN, AT + timedelta(days=8)) is None
    assert offers.latest(CAL, AT) is None


def test_offer_records_name_the_fingerprint_never_the_number(deployed: Deployed) -> None:
    DynamoOfferLog(deployed.dynamodb, deployed.outputs["StateTableName"]).record(
        BEN, ["XYZ123"], "held", AT
    )
    items = deployed.dynamodb.scan(TableName=deployed.outputs["StateTableName"])["Items"]
    offers = [i for i in items if i["id"]["S"].startswith("offer#")]
    assert [i["id"]["S"] for i in offers] == [f"offer#{fingerprint(BEN)}"]
    assert BEN not in str(offers)
    assert offers[0]["expiration"] == {"N": str(int((AT + timedelta(days=7)).timestamp()))}


def test_a_held_shift_is_not_listed_as_open(backend: Deployed | None) -> None:
    store = _stores(backend)
    _taken(store)
    store.put(Shift("OPEN1", "Sun early"))
    store.join_waitlist("XYZ123", BEN)
    store.release("XYZ123", ANA)
    listed = store.open_listing((), AT, None, 10)
    assert [s.shift_id for s in listed.shifts] == ["OPEN1"]
    seen = store.waitlist_view("XYZ123")
    assert seen is not None
    store.set_hold(seen, BEN, AT + timedelta(minutes=15), ())
    assert [s.shift_id for s in store.open_listing((), AT, None, 10).shifts] == ["OPEN1"]
    held = store.waitlist_view("XYZ123")
    assert held is not None
    store.set_hold(held, None, None, ())  # nobody left: open to all
    listed = store.open_listing((), AT, None, 10)
    assert sorted(s.shift_id for s in listed.shifts) == ["OPEN1", "XYZ123"]
