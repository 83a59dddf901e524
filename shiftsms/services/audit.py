"""Audit recorder: a table's stream record -> one audit entry (or none), stored once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shiftsms.core.audit import AuditEntry, entry_from_images
from shiftsms.ports import AuditTrail

log = logging.getLogger("shiftsms.audit")


def _changed_at(image: Mapping[str, Any]) -> datetime | None:
    raw = image.get("changed_at")
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


class AuditRecorder:
    """Turns stream records of the audited tables into entries on the trail."""

    def __init__(self, trail: AuditTrail, kinds: Mapping[str, str]) -> None:
        """``kinds`` maps each audited table's name to its kind (shift, staff, campaign)."""
        self.trail = trail
        self.kinds = dict(kinds)

    def record(
        self,
        table: str,
        event_id: str,
        created: datetime,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
    ) -> AuditEntry | None:
        """Store the entry for one change; None when there is nothing to record.

        The entry's time is the write's own ``changed_at`` when that write set it (to the
        microsecond), else the stream record's creation time, but never before the write it
        changed (whose ``changed_at`` the old image holds), so one item's entries keep their
        order even when the record's time is whole seconds.
        """
        kind = self.kinds.get(table)
        if kind is None:
            log.warning("stream record from a table that is not audited: skipped")
            return None
        at = created
        written, before = _changed_at(new or {}), _changed_at(old or {})
        if written is not None and written != before:
            at = written
        elif before is not None and before > at:
            at = before + timedelta(microseconds=1)
        entry = entry_from_images(kind, event_id, at.astimezone(UTC), old, new)
        if entry is not None and not self.trail.record(entry):
            log.info("audit entry stored already (redelivered record)")
        return entry
