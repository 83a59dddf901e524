"""Claim windows: open them at ``campaign create``, and award each shift when one closes.

While a window campaign's window is open, a reply with a shift's code registers interest
(``InboundService``); at the close (due work ``window-close``) each shift goes to one eligible
replier by the campaign's award rule (``core.award``), booked with the same conditional
booking as a reply (``ShiftStore.book_checked``). The winner is texted ``Booked``, the others
that it went to someone else, through the reply queue, once each (the reply markers). Every
step repeats safely: the close returns the same repliers again, the booking is recognised by
its ref, the texts by theirs; a reply booked first come after the window wins over the award
(the award's booking finds the shift taken).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shiftsms.core import replies
from shiftsms.core.award import AwardRule, Replier, award_order
from shiftsms.core.booking_rules import Refusal, RuleSettings, ShiftToBook, check_booking
from shiftsms.core.catalogue import catalogue
from shiftsms.core.due import WINDOW_CLOSE, DueItem
from shiftsms.core.held_shifts import HeldShift
from shiftsms.core.metrics import BOOKED
from shiftsms.core.models import BookingOutcome, Shift
from shiftsms.core.phone import fingerprint, mask
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.core.shift_times import Span, UnreadableTime, from_iso, time_zone
from shiftsms.ports import (
    BookingCheck,
    ClaimWindows,
    DueWork,
    MetricSink,
    ReplyQueue,
    ShiftStore,
    StaffStore,
)
from shiftsms.services.notify import ManagerNotifier
from shiftsms.services.reminders import reminder_item

log = logging.getLogger("shiftsms.windows")

# Hours a person booked in the award's lookback (core.award.booked_hours of their record).
HoursOf = Callable[[str, datetime], float]
# Called for each replier who did not get the shift (the waitlist joins them here).
OnLost = Callable[[str, str, str], None]  # campaign_id, shift_id, phone


def open_windows(
    windows: ClaimWindows,
    due: DueWork,
    *,
    campaign_id: str,
    shift_ids: Sequence[str],
    closes_at: datetime,
    award: AwardRule,
) -> None:
    """Open each shift's window and schedule the close (``window-close``, keyed by campaign)."""
    for shift_id in shift_ids:
        windows.open(shift_id, campaign_id, closes_at)
    due.schedule(
        DueItem(
            WINDOW_CLOSE,
            campaign_id,
            closes_at,
            {"campaign": campaign_id, "shifts": ",".join(shift_ids), "award": award.value},
        )
    )


def reply_by(closes_at: datetime, zone_name: str) -> str:
    """The time a replier is promised an answer by: the close, rounded up to the minute after
    (the due function runs once a minute), on the stack's wall clock (HH:MM)."""
    local = closes_at.astimezone(time_zone(zone_name))
    return (local.replace(second=0, microsecond=0) + timedelta(minutes=1)).strftime("%H:%M")


