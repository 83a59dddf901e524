"""Campaigns in waves: the first 1/N of the eligible staff in award order, then the next...

A campaign with ``--waves N`` is not fanned out from its stream record: ``campaign create``
schedules wave 1 as due work (due at once), and each wave, run by the due function, queues
its slice of the recipients (``core.award.wave_order`` then ``wave_slices``) and schedules
the next one after the gap with the rest of the order, only while a shift of the campaign is
still open. Each wave is counted once on the campaign (``waves_sent``, ``recipients``); a
wave run twice queues its jobs twice, and the send markers text each person once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shiftsms.core.award import AwardRule, wave_order, wave_slices
from shiftsms.core.campaigns import Campaign, SendJob
from shiftsms.core.due import WAVE, DueItem
from shiftsms.ports import CampaignStore, DueWork, SendQueue, ShiftStore, StaffStore
from shiftsms.services.campaigns import enqueue_chunked, may_work_one, run_id
from shiftsms.services.windows import HoursOf

log = logging.getLogger("shiftsms.waves")


@dataclass
class WaveSender:
    """The ``wave`` handler: queue one wave's recipients, schedule the next."""

    campaigns: CampaignStore
    staff: StaffStore
    shifts: ShiftStore
    queue: SendQueue
    due: DueWork
    hours: HoursOf
    message_ttl_seconds: int = 4 * 3600

    def __call__(self, item: DueItem, now: datetime) -> None:
        """Send the wave ``item`` names (nothing once the campaign's shifts are all taken)."""
        campaign = self.campaigns.get(item.data.get("campaign", ""))
        if campaign is None:
            return
        wave = int(item.data.get("wave", "1"))
        text = campaign.sms_text
        if wave == 1:
            token = run_id(f"waves#{campaign.campaign_id}#{campaign.created_at}")
            expires = int(now.timestamp()) + self.message_ttl_seconds
            claimed = self.campaigns.claim_fan_out(campaign.campaign_id, token, text, now, expires)
            if claimed is None:
                return  # sent already (or not new)
            campaign = claimed
            order = self._order(campaign, now)
        else:
            token = item.data.get("run", "")
            order = [p for p in item.data.get("phones", "").split(",") if p]
            if not self._still_open(campaign):
                log.info(
                    "waves stopped: every shift taken", extra={"campaign_id": campaign.campaign_id}
                )
                return
        left = max(1, campaign.waves - wave + 1)
        this = order[: len(wave_slices(len(order), left)[0])]
        rest = order[len(this) :]
        expires_at = campaign.expires_at or int(now.timestamp()) + self.message_ttl_seconds
        # first_start: a wave offering a shift that starts before quiet hours end goes now.
        first = campaign.first_start or ""
        jobs = [
            SendJob(campaign.campaign_id, phone, text, expires_at, run=token, first_start=first)
            for phone in this
        ]
        enqueue_chunked(self.queue, jobs)
        if wave == 1:
            self.campaigns.finish_fan_out(campaign.campaign_id, token, len(this), now)
        self.campaigns.add_wave(campaign.campaign_id, token, wave, len(this) if wave > 1 else 0)
        if rest and wave < campaign.waves:
            gap = timedelta(seconds=campaign.wave_gap_seconds or 0)
            data = {
                "campaign": campaign.campaign_id,
                "wave": str(wave + 1),
                "run": token,
                "phones": ",".join(rest),
            }
            self.due.schedule(DueItem(WAVE, f"{campaign.campaign_id}#{wave + 1}", now + gap, data))
        log.info(
            "wave sent",
            extra={"campaign_id": campaign.campaign_id, "wave": wave, "recipients": len(this)},
        )

    def _order(self, campaign: Campaign, now: datetime) -> list[str]:
        hours = {
            m.phone: self.hours(m.phone, now)
            for m in self.staff.recipients()
            if may_work_one(campaign.offer_roles, m)
        }
        try:
            rule = AwardRule(campaign.award)
        except ValueError:
            rule = AwardRule.FEWEST_HOURS
        return wave_order(hours, rule, campaign.campaign_id)

    def _still_open(self, campaign: Campaign) -> bool:
        if not campaign.shift_ids:
            return True  # a message campaign: nothing to tell filled from open
        found = self.shifts.get_many(campaign.shift_ids)
        return any(shift.available for shift in found.values())
