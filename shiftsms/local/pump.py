"""The event pump: delivers events to the deployed functions the way AWS's pollers do.

- DynamoDB stream records -> the mapped function (``dynamodbstreams`` GetShardIterator /
  GetRecords; the mapping's ``FilterCriteria``, ``BatchSize``, ``batchItemFailures``,
  ``MaximumRetryAttempts`` and on-failure destination are honoured).
- SQS messages -> the mapped function (ReceiveMessage; only succeeded messages are deleted, so
  failures come back after the visibility timeout and the redrive policy moves poison to the
  DLQ).
- SNS notifications -> functions subscribed with protocol ``lambda``: the sandbox subscribes a
  tap queue to each such topic (through the API, after deploy; never in the template) and
  delivers each notification as an SNS Lambda event, retried twice as SNS retries an
  asynchronous invoke.
- EventBridge schedule rules (read from the deployed template) -> their target function, as
  a scheduled event every few seconds (``schedule_poller``).

Each function runs in its own worker process (a warm "container"): its code is the bundle the
deployed function points at, downloaded from the emulator's S3 and checked against the
function's ``CodeSha256``; its environment is the one it was deployed with (Lambda
``GetFunctionConfiguration``) plus the sandbox endpoint and credentials, nothing else from this
process. A changed configuration or bundle starts a fresh worker.

This module holds ``EventPump`` (discovery and supervision) and re-exports the pieces:
``function_runner`` (worker processes and pools), ``invocation`` (outcomes and counts),
``poller`` (the shared poller base), ``stream_poller``, ``queue_poller``, ``sns_delivery``
(topic taps and asynchronous-invoke retries), ``event_filter`` and ``cfn_template``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shiftsms.local.aws import client
from shiftsms.local.cfn_template import _ref, load_template
from shiftsms.local.event_filter import matches, passes_filters
from shiftsms.local.function_runner import (
    POOL_SIZE,
    RUNTIME_DISTRIBUTIONS,
    FunctionPool,
    FunctionRunner,
    runtime_dir,
)
from shiftsms.local.invocation import Invocation, PumpError, Stats
from shiftsms.local.poller import Invoker, Poller
from shiftsms.local.queue_poller import QueuePoller
from shiftsms.local.schedule_poller import (
    SchedulePoller,
    rate_seconds,
    schedule_rules,
    schedule_seconds,
)
from shiftsms.local.sns_delivery import AsyncConfig, SnsTapPoller
from shiftsms.local.stream_poller import StreamPoller

__all__ = [
    "POOL_SIZE",
    "RUNTIME_DISTRIBUTIONS",
    "AsyncConfig",
    "EventPump",
    "FunctionPool",
    "FunctionRunner",
    "Invocation",
    "Invoker",
    "Poller",
    "PumpError",
    "QueuePoller",
    "SchedulePoller",
    "SnsTapPoller",
    "Stats",
    "StreamPoller",
    "load_template",
    "matches",
    "passes_filters",
    "runtime_dir",
]

log = logging.getLogger("shiftsms.local.pump")

TAP_PREFIX = "shiftsms-sandbox-tap-"


class EventPump:
    """Finds the stack's functions, mappings and subscriptions, and runs a poller for each."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        stack_name: str,
        work_dir: Path,
        *,
        refresh_seconds: float = 3.0,
        backlog: dict[str, list[dict[str, Any]]] | None = None,
        streams_from_start: bool = False,
        schedule_every: float | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.stack_name = stack_name
        self.work_dir = work_dir
        self.refresh_seconds = refresh_seconds
        self.stats = Stats()
        self.stop_event = threading.Event()
        self.runners: dict[str, FunctionPool] = {}
        self.pollers: dict[str, list[Poller]] = {}
        self.cf = client("cloudformation", endpoint, region)
        self.lam = client("lambda", endpoint, region)
        self.sns = client("sns", endpoint, region)
        self.sqs = client("sqs", endpoint, region)
        self._supervisor: threading.Thread | None = None
        self._started = False
        self.on_refresh: Callable[[], None] | None = None
        # A stream poller's unprocessed records from the last run, by StreamPoller.key; a
        # poller takes its own when it starts (and the key leaves the dict).
        self.backlog = backlog if backlog is not None else {}
        self.on_checkpoint: Callable[[], None] = lambda: None
        # The sandbox empties the streams before the pump starts: what is in them then is
        # new (replayed writes), so the first pollers read from the start, not the newest.
        self.streams_from_start = streams_from_start
        # How often a schedule rule fires here (AWS: its rate; the sandbox: seconds).
        self.schedule_every = schedule_every or schedule_seconds()
        self.events = client("events", endpoint, region)
        self._template: tuple[str, dict[str, Any]] = ("", {})

    def start(self) -> None:
        """Discover sources and start polling (streams start at their newest record)."""
        self.refresh(first=True)
        self._started = True
        self._supervisor = threading.Thread(target=self._supervise, name="pump", daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self.stop_event.wait(self.refresh_seconds):
            try:
                self.refresh(first=False)
                if self.on_refresh is not None:
                    self.on_refresh()
            except Exception:
                if not self.stop_event.is_set():
                    log.exception("pump refresh failed")

    def _stack(self) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
        params = {
            p["ParameterKey"]: p.get("ParameterValue", "")
            for p in self.cf.describe_stacks(StackName=self.stack_name)["Stacks"][0].get(
                "Parameters", []
            )
        }
        resources: list[tuple[str, str, str]] = []
        for page in self.cf.get_paginator("list_stack_resources").paginate(
            StackName=self.stack_name
        ):
            resources += [
                (r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""))
                for r in page["StackResourceSummaries"]
            ]
        return params, resources

    def runner(self, function: str, code_bucket: str) -> FunctionPool:
        """The instances of ``function``."""
        if function not in self.runners:
            self.runners[function] = FunctionPool(
                function,
                self.endpoint,
                self.region,
                code_bucket=code_bucket,
                work_dir=self.work_dir,
                stats=self.stats,
            )
        self.runners[function].code_bucket = code_bucket
        return self.runners[function]

    def refresh(self, *, first: bool) -> None:
        """Start pollers for new mappings and subscriptions; stop those that went away."""
        params, resources = self._stack()
        bucket = params.get("CodeBucket", "")
        functions = {pid for _, kind, pid in resources if kind == "AWS::Lambda::Function" and pid}
        topics = [pid for _, kind, pid in resources if kind == "AWS::SNS::Topic" and pid]
        wanted = self._mappings(functions, bucket, first=first)
        new_taps = [
            key
            for key in self._subscriptions(topics, functions, bucket, dry_run=True)
            if key not in self.pollers
        ]
        configs = self._async_configs(resources) if new_taps else {}
        wanted |= self._subscriptions(topics, functions, bucket, configs=configs)
        wanted |= self._schedules(resources, bucket)
        for key in [k for k in self.pollers if k not in wanted]:
            log.info("event source %s went away", key)
            for poller in self.pollers.pop(key):
                poller.removed = True

    def _mappings(self, functions: set[str], bucket: str, *, first: bool) -> set[str]:
        """Pollers for the stack's enabled event source mappings; their UUIDs."""
        wanted: set[str] = set()
        for page in self.lam.get_paginator("list_event_source_mappings").paginate():
            for mapping in page["EventSourceMappings"]:
                function = mapping["FunctionArn"].rsplit(":", 1)[1]
                if function not in functions or mapping.get("State") != "Enabled":
                    continue
                wanted.add(mapping["UUID"])
                if mapping["UUID"] in self.pollers:
                    continue
                runner = self.runner(function, bucket)
                source = mapping["EventSourceArn"]
                pollers: list[Poller]
                if ":dynamodb:" in source:  # one batch at a time per shard, as Lambda
                    from_start = first and self.streams_from_start
                    stream = StreamPoller(
                        {**mapping, "StartingPosition": "TRIM_HORIZON"} if from_start else mapping,
                        runner,
                        self.endpoint,
                        self.region,
                        self.stop_event,
                        from_latest=first and not from_start,
                        on_checkpoint=self._checkpoint,
                    )
                    stream.pending = list(self.backlog.get(stream.key) or [])
                    pollers = [stream]
                elif ":sqs:" in source:  # concurrent batches up to MaximumConcurrency
                    limit = (mapping.get("ScalingConfig") or {}).get("MaximumConcurrency")
                    count = max(1, min(int(limit or POOL_SIZE), POOL_SIZE))
                    pollers = [
                        QueuePoller(mapping, runner, self.endpoint, self.region, self.stop_event)
                        for _ in range(count)
                    ]
                else:
                    log.warning("event source %s is not pumped by the sandbox", source)
                    continue
                self._start(mapping["UUID"], pollers)
        return wanted

    def _subscriptions(
        self,
        topics: list[str],
        functions: set[str],
        bucket: str,
        *,
        configs: dict[str, AsyncConfig] | None = None,
        dry_run: bool = False,
    ) -> set[str]:
        """Tap pollers for the lambda subscriptions of the stack's topics; their keys."""
        wanted: set[str] = set()
        for topic in topics:
            for sub in self.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
                if sub["Protocol"] != "lambda":
                    continue
                function = sub["Endpoint"].split(":")[6]
                key = f"sns:{sub['SubscriptionArn']}"
                wanted.add(key)
                if dry_run or key in self.pollers or function not in functions:
                    continue
                url = self._tap(topic, sub["Endpoint"])
                # SNS invokes asynchronously and concurrently: one notification per poller.
                self._start(
                    key,
                    [
                        SnsTapPoller(
                            sub["SubscriptionArn"],
                            url,
                            self.runner(function, bucket),
                            self.endpoint,
                            region=self.region,
                            stop=self.stop_event,
                            config=(configs or {}).get(function),
                        )
                        for _ in range(POOL_SIZE)
                    ],
                )
        return wanted

    def _deployed_template(self) -> dict[str, Any]:
        """The deployed template (parsed again only when it changed)."""
        body = self.cf.get_template(StackName=self.stack_name)["TemplateBody"]
        if isinstance(body, dict):
            return body
        if body != self._template[0]:
            self._template = (body, load_template(body))
        return self._template[1]

    def _schedules(self, resources: list[tuple[str, str, str]], bucket: str) -> set[str]:
        """A poller per enabled schedule rule of the template (moto fires none); their keys."""
        physical = {logical: pid for logical, _, pid in resources if pid}
        wanted: set[str] = set()
        for rule in schedule_rules(self._deployed_template()):
            function = physical.get(rule.function_logical_id, "")
            name = physical.get(rule.logical_id, "")
            if not function or not name:
                continue
            key = f"schedule:{rule.logical_id}:{function}"
            wanted.add(key)
            if key in self.pollers:
                continue
            arn = self.events.describe_rule(Name=name)["Arn"]
            every = min(self.schedule_every, rate_seconds(rule.expression) or self.schedule_every)
            poller = SchedulePoller(
                self.runner(function, bucket),
                rule_arn=arn,
                region=self.region,
                every=every,
                stop=self.stop_event,
            )
            self._start(key, [poller])
        return wanted

    def _start(self, key: str, pollers: list[Poller]) -> None:
        self.pollers[key] = pollers
        for poller in pollers:
            if isinstance(poller, StreamPoller):
                self.backlog.pop(poller.key, None)
            poller.start()

    def _checkpoint(self) -> None:
        self.on_checkpoint()

    def stream_pollers(self) -> list[StreamPoller]:
        """The running stream pollers (whose backlog the sandbox saves)."""
        return [
            poller
            for pollers in list(self.pollers.values())
            for poller in pollers
            if isinstance(poller, StreamPoller) and not poller.removed
        ]

    def _async_configs(self, resources: list[tuple[str, str, str]]) -> dict[str, AsyncConfig]:
        """Each function's asynchronous-invoke settings, read from the deployed template.

        moto skips ``AWS::Lambda::EventInvokeConfig``, so its retries and on-failure
        destination are taken from the template (a destination must be a queue of the stack).
        """
        physical = {logical: pid for logical, _, pid in resources}
        body = self.cf.get_template(StackName=self.stack_name)["TemplateBody"]
        template = body if isinstance(body, dict) else load_template(body)
        configs: dict[str, AsyncConfig] = {}
        for props in (
            r.get("Properties") or {}
            for r in (template.get("Resources") or {}).values()
            if r.get("Type") == "AWS::Lambda::EventInvokeConfig"
        ):
            function = physical.get(_ref(props.get("FunctionName")), "")
            if not function:
                continue
            target = (props.get("DestinationConfig") or {}).get("OnFailure", {})
            queue_url = physical.get(_ref(target.get("Destination")), "")
            configs[function] = AsyncConfig(
                retries=int(props.get("MaximumRetryAttempts", 2)),
                on_failure_url=queue_url if queue_url.startswith("http") else "",
                function_arn=self.lam.get_function_configuration(FunctionName=function)[
                    "FunctionArn"
                ],
            )
        return configs

    def _tap(self, topic: str, function_arn: str) -> str:
        """A sandbox-only queue subscribed to ``topic`` standing in for a lambda subscription.

        Its name comes from the topic and the function (stable across restarts, as the
        stack's names are), so notifications queued in it are put back in it on restart.
        """
        digest = hashlib.sha256(f"{topic}>{function_arn}".encode()).hexdigest()[:16]
        name = TAP_PREFIX + digest
        url = str(self.sqs.create_queue(QueueName=name)["QueueUrl"])
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return url

    def stop(self) -> None:
        """Stop pollers and workers (bounded waits)."""
        self.stop_event.set()
        for pollers in list(self.pollers.values()):
            for poller in pollers:
                poller.join(timeout=10)
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        for runner in self.runners.values():
            runner.close()
