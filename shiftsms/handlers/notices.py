"""Managers' notices as the functions wire them: on the stack's shifts and campaigns tables."""

from __future__ import annotations

from typing import Any, Protocol

from shiftsms.aws.campaign_links import DynamoCampaignLinks
from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.services.notify import ManagerNotifier


class NoticeSettings(Protocol):
    """The settings a function that books shifts reads for its managers' notices."""

    @property
    def shifts_table(self) -> str: ...

    @property
    def campaigns_table(self) -> str: ...

    @property
    def manager_numbers(self) -> tuple[str, ...]: ...


def manager_notifier(dynamodb: Any, settings: NoticeSettings) -> ManagerNotifier | None:
    """Managers' notices on the stack's tables (None without the campaigns table)."""
    if not settings.campaigns_table:
        return None
    return ManagerNotifier(
        links=DynamoCampaignLinks(dynamodb, settings.shifts_table, settings.campaigns_table),
        campaigns=CampaignsTable(dynamodb, settings.campaigns_table),
        shifts=ShiftsTable(dynamodb, settings.shifts_table),
        managers=settings.manager_numbers,
    )
