"""The texts a function sends: End User Messaging as the stack configures it, each counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.ports import MetricSink, SmsSender
from shiftsms.services.metered_sms import MeteredSms


class SendingSettings(Protocol):
    """The settings every texting function reads for its sends."""

    @property
    def protect_configuration_id(self) -> str: ...

    @property
    def max_price_per_message(self) -> str: ...

    @property
    def configuration_set(self) -> str: ...


def stack_sms(
    settings: SendingSettings,
    client: Callable[[str], Any],
    metrics: MetricSink | None,
    sms: SmsSender | None = None,
) -> SmsSender:
    """``sms`` (default: End User Messaging with the stack's configuration set, protect
    configuration and MaxPricePerMessage), each text counted once in ``metrics`` (None: not
    counted)."""
    sender = sms or EndUserMessagingSms(
        client("pinpoint-sms-voice-v2"),
        protect_configuration=settings.protect_configuration_id or None,
        max_price=settings.max_price_per_message or None,
        configuration_set=settings.configuration_set or None,
    )
    return sender if metrics is None else MeteredSms(sender, metrics)
