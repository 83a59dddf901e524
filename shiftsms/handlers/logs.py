"""Structured logs for the Lambda functions (Powertools Logger, JSON, no full numbers)."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

# Every "shiftsms.*" logger propagates into this one, so service logs come out as JSON too.
logger = Logger(service="shiftsms", logger_name="shiftsms")
# The Lambda runtime puts a plain-text handler on the root logger: stop there, or every
# line would be written twice.
logging.getLogger("shiftsms").propagate = False
