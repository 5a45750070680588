"""Names shared by every builder: metrics, recording rules, alerts, UIDs, panel ids and file paths.

The sample app exposes the metric names below; a contract test checks that it does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from stack.durations import Duration

# --- what the app exposes (prometheus-fastapi-instrumentator names) -----------------------------
HTTP_REQUESTS = "http_requests_total"
HTTP_DURATION = "http_request_duration_seconds"
HTTP_INPROGRESS = "http_requests_inprogress"
DB_POOL_IN_USE = "db_pool_connections_in_use"
DB_POOL_IDLE = "db_pool_connections_idle"
DB_POOL_MAX = "db_pool_connections_max"
DB_POOL_WAITING = "db_pool_waiting"
DB_POOL_WAIT = "db_pool_wait_seconds"
PROCESS_CPU = "process_cpu_seconds_total"
PROCESS_RSS = "process_resident_memory_bytes"

SERVICE_LABEL = "service"
ERROR_STATUS_REGEX = "5.."  # grouped ("5xx", the instrumentator's default) and raw ("503") status labels
PROCESS_START = "process_start_time_seconds"


@dataclass(frozen=True)
class HttpNames:
    """The HTTP metric and label names of one metric convention, as Prometheus exposes them. `inprogress`
    is None when the service has no in-flight gauge (its panel is left out)."""

    requests: str  # a counter of requests
    duration: str  # the latency histogram (without _bucket)
    inprogress: str | None
    route: str
    method: str
    status: str

    def failed(self, service: str) -> str:
        """The selector of the service's requests answered with a 5xx (grouped "5xx" or raw "503" alike)."""
        errors = json.dumps(ERROR_STATUS_REGEX)
        return f"{self.requests}{{{SERVICE_LABEL}={json.dumps(service)},{self.status}=~{errors}}}"


CONVENTIONS = {
    "instrumentator": HttpNames(
        requests="http_requests_total", duration="http_request_duration_seconds",
        inprogress="http_requests_inprogress", route="handler", method="method", status="status",
    ),
    # OpenTelemetry's stable HTTP semantic conventions (http.server.request.duration in seconds), as the
    # collector's Prometheus remote write names them; Python's instrumentations emit them with
    # OTEL_SEMCONV_STABILITY_OPT_IN=http (obsstack sets it for the otel services it starts)
    "otel": HttpNames(
        requests="http_server_request_duration_seconds_count", duration="http_server_request_duration_seconds",
        inprogress="http_server_active_requests", route="http_route", method="http_request_method",
        status="http_response_status_code",
    ),
}  # fmt: skip

# The latency buckets each convention really has when the service does not declare its own. None: the
# instrumentator-shaped services obsstack starts get `metrics.latency_buckets` (OBS_LATENCY_BUCKETS).
OTEL_SEMCONV_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
CLIENT_PYTHON_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
CONVENTION_BUCKETS: dict[str, tuple[float, ...] | None] = {
    "instrumentator": None,
    "otel": OTEL_SEMCONV_BUCKETS,  # the semantic conventions' advice for http.server.request.duration
    "custom": CLIENT_PYTHON_BUCKETS,  # prometheus_client's Histogram.DEFAULT_BUCKETS (without +Inf)
}
# Whether a convention's services expose process_* (client_python's process collector) unless stack.yaml
# says otherwise (`process_metrics`): OpenTelemetry's SDK does not.
CONVENTION_PROCESS_METRICS = {"instrumentator": True, "otel": False, "custom": True}
# Metric name suffixes each metric of a custom convention must (not) end with, by type
COUNTER_SUFFIX = "_total"
HISTOGRAM_SERIES_SUFFIXES = ("_bucket", "_count", "_sum", "_created")
EXPORT_INTERVAL_ENV = "OTEL_METRIC_EXPORT_INTERVAL"  # ms between OTLP metric pushes (the SDK default is 60000)
SEMCONV_OPT_IN_ENV = "OTEL_SEMCONV_STABILITY_OPT_IN"
LOG_AUTO_INSTRUMENTATION_ENV = "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"

