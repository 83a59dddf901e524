"""The sandbox's stand-ins for End User Messaging resources moto lacks, kept per process
(moto's own state is per process too) and found by id (or name) or ARN."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class _HasArn(Protocol):
    @property
    def arn(self) -> str: ...


T = TypeVar("T", bound=_HasArn)


class Registry(Generic[T]):
    """Stand-ins of one resource type, each under the key ``key`` gives it."""

    def __init__(self, key: Callable[[T], str]) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, T] = {}
        self._key = key

    def add(self, item: T) -> T:
        """Keep ``item`` (replacing one under the same key); return it."""
        with self.lock:
            self.items[self._key(item)] = item
        return item

    def find(self, ident: str) -> T | None:
        """By key or ARN."""
        with self.lock:
            for item in self.items.values():
                if ident in (self._key(item), item.arn):
                    return item
        return None

    def delete(self, ident: str) -> None:
        """Forget one (a deleted stack's)."""
        item = self.find(ident)
        if item is not None:
            with self.lock:
                self.items.pop(self._key(item), None)
