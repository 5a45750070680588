"""Instrument a FastAPI app with one call: ``obs = instrument(app)``.

Metrics on ``/metrics``, JSON logs with request and trace ids (structlog, stdlib; on stdout for a collector
to read, as OTLP records too with ``OBS_OTLP_LOGS``), OpenTelemetry traces, Sentry errors, ``/healthz`` and
``/ready``, and opt-in fault toggles. Each pillar can be
switched off (``instrument(app, logs=False, ...)``) and each part is usable alone: `expose`,
`add_health`, `add_faults`, and the structlog processors `add_request_context`, `add_trace_ids`,
`redact_event`. Settings come from ``OBS_*`` / ``OTEL_*`` variables (`ObsSettings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

import structlog
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry
from sentry_sdk.transport import Transport

from .auth import bearer_guard, bearer_ok
from .bounded import BoundedMetric, Label, MetricSpec, build_all
from .context import bind
from .context import current as current_request
from .context import trace_ids as current_trace_ids
from .errors import no_report, setup_sentry
from .faults import Faults, Toggle, add_faults
from .health import Check, Readiness, add_health
from .logs import add_request_context, add_trace_ids, configure_logging, get_logger, redact_event
from .metrics import NoMetrics, expose, http_metrics
from .middleware import ObservabilityMiddleware, Pipeline
from .observability import Observability, default_registry, prepare_registry
from .otlp_logs import OtelLogBridge
from .pool import PoolMetrics
from .processes import prepare_directory as prepare_multiprocess_dir
from .redact import REDACTED, redact_mapping, redact_text
from .request_id import safe_id
from .routes import RouteResolver
from .sampling import LogSampler, RandomSource
from .settings import FAULTS_PATH, HEALTH_PATH, READY_PATH, ConfigError, ObsSettings, read_secret
from .tracing import Telemetry, setup_telemetry

__all__ = [  # noqa: RUF022 - grouped: one call, the parts usable alone, processors, helpers
    "ConfigError", "ObsSettings", "Observability", "instrument",
    "Check", "Faults", "Readiness", "Toggle", "add_faults", "add_health", "default_registry", "expose",
    "add_request_context", "add_trace_ids", "bind", "current_request", "current_trace_ids", "get_logger",
    "redact_event",
    "REDACTED", "BoundedMetric", "Label", "MetricSpec", "PoolMetrics", "bearer_guard", "bearer_ok", "build_all",
    "prepare_multiprocess_dir", "read_secret", "redact_mapping", "redact_text", "safe_id",
]  # fmt: skip


@dataclass(frozen=True)
class Pillars:
    """Which parts `instrument` sets up; every one is on unless switched off."""

    metrics: bool = True
    logs: bool = True
    access_log: bool = True
    traces: bool = True
    sentry: bool = True
    health: bool = True


@dataclass(frozen=True)
class Seams:
    """Injected sinks (tests, benchmarks): registry, exporters, Sentry transport, log stream, random source."""

    registry: CollectorRegistry | None = None
    span_exporter: SpanExporter | None = None
    log_exporter: LogRecordExporter | None = None
    sentry_transport: type[Transport] | Transport | None = None
    log_stream: TextIO | None = None
    log_random: RandomSource | None = None
    checks: dict[str, Check] = field(default_factory=dict)


def instrument(  # one keyword per pillar and per seam: the documented surface of the library
    app: FastAPI,
    settings: ObsSettings | None = None,
    *,
    service_name: str | None = None,
    metrics: bool = True,
    logs: bool = True,
    access_log: bool = True,
    traces: bool = True,
    sentry: bool = True,
    health: bool = True,
    checks: dict[str, Check] | None = None,
    registry: CollectorRegistry | None = None,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
    sentry_transport: type[Transport] | Transport | None = None,
    log_stream: TextIO | None = None,
    log_random: RandomSource | None = None,
) -> Observability:
    """Add the middleware, ``/metrics``, ``/healthz`` + ``/ready`` and (if enabled) the fault toggles.

    ``service_name`` overrides ``OBS_SERVICE_NAME`` / ``OTEL_SERVICE_NAME``; without any, `ConfigError`.
    ``logs=False`` leaves logging configuration to you (access lines then go through your structlog
    chain; ``access_log=False`` drops them). ``checks`` are readiness checks (name -> callable).
    """
    settings = _resolve(settings, service_name)
    pillars = Pillars(metrics, logs, access_log, traces, sentry, health)
    seams = Seams(registry, span_exporter, log_exporter, sentry_transport, log_stream, log_random, checks or {})
    return _build(app, settings, pillars, seams)


def _resolve(settings: ObsSettings | None, service_name: str | None) -> ObsSettings:
    """Settings from the environment unless given, with the service name checked (`ConfigError`)."""
    settings = settings if settings is not None else ObsSettings()
    if service_name:
        settings = settings.model_copy(update={"service_name": service_name})
    _ = settings.service
    settings.resolved_metrics_token()
    settings.resolved_faults_token()
    return settings


def _build(app: FastAPI, settings: ObsSettings, pillars: Pillars, seams: Seams) -> Observability:
    registry = prepare_registry(seams.registry, settings.multiprocess_dir)
    telemetry = _telemetry(app, settings, pillars, seams)
    access_log = _logging(settings, pillars, seams, telemetry)
    report_error = setup_sentry(settings, seams.sentry_transport) if pillars.sentry else no_report
    faults = Faults(settings.faults_seed) if settings.faults_enabled else None
    pipeline = Pipeline(
        metrics=http_metrics(settings.metrics_convention, registry, settings.latency_buckets)
        if pillars.metrics else NoMetrics(),
        spans=telemetry.server_spans(), access_log=access_log, report_error=report_error,
        excluded=settings.excluded_handlers, sampler=_sampler(settings, registry, seams),
        faults=faults, fault_exempt=frozenset({HEALTH_PATH, READY_PATH}),
    )  # fmt: skip
    app.add_middleware(ObservabilityMiddleware, pipeline=pipeline, resolver=RouteResolver(app))
    obs = Observability(settings, registry, telemetry, report_error, faults, access_log)
    _mount(app, obs, pillars, seams)
    app.state.observability = obs
    return obs


def _telemetry(app: FastAPI, settings: ObsSettings, pillars: Pillars, seams: Seams) -> Telemetry:
    """Providers and exporters; the global tracer provider is set only if nobody set one."""
    telemetry = setup_telemetry(
        settings, seams.span_exporter, seams.log_exporter, traces=pillars.traces, logs=pillars.logs
    )
    if not pillars.traces:
        return telemetry
    _disable_native_fastapi_telemetry(app)
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(telemetry.tracer_provider)
    return telemetry


def _logging(settings: ObsSettings, pillars: Pillars, seams: Seams, telemetry: Telemetry) -> Any:
    """Configure logging (``logs=True``) and return the access logger (None without access lines)."""
    if not pillars.logs:
        return structlog.get_logger("obsstack_fastapi.access") if pillars.access_log else None
    bridge = None
    if telemetry.log_exporter is not None:
        timeout_ms = int(settings.otlp_timeout_seconds * 1000)
        bridge = OtelLogBridge(telemetry.log_exporter, telemetry.tracer_provider.resource, timeout_ms=timeout_ms)
        telemetry.bridges.append(bridge)
    logger = configure_logging(
        level=settings.log_level, json_logs=settings.json_logs, stream=seams.log_stream, bridge=bridge
    )
    return logger if pillars.access_log else None


def _sampler(settings: ObsSettings, registry: CollectorRegistry, seams: Seams) -> LogSampler:
    return LogSampler(
        registry, settings.log_excluded_routes, settings.log_sample_routes, settings.slow_request_seconds,
        seams.log_random,
    )  # fmt: skip


def _mount(app: FastAPI, obs: Observability, pillars: Pillars, seams: Seams) -> None:
    """The routes: metrics, health and readiness, fault toggles (each only when switched on)."""
    settings = obs.settings
    if pillars.metrics:
        expose(
            app, settings.metrics_path, settings.resolved_metrics_token(), registry=obs.registry,
            multiprocess_dir=settings.multiprocess_dir,
        )  # fmt: skip
    if pillars.health:
        add_health(app, obs.readiness)
    for name, check in seams.checks.items():
        obs.readiness.add(name, check)
    if obs.faults is not None:
        token = settings.resolved_faults_token()
        assert token is not None  # the settings validator guarantees a token source
        add_faults(app, obs.faults, token, FAULTS_PATH)


def _disable_native_fastapi_telemetry(app: FastAPI) -> None:
    """Recent FastAPI traces itself once a global provider exists (five spans per request).

    Our middleware already makes the server span, so FastAPI's own telemetry is switched off; its
    config dict is read on every request, so updating it in place takes effect.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False)

