"""The SMS port, counted: each text that a function hands to End User Messaging adds 1 to
``TextsSent`` and its segments to ``Segments``, whichever service sent it.

Every function that builds an SMS adapter wraps it in :class:`MeteredSms`, so campaign texts,
queued and direct replies, managers' notices and held offers are all counted in this one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shiftsms.core.gsm import segment_info
from shiftsms.core.metrics import SEGMENTS, TEXTS_SENT
from shiftsms.ports import MetricSink, SmsSender


@dataclass
class MeteredSms:
    """SmsSender that counts each text ``sms`` accepted (a send that raised counts nothing)."""

    sms: SmsSender
    metrics: MetricSink

    def send(
        self,
        to: str,
        body: str,
        origination: str,
        *,
        context: Mapping[str, str] | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """Send through ``sms``; once it returns, count the text and its segments."""
        message_id = self.sms.send(to, body, origination, context=context, ttl_seconds=ttl_seconds)
        self.metrics.count(TEXTS_SENT)
        self.metrics.count(SEGMENTS, segment_info(body).segments)
        return message_id
