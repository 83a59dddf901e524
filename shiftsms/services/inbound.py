"""The inbound-SMS use case: check the allow list, act on the command, send one reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from shiftsms.core import replies
from shiftsms.core.booking_rules import Refusal, RuleSettings, ShiftToBook, check_booking
from shiftsms.core.commands import SPECS, Command, parse
from shiftsms.core.delivery import send_context
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.models import BookingOutcome, DropOutcome, InboundSms, Shift, StaffMember
from shiftsms.core.phone import fingerprint, mask, redact, try_normalise
from shiftsms.core.shift_times import Span, time_zone
from shiftsms.errors import CallError, RecipientOptedOut, SendRejected
from shiftsms.ports import Caller, OpenPage, ReplyLimiter, ShiftStore, SmsSender, StaffStore
from shiftsms.services.reply_outbox import ReplyOutbox
from shiftsms.settings import Settings

log = logging.getLogger("shiftsms.inbound")

PAGE_FETCH = 20
# Stored as the list cursor once the last page was sent: it sorts after every shift id, so MORE
# then finds nothing after it and says so, rather than starting the list again.
END_OF_LIST = "~"


class Action(StrEnum):
    """What handling one inbound SMS did."""

    DROPPED = "dropped"  # the sender is not a phone number
    IGNORED = "ignored"  # a carrier keyword from an unknown sender
    UNAUTHORISED = "unauthorised"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    HELP = "help"
    LISTED = "listed"
    BOOKED = "booked"
    DROPPED_SHIFT = "dropped_shift"
    AGENT_CALLED = "agent_called"
    AGENT_FAILED = "agent_failed"
    AGENT_UNAVAILABLE = "agent_unavailable"
    AGENT_WAITING = "agent_waiting"  # a call-back is already on its way
    INVALID = "invalid"


@dataclass(frozen=True)
class InboundResult:
    """What one inbound SMS did, the reply composed (if any) and its message id once sent."""

    action: Action
    reply: str | None = None
    sent: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class _Outcome:
    """What a command did, the reply to send, and (for lists) the cursor to keep once sent."""

    action: Action
    reply: str | None
    cursor: str | None = None
    moves_cursor: bool = False


@dataclass(frozen=True)
class Allowed:
    """A sender found on the allow list: the normalised number and their entry."""

    sender: str
    member: StaffMember


@dataclass(frozen=True)
class _Request:
    """One allowed sender's command, as the command methods see it."""

    command: Command
    sms: InboundSms
    sender: str
    cursor: str | None
    roles: tuple[str, ...] = ()


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

    def handle(self, sms: InboundSms) -> InboundResult:
        """Process ``sms``: act on it and send at most one reply."""
        screened = self.screen(sms)
        if isinstance(screened, InboundResult):
            return screened
        return self.handle_allowed(sms, screened)

    def screen(self, sms: InboundSms) -> Allowed | InboundResult:
        """Check the sender before anything else is read or written.

        Returns the result for a message settled here (the sender is not a phone number, or
        not on the allow list: the bounded "not registered" path, idempotent per message id on
        its own), else the allowed sender for :meth:`handle_allowed`.
        """
        sender = try_normalise(sms.sender)
        if sender is None:
            log.warning(
                "dropped: sender is not a valid E.164 number", extra={"sender": mask(sms.sender)}
            )
            return InboundResult(Action.DROPPED, reason="invalid sender")
        member = self.staff.get(sender)
        if member is None:
            return self._unauthorised(sms, sender)
        return Allowed(sender, member)

    def handle_allowed(self, sms: InboundSms, allowed: Allowed) -> InboundResult:
        """Act on an allowed sender's ``sms`` (see :meth:`screen`) and send at most one reply."""
        sender, member = allowed.sender, allowed.member
        command = parse(sms.body)
        act: Callable[[_Request], _Outcome] = getattr(self, SPECS[command.kind].handler)
        outcome = act(_Request(command, sms, sender, member.list_cursor, member.roles))
        log.info(
            "handled",
            extra={"sender": mask(sender), "action": outcome.action, "kind": command.kind.value},
        )
        sent = self._reply(sms, sender, outcome.reply) if outcome.reply else None
        if outcome.moves_cursor and sent is not None:
            # Only once the page went out: a throttled reply is retried from the same place.
            self.staff.set_list_cursor(sender, outcome.cursor)
        return InboundResult(outcome.action, outcome.reply, sent)

    def _unauthorised(self, sms: InboundSms, sender: str) -> InboundResult:
        if SPECS[parse(sms.body).kind].carrier:
            return InboundResult(Action.IGNORED, reason="carrier keyword from unknown sender")
        if not self.limiter.allow_unauthorised_reply(sender, self.clock(), ref=sms.message_id):
            log.info("unauthorised sender, reply suppressed", extra={"sender": mask(sender)})
            return InboundResult(Action.UNAUTHORISED)
        log.info("unauthorised sender", extra={"sender": mask(sender)})
        sent = self._reply(sms, sender, replies.NOT_AUTHORISED)
        return InboundResult(Action.UNAUTHORISED, replies.NOT_AUTHORISED, sent)

    # -- commands: one method per handler named in shiftsms.core.commands.COMMANDS ------------

    def on_opt_out(self, req: _Request) -> _Outcome:
        """STOP and the other opt-out words: recorded; End User Messaging replies itself."""
        self.staff.set_opted_out(req.sender, True, self.clock())
        return _Outcome(Action.OPTED_OUT, None)

    def on_opt_in(self, req: _Request) -> _Outcome:
        """START / UNSTOP: recorded; End User Messaging replies itself."""
        self.staff.set_opted_out(req.sender, False, self.clock())
        return _Outcome(Action.OPTED_IN, None)

    def on_help(self, req: _Request) -> _Outcome:
        """HELP: End User Messaging sends the HELP response itself."""
        return _Outcome(Action.HELP, None)

    def on_list(self, req: _Request) -> _Outcome:
        """REQUEST: the first page of open shifts the sender may book."""
        return self._list(req.roles, after=None)

    def on_more(self, req: _Request) -> _Outcome:
        """MORE: the page after the last one sent to this sender."""
        return self._list(req.roles, after=req.cursor)

    def on_book(self, req: _Request) -> _Outcome:
        """Codes: book each available one the rules allow for the sender."""
        return _Outcome(
            Action.BOOKED, self._book(req.command.codes, req.sender, req.roles, req.sms)
        )

    def on_drop(self, req: _Request) -> _Outcome:
        """DROP codes: give back those the sender holds."""
        reply = self._drop(req.command.codes, req.sender, req.sms)
        return _Outcome(Action.DROPPED_SHIFT, reply)

    def on_agent(self, req: _Request) -> _Outcome:
        """AGENT [note]: a call-back, when Connect is set up."""
        return self._agent(req.sender, req.command.note, req.sms.message_id)

    def on_too_many(self, req: _Request) -> _Outcome:
        """More codes than one text may hold."""
        return _Outcome(Action.INVALID, replies.TOO_MANY_CODES)

    def on_invalid(self, req: _Request) -> _Outcome:
        """Nothing usable: say how to get the list."""
        return _Outcome(Action.INVALID, replies.NOT_A_CODE)

    # -- helpers ----------------------------------------------------------------------------

    def _list(self, roles: tuple[str, ...], after: str | None) -> _Outcome:
        """One page of open shifts after ``after``, and where the next page starts."""
        page = (
            OpenPage([], [], 0)
            if after == END_OF_LIST
            else self.shifts.open_listing(roles, self.clock(), after, PAGE_FETCH)
        )
        if not page.shifts:
            if page.beyond:  # nothing in the part read, but the list goes on
                return _Outcome(Action.LISTED, replies.LOOK_FURTHER, page.tail, moves_cursor=True)
            text = replies.NO_OPEN_SHIFTS if after is None else replies.NO_MORE_SHIFTS
            return _Outcome(Action.LISTED, text, cursor=after, moves_cursor=True)
        text, shown = replies.shift_page(
            page.shifts, page.beyond, self.settings.reply_max_segments, at_least=not page.exact
        )
        remaining = len(page.shifts) - shown + page.beyond
        if not remaining:
            cursor = END_OF_LIST
        elif shown < len(page.shifts):
            cursor = page.cursors[shown - 1]
        else:
            cursor = page.tail
        return _Outcome(Action.LISTED, text, cursor=cursor, moves_cursor=True)

    def _book(
        self, codes: tuple[str, ...], sender: str, roles: tuple[str, ...], sms: InboundSms
    ) -> str:
        at = self.clock()
        rules = RuleSettings(self.settings.min_rest_hours, self.settings.max_weekly_hours)

        def check(
            shift: Shift, span: Span | None, held: tuple[HeldShift, ...]
        ) -> tuple[Refusal, ...]:
            return check_booking(
                ShiftToBook(shift.shift_id, span, shift.role), roles, held, rules, at
            )

        outcomes: dict[str, BookingOutcome] = {}
        refusals: list[Refusal] = []
        for code in codes:
            result = self.shifts.book_checked(
                code, sender, sms.message_id, at, check=check, sent=sms.sent_at, keep=rules.lookback
            )
            if result.outcome is None:
                refusals.extend(result.refusals)
            else:
                outcomes[code] = result.outcome
        booked = [c for c, o in outcomes.items() if o is BookingOutcome.BOOKED]
        if booked:
            log.info("booked", extra={"sender": mask(sender), "shifts": booked})
        if refusals:
            log.info(
                "refused", extra={"sender": mask(sender), "shifts": [r.shift_id for r in refusals]}
            )
        zone = time_zone(self.settings.time_zone)
        return replies.booking_reply(outcomes, refusals, zone)

    def _drop(self, codes: tuple[str, ...], sender: str, sms: InboundSms) -> str:
        outcomes: dict[str, DropOutcome] = {
            code: self.shifts.release(code, employee=sender, ref=sms.message_id, sent=sms.sent_at)
            for code in codes
        }
        return replies.drop_summary(outcomes)

    def _agent(self, sender: str, note: str, message_id: str) -> _Outcome:
        if self.caller is None:
            return _Outcome(Action.AGENT_UNAVAILABLE, replies.AGENT_UNAVAILABLE)
        if not self.limiter.allow_call_back(sender, self.clock(), ref=message_id):
            return _Outcome(Action.AGENT_WAITING, replies.AGENT_ALREADY_CALLING)
        try:
            self.caller.call_back(sender, note, token=message_id)
        except CallError as exc:
            self.limiter.end_call_back(sender, ref=message_id)
            # No traceback: the chained AWS error text may quote the number; log it redacted.
            detail = redact(f"{exc} ({exc.__cause__})" if exc.__cause__ else str(exc))
            log.error("call-back failed", extra={"sender": mask(sender), "error": detail})
            return _Outcome(Action.AGENT_FAILED, replies.AGENT_FAILED)
        return _Outcome(Action.AGENT_CALLED, replies.AGENT_CALLING)

    def _reply(self, sms: InboundSms, sender: str, text: str) -> str | None:
        """Send ``text`` back from the number the employee texted; None if refused for good."""
        origination = sms.destination or self.settings.origination_identity
        try:
            if self.outbox is not None:
                return self.outbox.reply(sms.message_id, sender, text, origination)
            context = send_context("reply", fingerprint(sender))
            return self.sms.send(sender, text, origination, context=context)
        except RecipientOptedOut:
            log.info("reply not sent: recipient opted out", extra={"sender": mask(sender)})
        except SendRejected as exc:
            log.error("reply rejected", extra={"sender": mask(sender), "error": redact(str(exc))})
        return None
