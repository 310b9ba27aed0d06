"""Prometheus metrics: the metric objects of one app, and the small calls the shell makes.

Each `Metrics` has its own `CollectorRegistry` (not the process-wide default), so several
apps in one process (tests, a second replica) never collide. Counters and histograms are
updated where things happen (intake, workers, executor, board flusher, the HTTP session to
GitHub); gauges that mirror the store (inbox and outbox depth, deliveries by status) and the
write budget are read when /metrics is scraped (`refresh`).

Metric names (all prefixed `hackathon_bot_`):
    deliveries_received_total{event}            deliveries stored in the inbox (first time)
    redeliveries_total{event}                   deliveries whose id was already stored
    deliveries_processed_total{event,outcome}   done | ignored | failed | retry
    delivery_processing_seconds{event}          histogram, lease to outcome
    deliveries{status}                          deliveries in the store by status
    inbox_depth                                 deliveries pending or in progress
    outbox_depth                                actions waiting to be performed
    actions_total{kind,outcome}                 performed actions: done | retry | failed | skipped
    github_requests_total{method,status}        HTTP requests to GitHub (status "error": no response)
    github_write_budget_remaining{installation} content-creating requests left in the current minute
    board_edits_total{campaign}                 tracker edits
    board_lag_seconds{campaign}                 histogram: newest change -> board written
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiohttp
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.store import DeliveryStatus

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

PREFIX = "hackathon_bot_"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_BUCKETS = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        p = PREFIX
        self.received = Counter(p + "deliveries_received", "Deliveries stored in the inbox", ["event"], registry=r)
        self.redeliveries = Counter(p + "redeliveries", "Deliveries whose id was already stored", ["event"], registry=r)
        self.processed = Counter(p + "deliveries_processed", "Deliveries processed, by outcome", ["event", "outcome"], registry=r)
        self.latency = Histogram(
            p + "delivery_processing_seconds", "Time from lease to outcome", ["event"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.stored = Gauge(p + "deliveries", "Deliveries in the store, by status", ["status"], registry=r)
        self.inbox = Gauge(p + "inbox_depth", "Deliveries pending or in progress", registry=r)
        self.outbox = Gauge(p + "outbox_depth", "Actions waiting to be performed", registry=r)
        self.actions = Counter(p + "actions", "Actions performed, by kind and outcome", ["kind", "outcome"], registry=r)
        self.github = Counter(
            p + "github_requests", "HTTP requests to GitHub, by method and status", ["method", "status"], registry=r
        )
        self.budget = Gauge(
            p + "github_write_budget_remaining",
            "Content-creating requests left in the current minute",
            ["installation"],
            registry=r,
        )
        self.board_edits = Counter(p + "board_edits", "Tracker board edits", ["campaign"], registry=r)
        self.board_lag = Histogram(
            p + "board_lag_seconds", "From the newest change to the board written", ["campaign"], buckets=LAG_BUCKETS, registry=r
        )

    # ---- calls the shell makes -------------------------------------------------------------------
    def delivery_stored(self, event: str, new: bool) -> None:
        (self.received if new else self.redeliveries).labels(event=event).inc()

    def delivery_done(self, event: str, outcome: str, seconds: float) -> None:
        self.processed.labels(event=event, outcome=outcome).inc()
        self.latency.labels(event=event).observe(seconds)

    def action_done(self, kind: str, outcome: str) -> None:
        self.actions.labels(kind=kind, outcome=outcome).inc()

    def board_written(self, campaign: str, lag_seconds: float | None) -> None:
        self.board_edits.labels(campaign=campaign).inc()
        if lag_seconds is not None:
            self.board_lag.labels(campaign=campaign).observe(max(0.0, lag_seconds))

    def trace_config(self) -> aiohttp.TraceConfig:
        """Counts every request of an aiohttp session (the one the GitHub gateway uses)."""
        tc = aiohttp.TraceConfig()

        async def on_end(_session: Any, _ctx: Any, params: aiohttp.TraceRequestEndParams) -> None:
            self.github.labels(method=params.method, status=str(params.response.status)).inc()

        async def on_error(_session: Any, _ctx: Any, params: aiohttp.TraceRequestExceptionParams) -> None:
            self.github.labels(method=params.method, status="error").inc()

        tc.on_request_end.append(on_end)
        tc.on_request_exception.append(on_error)
        return tc

    # ---- at scrape time --------------------------------------------------------------------------
    def refresh(self, counts: dict[str, int], budgets: Iterable[tuple[int, int]] = ()) -> None:
        """Mirror the store's counts (`Store.delivery_counts()`: statuses, and `actions_<status>`)
        and each installation's remaining write budget."""
        for status in DeliveryStatus:
            self.stored.labels(status=status).set(counts.get(status, 0))
        self.inbox.set(counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.PROCESSING, 0))
        self.outbox.set(counts.get("actions_pending", 0))
        for installation, left in budgets:
            self.budget.labels(installation=str(installation)).set(left)

    def render(self) -> bytes:
        return generate_latest(self.registry)
