"""Recording fakes for the ports moto cannot serve (End User Messaging SMS, Connect)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from shiftsms.errors import CallError, RecipientOptedOut, SendThrottled


@dataclass
class SentSms:
    """One text handed to the fake sender."""

    to: str
    body: str
    origination: str
    context: dict[str, str] | None = None
    ttl_seconds: int | None = None


@dataclass
class RecordingSms:
    """SmsSender that records texts; can refuse opted-out numbers or throttle N sends."""

    sent: list[SentSms] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)
    throttle_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        with self.lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                raise SendThrottled("ThrottlingException: retry later")
            if to in self.opted_out:
                raise RecipientOptedOut("recipient has opted out")
            self.sent.append(
                SentSms(to, body, origination, dict(context) if context else None, ttl_seconds)
            )
            return f"msg-{len(self.sent)}"

    def to(self, number: str) -> list[str]:
        """Bodies sent to ``number``, in order."""
        return [s.body for s in self.sent if s.to == number]


@dataclass
class RecordingCaller:
    """Caller that records call-backs, one per distinct token (as Connect's ClientToken)."""

    calls: dict[str, tuple[str, str]] = field(default_factory=dict)
    fail: bool = False

    def call_back(self, to: str, note: str, token: str) -> str:
        if self.fail:
            raise CallError("Connect refused the call-back: AccessDeniedException")
        self.calls.setdefault(token, (to, note))
        return f"contact-{token}"


class FreeSlots:
    """A send-rate limiter with a time always free, for tests whose clock stands still."""

    def acquire(self, deadline: float | None = None) -> bool:
        return True

    def acquire_reply(self, deadline: float) -> bool:
        return True
