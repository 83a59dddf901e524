"""Fault injection: each "must hold" of issue 9, its interleaving or crash reproduced on purpose.

Every test here makes one thing go wrong at a chosen moment (a hook, a fake clock, a stubbed
error; never a sleep) and asserts what the holder, the recipient or the operator ends up
seeing. This module is the one place to check that a promise holds under failure.

Kept elsewhere, because moving them would slow the suite: the sandbox killed with SIGKILL
right after a confirmed booking and a half-sent campaign (``tests/test_local_sandbox.py``,
marked ``slow``: it starts a sandbox of its own).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from shiftsms.errors import SendRejected
from tests.clitools import invoke
from tests.conftest import sns_event
from tests.fakes import RecordingSms
from tests.reply_support import send_queued_replies
from tests.test_reply_queue import ANA, inbound, lambda_tries, message, outputs

__all__ = ["outputs"]  # the fixture: the real template in moto, one shift, Ana allowed


# -- replies are never starved: one that finally fails shows in `shiftsms status` -------------


class _RefusingSms(RecordingSms):
    """Refuses (for good) the reply to the first text it is asked to send, as End User
    Messaging does a text over MaxPrice; sends the rest."""

    refused: int = 0

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        if not self.refused:
            self.refused += 1
            raise SendRejected("ValidationException: PRICE_OVER_THRESHOLD")
        return super().send(to, body, origination, context=context, ttl_seconds=ttl_seconds)


def test_replies_that_failed_for_good_are_counted_in_status(outputs: dict[str, str]) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    # One reply throttled on every try from the reply queue: it ends in the reply DLQ.
    throttled = RecordingSms(throttle_next=100)
    lambda_tries(inbound(outputs, throttled), sns_event(message("XYZ123", "m-1")))
    for _ in range(7):  # the queue's maxReceiveCount, then the receive that moves it on
        assert send_queued_replies(outputs, throttled) == 0
    # One refused for good when it was first sent: marked rejected, never queued.
    refusing = _RefusingSms()
    inbound(outputs, refusing).handle(sns_event(message("REQUEST", "m-2")), None)
    assert send_queued_replies(outputs, refusing) == 0
    assert throttled.to(ANA) == refusing.to(ANA) == []

    result = invoke("status", "--json")
    assert result.exit_code == 0, result.output
    replies = json.loads(result.stdout)["replies"]
    last = datetime.fromisoformat(replies.pop("last_refused_at"))
    assert before <= last <= datetime.now(UTC)
    assert replies == {"failed_for_good": 2, "refused": 1, "dead_lettered": 1}
    assert "1 reply was refused for good by End User Messaging: never sent" in result.stderr

    human = invoke("status")
    assert human.exit_code == 0, human.output
    assert (
        "Replies failed for good: 2 (1 refused by End User Messaging, 1 in the reply DLQ, "
        f"last refused at {last.isoformat()})"
    ) in human.stdout


def test_status_says_no_reply_failed_when_none_did(outputs: dict[str, str]) -> None:
    sms = RecordingSms()
    inbound(outputs, sms).handle(sns_event(message("XYZ123", "m-1")), None)
    assert sms.to(ANA) == ["Booked: XYZ123. Thank you!"]
    result = invoke("status", "--json")
    assert json.loads(result.stdout)["replies"] == {
        "failed_for_good": 0,
        "refused": 0,
        "last_refused_at": None,
        "dead_lettered": 0,
    }
    assert "Replies failed for good: 0 (0 refused by End User Messaging, 0 in the reply DLQ)" in (
        invoke("status").stdout
    )
