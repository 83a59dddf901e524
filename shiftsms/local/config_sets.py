"""End User Messaging configuration sets for the sandbox (moto has none).

``AWS::SMSVOICE::ConfigurationSet`` is registered as a moto CloudFormation model, as the
protect configuration is (:mod:`shiftsms.local.protect`), so the real template deploys into
moto with the set's name and ARN resolvable. Each set keeps its event destinations (SNS
topics and the event types they match), where the sandbox's End User Messaging
(``telecom.Telecom``) finds where to publish a text's events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from shiftsms.local.protect import register_with_moto
from shiftsms.local.registry import Registry

RESOURCE_TYPE = "AWS::SMSVOICE::ConfigurationSet"
ACCOUNT_ID = "123456789012"
# ConfigurationSetName: letters, digits, "_" and "-", at most 64.
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Destination:
    """One enabled SNS event destination and the event types it takes."""

    topic_arn: str
    event_types: frozenset[str]

    def matches(self, event_type: str) -> bool:
        """True if an event of ``event_type`` (``TEXT_DELIVERED``) goes to this destination."""
        family = event_type.split("_", 1)[0] + "_ALL"
        return bool({"ALL", family, event_type} & self.event_types)


@dataclass
class ConfigurationSet:
    """A configuration set: its name, ARN and SNS event destinations."""

    name: str
    arn: str
    destinations: list[Destination] = field(default_factory=list)

    def topics_for(self, event_type: str) -> list[str]:
        """The SNS topics an event of ``event_type`` is published to."""
        return [d.topic_arn for d in self.destinations if d.matches(event_type)]


class ConfigurationSetRegistry(Registry[ConfigurationSet]):
    """Every configuration set of this process, by name or ARN."""

    def __init__(self) -> None:
        super().__init__(lambda item: item.name)

    def create(self, region: str, name: str, destinations: list[Destination]) -> ConfigurationSet:
        """A configuration set named ``name`` (replacing one of that name)."""
        arn = f"arn:aws:sms-voice:{region}:{ACCOUNT_ID}:configuration-set/{name}"
        return self.add(ConfigurationSet(name, arn, destinations))


REGISTRY = ConfigurationSetRegistry()


def _destinations(properties: dict[str, Any]) -> list[Destination]:
    found = []
    for dest in properties.get("EventDestinations") or []:
        topic = (dest.get("SnsDestination") or {}).get("TopicArn")
        enabled = str(dest.get("Enabled", True)).lower() == "true"
        if topic and enabled:
            found.append(Destination(str(topic), frozenset(dest.get("MatchingEventTypes") or [])))
    return found


def _name(resource_name: str, properties: dict[str, Any]) -> str:
    given = properties.get("ConfigurationSetName")
    return str(given) if given else _NOT_NAME.sub("-", resource_name)[-64:].lstrip("-_")


class ConfigurationSetModel(CloudFormationModel):
    """moto's view of the resource: creates and deletes entries of :data:`REGISTRY`."""

    def __init__(self, item: ConfigurationSet) -> None:
        self.item = item

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return RESOURCE_TYPE

    @property
    def physical_resource_id(self) -> str:
        return self.item.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.item.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ConfigurationSetModel:
        properties = cloudformation_json.get("Properties") or {}
        name = _name(resource_name, properties)
        return cls(REGISTRY.create(region_name, name, _destinations(properties)))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: ConfigurationSetModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> ConfigurationSetModel:
        # Destinations change in place (no interruption), as on AWS.
        properties = cloudformation_json.get("Properties") or {}
        original_resource.item.destinations = _destinations(properties)
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
        REGISTRY.delete(self.item.name)

    def is_created(self) -> bool:
        return True


register_with_moto()  # moto's model lists, cached, are taken again with this model in them
