"""The stack's protect configuration: block every destination country but the allowed ones.

A new End User Messaging protect configuration allows every country, and a template cannot
list "every country but AllowedCountries", so the deploy sets the SMS rule set itself once the
stack is up: ALLOW for each allowed country, BLOCK for every other. The countries are those End
User Messaging lists for the configuration (``GetProtectConfigurationCountryRuleSet``), or, if
it lists none, every region ``phonenumbers`` knows. Only rules that differ are sent, so a
second deploy with the same countries changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers

from shiftsms.core.phone import country_of
from shiftsms.errors import DeployError

CAPABILITY = "SMS"
# UpdateProtectConfigurationCountryRuleSet takes at most this many countries per request.
MAX_UPDATES = 300


@dataclass(frozen=True)
class CountryRules:
    """What the deploy made of the protect configuration."""

    protect_configuration_id: str
    allowed: tuple[str, ...]
    blocked: int
    changed: int


def country_codes(raw: str) -> tuple[str, ...]:
    """The comma-separated codes of ``raw`` (``gb, IE``): upper case, each once, in order."""
    return tuple(dict.fromkeys(c.strip().upper() for c in raw.split(",") if c.strip()))


def allowed_countries(raw: str, origination: str, default_region: str) -> tuple[str, ...]:
    """The ``AllowedCountries`` parameter as codes; empty: the origination number's country.

    An origination identity that is not an E.164 number (an id, ARN or pool) says no country
    here, so ``default_region`` stands in for it.
    """
    codes = country_codes(raw)
    if codes:
        return codes
    region = country_of(origination) if origination.startswith("+") else None
    if region:
        return (region,)
    return (default_region.strip().upper(),)


def every_region() -> set[str]:
    """Every ISO 3166-1 alpha-2 code ``phonenumbers`` knows as a region."""
    return {r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2}


def apply_country_rules(sms: Any, protect_id: str, allowed: Sequence[str]) -> CountryRules:
    """Set the SMS rules of ``protect_id``: ALLOW for ``allowed``, BLOCK for every other."""
    current = sms.get_protect_configuration_country_rule_set(
        ProtectConfigurationId=protect_id, NumberCapability=CAPABILITY
    ).get("CountryRuleSet", {})
    countries = set(current) or every_region()
    unknown = sorted(set(allowed) - countries)
    if unknown:
        raise DeployError(
            f"AllowedCountries names {', '.join(unknown)}, which End User Messaging does not "
            "send SMS to: use ISO 3166-1 alpha-2 codes (GB, IE, US)"
        )
    wanted = {c: "ALLOW" if c in allowed else "BLOCK" for c in sorted(countries)}
    updates = {
        c: {"ProtectStatus": status}
        for c, status in wanted.items()
        if current.get(c, {}).get("ProtectStatus") != status
    }
    items = sorted(updates.items())
    for start in range(0, len(items), MAX_UPDATES):
        sms.update_protect_configuration_country_rule_set(
            ProtectConfigurationId=protect_id,
            NumberCapability=CAPABILITY,
            CountryRuleSetUpdates=dict(items[start : start + MAX_UPDATES]),
        )
    return CountryRules(
        protect_configuration_id=protect_id,
        allowed=tuple(sorted(set(allowed))),
        blocked=sum(1 for s in wanted.values() if s == "BLOCK"),
        changed=len(updates),
    )
