"""Waitlists and held offers: who gets a shift that is given back. Pure: no I/O.

A taken shift keeps, on its own item, a list of the people waiting for it (E.164, in the order
they joined, at most :data:`WAITLIST_CAP`). When it is given back, the first of them who may
still take it (on the allow list, not opted out, allowed by the booking rules) gets a *held
offer*: for ``HoldMinutes`` only they can book it. When the hold lapses the next one gets it;
with nobody left the shift is open to all. The people skipped on the way leave the list.

While an available shift has a hold, or a waitlist not yet offered, nobody else can book it:
the booking's condition says so, so a hold and an open booking can never both win.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from shiftsms.core.booking_rules import may_work
from shiftsms.core.models import Shift

WAITLIST_CAP = 20
DEFAULT_HOLD_MINUTES = 15.0
# The shortest hold (3 s): a fraction of a minute is for trying the flow out (the demo).
MIN_HOLD_MINUTES = 0.05
# Due-work kind of a hold's expiry (key: the shift id).
HOLD_EXPIRY = "hold-expiry"


class JoinOutcome(StrEnum):
    """What ``WAIT CODE`` did."""

    JOINED = "joined"
    ALREADY = "already"  # already on the list: position as it is
    FULL = "full"
    OPEN = "open"  # available and nobody holds it: book it instead
    YOURS = "yours"  # the sender holds it (booked, or a hold)
    NEEDS_ROLE = "needs_role"  # the shift needs a role the sender lacks: never held for them
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class JoinResult:
    """A join's outcome and the sender's place on the list (1 = next), 0 when not on it;
    for NEEDS_ROLE, the role."""

    outcome: JoinOutcome
    position: int = 0
    role: str | None = None


@dataclass(frozen=True)
class WaitView:
    """A shift with its waitlist and hold, as read (the condition of the next change)."""

    shift: Shift
    waitlist: tuple[str, ...] = field(default=())
    held_for: str | None = None
    held_until: datetime | None = None
    # Bumped by every waitlist or hold change: the condition of the next one.
    version: int = 0

    @property
    def offering(self) -> bool:
        """True when the shift is available but reserved for its waitlist (held, or not yet
        offered down it): only the holder may book it."""
        return self.shift.available and (self.held_for is not None or bool(self.waitlist))


def join(
    view: WaitView,
    phone: str,
    cap: int = WAITLIST_CAP,
    roles: Sequence[str] | None = None,
) -> tuple[JoinResult, bool]:
    """What ``phone`` (holding ``roles``; None: not checked) texting WAIT for ``view``'s
    shift does, and whether the list changes."""
    shift = view.shift
    if phone in (shift.employee, view.held_for):
        return JoinResult(JoinOutcome.YOURS), False
    if roles is not None and not may_work(shift.role, roles):
        return JoinResult(JoinOutcome.NEEDS_ROLE, role=shift.role), False
    if phone in view.waitlist:
        return JoinResult(JoinOutcome.ALREADY, view.waitlist.index(phone) + 1), False
    if shift.available and not view.offering:
        return JoinResult(JoinOutcome.OPEN), False
    if shift.shift_status is None:
        return JoinResult(JoinOutcome.UNKNOWN), False
    if len(view.waitlist) >= cap:
        return JoinResult(JoinOutcome.FULL), False
    return JoinResult(JoinOutcome.JOINED, len(view.waitlist) + 1), True


@dataclass(frozen=True)
class NextHold:
    """Who the shift goes to next: ``holder`` (None: nobody, it opens to all), the waitlist
    left behind them, and the people skipped (they leave the list, never texted)."""

    holder: str | None
    rest: tuple[str, ...]
    skipped: tuple[str, ...]


def next_holder(waitlist: Sequence[str], eligible: Callable[[str], bool]) -> NextHold:
    """The first of ``waitlist`` that ``eligible`` accepts; those before them are skipped."""
    skipped: list[str] = []
    for index, phone in enumerate(waitlist):
        if eligible(phone):
            return NextHold(phone, tuple(waitlist[index + 1 :]), tuple(skipped))
        skipped.append(phone)
    return NextHold(None, (), tuple(skipped))


def hold_until(now: datetime, minutes: float) -> datetime:
    """When a hold made at ``now`` lapses, rounded up so the time in the text is exact.

    Holds of a minute or more end on a whole minute (the text says ``19:25``); shorter ones,
    for trying the flow out, on a whole second (``19:25:07``).
    """
    end = now + timedelta(minutes=max(minutes, MIN_HOLD_MINUTES))
    unit = timedelta(minutes=1) if minutes >= 1 else timedelta(seconds=1)
    floor = end - (end - end.replace(minute=0, second=0, microsecond=0)) % unit
    return floor if floor == end else floor + unit


class YesChoice(StrEnum):
    """What YES resolves to from the latest offer sent to the person."""

    BOOK = "book"  # the one shift it named
    ASK = "ask"  # several shifts, or none: text the code


def resolve_yes(offered: Sequence[str]) -> tuple[YesChoice, str]:
    """YES books the offer's single shift; an offer of several (or none) asks for the code."""
    if len(offered) == 1:
        return YesChoice.BOOK, offered[0]
    return YesChoice.ASK, ""


@dataclass(frozen=True)
class Offer:
    """The latest offer shiftsms sent one number: the shifts it named, what sent it, when."""

    shift_ids: tuple[str, ...]
    kind: str
    sent_at: datetime
