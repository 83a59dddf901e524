"""Operator services wired to a deployed stack (the CLI and ``status`` share them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shiftsms.aws.campaign_links import DynamoCampaignLinks
from shiftsms.aws.campaigns_table import CampaignsTable
from shiftsms.aws.claim_windows import DynamoClaimWindows
from shiftsms.aws.delivery_records import DynamoSendRecords
from shiftsms.aws.due_work import DynamoDueWork
from shiftsms.aws.send_markers import DynamoSendLedger
from shiftsms.aws.send_queue import SqsDeadLetters
from shiftsms.aws.shifts_table import ShiftsTable
from shiftsms.aws.stack import StackInfo
from shiftsms.aws.staff_table import StaffTable
from shiftsms.services.campaigns import CampaignPlanner, CampaignReports

ClientFactory = Callable[[str], Any]


def campaign_planner(client: ClientFactory, stack: StackInfo) -> CampaignPlanner:
    """The planner behind ``campaign create``."""
    dynamodb = client("dynamodb")
    return CampaignPlanner(
        campaigns=CampaignsTable(dynamodb, stack.output("CampaignsTableName")),
        staff=StaffTable(dynamodb, stack.output("StaffTableName")),
        shifts=ShiftsTable(dynamodb, stack.output("ShiftsTableName")),
        links=DynamoCampaignLinks(
            dynamodb, stack.output("ShiftsTableName"), stack.output("CampaignsTableName")
        ),
        windows=DynamoClaimWindows(dynamodb, stack.output("StateTableName")),
        due=DynamoDueWork(dynamodb, stack.output("StateTableName")),
    )


def campaign_reports(client: ClientFactory, stack: StackInfo) -> CampaignReports:
    """Campaign listings and summaries (``campaign list/show``, ``status``)."""
    dynamodb = client("dynamodb")
    campaigns_table = stack.output("CampaignsTableName")
    shifts = ShiftsTable(dynamodb, stack.output("ShiftsTableName"))
    state_table = stack.output("StateTableName")
    return CampaignReports(
        campaigns=CampaignsTable(dynamodb, campaigns_table),
        staff=StaffTable(dynamodb, stack.output("StaffTableName")),
        shifts=shifts,
        waitlists=shifts,
        ledger=DynamoSendLedger(dynamodb, state_table, campaigns_table),
        dead_letters=SqsDeadLetters(client("sqs"), stack.settings().send_dlq_url),
        records=DynamoSendRecords(dynamodb, state_table, campaigns_table),
    )
