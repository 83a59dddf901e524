"""boto3 clients on the sandbox endpoint, with the sandbox's fixed test credentials."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "sandbox"
SECRET_KEY = "sandbox"  # noqa: S105 - the emulator accepts any credentials; these are not secret
DEFAULT_REGION = "eu-west-2"

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=5,
    read_timeout=40,
)


# One session for every sandbox client: a session loads the endpoint rules and service
# models once (seconds of JSON), and creating clients from it is not thread-safe.
_session_lock = threading.Lock()
_session: boto3.session.Session | None = None


def client(service: str, endpoint: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client for ``service`` on the sandbox at ``endpoint``."""
    global _session  # noqa: PLW0603
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(  # type: ignore[call-overload]
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=_CONFIG,
        )


def environment(endpoint: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """The environment variables that point boto3 (and so the CLI) at the sandbox."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