# --- alerts -----------------------------------------------------------------------------------------
ALERT_LATENCY = "HighLatencyP95"
ALERT_ERRORS = "HighErrorRate"
ALERT_POOL = "DBPoolSaturation"
ALERT_POOL_WAITING = "DBPoolRequestsWaiting"
ALERT_BURN = "ErrorBudgetBurn"
ALERT_TARGET_DOWN = "TargetDown"
ALERT_WATCHDOG = "Watchdog"
ALERT_ABSENT = "ServiceMetricsAbsent"
ALERT_TRAFFIC_DROP = "TrafficDrop"
ALERT_RESTARTS = "ServiceRestarting"
SEVERITIES = ("critical", "warning")
BUILT_IN_ALERTS = frozenset({
    ALERT_LATENCY, ALERT_ERRORS, ALERT_POOL, ALERT_POOL_WAITING, ALERT_BURN, ALERT_TARGET_DOWN, ALERT_WATCHDOG,
    ALERT_ABSENT, ALERT_TRAFFIC_DROP, ALERT_RESTARTS,
})  # fmt: skip

PLATFORM_SERVICE = "obsstack"
WEBHOOK_RECEIVERS = ("critical", "warning", "watchdog")


@dataclass(frozen=True)
class BurnTierSpec:
    """One multi-window multi-burn-rate tier, with windows as written for a 30-day SLO window."""

    name: str
    severity: str
    factor: float
    long_window: Duration
    short_window: Duration

    def scaled(self, slo_window: Duration) -> tuple[Duration, Duration]:
        """Long and short windows for this SLO window (the budget share consumed stays the same)."""
        ratio = slo_window.ms / Duration.parse("30d").ms
        return _round_window(self.long_window * ratio), _round_window(self.short_window * ratio)


def _round_window(value: Duration) -> Duration:
    return Duration(max(1000, round(value.ms / 1000) * 1000))


BURN_TIERS: tuple[BurnTierSpec, ...] = (
    BurnTierSpec("page_fast", "critical", 14.4, Duration.parse("1h"), Duration.parse("5m")),
    BurnTierSpec("page_slow", "critical", 6.0, Duration.parse("6h"), Duration.parse("30m")),
    BurnTierSpec("ticket_fast", "warning", 3.0, Duration.parse("1d"), Duration.parse("2h")),
    BurnTierSpec("ticket_slow", "warning", 1.0, Duration.parse("3d"), Duration.parse("6h")),
)

# --- recording rules (level:metric:operations) ------------------------------------------------------


def window_name(window: Duration) -> str:
    return str(window)


def rec_request_rate(window: Duration, by_handler: bool = False) -> str:
    level = "service_handler" if by_handler else "service"
    return f"{level}:http_requests:rate{window_name(window)}"


def rec_error_rate(window: Duration) -> str:
    return f"service:http_requests_5xx:rate{window_name(window)}"


def rec_error_ratio(window: Duration, by_handler: bool = False) -> str:
    level = "service_handler" if by_handler else "service"
    return f"{level}:http_requests_5xx:ratio_rate{window_name(window)}"


def rec_latency_quantile(quantile: float, window: Duration, by_handler: bool = False) -> str:
    level = "service_handler" if by_handler else "service"
    return f"{level}:http_request_duration_seconds:p{round(quantile * 100)}_rate{window_name(window)}"


def rec_latency_buckets(window: Duration) -> str:
    return f"service_le:http_request_duration_seconds_bucket:rate{window_name(window)}"


def rec_slo_error_ratio(window: Duration) -> str:
    return f"service:slo_errors_per_request:ratio_rate{window_name(window)}"


REC_POOL_UTILIZATION = "service:db_pool_connections:utilization_ratio"
REC_SLO_BUDGET_REMAINING = "service:slo_error_budget:remaining_ratio"
LATENCY_QUANTILES = (0.5, 0.95, 0.99)

# --- files ----------------------------------------------------------------------------------------
GENERATED_HEADER = "# Code generated by obsstack from stack.yaml. DO NOT EDIT.\n# Regenerate with: obsstack generate\n"


