"""Re-offers: a shift whose waitlist ran out goes again to its campaign's recipients.

When nobody is left on the waitlist of a shift given back, it opens to all, and the waitlist
schedules a ``reoffer`` item (due at once, key: the shift); so does a DROP or release with
nobody waiting. Run by the due function, it queues a send job per person on the roster who may
work the shift (but not whoever gave it back), under the campaign's run and a
round of its own (:func:`~shiftsms.core.campaigns.reoffer_round`): the sender composes each text
live from that one shift (nothing is sent once it is taken again), the send markers text each
person once per round, and the campaign counts the texts as ``reoffered``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shiftsms.core.booking_rules import may_work
from shiftsms.core.campaign_text import compose
from shiftsms.core.campaigns import SendJob, reoffer_round
from shiftsms.core.catalogue import catalogue
from shiftsms.core.due import REOFFER_NOT_TO, DueItem
from shiftsms.core.phone import fingerprint
from shiftsms.ports import CampaignStore, SendQueue, ShiftStore, StaffStore
from shiftsms.services.campaigns import enqueue_chunked

log = logging.getLogger("shiftsms.reoffer")


class OfferedIn(Protocol):
    """Which campaign offered a shift."""

    def offered_in(self, shift_id: str) -> str | None:
        """The latest campaign that offered ``shift_id``."""
        ...


@dataclass
class ShiftReoffer:
    """The ``reoffer`` handler; see the module docstring."""

    links: OfferedIn
    campaigns: CampaignStore
    shifts: ShiftStore
    staff: StaffStore
    queue: SendQueue
    message_ttl_seconds: int = 4 * 3600

    def __call__(self, item: DueItem, now: datetime) -> None:
        """Queue the re-offer of the shift ``item`` names, if it is still open."""
        shift_id = item.key
        shift = self.shifts.get(shift_id)
        if shift is None or not shift.available:
            return  # taken (or gone) again before the re-offer ran
        campaign_id = self.links.offered_in(shift_id)
        campaign = self.campaigns.get(campaign_id) if campaign_id else None
        if (
            campaign is None
            or not campaign.live
            or not campaign.fanout_token
            or shift_id not in campaign.shift_ids
        ):
            log.info("no campaign to re-offer through", extra={"shift": shift_id})
            return
        round_ = reoffer_round(shift_id, int(item.due_at.timestamp()))
        expires = int(now.timestamp()) + self.message_ttl_seconds
        texts: dict[str, str] = {}
        jobs: list[SendJob] = []
        not_to = item.data.get(REOFFER_NOT_TO, "")
        for member in self.staff.recipients():
            if not may_work(shift.role, member.roles) or fingerprint(member.phone) == not_to:
                continue
            if member.language not in texts:
                texts[member.language] = compose([shift], 1, catalogue(member.language)).text
            jobs.append(
                SendJob(
                    campaign.campaign_id,
                    member.phone,
                    texts[member.language],
                    expires,
                    run=campaign.fanout_token,
                    first_start=shift.starts_at or "",
                    reoffer=round_,
                )
            )
        enqueue_chunked(self.queue, jobs)
        log.info(
            "re-offered",
            extra={"shift": shift_id, "campaign_id": campaign.campaign_id, "jobs": len(jobs)},
        )
