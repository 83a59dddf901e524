"""A shift given back to its waitlist through the inbound function, so that the hold it makes
lapses into due work for the due function."""

from __future__ import annotations

import json
from datetime import datetime

from shiftsms.core.models import Shift, StaffMember
from shiftsms.handlers import inbound
from shiftsms.ports import SmsSender
from shiftsms.settings import Settings
from tests.conftest import ORIGINATION, function_environment, sns_event

ANA, BEN, CAL = "+447700900101", "+447700900102", "+447700900103"
SHIFT = "XYZ123"


def give_back_to_waitlist(outputs: dict[str, str], sms: SmsSender, at: datetime) -> datetime:
    """ANA books :data:`SHIFT`, BEN and then CAL join its waitlist, and ANA texts DROP at ``at``
    to the inbound function (built from its deployed environment, ``sms`` sending its texts):
    the shift is held for BEN. Return when BEN's hold lapses."""
    app = inbound.InboundApp(
        Settings.from_env(function_environment(outputs["InboundFunctionName"])),
        sms=sms,
    )
    app.service.clock = lambda: at
    for phone in (ANA, BEN, CAL):
        app.service.staff.put(StaffMember(phone))
    assert app.service.waitlist is not None
    shifts = app.service.waitlist.shifts
    shifts.put(Shift(SHIFT, "Sat nights"))  # type: ignore[attr-defined]
    app.service.shifts.book(SHIFT, ANA, "m1", at)
    shifts.join_waitlist(SHIFT, BEN)
    shifts.join_waitlist(SHIFT, CAL)
    message = {
        "originationNumber": ANA,
        "destinationNumber": ORIGINATION,
        "messageKeyword": "",
        "messageBody": f"DROP {SHIFT}",
        "inboundMessageId": f"drop-{SHIFT}",
    }
    handled = app.handle(sns_event(json.dumps(message), timestamp=at), None)
    assert handled == {"handled": 1, "dropped": 0}
    view = shifts.waitlist_view(SHIFT)
    assert view is not None and view.held_for == BEN and view.held_until is not None
    return view.held_until