def rules_file(service: str) -> str:
    return f"{service}.rules.yml"


def slo_test_file(rules_filename: str) -> str:
    return rules_filename.replace(".rules.yml", ".slo.test.yml")


PLATFORM_RULES_FILE = "platform.rules.yml"


def rule_groups(service: str) -> tuple[str, str, str]:
    """A service's rule groups in evaluation order: recording rules, SLO ratios, alerts."""
    return f"{service}.recording", f"{service}.slo", f"{service}.alerts"


def rules_test_file(rules_filename: str) -> str:
    return rules_filename.replace(".rules.yml", ".test.yml")


PROMETHEUS_CONFIG = "prometheus/prometheus.yml"
ALERTMANAGER_CONFIG = "alertmanager/alertmanager.yml"

# --- Grafana ----------------------------------------------------------------------------------------
# Every panel of the dashboards by name (ids are stable: alerts link to theirs with viewPanel=<id>). The
# alerts' panels are traffic, restarts, errors, latency, saturation, slo, logs and business (the first
# business panel; the next ones follow it).
PANEL_IDS = {
    "traffic": 2,
    "traffic_by_status": 3,
    "restarts": 4,
    "errors": 6,
    "errors_by_route": 7,
    "top_failing_routes": 8,
    "latency": 10,
    "latency_heatmap": 11,
    "latency_by_route": 12,
    "saturation": 14,
    "pool_connections": 15,
    "pool_wait": 16,
    "in_flight": 17,
    "process_cpu": 18,
    "process_memory": 19,
    "slo": 20,
    "availability": 21,
    "latency_sli": 22,
    "budget_remaining": 23,
    "logs": 26,
    "slow_traces": 27,
    "firing_alerts": 30,
    "business": 40,
}
DATASOURCE_UIDS = {
    "prometheus": "obs-prometheus",
    "loki": "obs-loki",
    "tempo": "obs-tempo",
    "alertmanager": "obs-alertmanager",
}


