"""Custom metrics from the functions: Powertools Metrics, in CloudWatch embedded metric format."""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from shiftsms.core.metrics import NAMESPACE, SERVICE


class EmfMetrics:
    """MetricSink writing EMF log lines (namespace ``shiftsms``, dimension service=shiftsms)."""

    def __init__(self) -> None:
        self.metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

    def count(self, name: str, value: float = 1) -> None:
        """Add ``value`` to ``name`` (a Count) in this invocation's metric set."""
        if value:
            self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def flush(self) -> None:
        """Write this invocation's metrics, if any (one log line)."""
        if self.metrics.metric_set:
            self.metrics.flush_metrics()
