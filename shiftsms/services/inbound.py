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
from shiftsms.core.phone import mask, try_normalise
from shiftsms.errors import CallError, RecipientOptedOut, SendRejected
from shiftsms.ports import Caller, ReplyLimiter, ShiftStore, SmsSender, StaffStore
from shiftsms.settings import Settings

log = logging.getLogger("shiftsms.inbound")

PAGE_FETCH = 20


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
        action, reply = self._act(command, sms, sender, member.list_cursor)
        log.info("handled", extra={"sender": who, "action": action, "kind": command.kind.value})
        sent = self._reply(sms, sender, reply) if reply else None
        return {"action": action, "reply": reply, "sent": sent}

    # -- paths ---------------------------------------------------------------------------

    def _unauthorised(self, sms: InboundSms, sender: str) -> dict[str, Any]:
        if parse(sms.body).kind in (Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP):
            return {"action": "ignored", "reason": "carrier keyword from unknown sender"}
        if not self.limiter.allow_unauthorised_reply(sender, self.clock()):
            log.info("unauthorised sender, reply suppressed", extra={"sender": mask(sender)})
            return {"action": "unauthorised", "reply": None, "sent": None}
        log.info("unauthorised sender", extra={"sender": mask(sender)})
        sent = self._reply(sms, sender, replies.NOT_AUTHORISED)
        return {"action": "unauthorised", "reply": replies.NOT_AUTHORISED, "sent": sent}

    def _act(
        self, command: Command, sms: InboundSms, sender: str, cursor: str | None
    ) -> tuple[str, str | None]:
        kind = command.kind
        if kind in (Kind.OPT_OUT, Kind.OPT_IN):
            opted_out = kind is Kind.OPT_OUT
            self.staff.set_opted_out(sender, opted_out, self.clock())
            return ("opted_out" if opted_out else "opted_in"), None
        if kind is Kind.HELP:
            return "help", None  # End User Messaging sends the HELP response itself
        if kind in (Kind.REQUEST, Kind.MORE):
            after = cursor if kind is Kind.MORE else None
            return "listed", self._list(sender, after=after)
        if kind is Kind.BOOK:
            return "booked", self._book(command.codes, sender, sms.message_id)
        if kind is Kind.DROP:
            return "dropped_shift", self._drop(command.codes, sender)
        if kind is Kind.AGENT:
            return self._agent(sender, command.note, sms.message_id)
        if kind is Kind.TOO_MANY:
            return "invalid", replies.TOO_MANY_CODES
        return "invalid", replies.NOT_A_CODE

    def _list(self, sender: str, after: str | None) -> str:
        page, more = self.shifts.open_page(after, PAGE_FETCH)
        if not page:
            self.staff.set_list_cursor(sender, None)
            return replies.NO_OPEN_SHIFTS if after is None else replies.NO_MORE_SHIFTS
        beyond = self.shifts.count_open(page[-1].shift_id) if more else 0
        text, shown = replies.shift_page(page, beyond, self.settings.reply_max_segments)
        remaining = len(page) - shown + beyond
        self.staff.set_list_cursor(sender, page[shown - 1].shift_id if remaining else None)
        return text

    def _book(self, codes: tuple[str, ...], sender: str, ref: str) -> str:
        at = self.clock()
        outcomes: dict[str, BookingOutcome] = {
            code: self.shifts.book(code, sender, ref, at) for code in codes
        }
        booked = [c for c, o in outcomes.items() if o is BookingOutcome.BOOKED]
        if booked:
            log.info("booked", extra={"sender": mask(sender), "shifts": booked})
        return replies.booking_summary(outcomes)

    def _drop(self, codes: tuple[str, ...], sender: str) -> str:
        outcomes: dict[str, DropOutcome] = {
            code: self.shifts.release(code, employee=sender) for code in codes
        }
        return replies.drop_summary(outcomes)

    def _agent(self, sender: str, note: str, message_id: str) -> tuple[str, str]:
        if self.caller is None:
            return "agent_unavailable", replies.AGENT_UNAVAILABLE
        try:
            self.caller.call_back(sender, note, token=message_id)
        except CallError:
            log.exception("call-back failed", extra={"sender": mask(sender)})
            return "agent_failed", replies.AGENT_FAILED
        return "agent_called", replies.AGENT_CALLING

    def _reply(self, sms: InboundSms, sender: str, text: str) -> str | None:
        """Send ``text`` back from the number the employee texted; None if refused for good."""
        origination = sms.destination or self.settings.origination_identity
        try:
            return self.sms.send(sender, text, origination)
        except RecipientOptedOut:
            log.info("reply not sent: recipient opted out", extra={"sender": mask(sender)})
        except SendRejected as exc:
            log.error("reply rejected", extra={"sender": mask(sender), "error": str(exc)})
        return None