@cache
def stable_uid(name: str) -> str:
    """A Grafana UID (max 40 chars) derived from the name only: same name, same UID (each name hashed once
    per run: every link to a dashboard names its UID)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:26]
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{slug}-{digest}"


def dashboard_name(service: str) -> str:
    return f"{service}-golden-signals"


def dashboard_url(grafana_url: str, service: str, panel: str | None = None) -> str:
    name = dashboard_name(service)
    url = f"{grafana_url}/d/{stable_uid(name)}/{name}?var-service={service}"
    if panel is not None:
        url += f"&viewPanel={PANEL_IDS[panel]}"
    return url


def runbook_url(base: str, alert: str) -> str:
    return f"{base}/{alert}.md"


# --- compose and runtime -----------------------------------------------------------------------------
COMPOSE_FILE = "compose.yaml"
COMPOSE_EPHEMERAL_FILE = "compose.ephemeral.yaml"
COMPOSE_ENV_FILE = ".env"
ALERTMANAGER_COMPOSE_CONFIG = "alertmanager/alertmanager.compose.yml"
LOKI_CONFIG = "loki/loki.yaml"
TEMPO_CONFIG = "tempo/tempo.yaml"
OTELCOL_CONFIG = "otelcol/config.yaml"
GRAFANA_PROVISIONING = "grafana/provisioning"

CONTAINER_ROOT = "/etc/obsstack"  # the project layout is mirrored under this path in containers
CONTAINER_DASHBOARDS = "/etc/obsstack/dashboards"
HOST_GATEWAY = "host.docker.internal"  # how containers reach the host (extra_hosts: host-gateway)
LOAD_PROFILE = "load"  # compose profile of the optional load generator

SECRETS_DIR = "secrets"
FAULTS_TOKEN_FILE = "secrets/faults-token"  # noqa: S105 - a path, not a token

ENV_GRAFANA_PASSWORD = "GRAFANA_ADMIN_PASSWORD"  # noqa: S105 - the name of a variable
ENV_POSTGRES_PASSWORD = "POSTGRES_PASSWORD"  # noqa: S105 - the name of a variable
POSTGRES_USER = "obsstack"
POSTGRES_DB = "obsstack"

OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
OTELCOL_HEALTH_PORT = 13133
LOKI_GRPC_PORT = 9096
TEMPO_GRPC_PORT = 9097
TEMPO_LOCAL_OTLP_PORTS = (4417, 4418)  # locally the collector owns 4317/4318
# The local Cortex ring (`up --local --ring`) above components.mimir.port: member i listens on port + i (HTTP),
# + RING_GRPC_OFFSET + i (gRPC) and + RING_GOSSIP_OFFSET + i (memberlist); RING_SPAN is its highest port's offset.
RING_REPLICAS = 3
RING_GRPC_OFFSET = 100
RING_GOSSIP_OFFSET = 200
RING_SPAN = RING_GOSSIP_OFFSET + RING_REPLICAS - 1

# --- the licence-clean stores (backends.traces: jaeger, backends.logs: victorialogs) -------------------------
# What the generator and the runtime both need; the rest of each store is its entry of stack.builders.backends.
JAEGER_CONFIG = "jaeger/config.yaml"  # Jaeger v2 is a collector distribution configured by its own YAML
JAEGER_GRPC_PORT = 16685  # the query API over gRPC (its HTTP API and UI are on components.jaeger.port)
JAEGER_HEALTH_PORT = 13133  # its healthcheckv2 extension, where the image and the Helm chart's probes expect it
JAEGER_HEALTH_PATH = "/status"
JAEGER_METRICS_PORT = 8888  # its own metrics, where the Helm chart's Service exposes them
# locally the collector owns 4317/4318, 13133 and 8888 (Tempo 4417/4418): Jaeger's OTLP, health, metrics ports
JAEGER_LOCAL_OTLP_PORTS = (4427, 4428)
JAEGER_LOCAL_HEALTH_PORT = 13134
JAEGER_LOCAL_METRICS_PORT = 14269
JAEGER_TRACES_API = "/api/traces"  # /api/traces/<trace id>, and ?service=<name> to search
VICTORIALOGS_OTLP_PATH = "/insert/opentelemetry/v1/logs"  # OTLP logs over HTTP, protobuf only
VICTORIALOGS_QUERY_PATH = "/select/logsql/query"
VICTORIALOGS_HEALTH_PATH = "/health"
VICTORIALOGS_RETENTION = "7d"
# every store's Grafana datasource UID (DATASOURCE_UIDS holds the ones the default LGTM stack provisions)
STORE_DATASOURCE_UIDS = {"loki": "obs-loki", "tempo": "obs-tempo", "jaeger": "obs-jaeger",
                         "victorialogs": "obs-victorialogs"}  # fmt: skip


@dataclass(frozen=True)
class SpanMetricNames:
    """The span-metrics and service-graph series a trace store's setup writes to Prometheus."""

    calls: str  # a counter of spans, by service
    service_label: str  # the label holding the span's service.name
    graph_requests: str  # the service graph's request counter (client, server labels)


# Tempo's metrics generator (traces_spanmetrics_*, label service) or the collector's spanmetrics connector,
# namespace traces.spanmetrics (its label for service.name is service_name)
SPAN_METRICS = {
    "tempo": SpanMetricNames("traces_spanmetrics_calls_total", "service", "traces_service_graph_request_total"),
    "jaeger": SpanMetricNames("traces_spanmetrics_calls_total", "service_name", "traces_service_graph_request_total"),
}


def victorialogs_flags(data: str, listen: str, port: int) -> tuple[str, ...]:
    """VictoriaLogs' command line (it has no config file), the same in a container and as a local process."""
    return (
        f"-storageDataPath={data}",
        f"-httpListenAddr={listen}:{port}",
        f"-retentionPeriod={VICTORIALOGS_RETENTION}",
    )


STATE_DIR = ".obsstack"
STATE_FILE = "state.json"


