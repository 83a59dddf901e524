"""The inbound-SMS use case: check the allow list, act on the command, send one reply."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from shiftsms.core import replies
from shiftsms.core.booking_rules import Refusal, RuleSettings, ShiftToBook, check_booking
from shiftsms.core.catalogue import ENGLISH, Catalogue, catalogue
from shiftsms.core.commands import SPECS, Command, clean_body, parse
from shiftsms.core.delivery import send_context
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.models import BookingOutcome, DropOutcome, InboundSms, Shift, StaffMember
from shiftsms.core.phone import fingerprint, mask, redact, try_normalise
from shiftsms.core.self_service import BadSnooze, drop_too_late, snooze_days
from shiftsms.core.shift_times import ShiftTimeError, Span, from_iso, sort_key, time_zone
from shiftsms.core.waitlist import JoinOutcome
from shiftsms.errors import CallError, RecipientOptedOut, SendRejected
from shiftsms.ports import (
    Caller,
    ClaimWindows,
    DueWork,
    OpenPage,
    ReplyLimiter,
    ShiftStore,
    SmsSender,
    StaffStore,
)
from shiftsms.services.notify import ManagerNotifier
from shiftsms.services.reminders import reminder_item
from shiftsms.services.reply_outbox import ReplyOutbox
from shiftsms.services.waitlist import WaitlistService
from shiftsms.services.windows import reply_by
from shiftsms.settings import Settings

log = logging.getLogger("shiftsms.inbound")

PAGE_FETCH = 20
# Stored as the list cursor once the last page was sent: it sorts after every shift id, so MORE
# then finds nothing after it and says so, rather than starting the list again.
END_OF_LIST = "~"
# The list cursor of a MINE page: ``m:<start> <shift id>`` of the last shift shown (``m:~``
# once the last went), so MORE goes on with the sender's own shifts.
MINE_CURSOR = "m:"


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
    WAITLISTED = "waitlisted"
    AGENT_CALLED = "agent_called"
    AGENT_FAILED = "agent_failed"
    AGENT_UNAVAILABLE = "agent_unavailable"
    AGENT_WAITING = "agent_waiting"  # a call-back is already on its way
    LISTED_MINE = "listed_mine"
    COMMANDS = "commands"
    SNOOZED = "snoozed"
    RESUMED = "resumed"
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
    # The codes this message booked (or, for DROP, gave back): told to the campaign's managers.
    changed: tuple[str, ...] = ()


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
    name: str = ""
    # The sender's language: every reply is composed from this catalogue.
    texts: Catalogue = ENGLISH


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
    # Tells a campaign's managers of its bookings and drops (after the sender's reply).
    notifier: ManagerNotifier | None = None
    # WAIT, held offers on DROP and YES; without it WAIT and YES are answered as unknown.
    waitlist: WaitlistService | None = None
    # Where reminders of timed bookings are scheduled; None: no reminders.
    due: DueWork | None = None
    # Claim windows: a code whose window is open registers interest instead of booking.
    windows: ClaimWindows | None = None

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
        texts = catalogue(member.language)
        outcome = act(
            _Request(
                command, sms, sender, member.list_cursor, member.roles, member.name, texts=texts
            )
        )
        log.info(
            "handled",
            extra={"sender": mask(sender), "action": outcome.action, "kind": command.kind.value},
        )
        sent = self._reply(sms, sender, outcome.reply) if outcome.reply else None
        if outcome.moves_cursor and sent is not None:
            # Only once the page went out: a throttled reply is retried from the same place.
            self.staff.set_list_cursor(sender, outcome.cursor)
        if outcome.changed and self.notifier is not None:
            self._notify(outcome, sms, member.name or mask(sender))
        return InboundResult(outcome.action, outcome.reply, sent)

    def _notify(self, outcome: _Outcome, sms: InboundSms, who: str) -> None:
        """Tell the managers of the campaigns whose shifts ``outcome`` booked or gave back."""
        assert self.notifier is not None
        at = self.clock()
        send = functools.partial(self.send_notice, sms)
        if outcome.action is Action.BOOKED:
            self.notifier.booked(outcome.changed, who, sms.message_id, at, send)
        else:
            self.notifier.dropped(outcome.changed, who, sms.message_id, at, send)

    def send_notice(self, sms: InboundSms, ref: str, to: str, text: str) -> None:
        """Send a manager's notice under ``ref`` (once), from the number ``sms`` reached."""
        origination = sms.destination or self.settings.origination_identity
        try:
            if self.outbox is not None:
                self.outbox.reply(ref, to, text, origination, sent_as="notify")
            else:
                self.sms.send(
                    to, text, origination, context=send_context("notify", fingerprint(to))
                )
        except RecipientOptedOut:
            log.info("notice not sent: recipient opted out", extra={"recipient": mask(to)})
        except SendRejected as exc:
            log.error("notice rejected", extra={"recipient": mask(to), "error": redact(str(exc))})

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
        return self._list(req.roles, after=None, texts=req.texts)

    def on_more(self, req: _Request) -> _Outcome:
        """MORE: the page after the last one sent to this sender (open shifts, or MINE's)."""
        if req.cursor and req.cursor.startswith(MINE_CURSOR):
            return self._mine(req.sender, req.cursor[len(MINE_CURSOR) :], req.texts)
        return self._list(req.roles, after=req.cursor, texts=req.texts)

    def on_book(self, req: _Request) -> _Outcome:
        """Codes: book each available one the rules allow for the sender."""
        reply, booked = self._book(req.command.codes, req.sender, req.roles, req.sms, req.texts)
        return _Outcome(Action.BOOKED, reply, changed=booked)

    def on_drop(self, req: _Request) -> _Outcome:
        """DROP codes: give back those the sender holds."""
        if not req.command.codes:
            return _Outcome(Action.INVALID, req.texts.text("DROP_WHICH"))
        reply, released = self._drop(req.command.codes, req.sender, req.sms, req.texts)
        return _Outcome(Action.DROPPED_SHIFT, reply, changed=released)

    def on_wait(self, req: _Request) -> _Outcome:
        """WAIT code: join the waitlist of a taken shift."""
        if self.waitlist is None:
            return _Outcome(Action.INVALID, req.texts.text("NOT_A_CODE"))
        if len(req.command.codes) != 1:
            return _Outcome(Action.INVALID, req.texts.text("WAIT_ONE_CODE"))
        (code,) = req.command.codes
        result = self.waitlist.join(code, req.sender, req.roles)
        action = Action.INVALID if result.outcome is JoinOutcome.NEEDS_ROLE else Action.WAITLISTED
        return _Outcome(action, replies.join_reply(code, result, req.texts))

    def on_yes(self, req: _Request) -> _Outcome:
        """YES: book the single shift of the latest offer sent to the sender."""
        code = self.waitlist.yes_code(req.sender, self.clock()) if self.waitlist else None
        if code is None:
            return _Outcome(Action.INVALID, req.texts.text("YES_WHICH"))
        outcome, reply = self._book_outcomes((code,), req.sender, req.roles, req.sms, req.texts)
        if outcome.get(code) in (BookingOutcome.TAKEN, BookingOutcome.UNKNOWN):
            return _Outcome(Action.BOOKED, req.texts.text("YES_WHICH"))
        booked = (code,) if outcome.get(code) is BookingOutcome.BOOKED else ()
        return _Outcome(Action.BOOKED, reply, changed=booked)

    def on_agent(self, req: _Request) -> _Outcome:
        """AGENT [note]: a call-back, when Connect is set up."""
        return self._agent(req.sender, req.command.note, req.sms.message_id, req.texts)

    def on_mine(self, req: _Request) -> _Outcome:
        """MINE: the sender's upcoming booked shifts, soonest first."""
        return self._mine(req.sender, None, req.texts)

    def on_commands(self, req: _Request) -> _Outcome:
        """COMMANDS: what they can text, in one segment."""
        return _Outcome(Action.COMMANDS, req.texts.text("COMMAND_LIST"))

    def on_snooze(self, req: _Request) -> _Outcome:
        """SNOOZE [N]: no campaign offers for 7 (or N, at most 60) days."""
        # The words after SNOOZE as sent: the note drops a leading "-", and "-2" is no number.
        words = clean_body(req.sms.body).split(maxsplit=1)
        try:
            days = snooze_days(words[1] if len(words) > 1 else "")
        except BadSnooze:
            return _Outcome(Action.INVALID, req.texts.text("BAD_SNOOZE"))
        # From when the text was sent, so a retried SNOOZE sets the same end.
        until = self._sent_or_now(req.sms) + timedelta(days=days)
        self.staff.set_snooze(req.sender, until, self.clock())
        zone = time_zone(self.settings.time_zone)
        return _Outcome(Action.SNOOZED, replies.snoozed(until, zone, req.texts))

    def on_resume(self, req: _Request) -> _Outcome:
        """RESUME: campaign offers again."""
        self.staff.set_snooze(req.sender, None, self.clock())
        return _Outcome(Action.RESUMED, req.texts.text("RESUMED"))

    def on_too_many(self, req: _Request) -> _Outcome:
        """More codes than one text may hold."""
        return _Outcome(Action.INVALID, req.texts.text("TOO_MANY_CODES"))

    def on_invalid(self, req: _Request) -> _Outcome:
        """Nothing usable: say how to get the list."""
        return _Outcome(Action.INVALID, req.texts.text("NOT_A_CODE"))

    # -- helpers ----------------------------------------------------------------------------

    def _list(
        self, roles: tuple[str, ...], after: str | None, texts: Catalogue = ENGLISH
    ) -> _Outcome:
        """One page of open shifts after ``after``, and where the next page starts."""
        page = (
            OpenPage([], [], 0)
            if after == END_OF_LIST
            else self.shifts.open_listing(roles, self.clock(), after, PAGE_FETCH)
        )
        if not page.shifts:
            if page.beyond:  # nothing in the part read, but the list goes on
                look = texts.text("LOOK_FURTHER")
                return _Outcome(Action.LISTED, look, page.tail, moves_cursor=True)
            text = texts.text("NO_OPEN_SHIFTS" if after is None else "NO_MORE_SHIFTS")
            return _Outcome(Action.LISTED, text, cursor=after, moves_cursor=True)
        text, shown = replies.shift_page(
            page.shifts,
            page.beyond,
            self.settings.reply_max_segments,
            at_least=not page.exact,
            texts=texts,
        )
        remaining = len(page.shifts) - shown + page.beyond
        if not remaining:
            cursor = END_OF_LIST
        elif shown < len(page.shifts):
            cursor = page.cursors[shown - 1]
        else:
            cursor = page.tail
        return _Outcome(Action.LISTED, text, cursor=cursor, moves_cursor=True)

    def _sent_or_now(self, sms: InboundSms) -> datetime:
        try:
            return from_iso(sms.sent_at) if sms.sent_at else self.clock()
        except ShiftTimeError:
            return self.clock()

    def _mine(self, sender: str, after: str | None, texts: Catalogue = ENGLISH) -> _Outcome:
        """One page of the sender's upcoming booked timed shifts after ``after``."""
        now = self.clock()
        held, _, _ = self.shifts.held(sender)
        upcoming = [
            (sort_key(h.span.start) + " " + h.shift_id, h) for h in held if h.span.end > now
        ]
        if after == END_OF_LIST:
            upcoming = []
        elif after is not None:
            upcoming = [(key, h) for key, h in upcoming if key > after]
        if not upcoming:
            text = texts.text("NO_BOOKED_SHIFTS" if after is None else "NO_MORE_BOOKED")
            return _Outcome(Action.LISTED_MINE, text, MINE_CURSOR + END_OF_LIST, moves_cursor=True)
        page = upcoming[:PAGE_FETCH]
        found = self.shifts.get_many([h.shift_id for _, h in page])
        entries = [
            (
                h.shift_id,
                h.span.start,
                (found[h.shift_id].location or "") if h.shift_id in found else "",
            )
            for _, h in page
        ]
        zone = time_zone(self.settings.time_zone)
        text, shown = replies.booked_page(entries, zone, len(upcoming) - len(page), texts)
        cursor = END_OF_LIST if shown == len(upcoming) else page[shown - 1][0]
        return _Outcome(Action.LISTED_MINE, text, MINE_CURSOR + cursor, moves_cursor=True)

    def _book(
        self,
        codes: tuple[str, ...],
        sender: str,
        roles: tuple[str, ...],
        sms: InboundSms,
        texts: Catalogue = ENGLISH,
    ) -> tuple[str, tuple[str, ...]]:
        """Book what may be booked; the reply, and the codes booked."""
        outcomes, reply = self._book_outcomes(codes, sender, roles, sms, texts)
        return reply, tuple(c for c, o in outcomes.items() if o is BookingOutcome.BOOKED)

    def _book_outcomes(
        self,
        codes: tuple[str, ...],
        sender: str,
        roles: tuple[str, ...],
        sms: InboundSms,
        texts: Catalogue = ENGLISH,
    ) -> tuple[dict[str, BookingOutcome], str]:
        """Book each of ``codes`` the rules allow; the outcomes and the reply."""
        at = self.clock()
        rules = RuleSettings(self.settings.min_rest_hours, self.settings.max_weekly_hours)

        spans: dict[str, Span] = {}

        def check(
            shift: Shift, span: Span | None, held: tuple[HeldShift, ...]
        ) -> tuple[Refusal, ...]:
            if span is not None:
                spans[shift.shift_id] = span
            return check_booking(
                ShiftToBook(shift.shift_id, span, shift.role), roles, held, rules, at
            )

        registered: dict[str, datetime] = {}
        if self.windows is not None:
            for code in codes:
                closes_at = self.windows.register(code, sender, at)
                if closes_at is not None:
                    registered[code] = closes_at
        outcomes: dict[str, BookingOutcome] = {}
        refusals: list[Refusal] = []
        for code in [c for c in codes if c not in registered]:
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
            self._schedule_reminders([(c, spans[c]) for c in booked if c in spans], sender, at)
        if refusals:
            log.info(
                "refused", extra={"sender": mask(sender), "shifts": [r.shift_id for r in refusals]}
            )
        zone = time_zone(self.settings.time_zone)
        booking = replies.booking_reply(outcomes, refusals, zone, texts)
        if not registered:
            return outcomes, booking
        log.info("window interest", extra={"sender": mask(sender), "shifts": list(registered)})
        by = reply_by(max(registered.values()), self.settings.time_zone)
        interest = replies.window_interest(list(registered), by, texts)
        if not outcomes and not refusals:
            return outcomes, interest
        both = f"{booking} {interest}"
        return outcomes, both if texts.units(both) <= texts.single else interest

    def _schedule_reminders(
        self, booked: list[tuple[str, Span]], sender: str, at: datetime
    ) -> None:
        """One reminder due work item per timed shift just booked (a retry replaces it)."""
        hours = self.settings.reminder_hours
        if self.due is None or not hours:
            return
        for code, span in booked:
            item = reminder_item(code, sender, span.start, at, hours)
            if item is not None:
                self.due.schedule(item)

    def _drop(
        self, codes: tuple[str, ...], sender: str, sms: InboundSms, texts: Catalogue = ENGLISH
    ) -> tuple[str, tuple[str, ...]]:
        outcomes: dict[str, DropOutcome] = {}
        for code in codes:
            if self._too_late_to_drop(code, sender):
                outcomes[code] = DropOutcome.TOO_LATE
                continue
            outcomes[code] = self.shifts.release(
                code, employee=sender, ref=sms.message_id, sent=sms.sent_at
            )
        released = tuple(c for c, o in outcomes.items() if o is DropOutcome.RELEASED)
        if self.waitlist is not None:
            sent = self._sent_or_now(sms)
            for code in released:
                # The first eligible person waiting gets it held (texted before this reply).
                self.waitlist.advance(code, self.clock(), given_back_by=sender, given_back_at=sent)
        return replies.drop_summary(outcomes, texts), released

    def _too_late_to_drop(self, code: str, sender: str) -> bool:
        """True when ``sender`` holds ``code`` and it starts within DropCutoffHours."""
        cutoff = self.settings.drop_cutoff_hours
        if not cutoff:
            return False
        shift = self.shifts.get(code)
        if shift is None or shift.employee != sender or not shift.starts_at:
            return False
        try:
            start = from_iso(shift.starts_at)
        except ShiftTimeError:
            return False
        return drop_too_late(start, self.clock(), cutoff)

    def _agent(
        self, sender: str, note: str, message_id: str, texts: Catalogue = ENGLISH
    ) -> _Outcome:
        if self.caller is None:
            return _Outcome(Action.AGENT_UNAVAILABLE, texts.text("AGENT_UNAVAILABLE"))
        if not self.limiter.allow_call_back(sender, self.clock(), ref=message_id):
            return _Outcome(Action.AGENT_WAITING, texts.text("AGENT_ALREADY_CALLING"))
        try:
            self.caller.call_back(sender, note, token=message_id)
        except CallError as exc:
            self.limiter.end_call_back(sender, ref=message_id)
            # No traceback: the chained AWS error text may quote the number; log it redacted.
            detail = redact(f"{exc} ({exc.__cause__})" if exc.__cause__ else str(exc))
            log.error("call-back failed", extra={"sender": mask(sender), "error": detail})
            return _Outcome(Action.AGENT_FAILED, texts.text("AGENT_FAILED"))
        return _Outcome(Action.AGENT_CALLED, texts.text("AGENT_CALLING"))

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
