"""The allow list: one item per E.164 number; it is also the campaign roster."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shiftsms.aws.decode import ItemReader, is_e164, warn
from shiftsms.aws.dynamo import RemovalMark, from_item, is_condition_failure, to_item, values
from shiftsms.core.catalogue import DEFAULT_LANGUAGE
from shiftsms.core.models import StaffChange, StaffEdit, StaffMember
from shiftsms.core.phone import mask
from shiftsms.errors import StaffNotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RECIPIENTS_INDEX = "campaign-recipients"
# The sparse index key: present only on entries that get campaigns and have not opted out.
POOL_ATTR = "recipient_pool"
POOL = "all"
# Read-then-update rounds before put gives up (each lost round means opt-out state changed).
PUT_ATTEMPTS = 5
# The language texts are sent in (a catalogue code); absent: English (never stored).
LANG_ATTR = "lang"


def member_from_item(item: dict[str, Any]) -> StaffMember:
    """A stored item (as plain values) to a StaffMember, whatever was typed into it by hand.

    Fields of another type are read as best they can be or left out (see
    :mod:`shiftsms.aws.decode`), with one warning naming the entry (number masked).
    """
    member, problems = _decode(item)
    if problems:
        warn("allow-list entry", mask(member.phone), problems)
    return member


def _decode(item: dict[str, Any]) -> tuple[StaffMember, list[str]]:
    read = ItemReader(item)
    phone = read.text("phone") or ""
    if not is_e164(phone):
        read.problems.append("phone is not an E.164 number")
    member = StaffMember(
        phone=phone,
        name=read.text("name", "") or "",
        campaigns=read.flag("campaigns", True),
        opted_out=read.flag("opted_out", False),
        groups=read.texts("groups"),
        added_at=read.text("added_at") or None,
        list_cursor=read.text("list_cursor") or None,
        roles=read.texts("roles"),
        language=(read.text(LANG_ATTR) or DEFAULT_LANGUAGE).strip().lower(),
        snoozed_until=read.text("snoozed_until") or None,
    )
    return member, read.problems


def _recipient(item: dict[str, Any]) -> StaffMember | None:
    """A recipients-index item to a member who may be texted, or None (skipped, warned)."""
    member, problems = _decode(item)
    fatal = not is_e164(member.phone) or member.opted_out or not member.campaigns
    if member.opted_out:
        problems.append("opted out, yet in the recipients index")
    if not member.campaigns:
        problems.append("campaigns off, yet in the recipients index")
    if problems:
        warn("campaign recipient", mask(member.phone), problems, skipped=fatal)
    return None if fatal else member


class StaffTable:
    """StaffStore on DynamoDB."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table = table_name

    def get(self, phone: str) -> StaffMember | None:
        """The entry for ``phone`` (one strongly consistent GetItem), or None.

        Consistent, so a MORE right after a REQUEST reads the cursor that REQUEST stored.
        """
        resp = self.client.get_item(
            TableName=self.table, Key={"phone": {"S": phone}}, ConsistentRead=True
        )
        item = resp.get("Item")
        return member_from_item(from_item(item)) if item else None

    def set_opted_out(self, phone: str, opted_out: bool, at: datetime) -> None:
        """Record opt-out/opt-in and keep the sparse recipients index in step."""
        stamp = at.isoformat(timespec="seconds")
        if opted_out:
            expr = f"SET opted_out = :yes, opted_out_at = :at REMOVE {POOL_ATTR}"
            vals = values(yes=True, at=stamp)
        else:
            expr = f"SET opted_out = :no, opted_in_at = :at, {POOL_ATTR} = :pool"
            vals = values(no=False, at=stamp, pool=POOL, off=False)
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"phone": {"S": phone}},
                UpdateExpression=expr,
                # Opt-in restores the index key only for entries that take campaigns.
                ConditionExpression=(
                    "attribute_exists(phone)"
                    if opted_out
                    else "attribute_exists(phone) AND NOT campaigns = :off"
                ),
                ExpressionAttributeValues=vals,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            if not opted_out:
                self._clear_opt_out(phone, stamp)

    def _clear_opt_out(self, phone: str, stamp: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"phone": {"S": phone}},
                UpdateExpression="SET opted_out = :no, opted_in_at = :at",
                ConditionExpression="attribute_exists(phone)",
                ExpressionAttributeValues=values(no=False, at=stamp),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def set_snooze(self, phone: str, until: datetime | None, at: datetime) -> bool:
        """Pause campaign offers until ``until`` (None: resume); False if not on the list.

        Names only the snooze attributes, so it never touches opt-out state or held shifts.
        """
        stamp = at.isoformat(timespec="seconds")
        if until is None:
            expr, vals = "SET resumed_at = :at REMOVE snoozed_until", values(at=stamp)
        else:
            expr = "SET snoozed_until = :until, snoozed_at = :at"
            vals = values(until=until.astimezone(UTC).isoformat(timespec="seconds"), at=stamp)
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"phone": {"S": phone}},
                UpdateExpression=expr,
                ConditionExpression="attribute_exists(phone)",
                ExpressionAttributeValues=vals,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            return False
        return True

    def set_list_cursor(self, phone: str, cursor: str | None) -> None:
        """Store (or clear) where this sender's REQUEST list stopped."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"phone": {"S": phone}},
            "ConditionExpression": "attribute_exists(phone)",
        }
        if cursor is None:
            kwargs["UpdateExpression"] = "REMOVE list_cursor"
        else:
            kwargs["UpdateExpression"] = "SET list_cursor = :c"
            kwargs["ExpressionAttributeValues"] = values(c=cursor)
        try:
            self.client.update_item(**kwargs)
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def put(self, member: StaffMember, *, replace: bool = True) -> bool:
        """Add or update an entry, keeping opt-out state; True if the number was new.

        Every write is conditional, so concurrent adds, imports and opt-outs cannot be lost:

        * A new number is written with ``attribute_not_exists(phone)``: of two concurrent
          adds exactly one reports it new. With ``replace=False`` that is the only write,
          and an existing entry is left exactly as it is (False).
        * An existing entry (``replace=True``) is changed by an UpdateItem that sets name,
          campaigns, groups and roles, keeps ``added_at`` (``if_not_exists``) and never writes the
          opt-out fields. Whether the sparse ``recipient_pool`` key is SET or REMOVEd depends
          on the opt-out state, which an update expression cannot branch on, so this is
          optimistic: the update is conditioned on ``opted_out`` still holding the value
          just read. If a STOP (or START) lands between the read and the write, the
          condition fails and the read and update are retried, so the index key always
          matches the final state (present only if campaigns is on and not opted out).
          A number deleted meanwhile fails the condition too and is then created afresh.

        Attributes the update does not name (the list cursor, opt-out timestamps, the held
        shifts and their version) are kept.
        """
        for _ in range(PUT_ATTEMPTS):
            existing = None if not replace else self.get(member.phone)
            try:
                if existing is None:
                    self._create(member)
                    return True
                self._update(member, existing.opted_out)
                return False
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                if not replace:
                    return False
                last = exc
        raise last

    def _create(self, member: StaffMember) -> None:
        data: dict[str, Any] = {
            "phone": member.phone,
            "name": member.name,
            "campaigns": member.campaigns,
            "opted_out": member.opted_out,
            "groups": set(member.groups) or None,
            "roles": set(member.roles) or None,
            "added_at": member.added_at,
            LANG_ATTR: None if member.language == DEFAULT_LANGUAGE else member.language,
        }
        if member.campaigns and not member.opted_out:
            data[POOL_ATTR] = POOL
        self.client.put_item(
            TableName=self.table,
            Item=to_item(data),
            ConditionExpression="attribute_not_exists(phone)",
        )

    def _update(self, member: StaffMember, seen_opted_out: bool) -> None:
        sets = [
            "#n = :name",
            "campaigns = :campaigns",
            "opted_out = if_not_exists(opted_out, :no)",
        ]
        removes: list[str] = []
        vals: dict[str, Any] = {
            "name": member.name,
            "campaigns": member.campaigns,
            "no": False,
        }
        if member.language == DEFAULT_LANGUAGE:
            removes.append("#l")
        else:
            sets.append("#l = :lang")
            vals["lang"] = member.language
        if member.groups:
            sets.append("#g = :groups")
            vals["groups"] = set(member.groups)
        else:
            removes.append("#g")
        if member.roles:
            sets.append("#r = :roles")
            vals["roles"] = set(member.roles)
        else:
            removes.append("#r")
        if member.added_at:
            sets.append("added_at = if_not_exists(added_at, :added)")
            vals["added"] = member.added_at
        if member.campaigns and not seen_opted_out:
            sets.append(f"{POOL_ATTR} = :pool")
            vals["pool"] = POOL
        else:
            removes.append(POOL_ATTR)
        if seen_opted_out:
            cond = "attribute_exists(phone) AND opted_out = :yes"
            vals["yes"] = True
        else:
            cond = (
                "attribute_exists(phone) AND (attribute_not_exists(opted_out) OR opted_out = :no)"
            )
        expr = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        self.client.update_item(
            TableName=self.table,
            Key={"phone": {"S": member.phone}},
            UpdateExpression=expr,
            ConditionExpression=cond,
            ExpressionAttributeNames={"#n": "name", "#g": "groups", "#r": "roles", "#l": LANG_ATTR},
            ExpressionAttributeValues=values(**vals),
        )

    def update(self, phone: str, edit: StaffEdit) -> StaffChange:
        """Change only the fields ``edit`` gives; return the entry before and after.

        Optimistic, like :meth:`put`: the UpdateItem SETs (or REMOVEs) only the fields that
        differ from the entry just read, conditioned on each of them still holding the value
        read (and, when campaigns changes, on ``opted_out`` too, which decides the sparse
        index key). A concurrent change makes the condition fail; the read and the update
        are then redone, so the change reported is the change made. Raises StaffNotFound.
        """
        for _ in range(PUT_ATTEMPTS):
            before = self.get(phone)
            if before is None:
                raise StaffNotFound(f"{phone} is not on the allow list")
            change = StaffChange(before, edit.applied_to(before))
            if not change.changed:
                return change
            try:
                self._edit(change)
                return change
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                last = exc
        raise last

    def _edit(self, change: StaffChange) -> None:
        before, after = change.before, change.after
        assert before is not None
        sets: list[str] = []
        removes: list[str] = []
        conds = ["attribute_exists(phone)"]
        names: dict[str, str] = {}
        vals: dict[str, Any] = {}
        if "name" in change.changed:
            names["#n"] = "name"
            sets.append("#n = :name")
            vals.update(name=after.name, was_name=before.name)
            was = "#n = :was_name"
            conds.append(f"(attribute_not_exists(#n) OR {was})" if not before.name else was)
        if "campaigns" in change.changed:
            sets.append("campaigns = :campaigns")
            vals.update(campaigns=after.campaigns, was_campaigns=before.campaigns)
            was = "campaigns = :was_campaigns"
            conds.append(f"(attribute_not_exists(campaigns) OR {was})" if before.campaigns else was)
            if after.campaigns and not before.opted_out:
                sets.append(f"{POOL_ATTR} = :pool")
                vals["pool"] = POOL
            else:
                removes.append(POOL_ATTR)
            vals["seen_out"] = before.opted_out
            conds.append(
                "opted_out = :seen_out"
                if before.opted_out
                else "(attribute_not_exists(opted_out) OR opted_out = :seen_out)"
            )
        if "language" in change.changed:
            names["#l"] = LANG_ATTR
            if after.language == DEFAULT_LANGUAGE:
                removes.append("#l")
            else:
                sets.append("#l = :lang")
                vals["lang"] = after.language
            vals["was_lang"] = before.language
            was = "#l = :was_lang"
            default = before.language == DEFAULT_LANGUAGE
            conds.append(f"(attribute_not_exists(#l) OR {was})" if default else was)
        for attr, alias in (("groups", "#g"), ("roles", "#r")):
            if attr in change.changed:
                names[alias] = attr
                set_part, remove_part, set_conds, set_vals = _edit_set(
                    alias, getattr(before, attr), getattr(after, attr)
                )
                sets.extend([set_part] if set_part else [])
                removes.extend([remove_part] if remove_part else [])
                conds.extend(set_conds)
                vals.update(set_vals)
        expr = " ".join(
            part
            for part in (
                "SET " + ", ".join(sets) if sets else "",
                "REMOVE " + ", ".join(removes) if removes else "",
            )
            if part
        )
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"phone": {"S": after.phone}},
            "UpdateExpression": expr,
            "ConditionExpression": " AND ".join(conds),
            "ExpressionAttributeValues": values(**vals),
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        self.client.update_item(**kwargs)

    def delete(self, phone: str) -> None:
        """Remove ``phone`` from the allow list (marked first with who removes it)."""
        key = {"phone": {"S": phone}}
        mark = RemovalMark(self.client)
        try:
            self.client.update_item(
                TableName=self.table, Key=key, **mark.request("attribute_exists(phone)", {})
            )
            self.client.delete_item(
                TableName=self.table,
                Key=key,
                ConditionExpression=mark.condition,
                ExpressionAttributeNames=mark.names,
                ExpressionAttributeValues=mark.values,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise StaffNotFound(f"{phone} is not on the allow list") from exc
            raise

    def all(self) -> Iterator[StaffMember]:
        """Every entry. An operator listing reads the whole list by nature; never a hot path."""
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table):
            for item in page.get("Items", []):
                yield member_from_item(from_item(item))

    def recipients(self) -> Iterator[StaffMember]:
        """Campaign recipients, read from the sparse index (only those who get campaigns).

        An entry that cannot be texted (a number that is not E.164) or should not be (opted
        out or campaigns off, with the index key typed in by hand) is skipped with a warning.
        """
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            IndexName=RECIPIENTS_INDEX,
            KeyConditionExpression=f"{POOL_ATTR} = :pool",
            ExpressionAttributeValues=values(pool=POOL),
        )
        for page in pages:
            for item in page.get("Items", []):
                member = _recipient(from_item(item))
                if member is not None:
                    yield member


def _edit_set(
    alias: str, before: tuple[str, ...], after: tuple[str, ...]
) -> tuple[str, str, list[str], dict[str, Any]]:
    """Set the string set ``alias`` to ``after`` if it still holds ``before``: the SET part
    (or ""), the REMOVE part (or ""), the conditions and their values."""
    key = alias.lstrip("#")
    vals: dict[str, Any] = {}
    set_part = remove_part = ""
    if after:
        set_part = f"{alias} = :{key}_new"
        vals[f"{key}_new"] = set(after)
    else:
        remove_part = alias
    if not before:
        return set_part, remove_part, [f"attribute_not_exists({alias})"], vals
    vals[f"{key}_was_size"] = len(before)
    conds = [f"size({alias}) = :{key}_was_size"]
    for i, value in enumerate(before):
        vals[f"{key}_was{i}"] = value
        conds.append(f"contains({alias}, :{key}_was{i})")
    return set_part, remove_part, conds, vals
