"""A reply to a staff member's text that could not go at once, as it waits on the reply queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shiftsms.core.campaigns import MAX_JOB_BYTES, MalformedJob
from shiftsms.core.delivery import KINDS

KIND = "reply"
# Reply marker states (one marker per inbound message, in the state table).
CLAIMED = "claimed"
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
OPTED_OUT = "opted_out"
REJECTED = "rejected"


@dataclass(frozen=True)
class ReplyJob:
    """Reply ``text`` to ``to`` from ``origination``, for the inbound message ``ref``.

    ``sent_as``: the ``kind`` its send's Context names (``reply``; ``notify`` for a manager's
    notice), so its delivery events and cost are told apart."""

    ref: str
    to: str
    text: str
    origination: str
    sent_as: str = KIND

    def to_json(self) -> str:
        """The queue message body (``as`` only when not a reply, as earlier jobs were)."""
        body = {"v": 1, "kind": KIND, "ref": self.ref, "to": self.to, "text": self.text}
        extra = {"as": self.sent_as} if self.sent_as != KIND else {}
        return json.dumps({**body, "from": self.origination, **extra}, separators=(",", ":"))

    @staticmethod
    def is_reply(body: object) -> bool:
        """True when ``body`` is a JSON object of this kind (as opposed to a campaign job)."""
        try:
            data: Any = json.loads(body) if isinstance(body, str) else None
        except ValueError:
            return False
        return isinstance(data, dict) and data.get("kind") == KIND

    @classmethod
    def from_json(cls, body: object) -> ReplyJob:
        """Read a queue message body; raise :class:`MalformedJob` if it is not a reply job."""
        if not isinstance(body, str) or len(body) > MAX_JOB_BYTES:
            raise MalformedJob("body is not a string of sensible size")
        try:
            data: Any = json.loads(body)
        except ValueError as exc:
            raise MalformedJob("body is not JSON") from exc
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise MalformedJob("not a reply job")
        fields = [data.get(k) for k in ("ref", "to", "text", "from")]
        if not all(isinstance(f, str) and f for f in fields):
            raise MalformedJob("reply job lacks ref, to, text or from")
        ref, to, text, origination = (str(f) for f in fields)
        sent_as = data.get("as", KIND)
        if sent_as not in KINDS:
            raise MalformedJob("reply job sent as an unknown kind")
        return cls(ref, to, text, origination, sent_as)
