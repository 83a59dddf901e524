"""Campaign records and send jobs. Pure: no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shiftsms.core.campaign_text import campaign_text, clean_message

MAX_JOB_BYTES = 4096
# A fan-out's run id: the first hex digits of a hash of its stream record's id.
RUN_LENGTH = 16
# The longest re-offer round (:func:`reoffer_round`): a 20-character shift id, '@', seconds.
REOFFER_LENGTH = 20 + 1 + 11


def reoffer_round(shift_id: str, opened_at: int) -> str:
    """Names one re-offer of ``shift_id`` (opened to all at epoch second ``opened_at``): the
    send markers of its texts are its own, so a later re-offer of the shift texts again."""
    return f"{shift_id}@{opened_at}"


def reoffered_shift(round_: str) -> str:
    """The shift a re-offer round names ("" for none)."""
    return round_.partition("@")[0]


class CampaignStatus(StrEnum):
    """Where a campaign is. ``done`` is derived: every recipient has an outcome."""

    NEW = "new"
    FANNING_OUT = "fanning_out"
    SENDING = "sending"
    DONE = "done"
    REJECTED = "rejected"
    # A status typed in the console that names none of these (shown, never acted on).
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: object) -> CampaignStatus | None:
        """The status ``raw`` names (any case, no status: new), or None if it names none."""
        if raw is None or raw == "":
            return cls.NEW
        try:
            return cls(str(raw).strip().lower())
        except ValueError:
            return None


class SendOutcome(StrEnum):
    """What became of one send job."""

    SENT = "sent"
    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    FAILED = "failed"
    EXPIRED = "expired"
    # No longer on the allow list, opted out or off campaigns at send time: not texted.
    SKIPPED = "skipped"
    # Over the person's MaxOffersPerDay at send time: not texted.
    CAPPED = "skipped_capped"
    # Due in quiet hours: handed to due work for when they end, its claim given back.
    DEFERRED = "deferred"
    # The sender stopped between starting the send and recording it: not sent again.
    UNCONFIRMED = "unconfirmed"
    # Failed on the send queue's last receive: the job is in the send DLQ, not texted.
    DEAD_LETTERED = "dead_lettered"
    # A live offer with every shift of the campaign taken (or started): not texted.
    SKIPPED_FILLED = "skipped_filled"


@dataclass(frozen=True)
class Campaign:
    """A campaign item: the sample's two attributes plus status and counters.

    An item added by hand in the console has only ``campaign_id`` and ``campaign_message``;
    every other field then takes its default.
    """

    campaign_id: str
    campaign_message: str = ""
    status: CampaignStatus = CampaignStatus.NEW
    shift_ids: tuple[str, ...] = field(default=())
    created_at: str | None = None
    text: str | None = None
    fanout_at: str | None = None
    fanout_cursor: str | None = None
    queued_at: str | None = None
    expires_at: int | None = None
    recipients: int | None = None
    sent: int = 0
    failed: int = 0
    opted_out: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    skipped_capped: int = 0
    # Texts of re-offers (a shift whose waitlist ran out, offered again to the recipients).
    reoffered: int = 0
    reason: str | None = None
    fanout_token: str | None = None
    problems: tuple[str, ...] = field(default=())
    # The roles the offered shifts need; None: one needs none (or unknown), so everyone.
    offer_roles: tuple[str, ...] | None = None
    # Composed from shift_ids when each text is sent (live offers); False for a typed message
    # (``--message``, or an item typed in the console), which is sent as written.
    live: bool = False
    # Jobs not texted because every shift was gone by their turn.
    skipped_filled: int = 0
    # Numbers told when one of its shifts is booked or dropped, and when it is filled.
    notify: tuple[str, ...] = field(default=())
    # The earliest start of the timed shifts offered (ISO 8601): quiet hours never hold back
    # an offer of a shift that starts before they end. None: no timed shift.
    first_start: str | None = None
    # How replies are served (``core.award.CampaignMode``: first-come or window), the award
    # rule, the window's close (UTC ISO), the waves asked for and sent, the gap between them.
    mode: str = "first-come"
    award: str = "fewest-hours"
    window_closes_at: str | None = None
    waves: int = 1
    wave_gap_seconds: int | None = None
    waves_sent: int | None = None
    # Kept by the delivery function from End User Messaging's events: texts whose final
    # status was delivered / a failure, their parts, and price plus carrier fee (US dollars).
    delivered: int = 0
    delivery_failed: int = 0
    parts: int = 0
    cost_usd: Decimal = Decimal(0)

    @property
    def settled(self) -> int:
        """Recipients with a final outcome (sent, failed, opted out, skipped, dead-lettered)."""
        return (
            self.sent
            + self.failed
            + self.opted_out
            + self.skipped
            + self.dead_lettered
            + self.skipped_filled
            + self.skipped_capped
        )

    @property
    def effective_status(self) -> CampaignStatus:
        """The stored status, or ``done`` once every queued recipient has an outcome."""
        if (
            self.status is CampaignStatus.SENDING
            and self.recipients is not None
            and self.settled >= self.recipients
        ):
            return CampaignStatus.DONE
        return self.status

    @property
    def sms_text(self) -> str:
        """The text sent: the one approved at ``campaign create``, or the message wrapped.

        An item typed in the console has only ``campaign_message``: it is sent wrapped by
        :func:`campaign_text`, as it always was ("" when there is no message to send).
        """
        if self.text:
            return self.text
        return campaign_text(self.campaign_message) if clean_message(self.campaign_message) else ""


class MalformedJob(ValueError):
    """A send-queue message that is not a send job (it ends in the DLQ)."""


@dataclass(frozen=True)
class SendJob:
    """One text to one recipient, as it travels on the send queue."""

    campaign_id: str
    to: str
    text: str
    expires_at: int
    # The fan-out that queued the job: send-once markers are per campaign instance, so a
    # campaign id reused after its item was deleted starts clean. "" in jobs queued before.
    run: str = ""
    # The campaign's first_start ("" none): an urgent offer is not held for quiet hours.
    first_start: str = ""
    # A re-offer of one shift whose waitlist ran out (:func:`reoffer_round`); "" the offer.
    reoffer: str = ""

    def to_json(self) -> str:
        """The queue message body."""
        body: dict[str, Any] = {
            "v": 1,
            "campaign_id": self.campaign_id,
            "to": self.to,
            "text": self.text,
            "expires_at": self.expires_at,
        }
        if self.run:
            body["run"] = self.run
        if self.first_start:
            body["starts"] = self.first_start
        if self.reoffer:
            body["reoffer"] = self.reoffer
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def largest_body(cls, text: str) -> int:
        """The size of the largest job body ``text`` can travel in (longest id, number, run)."""
        widest = cls(
            "x" * 64,
            "+" + "9" * 15,
            text,
            10**10,
            "f" * RUN_LENGTH,
            "2026-08-15T19:00:00+14:00",
            "x" * REOFFER_LENGTH,
        )
        return len(widest.to_json())

    @classmethod
    def from_json(cls, body: object) -> SendJob:
        """Read a queue message body; raise :class:`MalformedJob` if it is not a job."""
        if not isinstance(body, str) or len(body) > MAX_JOB_BYTES:
            raise MalformedJob("body is not a string of sensible size")
        try:
            data: Any = json.loads(body)
        except ValueError as exc:
            raise MalformedJob("body is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedJob("body is not a JSON object")
        campaign_id, to, text, expires = (
            data.get(k) for k in ("campaign_id", "to", "text", "expires_at")
        )
        if not (isinstance(campaign_id, str) and campaign_id):
            raise MalformedJob("missing campaign_id")
        if not (isinstance(to, str) and to.startswith("+")):
            raise MalformedJob("missing or invalid 'to'")
        if not (isinstance(text, str) and text.strip()):
            raise MalformedJob("missing text")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise MalformedJob("missing expires_at")
        run, starts, reoffer = (data.get(k, "") for k in ("run", "starts", "reoffer"))
        for name, value in (("run", run), ("starts", starts), ("reoffer", reoffer)):
            if not isinstance(value, str):
                raise MalformedJob(f"{name} is not a string")
        return cls(campaign_id, to, text, expires, run=run, first_start=starts, reoffer=reoffer)


def sending_reason(campaign: Campaign) -> str | None:
    """Why a campaign still sending is not done (None once it is, or when it is not sending):
    later waves to come, or texts still to go and what holds them."""
    if campaign.effective_status is not CampaignStatus.SENDING:
        return None
    if campaign.waves > 1 and (campaign.waves_sent or 0) < campaign.waves:
        return (
            f"wave {campaign.waves_sent or 0} of {campaign.waves} sent; the next goes after "
            "the wave gap while a shift is open"
        )
    if campaign.recipients is None:
        return None
    left = max(0, campaign.recipients - campaign.settled)
    return (
        f"{left} of {campaign.recipients} texts to go: sent at the number's rate, held until "
        "quiet hours end, or (a sender that stopped) sent again after SendClaimTimeoutSeconds"
    )
