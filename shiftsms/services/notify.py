"""Managers told of a campaign's progress: a shift booked or dropped, the campaign filled.

The numbers are the campaign's own (``campaign create --notify``) and the stack's
``ManagerNumbers``. Each text goes through the reply path (the shared send rate, queued when it
cannot go now) under a reference made of the event and the inbound message that caused it, so
a retried message never texts a manager twice. "Filled" is told once per filling: the campaign
item records the message that filled it by a conditional write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from shiftsms.core import replies
from shiftsms.core.campaigns import Campaign
from shiftsms.core.models import Shift
from shiftsms.core.phone import fingerprint, mask

log = logging.getLogger("shiftsms.notify")

BOOKED = "booked"
DROPPED = "dropped"
FILLED = "filled"


class CampaignLinks(Protocol):
    """Which campaign offered a shift; whether its filling was told."""

    def tag(self, shift_ids: Sequence[str], campaign_id: str) -> None:
        """Mark the shifts as offered by ``campaign_id``."""
        ...

    def offered_in(self, shift_id: str) -> str | None:
        """The latest campaign that offered ``shift_id``."""
        ...

    def mark_filled(self, campaign_id: str, ref: str, at: datetime) -> bool:
        """Record that message ``ref`` filled the campaign; False if another one did."""
        ...

    def clear_filled(self, campaign_id: str) -> None:
        """Forget the filling (a shift is open again)."""
        ...


class CampaignReader(Protocol):
    """Reads one campaign item."""

    def get(self, campaign_id: str) -> Campaign | None:
        """One campaign, or None."""
        ...


class ShiftReader(Protocol):
    """Reads shifts by key."""

    def get_many(self, shift_ids: Sequence[str]) -> dict[str, Shift]:
        """The shifts that exist among ``shift_ids``."""
        ...


# Sends one text: (reference, number, text); the reference makes it once.
Send = Callable[[str, str, str], None]


def _started_at(campaign: Campaign) -> datetime | None:
    for raw in (campaign.fanout_at, campaign.created_at):
        if raw:
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@dataclass
class ManagerNotifier:
    """Texts a campaign's managers when its shifts change hands; see the module docstring."""

    links: CampaignLinks
    campaigns: CampaignReader
    shifts: ShiftReader
    # The stack's ManagerNumbers: told of every campaign.
    managers: tuple[str, ...] = ()

    def booked(self, codes: Sequence[str], who: str, ref: str, at: datetime, send: Send) -> None:
        """``who`` booked ``codes`` by message ``ref``: tell each campaign's managers."""
        for code in codes:
            self._changed(BOOKED, code, who=who, ref=ref, at=at, send=send)

    def dropped(self, codes: Sequence[str], who: str, ref: str, at: datetime, send: Send) -> None:
        """``who`` gave back ``codes`` by message ``ref``: tell each campaign's managers."""
        for code in codes:
            self._changed(DROPPED, code, who=who, ref=ref, at=at, send=send)

    def _changed(
        self, event: str, code: str, *, who: str, ref: str, at: datetime, send: Send
    ) -> None:
        campaign_id = self.links.offered_in(code)
        campaign = self.campaigns.get(campaign_id) if campaign_id else None
        if campaign is None or code not in campaign.shift_ids:
            return
        if event == DROPPED:
            self.links.clear_filled(campaign.campaign_id)
        numbers = sorted(set(campaign.notify) | set(self.managers))
        if not numbers:
            return
        found = self.shifts.get_many(campaign.shift_ids)
        total = len(campaign.shift_ids)
        booked = sum(1 for i in campaign.shift_ids if i in found and not found[i].available)
        template = replies.NOTIFY_BOOKED if event == BOOKED else replies.NOTIFY_DROPPED
        text = replies.shift_notice(
            template, code, who=who, campaign=campaign.campaign_id, booked=booked, total=total
        )
        self._tell(send, numbers, f"notify#{event}#{code}#{ref}", text, campaign)
        if event != BOOKED or booked < total:
            return
        if not self.links.mark_filled(campaign.campaign_id, ref, at):
            return  # another message filled it (and told it)
        start = _started_at(campaign)
        took = (at - start).total_seconds() if start is not None else 0.0
        filled = replies.filled_notice(campaign.campaign_id, total, took)
        ref = f"notify#{FILLED}#{campaign.campaign_id}#{ref}"
        self._tell(send, numbers, ref, filled, campaign)

    def _tell(
        self, send: Send, numbers: Sequence[str], ref: str, text: str, campaign: Campaign
    ) -> None:
        for number in numbers:
            send(f"{ref}#{fingerprint(number)}", number, text)
            log.info(
                "manager notified",
                extra={"campaign_id": campaign.campaign_id, "recipient": mask(number)},
            )
