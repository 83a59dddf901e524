"""End User Messaging protect configurations for the sandbox (moto has none).

``AWS::SMSVOICE::ProtectConfiguration`` is registered as a moto CloudFormation model, so the
real template deploys into moto with the resource's id and ARN resolvable (moto would
otherwise skip the resource and resolve every ``!GetAtt`` of it to nothing). The rule sets
live in :data:`REGISTRY`, where the sandbox's End User Messaging (``telecom.Telecom``) reads
and updates them. As on AWS, a new protect configuration allows every country.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from shiftsms.local.registry import Registry

RESOURCE_TYPE = "AWS::SMSVOICE::ProtectConfiguration"
ACCOUNT_ID = "123456789012"


@dataclass
class ProtectConfiguration:
    """One protect configuration: per-capability country rules (unlisted countries ALLOW)."""

    protect_id: str
    arn: str
    rules: dict[str, dict[str, str]] = field(default_factory=dict)

    def status(self, capability: str, country: str) -> str:
        """ALLOW, BLOCK, MONITOR or FILTER for ``country`` (ALLOW unless a rule says else)."""
        return self.rules.get(capability, {}).get(country, "ALLOW")


class ProtectRegistry(Registry[ProtectConfiguration]):
    """Every protect configuration of this process, by id or ARN."""

    def __init__(self) -> None:
        super().__init__(lambda item: item.protect_id)

    def create(
        self, region: str, rules: dict[str, dict[str, str]] | None = None, *, name: str = ""
    ) -> ProtectConfiguration:
        """A new protect configuration with ``rules`` (capability -> country -> status).

        Its id is derived from ``name`` (the resource name CloudFormation generated, which the
        sandbox keeps across restarts), so a restarted sandbox's stack outputs the same id.
        """
        seed = f"{region}/{name}" if name else uuid.uuid4().hex
        protect_id = f"protect-{hashlib.sha256(seed.encode()).hexdigest()[:32]}"
        arn = f"arn:aws:sms-voice:{region}:{ACCOUNT_ID}:protect-configuration/{protect_id}"
        rule_copy = {k: dict(v) for k, v in (rules or {}).items()}
        return self.add(ProtectConfiguration(protect_id, arn, rule_copy))


REGISTRY = ProtectRegistry()


def _rules_from_template(properties: dict[str, Any]) -> dict[str, dict[str, str]]:
    """``CountryRuleSet`` (``SMS``/``VOICE``/``MMS`` lists of CountryRule) as a map."""
    rule_set = properties.get("CountryRuleSet") or {}
    return {
        capability: {r["CountryCode"]: r["ProtectStatus"] for r in rules or []}
        for capability, rules in rule_set.items()
    }


class ProtectConfigurationModel(CloudFormationModel):
    """moto's view of the resource: creates and deletes entries of :data:`REGISTRY`."""

    def __init__(self, item: ProtectConfiguration) -> None:
        self.item = item

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return RESOURCE_TYPE

    @property
    def physical_resource_id(self) -> str:
        return self.item.protect_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "ProtectConfigurationId")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.item.arn
        if attribute_name == "ProtectConfigurationId":
            return self.item.protect_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ProtectConfigurationModel:
        properties = cloudformation_json.get("Properties") or {}
        rules = _rules_from_template(properties)
        return cls(REGISTRY.create(region_name, rules, name=resource_name))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: ProtectConfigurationModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> ProtectConfigurationModel:
        # No interruption: the same configuration, with the template's rules laid over it.
        properties = cloudformation_json.get("Properties") or {}
        for capability, rules in _rules_from_template(properties).items():
            original_resource.item.rules.setdefault(capability, {}).update(rules)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        REGISTRY.delete(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """moto calls this when the stack is deleted."""
        REGISTRY.delete(self.item.protect_id)

    def is_created(self) -> bool:
        return True


def register_with_moto() -> None:
    """Make moto's CloudFormation create :class:`ProtectConfigurationModel` (idempotent).

    moto lists its models once (``CloudFormationModel.__subclasses__()``, cached); the
    caches are cleared so the list taken next includes this one.
    """
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
