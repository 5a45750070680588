"""The handle `instrument` returns: engines, clients, readiness checks, fault toggles, shutdown."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.multiprocess import mark_process_dead

from . import processes
from .errors import ErrorReporter
from .faults import Faults, Toggle
from .health import Check, Readiness
from .pool import ConnectionHolder, PoolMetrics
from .settings import ObsSettings
from .tracing import Telemetry, instrument_client, instrument_engine


def default_registry() -> CollectorRegistry:
    """A fresh registry with the platform, GC and process collectors (no global state)."""
    registry = CollectorRegistry()
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def prepare_registry(registry: CollectorRegistry | None, multiprocess_dir: Path | None) -> CollectorRegistry:
    """The given registry (or a fresh one) with process metrics; dead workers marked in multiprocess mode."""
    registry = registry if registry is not None else default_registry()
    if registry.get_sample_value("process_cpu_seconds_total") is None:
        ProcessCollector(registry=registry)
    if multiprocess_dir is not None:
        processes.mark_dead_workers(multiprocess_dir)
    return registry


@dataclass(frozen=True)
class Observability:
    """Returned by `instrument`: instrument engines and clients, add checks and toggles, shut down."""

    settings: ObsSettings
    registry: CollectorRegistry
    telemetry: Telemetry
    report_error: ErrorReporter
    faults: Faults | None = None
    access_log: Any = None
    readiness: Readiness = field(default_factory=Readiness)

    def instrument_engine(self, engine: Any, capacity: int) -> PoolMetrics:
        """Pool gauges + wait histogram, a span per SQL statement, and the pool the faults hold."""
        pool_metrics = PoolMetrics(self.registry, self.settings.db_pool_name)
        pool_metrics.attach(engine, capacity)
        instrument_engine(engine, self.telemetry.tracer_provider)
        if self.faults is not None:
            self.faults.holder = ConnectionHolder(engine, capacity, pool_metrics)
        return pool_metrics

    def instrument_client(self, client: Any) -> None:
        """A span (and propagated trace context) per outgoing httpx request."""
        instrument_client(client, self.telemetry.tracer_provider)

    def add_check(self, name: str, check: Check) -> None:
        """A readiness check served by ``/ready`` (sync or async; fails by raising or returning False)."""
        self.readiness.add(name, check)

    def add_fault_toggle(self, toggle: Toggle) -> None:
        """An app-specific toggle on the fault endpoint; ignored when faults are disabled."""
        if self.faults is not None:
            self.faults.add_toggle(toggle)

    async def reset_faults(self) -> None:
        """Give held connections back (call before disposing the engine)."""
        if self.faults is not None:
            await self.faults.reset()

    def shutdown(self) -> None:
        """Flush exporters (bounded by the OTLP timeout) and retire this worker's live gauges."""
        self.telemetry.shutdown()
        if self.settings.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), str(self.settings.multiprocess_dir))  # type: ignore[no-untyped-call]
