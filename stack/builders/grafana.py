"""settings -> Grafana provisioning: datasources with fixed UIDs that link to each other, and a provider.

Correlations: Prometheus exemplars (the app's `trace_id`, Tempo's span metrics' `traceID`) -> Tempo; Loki
`trace_id` (structured metadata) -> Tempo; Tempo -> Loki (traces to logs), -> Prometheus (traces to
metrics, service map). Alertmanager for silences.
"""

from __future__ import annotations

import posixpath

from stack import conventions as c
from stack.models.grafana import (
    AlertmanagerJsonData,
    DashboardProvider,
    DashboardProvidersFile,
    Datasource,
    DatasourceLink,
    DatasourcesFile,
    DerivedField,
    ExemplarDestination,
    LinkedQuery,
    LokiJsonData,
    PrometheusJsonData,
    ProviderOptions,
    TagMapping,
    TempoJsonData,
    TracesToLogs,
    TracesToMetrics,
)
from stack.settings import StackSettings

UIDS = c.DATASOURCE_UIDS
TRACE_ID = "trace_id"  # exemplar label (sample app) and structured-metadata key (OTLP logs in Loki)
# Tempo's metrics-generator labels its span-metrics exemplars `traceID` unless trace_id_label_name is set
# (Tempo 2.9.0, modules/generator/registry/histogram.go); Grafana links each exemplar label listed in
# exemplarTraceIdDestinations by name, so both labels are listed.
TEMPO_EXEMPLAR_LABEL = "traceID"
EXEMPLAR_TRACE_LABELS = (TRACE_ID, TEMPO_EXEMPLAR_LABEL)
LOKI_SERVICE_LABEL = "service_name"  # Loki's index label for the OTLP resource attribute service.name
SPAN_SHIFT = ("-5m", "5m")


def url(settings: StackSettings, component: str, placement: c.Placement = c.IN_CONTAINERS) -> str:
    """The component's address as Grafana reaches it: compose service name (or 127.0.0.1) and port."""
    return f"http://{placement.host(component)}:{getattr(settings.components, component).port}"


def build_datasources(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> DatasourcesFile:
    return DatasourcesFile(
        datasources=(
            prometheus_datasource(settings, placement),
            loki_datasource(settings, placement),
            tempo_datasource(settings, placement),
            Datasource(
                name="Alertmanager",
                type="alertmanager",
                uid=UIDS["alertmanager"],
                url=url(settings, "alertmanager", placement),
                jsonData=AlertmanagerJsonData(),
            ),
        )
    )


def prometheus_datasource(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> Datasource:
    trace_links = tuple(
        ExemplarDestination(name=label, datasourceUid=UIDS["tempo"], urlDisplayLabel="View trace")
        for label in EXEMPLAR_TRACE_LABELS
    )
    return Datasource(
        name="Prometheus",
        type="prometheus",
        uid=UIDS["prometheus"],
        url=url(settings, "prometheus", placement),
        isDefault=True,
        jsonData=PrometheusJsonData(
            timeInterval=str(settings.timing.scrape_interval), exemplarTraceIdDestinations=trace_links
        ),
    )


def loki_datasource(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> Datasource:
    trace_field = DerivedField(
        name="TraceID",
        matcherType="label",
        matcherRegex=TRACE_ID,
        datasourceUid=UIDS["tempo"],
        url="$${__value.raw}",
        urlDisplayLabel="View trace",
    )
    return Datasource(
        name="Loki",
        type="loki",
        uid=UIDS["loki"],
        url=url(settings, "loki", placement),
        jsonData=LokiJsonData(derivedFields=(trace_field,)),
    )


def tempo_datasource(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> Datasource:
    start, end = SPAN_SHIFT
    to_logs = TracesToLogs(
        datasourceUid=UIDS["loki"],
        spanStartTimeShift=start,
        spanEndTimeShift=end,
        tags=(TagMapping(key="service.name", value=LOKI_SERVICE_LABEL),),
        query=f'{{$${{__tags}}}} | {TRACE_ID}="$${{__trace.traceId}}"',
    )
    to_metrics = TracesToMetrics(
        datasourceUid=UIDS["prometheus"],
        spanStartTimeShift=start,
        spanEndTimeShift=end,
        tags=(TagMapping(key="service.name", value=c.SERVICE_LABEL),),
        queries=trace_metric_queries(),
    )
    return Datasource(
        name="Tempo",
        type="tempo",
        uid=UIDS["tempo"],
        url=url(settings, "tempo", placement),
        jsonData=TempoJsonData(
            tracesToLogsV2=to_logs,
            tracesToMetrics=to_metrics,
            serviceMap=DatasourceLink(datasourceUid=UIDS["prometheus"]),
        ),
    )


def trace_metric_queries() -> tuple[LinkedQuery, ...]:
    """Queries opened from a span; `$$__tags` becomes `service="<service.name>"`."""
    window = "[$$__rate_interval]"
    conventions = c.CONVENTIONS.values()
    requests = "|".join(n.requests for n in conventions)
    buckets = "|".join(f"{n.duration}_bucket" for n in conventions)
    return (
        LinkedQuery(name="Request rate", query=f'sum(rate({{__name__=~"{requests}",$$__tags}}{window}))'),
        LinkedQuery(
            name="p95 latency",
            query=f'histogram_quantile(0.95, sum by (le) (rate({{__name__=~"{buckets}",$$__tags}}{window})))',
        ),
    )


def build_dashboard_providers(
    settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS
) -> DashboardProvidersFile:
    """One provider for the project's folder, reading the dashboards where the placement puts them."""
    path = posixpath.join(placement.config_root, settings.output.dashboards_dir) if placement.local else None
    return DashboardProvidersFile(
        providers=(
            DashboardProvider(
                name=settings.project,
                folder=settings.project,
                options=ProviderOptions(path=path or c.CONTAINER_DASHBOARDS),
            ),
        )
    )
