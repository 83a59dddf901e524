"""Replies to staff: sent ahead of campaign texts within the number's rate, once, never lost.

The inbound function calls :meth:`ReplyOutbox.reply`: the reply books the number's next send
time (replies go ahead of campaign texts, see :mod:`shiftsms.core.send_schedule`) and is sent
if that time comes within ``max_wait_seconds``. A reply that cannot go now (no time free soon
enough, throttled) is put on the reply queue, and the sender function sends it from
there (:meth:`ReplyOutbox.deliver`), ahead of campaign texts again; one that fails on every try
ends in the reply DLQ, which ``shiftsms status`` shows. The booking it answers is never undone
for its sake.

Once: a marker per inbound message (``ref``) is claimed before the send and marked ``sending``
right before the text goes, so a retried inbound event or a repeated queue delivery sends
nothing more. A claim whose holder died before sending is taken over; one that died while
sending is never sent again (it may have arrived).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shiftsms.core.delivery import send_context
from shiftsms.core.phone import fingerprint, mask, redact
from shiftsms.core.reply_jobs import CLAIMED, OPTED_OUT, QUEUED, REJECTED, SENT, ReplyJob
from shiftsms.errors import (
    RecipientOptedOut,
    SendDeferred,
    SendError,
    SendRejected,
    ShiftsmsError,
)
from shiftsms.ports import ReplyMark, ReplyMarkers, ReplyQueue, ReplyRate, SmsSender

log = logging.getLogger("shiftsms.replies")

# How long the inbound function waits for a send time before it queues the reply instead.
MAX_WAIT_SECONDS = 5.0


class ReplyBusy(ShiftsmsError):
    """Another invocation holds the reply's claim: the queued reply is tried again later."""


@dataclass
class ReplyOutbox:
    """Sends replies within the shared rate, once; queues those that cannot go now."""

    sms: SmsSender
    rate: ReplyRate
    markers: ReplyMarkers
    # Where replies that cannot go now wait (the inbound side); the sender retries from it.
    queue: ReplyQueue | None = None
    clock: Callable[[], float] = time.time
    max_wait_seconds: float = MAX_WAIT_SECONDS

    def reply(
        self, ref: str, to: str, text: str, origination: str, *, sent_as: str = "reply"
    ) -> str | None:
        """Send the reply to message ``ref`` now, or queue it; ``sent_as`` is the kind its
        Context names (``notify`` for a manager's notice).

        Returns the message id, ``"queued"``, the state of an earlier attempt's reply, or None
        if the recipient has opted out.
        """
        job = ReplyJob(ref, to, text, origination, sent_as)
        now = self.clock()
        mark = self.markers.claim(ref, now)
        if mark.token is None:
            return self._already(job, mark)
        try:
            return self._send(job, mark.token, now + self.max_wait_seconds)
        except RecipientOptedOut:
            return None
        except SendRejected:
            # Refused for good (a retry would be refused too): recorded, and the caller logs it.
            self.markers.settle(ref, mark.token, REJECTED)
            raise
        except SendError as exc:
            if self.queue is None:
                raise
            # Queued first, then the claim given back as queued: a crash between the two leaves
            # a claim the queued job takes over once its lease is past.
            self.queue.enqueue(job)
            self.markers.release(ref, mark.token)
            log.warning(
                "reply queued: not sent now",
                extra={"recipient": mask(to), "reason": redact(str(exc))},
            )
            return QUEUED

    def deliver(self, job: ReplyJob, deadline: float | None) -> str:
        """Send a queued reply; raise (so the queue tries again) if it cannot go now."""
        now = self.clock()
        mark = self.markers.claim(job.ref, now, from_queue=True)
        if mark.token is None:
            if mark.state == CLAIMED:
                raise ReplyBusy("another invocation holds this reply's claim")
            log.info("queued reply already handled", extra={"state": mark.state})
            return "duplicate"
        limit = deadline if deadline is not None else now + self.max_wait_seconds
        try:
            self._send(job, mark.token, limit)
        except RecipientOptedOut:
            return OPTED_OUT
        except SendError as exc:
            self.markers.release(job.ref, mark.token)
            log.warning(
                "queued reply not sent: tried again later",
                extra={"recipient": mask(job.to), "reason": redact(str(exc))},
            )
            raise
        return SENT

    def _already(self, job: ReplyJob, mark: ReplyMark) -> str | None:
        """An earlier attempt at this message's reply exists: never send a second one."""
        if mark.state == CLAIMED and self.queue is not None:
            # Held by an attempt that may have died before sending: the queue settles it.
            self.queue.enqueue(job)
            return QUEUED
        if mark.state in (OPTED_OUT, REJECTED):
            return None
        return mark.message_id or mark.state

    def _send(self, job: ReplyJob, token: str, deadline: float) -> str:
        """Book a send time before ``deadline`` and send; settle the marker."""
        if not self.rate.acquire_reply(deadline):
            raise SendDeferred("no send time free soon enough")
        if not self.markers.begin(job.ref, token):
            log.warning("reply claim lost before sending: not sent by this invocation")
            return "duplicate"
        try:
            message_id = self.sms.send(
                job.to,
                job.text,
                job.origination,
                context=send_context(job.sent_as, fingerprint(job.to)),
            )
        except RecipientOptedOut:
            self.markers.settle(job.ref, token, OPTED_OUT)
            log.info("reply not sent: recipient opted out", extra={"recipient": mask(job.to)})
            raise
        try:
            self.markers.settle(job.ref, token, SENT, message_id)
        except Exception:
            # The text went; the ``sending`` marker still blocks a second one.
            log.exception("reply sent, but its marker could not be settled")
        return message_id