@dataclass
class WindowAward:
    """The ``window-close`` handler: award each shift of the campaign to one replier."""

    windows: ClaimWindows
    shifts: ShiftStore
    staff: StaffStore
    replies: ReplyQueue
    hours: HoursOf
    origination: str
    rules: RuleSettings
    zone_name: str = "Europe/London"
    on_lost: OnLost | None = None
    # Where the winner's reminder is scheduled (ReminderHours before a timed shift; 0: none).
    due: DueWork | None = None
    reminder_hours: float = 0.0
    # Each award that books a shift counts in ``Booked``, as a booking by text does.
    metrics: MetricSink | None = None
    # The campaign's and the stack's managers are told of the award, as of a booking by text.
    notifier: ManagerNotifier | None = None

    def _notify(self, shift_id: str, who: str, ref: str, now: datetime) -> None:
        """Tell the managers ``who`` was awarded ``shift_id``: queued, once per ``ref``."""
        if self.notifier is None:
            return

        def send(notice_ref: str, to: str, text: str) -> None:
            self.replies.enqueue(ReplyJob(notice_ref, to, text, self.origination, "notify"))

        self.notifier.booked([shift_id], who, ref, now, send)

    def __call__(self, item: DueItem, now: datetime) -> None:
        """Close every shift's window of the campaign ``item`` names, awarding each."""
        campaign_id = item.data.get("campaign", item.key)
        rule = AwardRule(item.data.get("award") or AwardRule.FEWEST_HOURS.value)
        for shift_id in [s for s in item.data.get("shifts", "").split(",") if s]:
            self.award(campaign_id, shift_id, rule, now)

    def _check(self, roles: tuple[str, ...], now: datetime) -> BookingCheck:
        def check(
            shift: Shift, span: Span | None, held: tuple[HeldShift, ...]
        ) -> tuple[Refusal, ...]:
            return check_booking(
                ShiftToBook(shift.shift_id, span, shift.role), roles, held, self.rules, now
            )

        return check

    def _schedule_reminder(self, shift: Shift | None, winner: str, now: datetime) -> None:
        """The winner of a timed shift gets its reminder, as one booked by text does (a
        retried award schedules the same item again: one reminder, still)."""
        if self.due is None or not self.reminder_hours or shift is None or not shift.starts_at:
            return
        try:
            start = from_iso(shift.starts_at)
        except UnreadableTime:
            return  # a console item's time the booking rules could not read either
        item = reminder_item(shift.shift_id, winner, start, now, self.reminder_hours)
        if item is not None:
            self.due.schedule(item)

    def award(self, campaign_id: str, shift_id: str, rule: AwardRule, now: datetime) -> str | None:
        """Close one shift's window; book it for the first eligible replier; text everyone.

        Returns the winner's number (None if nobody could have it)."""
        repliers: dict[str, Replier] = {}
        roles: dict[str, tuple[str, ...]] = {}
        languages: dict[str, str] = {}
        names: dict[str, str] = {}
        for reply in self.windows.close(shift_id, campaign_id):
            member = self.staff.get(reply.phone)
            if member is None or member.opted_out:  # removed or opted out: never texted
                continue
            roles[reply.phone] = member.roles
            languages[reply.phone] = member.language
            names[reply.phone] = member.name or mask(reply.phone)
            repliers[reply.phone] = Replier(
                reply.phone, reply.replied_at, self.hours(reply.phone, now)
            )
        ref = f"award-{campaign_id}-{shift_id}"
        winner: str | None = None
        order = award_order(list(repliers.values()), rule, f"{campaign_id}#{shift_id}")
        # A retry after the booking: the holder goes first (their hours now count the shift,
        # so the rule alone might put someone else first and tell the winner they lost).
        shift = self.shifts.get(shift_id)
        holder = shift.employee if shift is not None and not shift.available else None
        order.sort(key=lambda r: r.who != holder)
        told: set[str] = set()
        for candidate in order:
            result = self.shifts.book_checked(
                shift_id,
                candidate.who,
                ref,
                now,
                check=self._check(roles[candidate.who], now),
                keep=self.rules.lookback,
            )
            if result.outcome is BookingOutcome.BOOKED:
                winner = candidate.who
                self._schedule_reminder(shift, winner, now)
                if self.metrics is not None:
                    self.metrics.count(BOOKED)
                self._notify(shift_id, names[winner], ref, now)
                break
            if result.outcome is BookingOutcome.ALREADY_YOURS:  # booked first come: told then
                told.add(candidate.who)
                self._schedule_reminder(shift, candidate.who, now)  # or this award, retried
                break
            if result.outcome is not None:  # taken (first come after the window), or gone
                break
            # refused by the rules (overlap, rest, hours, role): the next one
        zone = time_zone(self.zone_name)
        for phone in [p for p in repliers if p not in told]:
            texts = catalogue(languages[phone])
            text = (
                replies.booking_reply({shift_id: BookingOutcome.BOOKED}, [], zone, texts)
                if phone == winner
                else replies.award_lost(shift_id, texts)
            )
            self.replies.enqueue(
                ReplyJob(f"{ref}-{fingerprint(phone)}", phone, text, self.origination)
            )
            if phone != winner and self.on_lost is not None:
                self.on_lost(campaign_id, shift_id, phone)
        log.info(
            "window closed",
            extra={
                "campaign_id": campaign_id,
                "shift": shift_id,
                "repliers": len(repliers),
                "winner": mask(winner) if winner else None,
            },
        )
        return winner
