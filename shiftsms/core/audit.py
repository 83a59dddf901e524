"""The audit trail: one entry per change to a shift, an allow-list entry or a campaign.

Entries are derived from the tables' stream records (old and new image), so a change made in
the console is recorded too. Who made it is the item's ``changed_by`` when that write set it
(``changed_at`` differs between the images), otherwise :data:`~shiftsms.core.actor.UNKNOWN`;
a removal names whoever marked the item just before deleting it (see ``_actor``).
Phone numbers are masked in what an entry shows; the full numbers it mentions are kept
apart (``numbers``) for ``--full-numbers``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shiftsms.core.actor import CHANGED_AT, CHANGED_BY, REMOVING, UNKNOWN
from shiftsms.core.commands import is_alias
from shiftsms.core.phone import fingerprint, mask, redact

SHIFT, STAFF, CAMPAIGN = "shift", "staff", "campaign"
KEYS = {SHIFT: "shift_id", STAFF: "phone", CAMPAIGN: "campaign_id"}
CREATED, CHANGED, REMOVED = "created", "changed", "removed"

# Bookkeeping that changes on every use, not a change anyone needs to see on its own.
_QUIET = {
    SHIFT: frozenset({"release_ref", "booking_ref", "message_at"}),
    STAFF: frozenset({"list_cursor", "held_version"}),
    CAMPAIGN: frozenset(
        {
            "fanout_cursor",
            "sent",
            "failed",
            "opted_out",
            "skipped",
            "delivered",
            "delivery_failed",
            "parts",
            "cost_usd",
        }
    ),
}
# Who changed an item and when: shown as the entry's author, never as a change.
_WHO = frozenset({CHANGED_BY, CHANGED_AT, REMOVING})
_E164 = re.compile(r"\+\d{7,15}")
# Text people type, where a number may hide in any form: masked wherever it looks like one.
# Other attributes are structured (times, ids, counters) and only E.164 values are masked.
_FREE_TEXT = frozenset({"shift_info", "campaign_message", "sms_text", "name", "reason", "note"})


def subject_key(kind: str, subject_id: str) -> str:
    """The partition an entry is stored under (``shift#X``, ``staff#<fp>``, ``campaign#X``)."""
    return f"{kind}#{subject_id}"


def staff_subject(phone: str) -> str:
    """An allow-list entry's subject id: the number's fingerprint, never the number."""
    return fingerprint(phone)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral() else format(value.normalize(), "f")
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    return json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)


def _shown(name: str, raw: Any, numbers: list[str]) -> str | None:
    """``raw`` as text with phone numbers masked (those found are added to ``numbers``);
    numbers stored as numbers (counters, epoch seconds) are shown as they are."""
    value = _text(raw)
    if value is None or isinstance(raw, (Decimal, bool, int)):
        return value
    for number in _E164.findall(value):
        if number not in numbers:
            numbers.append(number)
    shown = _E164.sub(lambda m: mask(m.group()), value)
    return redact(shown) if name in _FREE_TEXT else shown


@dataclass(frozen=True)
class AuditEntry:
    """One change: to what, when, what (old -> new per attribute, masked), by whom."""

    kind: str
    subject_id: str
    at: datetime
    event_id: str
    action: str
    by: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # The full numbers ``changes`` masks, shown only with --full-numbers.
    numbers: tuple[str, ...] = ()
    # The fingerprint of the shift's holder after the change (bookings per person).
    holder: str | None = None

    @property
    def subject(self) -> str:
        """The partition key (see :func:`subject_key`)."""
        return subject_key(self.kind, self.subject_id)

    def unmasked(self, text: str) -> str:
        """``text`` with the masked numbers of this entry shown in full."""
        for number in self.numbers:
            text = text.replace(mask(number), number)
        return text


def _actor(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Who wrote ``new`` over ``old``: the ``changed_by`` that write set, else unknown. A
    removal is credited to the mark written just before it (``removing`` = ``changed_at``)."""
    if not new:
        marked = old.get(REMOVING)
        return (
            str(old.get(CHANGED_BY) or UNKNOWN)
            if marked and marked == old.get(CHANGED_AT)
            else UNKNOWN
        )
    if new.get(CHANGED_AT) and new.get(CHANGED_AT) != old.get(CHANGED_AT):
        return str(new.get(CHANGED_BY) or UNKNOWN)
    return UNKNOWN


def entry_from_images(
    kind: str,
    event_id: str,
    at: datetime,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
) -> AuditEntry | None:
    """The entry for one stream record's images (plain values), or None when nothing a
    person would call a change happened (only bookkeeping attributes moved)."""
    old, new = old or {}, new or {}
    key = new.get(KEYS[kind], old.get(KEYS[kind]))
    if not isinstance(key, str) or not key or (kind == SHIFT and is_alias(key)):
        return None  # no key, or a shift's alias item (no shift: see shiftsms.core.commands)
    action = CREATED if not old else REMOVED if not new else CHANGED
    numbers: list[str] = []
    changes: dict[str, tuple[str | None, str | None]] = {}
    for name in sorted(set(old) | set(new)):
        if name in _WHO or (name in _QUIET[kind] and action == CHANGED):
            continue
        before, after = old.get(name), new.get(name)
        if _text(before) != _text(after):
            changes[name] = (_shown(name, before, numbers), _shown(name, after, numbers))
    if action == CHANGED and not changes:
        return None
    holder = new.get("employee")
    return AuditEntry(
        kind=kind,
        subject_id=staff_subject(key) if kind == STAFF else key,
        at=at.astimezone(UTC),
        event_id=event_id,
        action=action,
        by=_actor(old, new),
        changes=changes,
        numbers=tuple(numbers),
        holder=fingerprint(holder) if isinstance(holder, str) and holder else None,
    )
