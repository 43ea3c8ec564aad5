"""Prometheus metrics of one gateway app, in a registry of its own.

:class:`GatewayMetrics` owns a :class:`~prometheus_client.CollectorRegistry` (so that several
apps, e.g. in tests, do not collide in the global registry) and exposes the metric objects so
that other code (the submitter, the middleware) can update them::

    metrics = app.state.metrics
    metrics.relay_errors.labels("sign").inc()

Gauges of state elsewhere are measured when ``/metrics`` is scraped: outbox depth from the
outbox, index lag from ``GatewayServices.index_lag`` (NaN while it cannot be measured).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["GatewayMetrics"]

_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)


@dataclass(eq=False)
class GatewayMetrics:
    """The gateway's metric objects, all registered in ``registry``."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "gateway_http_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "gateway_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ["route"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "gateway_outbox_records",
            "Records in the relay outbox by state (refreshed on scrape).",
            ["state"],
            registry=r,
        )
        self.batch_size = Histogram(
            "gateway_relay_batch_size",
            "Records per relayed transaction.",
            ["kind"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.confirmation_seconds = Histogram(
            "gateway_relay_confirmation_seconds",
            "Seconds from a record's acceptance (202) to its confirmation on chain.",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.relay_errors = Counter(
            "gateway_relay_errors",
            "Relayer calls that raised, by step (sign, broadcast, receipt).",
            ["step"],
            registry=r,
        )
        self.records_failed = Counter(
            "gateway_relay_records_failed",
            "Records that ended failed, by error code.",
            ["code"],
            registry=r,
        )
        self.index_lag = Gauge(
            "gateway_index_lag_blocks",
            "Blocks between the chain head and the last block the index has processed "
            "(measured on scrape; NaN when it cannot be measured).",
            registry=r,
        )