@dataclass(frozen=True)
class Placement:
    """Where the components run: containers on one network, or local processes on 127.0.0.1.

    A parameter of the whole plan (`render_all`): the builders of Prometheus, Grafana's provisioning,
    Loki, Tempo and the collector take one, so the same models serve both modes.
    """

    local: bool = False
    data_root: str = ""  # local mode: the state's data directory
    project_root: str = ""  # local mode: the project (stack.yaml's directory), for token files
    config_root: str = ""  # local mode: where the plan is written (.obsstack/local)
    running: tuple[str, ...] = ()  # local mode: the components and services that run (scrape jobs)
    logs_root: str = ""  # local mode: where each started process' output goes (<name>.log)

    @property
    def listen(self) -> str:
        return "127.0.0.1" if self.local else "0.0.0.0"  # inside a container network

    def host(self, component: str) -> str:
        return "127.0.0.1" if self.local else component

    def data(self, component: str, container_path: str) -> str:
        return f"{self.data_root}/{component}" if self.local else container_path

    def log_file(self, name: str) -> str:
        """Local mode: the file a started process' output goes to."""
        return f"{self.logs_root}/{name}.log"

    @property
    def tempo_otlp_ports(self) -> tuple[int, int]:
        return TEMPO_LOCAL_OTLP_PORTS if self.local else (OTLP_GRPC_PORT, OTLP_HTTP_PORT)

    @property
    def jaeger_otlp_ports(self) -> tuple[int, int]:
        return JAEGER_LOCAL_OTLP_PORTS if self.local else (OTLP_GRPC_PORT, OTLP_HTTP_PORT)

    @property
    def jaeger_health_port(self) -> int:
        return JAEGER_LOCAL_HEALTH_PORT if self.local else JAEGER_HEALTH_PORT

    @property
    def jaeger_metrics_port(self) -> int:
        return JAEGER_LOCAL_METRICS_PORT if self.local else JAEGER_METRICS_PORT


IN_CONTAINERS = Placement()


# --- dashboards (Grafana dashboards and provisioning) -----------------------------------------------
OVERVIEW_DASHBOARD = "overview"
GRAFANA_DATASOURCES = f"{GRAFANA_PROVISIONING}/datasources/datasources.yml"
GRAFANA_DASHBOARD_PROVIDERS = f"{GRAFANA_PROVISIONING}/dashboards/dashboards.yml"


def dashboard_file(name: str) -> str:
    return f"{name}.json"


# --- ports ---------------------------------------------------------------------------------------------


def component_ports(components: Any, postgres: bool, backends: Any = None) -> dict[str, int]:
    """Every port the stack's components listen on, by name (the services must use others)."""
    ports = {name: int(getattr(components, name).port) for name in
             ("prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol")}  # fmt: skip
    ports |= {
        "otelcol otlp grpc": OTLP_GRPC_PORT, "otelcol otlp http": OTLP_HTTP_PORT,
        "otelcol health": OTELCOL_HEALTH_PORT, "loki grpc": LOKI_GRPC_PORT, "tempo grpc": TEMPO_GRPC_PORT,
        "tempo otlp grpc": TEMPO_LOCAL_OTLP_PORTS[0], "tempo otlp http": TEMPO_LOCAL_OTLP_PORTS[1],
    }  # fmt: skip
    if postgres:
        ports["postgres"] = int(components.postgres.port)
    return ports | store_ports(components, backends)


def store_ports(components: Any, backends: Any) -> dict[str, int]:
    """The ports of the licence-clean stores `backends` chooses, as a local run binds them (Loki's and Tempo's
    are always reserved)."""
    ports: dict[str, int] = {}
    if backends is not None and backends.traces == "jaeger":
        ports |= {"jaeger": int(components.jaeger.port), "jaeger grpc": JAEGER_GRPC_PORT,
                  "jaeger health": JAEGER_LOCAL_HEALTH_PORT, "jaeger metrics": JAEGER_LOCAL_METRICS_PORT,
                  "jaeger otlp grpc": JAEGER_LOCAL_OTLP_PORTS[0],
                  "jaeger otlp http": JAEGER_LOCAL_OTLP_PORTS[1]}  # fmt: skip
    if backends is not None and backends.logs == "victorialogs":
        ports["victorialogs"] = int(components.victorialogs.port)
    return ports


