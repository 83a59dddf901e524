"""Reading the deployed CloudFormation template, for what moto does not model."""

from __future__ import annotations

from typing import Any

import yaml  # type: ignore[import-untyped]


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML with CloudFormation's short forms (``!Ref X``, ``!GetAtt X.Arn``) as long forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _short_form)


def load_template(body: str) -> dict[str, Any]:
    """A CloudFormation template (YAML or JSON) as data."""
    data = yaml.load(body, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    return data if isinstance(data, dict) else {}


def _ref(value: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names ('' for anything else)."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and target:
            return str(target[0])
    return ""
