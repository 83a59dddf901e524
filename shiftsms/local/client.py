"""Talk to a running sandbox through its control API (``/_shiftsms/*``), with timeouts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from shiftsms.errors import ShiftsmsError


class SandboxUnreachable(ShiftsmsError):
    """The sandbox does not answer."""


@dataclass
class SandboxClient:
    """The control API of the sandbox at ``endpoint``."""

    endpoint: str
    timeout: float = 10.0

    def _call(
        self, path: str, body: dict[str, Any] | None = None, timeout: float | None = None
    ) -> Any:
        url = f"{self.endpoint}/_shiftsms/{path}"
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            url, data=data, method="GET" if body is None else "POST"
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as resp:  # noqa: S310
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error", "")
            except ValueError:
                detail = ""
            raise SandboxUnreachable(
                f"sandbox at {self.endpoint} refused {path}: {detail or exc}"
            ) from exc
        except (OSError, ValueError) as exc:
            raise SandboxUnreachable(f"sandbox at {self.endpoint} does not answer: {exc}") from exc

    def status(self) -> dict[str, Any]:
        """The sandbox's status."""
        return dict(self._call("status"))

    def text_in(self, sender: str, body: str, to: str | None = None) -> dict[str, Any]:
        """A phone texts ``body`` to the service (``to``: the sandbox number by default)."""
        payload: dict[str, Any] = {"from": sender, "body": body}
        if to:
            payload["to"] = to
        return dict(self._call("sms", payload))

    def texts(
        self, to: str | None = None, after: int = 0, wait: float = 0.0
    ) -> tuple[list[dict[str, Any]], int]:
        """Texts delivered after ``after`` (to ``to``); with ``wait``, long-poll for one."""
        query: dict[str, Any] = {"after": after}
        if to:
            query["to"] = to
        if wait:
            query["wait"] = wait
        data = self._call(f"outbox?{urlencode(query)}", timeout=wait + self.timeout)
        return list(data["texts"]), int(data["last_seq"])

    def calls(self) -> list[dict[str, Any]]:
        """Call-backs Connect was asked to place."""
        return list(self._call("calls")["calls"])

    def shutdown(self) -> None:
        """Ask the sandbox to save its state and stop."""
        self._call("shutdown", {})
