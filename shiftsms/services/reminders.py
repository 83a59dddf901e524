"""Reminders before timed shifts, and campaign texts held for quiet hours, as due work.

A reminder is scheduled when a timed shift is booked by text (kind ``reminder``, keyed by the
shift, its holder's fingerprint and its start) and checked when it runs: the shift must still
be held by that person with the same start, and the person still on the allow list and not
opted out. So a DROP, ``shifts release`` or ``shifts remove`` needs no cancel: the run finds
the shift no longer theirs and sends nothing; a moved shift's old reminder finds another start
and sends nothing. The text goes on the reply queue under the send-once marker
``reminder#<key>``, so a run repeated after a crash texts once.

A campaign text due in quiet hours is kept as kind ``offer`` (its send job) and put back on
the send queue when they end; the sender sends it once, under its own send-once marker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shiftsms.core import replies
from shiftsms.core.campaigns import SendJob
from shiftsms.core.catalogue import catalogue
from shiftsms.core.due import DueItem
from shiftsms.core.models import StaffMember
from shiftsms.core.phone import fingerprint, mask
from shiftsms.core.reply_jobs import ReplyJob
from shiftsms.core.self_service import QuietHours, reminder_at, reminder_key
from shiftsms.core.shift_times import ShiftTimeError, from_iso, time_zone, to_iso
from shiftsms.ports import DueWork, ReplyQueue, SendQueue, ShiftStore, StaffStore

log = logging.getLogger("shiftsms.reminders")

REMINDER = "reminder"
OFFER = "offer"


def reminder_item(
    shift_id: str, holder: str, start: datetime, booked: datetime, hours: float
) -> DueItem | None:
    """The reminder to schedule for a booking, or None (off, or booked inside the window)."""
    due_at = reminder_at(start, booked, hours)
    if due_at is None:
        return None
    key = reminder_key(shift_id, fingerprint(holder), start)
    data = {"shift_id": shift_id, "holder": holder, "starts_at": to_iso(start)}
    return DueItem(REMINDER, key, due_at, data)


def offer_item(job: SendJob, until: datetime) -> DueItem:
    """A campaign send job held until ``until`` (the end of quiet hours)."""
    round_part = f"{job.reoffer}#" if job.reoffer else ""
    key = f"{job.campaign_id}#{job.run}#{round_part}{fingerprint(job.to)}"
    return DueItem(OFFER, key, until, {"job": job.to_json()})


@dataclass
class Reminders:
    """Runs the ``reminder`` and ``offer`` due work."""

    shifts: ShiftStore
    staff: StaffStore
    replies: ReplyQueue
    send_queue: SendQueue
    due: DueWork
    origination: str
    time_zone: str = "Europe/London"
    quiet: QuietHours | None = None

    def handlers(self) -> dict[str, Callable[[DueItem, datetime], None]]:
        """The due-work handlers by kind."""
        return {REMINDER: self.remind, OFFER: self.release_offer}

    def remind(self, item: DueItem, now: datetime) -> None:
        """Text the reminder if the shift is still the holder's, as it was booked."""
        shift_id, holder = item.data.get("shift_id", ""), item.data.get("holder", "")
        ctx = {"shift_id": shift_id, "recipient": mask(holder)}
        start = from_iso(item.data["starts_at"])
        member = self.staff.get(holder)
        why = self._stale(shift_id, holder, start, now, member)
        if why:
            log.info(f"reminder not sent: {why}", extra=ctx)
            return
        zone = time_zone(self.time_zone)
        end = self.quiet.ends_after(now, zone) if self.quiet else None
        if end is not None and end < start:
            self.due.schedule(DueItem(item.kind, item.key, end, item.data))
            log.info("reminder held for the end of quiet hours", extra=ctx)
            return
        shift = self.shifts.get(shift_id)
        location = (shift.location or "") if shift else ""
        texts = catalogue(member.language if member else None)
        text = replies.reminder(shift_id, start, location, zone, texts)
        self.replies.enqueue(ReplyJob(f"reminder#{item.key}", holder, text, self.origination))
        log.info("reminder queued", extra=ctx)

    def _stale(
        self, shift_id: str, holder: str, start: datetime, now: datetime, member: StaffMember | None
    ) -> str:
        """Why the reminder must not go ("" if it may); ``member``: the holder's entry."""
        if now >= start:
            return "the shift has started"
        shift = self.shifts.get(shift_id)
        if shift is None:
            return "the shift was removed"
        if shift.employee != holder:
            return "the shift is no longer theirs"
        try:
            moved = not shift.starts_at or from_iso(shift.starts_at) != start
        except ShiftTimeError:
            moved = True
        if moved:
            return "the shift moved"
        if member is None:
            return "no longer on the allow list"
        if member.opted_out:
            return "opted out"
        return ""

    def release_offer(self, item: DueItem, now: datetime) -> None:
        """Put a campaign text held for quiet hours back on the send queue (the sender settles
        it as expired if its time ran out meanwhile)."""
        self.send_queue.enqueue([SendJob.from_json(item.data["job"])])
