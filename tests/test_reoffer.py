"""Re-offers on fakes: a shift whose waitlist ran out (or given back with nobody waiting) is
offered again, live, to the recipients of the campaign that offered it.

The waitlist side (when a re-offer is scheduled) is in test_waitlist.py; the AWS wiring in
test_waitlist_due.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from shiftsms.core.campaigns import SendJob, SendOutcome, reoffer_round
from shiftsms.core.due import REOFFER, DueItem
from shiftsms.core.phone import fingerprint
from shiftsms.services.reoffer import ShiftReoffer
from tests import fakes
from tests.test_live_offers import ANA, BEN, CAT, DAY, NIGHT, NOW, World, world


@dataclass
class Links:
    """Which campaign offered each shift."""

    offered: dict[str, str]

    def offered_in(self, shift_id: str) -> str | None:
        return self.offered.get(shift_id)


def reoffer(w: World, links: Links | None = None) -> tuple[ShiftReoffer, fakes.ListSendQueue]:
    queue = fakes.ListSendQueue()
    handler = ShiftReoffer(
        links=links or Links({"NIGHT1": "c1", "DAY1": "c1"}),
        campaigns=w.campaigns,
        shifts=w.shifts,
        staff=w.staff,
        queue=queue,
    )
    return handler, queue


def test_a_reoffer_texts_the_campaigns_recipients_that_one_shift_once_each() -> None:
    w = world(NIGHT, DAY)
    for phone in (ANA, BEN, CAT):
        assert w.sender.send(w.job(phone)) is SendOutcome.SENT
    handler, queue = reoffer(w)

    handler(DueItem(REOFFER, "DAY1", NOW, {"not_to": fingerprint(BEN)}), NOW)

    round_ = reoffer_round("DAY1", int(NOW.timestamp()))
    assert [(j.to, j.run, j.reoffer) for j in queue.jobs] == [
        (ANA, "r1", round_),
        (CAT, "r1", round_),
    ]
    before = len(w.sms.sent)
    for job in queue.jobs:
        assert w.sender.send(job) is SendOutcome.SENT
    texts = w.sms.sent[before:]
    assert [t.to for t in texts] == [ANA, CAT]
    # Live, and only the shift re-offered, though NIGHT1 is open too.
    for text in texts:
        assert "DAY1" in text.body and "NIGHT1" not in text.body
        assert text.context is not None and text.context["reoffer"] == round_
    # A redelivered job sends nothing more; the campaign counts texts, not recipients.
    assert w.sender.send(queue.jobs[0]) is SendOutcome.DUPLICATE
    campaign = w.campaigns.items["c1"]
    assert (campaign.sent, campaign.reoffered) == (3, 2)


def test_a_reoffer_goes_only_to_who_may_work_the_shift() -> None:
    w = world(NIGHT, DAY)
    handler, queue = reoffer(w)
    handler(DueItem(REOFFER, "NIGHT1", NOW), NOW)
    assert [j.to for j in queue.jobs] == [ANA]  # NIGHT1 needs an RN


def test_nothing_is_reoffered_once_the_shift_is_taken_or_without_its_campaign() -> None:
    w = world(NIGHT, DAY)
    handler, queue = reoffer(w, Links({"NIGHT1": "c1"}))
    handler(DueItem(REOFFER, "DAY1", NOW), NOW)  # no campaign offered DAY1
    w.book("NIGHT1", ANA)
    handler(DueItem(REOFFER, "NIGHT1", NOW), NOW)  # taken again before the re-offer ran
    handler(DueItem(REOFFER, "GONE1", NOW), NOW)
    assert queue.jobs == []


def test_a_reoffer_taken_before_its_text_is_not_sent_and_not_counted() -> None:
    w = world(NIGHT, DAY)
    handler, queue = reoffer(w)
    handler(DueItem(REOFFER, "DAY1", NOW), NOW)
    w.book("DAY1", CAT)
    w.tick.now += 5  # past the live offers' read cache
    assert w.sender.send(queue.jobs[0]) is SendOutcome.SKIPPED_FILLED
    assert w.sms.sent == []
    campaign = w.campaigns.items["c1"]
    assert (campaign.reoffered, campaign.skipped_filled, campaign.skipped) == (0, 0, 0)


def test_a_reoffer_job_travels_on_the_queue_with_its_round() -> None:
    job = SendJob("c1", ANA, "text", 10**10, run="r1", reoffer="DAY1@1786352400")
    assert SendJob.from_json(job.to_json()) == job
    assert len(SendJob("x" * 64, ANA, "t", 1, "f" * 16, "s", "X" * 32).to_json()) <= (
        SendJob.largest_body("t")
    )
