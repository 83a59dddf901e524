"""DynamoDB transactions in the emulator: all or nothing, streams included (moto 5.2 fix).

moto backs up each table a transaction touches with a deep copy and, when the transaction is
cancelled, puts the copies in the tables' place. A stream reader's shard iterator belongs to
the replaced table's stream, so that reader never sees another write to the table (in the
sandbox a campaign created after any failed booking was never sent), and it has already seen
the cancelled transaction's first writes as if they had happened.

With :func:`install`, a transaction's stream records are held back while it runs and added,
in order, only when it commits; a cancelled one's backups are moved back into the original
table objects, which keep their streams, and its records are dropped. DynamoDB writes reach
moto one at a time (under the emulator's mutation lock), so nothing else writes meanwhile.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard

# Attributes a rolled-back table keeps as they are: its stream, and the mappings moto's
# Lambda backend also holds (the backups hold deep copies of both).
_KEPT = ("stream_shard", "lambda_event_source_mappings")

_held = threading.local()
_originals: dict[str, Any] = {}


def install() -> None:
    """Patch moto (idempotent; :func:`remove` undoes it)."""
    if _originals:
        return
    original_transact = DynamoDBBackend.transact_write_items
    original_add = StreamShard.add
    _originals.update(transact_write_items=original_transact, add=original_add)

    def add(self: StreamShard, old: Any, new: Any) -> None:
        held: list[tuple[StreamShard, Any, Any]] | None = getattr(_held, "records", None)
        if held is None:
            original_add(self, old, new)
        else:
            held.append((self, old, new))

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        tables = dict(self.tables)
        held: list[tuple[StreamShard, Any, Any]] = []
        _held.records = held
        try:
            original_transact(self, transact_items)
        except BaseException:
            _held.records = None
            for name, table in tables.items():
                _take_back(self, name, table)
            raise
        _held.records = None
        for shard, old, new in held:
            original_add(shard, old, new)

    StreamShard.add = add  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _take_back(backend: DynamoDBBackend, name: str, table: Any) -> None:
    """Undo moto's swap of ``table`` for its backup: the backup's contents, the same object."""
    backup = backend.tables.get(name)
    if backup is None or backup is table:
        return
    table.__dict__.update({k: v for k, v in vars(backup).items() if k not in _KEPT})
    backend.tables[name] = table


def remove() -> None:
    """Put moto's own methods back."""
    if not _originals:
        return
    StreamShard.add = _originals.pop("add")  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _originals.pop(  # type: ignore[method-assign]
        "transact_write_items"
    )
