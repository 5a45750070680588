"""Instrument a FastAPI app with one call: ``obs = instrument(app)``.

Logs (structlog JSON/console + OTLP), request ids, Prometheus metrics on ``/metrics``, OpenTelemetry
traces, Sentry errors. Copy this package or import it; it depends on nothing else in ``sample_app``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TextIO

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.multiprocess import mark_process_dead
from sentry_sdk.transport import Transport

from . import processes
from .context import bind
from .errors import ErrorReporter, setup_sentry
from .logs import configure_logging, get_logger
from .metrics import HttpMetrics, metrics_endpoint
from .middleware import ObservabilityMiddleware, Pipeline
from .pool import PoolMetrics
from .routes import RouteResolver
from .sampling import LogSampler, RandomSource
from .settings import ObservabilitySettings
from .spans import ServerSpans
from .tracing import (
    OtelLogBridge,
    Telemetry,
    instrument_client,
    instrument_engine,
    setup_telemetry,
)

__all__ = ["Observability", "ObservabilitySettings", "bind", "get_logger", "instrument"]


@dataclass(frozen=True)
class Observability:
    """Handle returned by `instrument`: instrument engines and clients, shut down at exit."""

    settings: ObservabilitySettings
    registry: CollectorRegistry
    telemetry: Telemetry
    report_error: ErrorReporter

    def instrument_engine(self, engine: Any, capacity: int) -> PoolMetrics:
        """Pool gauges + wait histogram, and a span per SQL statement."""
        pool_metrics = PoolMetrics(self.registry, self.settings.db_pool_name)
        pool_metrics.attach(engine, capacity)
        instrument_engine(engine, self.telemetry.tracer_provider)
        return pool_metrics

    def instrument_client(self, client: Any) -> None:
        """A span (and propagated trace context) per outgoing httpx request."""
        instrument_client(client, self.telemetry.tracer_provider)

    def shutdown(self) -> None:
        """Flush exporters (bounded by the OTLP timeout) and retire this worker's live gauges."""
        self.telemetry.shutdown()
        if self.settings.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), str(self.settings.multiprocess_dir))


def _default_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def _ensure_process_metrics(registry: CollectorRegistry) -> None:
    """process_cpu_seconds_total and process_resident_memory_bytes, unless the registry has them."""
    if registry.get_sample_value("process_cpu_seconds_total") is None:
        ProcessCollector(registry=registry)


def _disable_native_fastapi_telemetry(app: FastAPI) -> None:
    """Recent FastAPI traces itself once a global provider exists (five spans per request).

    Our middleware already makes the server span, so FastAPI's own telemetry is switched off; its
    config dict is read on every request, so updating it in place takes effect.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False)


def instrument(  # the keyword-only seams exist for tests and the benchmark
    app: FastAPI,
    settings: ObservabilitySettings | None = None,
    *,
    registry: CollectorRegistry | None = None,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    sentry_transport: type[Transport] | Transport | None = None,
    log_stream: TextIO | None = None,
    log_random: RandomSource | None = None,
) -> Observability:
    """Add the observability middleware and ``/metrics`` to ``app``; configure logs, traces, Sentry."""
    settings = settings or ObservabilitySettings()
    registry = registry if registry is not None else _default_registry()
    _ensure_process_metrics(registry)
    if settings.multiprocess_dir is not None:
        processes.mark_dead_workers(settings.multiprocess_dir)
    telemetry = setup_telemetry(settings, span_exporter, log_exporter)
    _disable_native_fastapi_telemetry(app)
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(telemetry.tracer_provider)
    bridge = None
    if telemetry.logger_provider is not None:
        bridge = OtelLogBridge(telemetry.logger_provider, settings.service_name)
        telemetry.bridges.append(bridge)
    access_log = configure_logging(
        level=settings.log_level, json_logs=settings.json_logs, stream=log_stream, bridge=bridge
    )
    report_error = setup_sentry(settings, sentry_transport)
    pipeline = Pipeline(
        metrics=HttpMetrics(registry, settings.latency_buckets),
        spans=ServerSpans(telemetry.tracer_provider, telemetry.span_processors),
        access_log=access_log,
        report_error=report_error,
        excluded=frozenset(settings.metrics_excluded_handlers),
        sampler=LogSampler(
            registry, settings.log_excluded_routes, settings.log_sample_routes,
            settings.slow_request_seconds, log_random,
        ),
    )
    app.add_middleware(ObservabilityMiddleware, pipeline=pipeline, resolver=RouteResolver(app))
    endpoint = metrics_endpoint(registry, settings.multiprocess_dir, settings.resolved_metrics_token())
    app.add_api_route("/metrics", endpoint, methods=["GET"], include_in_schema=False)
    obs = Observability(settings, registry, telemetry, report_error)
    app.state.observability = obs
    return obs
