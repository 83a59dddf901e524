"""boto3 clients with the retry and timeout settings shiftsms uses everywhere."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=10,
)


def client(service: str, session: boto3.session.Session | None = None) -> Any:
    """A boto3 client for ``service`` (endpoint from ``AWS_ENDPOINT_URL`` when set)."""
    return (session or boto3.session.Session()).client(service, config=_CONFIG)  # type: ignore[call-overload]