# --- what obsstack passes to the services it starts (read by obsstack_fastapi) -------------------------


def service_env(name: str, buckets: tuple[float, ...], faults_token: str | None,
                metrics_token: str | None, otlp: str | None, environment: str, *,
                export_interval_ms: int | None = None, stable_semconv: bool = False,
                otlp_logs: bool = True) -> dict[str, str]:  # fmt: skip
    """Standard OTel variables plus obsstack_fastapi's OBS_* settings; services that read neither ignore them.
    `export_interval_ms`: how often a service's OpenTelemetry SDK pushes metrics (the profile's scrape interval,
    so a pushed service is as fresh as a scraped one); `stable_semconv` (an otel-convention service, run by
    OpenTelemetry's zero-code agent): the instrumentations emit the stable HTTP semantic conventions (the otel
    convention's names) instead of the old ones, and its logs are exported too. `otlp_logs`: obsstack_fastapi
    also exports its log lines by OTLP (OBS_OTLP_LOGS), false where the collector reads them from the service's
    log file."""
    env = {
        "OTEL_SERVICE_NAME": name,
        "OBS_ENVIRONMENT": environment,
        "OBS_LATENCY_BUCKETS": ",".join(f"{b:g}" for b in buckets),
    }
    if otlp:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp
    if otlp and export_interval_ms is not None:
        env[EXPORT_INTERVAL_ENV] = str(export_interval_ms)
    if otlp:
        env["OBS_OTLP_LOGS"] = "true" if otlp_logs else "false"
    if stable_semconv:
        env[SEMCONV_OPT_IN_ENV] = "http"
    if stable_semconv and otlp:  # opentelemetry-instrument exports the logging module's records only when asked
        env[LOG_AUTO_INSTRUMENTATION_ENV] = "true"
    if faults_token:
        env |= {"OBS_FAULTS_ENABLED": "true", "OBS_FAULTS_TOKEN_FILE": faults_token}
    if metrics_token:
        env["OBS_METRICS_TOKEN_FILE"] = metrics_token
    return env


def retention(slo_window: Duration) -> str:
    """Prometheus keeps twice the SLO window, so the whole window is always queryable."""
    return str(slo_window * 2)


def prometheus_flags(config: str, data: str, listen: str, slo_window: Duration) -> tuple[str, ...]:
    """Prometheus' command line, the same in a container and as a local process (only paths differ)."""
    return (
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--storage.tsdb.retention.time={retention(slo_window)}",
        f"--web.listen-address={listen}",
        "--web.enable-remote-write-receiver",
        "--enable-feature=exemplar-storage",
        "--web.enable-lifecycle",
    )


def alertmanager_flags(config: str, data: str, listen: str) -> tuple[str, ...]:
    """Alertmanager's command line: one instance, so no cluster listener."""
    return (
        f"--config.file={config}",
        f"--storage.path={data}",
        f"--web.listen-address={listen}",
        "--cluster.listen-address=",
    )


FAULTS = ("latency", "db_pool", "errors")  # verify's faults, in the order it injects them


@dataclass(frozen=True)
class FaultAlerts:
    """What one of verify's faults must fire, may also fire and must see resolved, for one service. The
    generator derives it from the alert catalogue; verify receives it (the runtime never builds)."""

    required: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    must_resolve: frozenset[str] = frozenset()


# --- Mimir ------------------------------------------------------------------------------------------
MIMIR_ALERTMANAGER_CONFIG = "alertmanager.yaml"  # the tenant's Alertmanager config (`mimirtool alertmanager load`)
MIMIR_RULES_DIR = "rules"  # one rule file (mimirtool/cortextool format) per namespace: a service, or the platform
MIMIR_PLATFORM_NAMESPACE = "obsstack-platform"  # the stack-wide groups (watchdog, ...)
