"""Structured logs for the Lambda functions (Powertools Logger, JSON, no full numbers)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

# Every "shiftsms.*" logger propagates into this one, so service logs come out as JSON too.
logger = Logger(service="shiftsms", logger_name="shiftsms")
