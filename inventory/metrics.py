"""Prometheus metrics: requests per route template, scans by outcome, the pool; one scrape sees every worker.

With PROMETHEUS_MULTIPROC_DIR set (`inventory serve` sets it up), prometheus_client keeps each worker's values in
files of that directory and a scrape sums them; without it (tests, a bare `uvicorn`), values live in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import multiprocess as _multiprocess
from prometheus_client.exposition import generate_latest

__all__ = ["CONTENT_TYPE", "observe_request", "render", "sample_pool", "scan_recorded", "scan_refused"]

# The text format every Prometheus version reads (generate_latest writes it); the framework adds the charset.
CONTENT_TYPE = "text/plain; version=0.0.4"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Read once, as prometheus_client does at its import: values set before the directory existed are this process's.
_DIRECTORY = os.environ.get(MULTIPROC_ENV) or None
UNMATCHED = "unmatched"
# A client may send any method name; only these become label values, so nobody can grow the series without bound.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "inventory_http_requests",
    "HTTP requests by method, route template and status class.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "inventory_http_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SCANS = Counter(
    "inventory_scans",
    "Scans at the chair by outcome: `recorded`, or the refusal's code (lot_expired, repeat_scan, ...).",
    ["outcome"],
)
SCAN_WARNINGS = Counter(
    "inventory_scan_warnings",
    "Warnings on recorded scans by code (expires_soon, fefo_violation, lot_not_received, ...).",
    ["code"],
)
# livesum: the instance's total over its live workers; a worker that ends takes its share with it.
POOL = Gauge(
    "inventory_db_pool_connections",
    "Database connections of the pools by state (in_use, idle), summed over live workers.",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "inventory_db_pool_max_connections",
    "The pools' maximum size, summed over live workers.",
    multiprocess_mode="livesum",
)

# Children by label values, made once: the hot path does one dict look-up instead of labels()' lock and checks.
_requests: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_scans: dict[str, Any] = {}
_warnings: dict[str, Any] = {}
_in_use, _idle = POOL.labels("in_use"), POOL.labels("idle")


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration under its route template."""
    key = (method, route, status // 100)
    pair = _requests.get(key)
    if pair is None:
        label = method if method in _METHODS else "OTHER"
        pair = _requests[key] = (REQUESTS.labels(label, route, f"{status // 100}xx"), LATENCY.labels(label, route))
    pair[0].inc()
    pair[1].observe(seconds)


def scan_recorded(warning_codes: Iterable[str]) -> None:
    """Count a recorded scan and each of its warnings."""
    _child(_scans, SCANS, "recorded").inc()
    for code in warning_codes:
        _child(_warnings, SCAN_WARNINGS, code).inc()


def scan_refused(code: str) -> None:
    """Count a refused scan under its refusal code."""
    _child(_scans, SCANS, code).inc()


def _child(cache: dict[str, Any], metric: Counter, value: str) -> Any:
    child = cache.get(value)
    if child is None:
        child = cache[value] = metric.labels(value)
    return child


def sample_pool(pool: Any) -> None:
    """Record this worker's pool: connections in use, idle, and its maximum (nothing when it is not started)."""
    if pool is None:
        return
    size, idle = pool.get_size(), pool.get_idle_size()
    _in_use.set(size - idle)
    _idle.set(idle)
    POOL_MAX.set(pool.get_max_size())


def render() -> bytes:
    """The exposition text: every worker's values in multiprocess mode, this process's otherwise."""
    directory = _DIRECTORY
    if not directory:
        return generate_latest(REGISTRY)
    _forget_dead_workers(Path(directory))
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def forget_process(pid: int | None = None) -> None:
    """Drop a worker's live gauges (its counters stay: they are part of the instance's totals)."""
    directory = _DIRECTORY
    if directory:
        _multiprocess.mark_process_dead(os.getpid() if pid is None else pid, directory)  # type: ignore[no-untyped-call]


_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


def _forget_dead_workers(directory: Path) -> None:
    # A worker killed without its shutdown leaves its pool gauges behind; uvicorn starts another in its place.
    for path in directory.glob("gauge_live*.db"):
        match = _LIVE_FILE.fullmatch(path.name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            forget_process(pid)
        except PermissionError:
            pass


@contextlib.asynccontextmanager
async def sampling(pool: Callable[[], Any], *, every: float = 5.0) -> AsyncIterator[None]:
    """Sample this worker's pool every few seconds while serving, so a scrape answered by another sees it."""

    async def loop() -> None:
        while True:
            sample_pool(pool())
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        forget_process()
