"""The inbound-SMS use case: check the allow list, act on the command, send one reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shiftsms.core import replies
from shiftsms.core.commands import Command, Kind, parse
from shiftsms.core.models import BookingOutcome, DropOutcome, InboundSms
from shiftsms.core.phone import mask, redact, try_normalise
from shiftsms.errors import CallError, RecipientOptedOut, SendRejected
from shiftsms.ports import Caller, ReplyLimiter, ShiftStore, SmsSender, StaffStore
from shiftsms.services.reply_outbox import ReplyOutbox
from shiftsms.settings import Settings

log = logging.getLogger("shiftsms.inbound")

PAGE_FETCH = 20
# Stored as the list cursor once the last page was sent: it sorts after every shift id, so MORE
# then finds nothing after it and says so, rather than starting the list again.
END_OF_LIST = "~"


@dataclass(frozen=True)
class _Outcome:
    """What a command did, the reply to send, and (for lists) the cursor to keep once sent."""

    action: str
    reply: str | None
    cursor: str | None = None
    moves_cursor: bool = False


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass
class InboundService:
    """Handles one inbound SMS end to end. Safe to run twice for the same message."""

    settings: Settings
    shifts: ShiftStore
    staff: StaffStore
    sms: SmsSender
    limiter: ReplyLimiter
    caller: Caller | None = None
    clock: Callable[[], datetime] = utc_now
    # Replies within the number's shared rate, queued when they cannot go now; without it,
    # replies go straight to ``sms``.
    outbox: ReplyOutbox | None = None

    def handle(self, sms: InboundSms) -> dict[str, Any]:
        """Process ``sms``; return a JSON-safe summary (what was done and what was replied)."""
        sender = try_normalise(sms.sender)
        who = mask(sms.sender)
        if sender is None:
            log.warning("dropped: sender is not a valid E.164 number", extra={"sender": who})
            return {"action": "dropped", "reason": "invalid sender"}
        member = self.staff.get(sender)
        if member is None:
            return self._unauthorised(sms, sender)
        command = parse(sms.body)
        outcome = self._act(command, sms, sender, member.list_cursor)
        log.info(
            "handled", extra={"sender": who, "action": outcome.action, "kind": command.kind.value}
        )
        sent = self._reply(sms, sender, outcome.reply) if outcome.reply else None
        if outcome.moves_cursor and sent is not None:
            # Only once the page went out: a throttled reply is retried from the same place.
            self.staff.set_list_cursor(sender, outcome.cursor)
        return {"action": outcome.action, "reply": outcome.reply, "sent": sent}

    # -- paths ---------------------------------------------------------------------------

    def _unauthorised(self, sms: InboundSms, sender: str) -> dict[str, Any]:
        if parse(sms.body).kind in (Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP):
            return {"action": "ignored", "reason": "carrier keyword from unknown sender"}
        if not self.limiter.allow_unauthorised_reply(sender, self.clock(), ref=sms.message_id):
            log.info("unauthorised sender, reply suppressed", extra={"sender": mask(sender)})
            return {"action": "unauthorised", "reply": None, "sent": None}
        log.info("unauthorised sender", extra={"sender": mask(sender)})
        sent = self._reply(sms, sender, replies.NOT_AUTHORISED)
        return {"action": "unauthorised", "reply": replies.NOT_AUTHORISED, "sent": sent}

    def _act(self, command: Command, sms: InboundSms, sender: str, cursor: str | None) -> _Outcome:
        kind = command.kind
        if kind in (Kind.OPT_OUT, Kind.OPT_IN):
            opted_out = kind is Kind.OPT_OUT
            self.staff.set_opted_out(sender, opted_out, self.clock())
            return _Outcome("opted_out" if opted_out else "opted_in", None)
        if kind is Kind.HELP:
            return _Outcome("help", None)  # End User Messaging sends the HELP response itself
        if kind in (Kind.REQUEST, Kind.MORE):
            return self._list(after=cursor if kind is Kind.MORE else None)
        if kind is Kind.BOOK:
            return _Outcome("booked", self._book(command.codes, sender, sms.message_id))
        if kind is Kind.DROP:
            return _Outcome("dropped_shift", self._drop(command.codes, sender, sms.message_id))
        if kind is Kind.AGENT:
            return _Outcome(*self._agent(sender, command.note, sms.message_id))
        if kind is Kind.TOO_MANY:
            return _Outcome("invalid", replies.TOO_MANY_CODES)
        return _Outcome("invalid", replies.NOT_A_CODE)

    def _list(self, after: str | None) -> _Outcome:
        """One page of open shifts after ``after``, and where the next page starts."""
        page, more = self.shifts.open_page(after, PAGE_FETCH)
        if not page:
            text = replies.NO_OPEN_SHIFTS if after is None else replies.NO_MORE_SHIFTS
            return _Outcome("listed", text, cursor=after, moves_cursor=True)
        beyond = self.shifts.count_open(page[-1].shift_id) if more else 0
        text, shown = replies.shift_page(page, beyond, self.settings.reply_max_segments)
        remaining = len(page) - shown + beyond
        cursor = page[shown - 1].shift_id if remaining else END_OF_LIST
        return _Outcome("listed", text, cursor=cursor, moves_cursor=True)

    def _book(self, codes: tuple[str, ...], sender: str, ref: str) -> str:
        at = self.clock()
        outcomes: dict[str, BookingOutcome] = {
            code: self.shifts.book(code, sender, ref, at) for code in codes
        }
        booked = [c for c, o in outcomes.items() if o is BookingOutcome.BOOKED]
        if booked:
            log.info("booked", extra={"sender": mask(sender), "shifts": booked})
        return replies.booking_summary(outcomes)

    def _drop(self, codes: tuple[str, ...], sender: str, ref: str) -> str:
        outcomes: dict[str, DropOutcome] = {
            code: self.shifts.release(code, employee=sender, ref=ref) for code in codes
        }
        return replies.drop_summary(outcomes)

    def _agent(self, sender: str, note: str, message_id: str) -> tuple[str, str]:
        if self.caller is None:
            return "agent_unavailable", replies.AGENT_UNAVAILABLE
        try:
            self.caller.call_back(sender, note, token=message_id)
        except CallError as exc:
            # No traceback: the chained AWS error text may quote the number; log it redacted.
            detail = redact(f"{exc} ({exc.__cause__})" if exc.__cause__ else str(exc))
            log.error("call-back failed", extra={"sender": mask(sender), "error": detail})
            return "agent_failed", replies.AGENT_FAILED
        return "agent_called", replies.AGENT_CALLING

    def _reply(self, sms: InboundSms, sender: str, text: str) -> str | None:
        """Send ``text`` back from the number the employee texted; None if refused for good."""
        origination = sms.destination or self.settings.origination_identity
        try:
            if self.outbox is not None:
                return self.outbox.reply(sms.message_id, sender, text, origination)
            return self.sms.send(sender, text, origination)
        except RecipientOptedOut:
            log.info("reply not sent: recipient opted out", extra={"sender": mask(sender)})
        except SendRejected as exc:
            log.error("reply rejected", extra={"sender": mask(sender), "error": redact(str(exc))})
        return None
