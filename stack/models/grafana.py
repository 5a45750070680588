"""Grafana provisioning files (datasources with correlations, a dashboard provider) and query targets.

Field names are Grafana's own (camelCase), as in its provisioning reference, so a key reads the same here
and in the docs. A literal `$` in a value is written `$$`: Grafana expands `$VAR` in provisioning files.
"""

from dataclasses import dataclass
from typing import Any, Literal

from stack.conventions import DATASOURCE_UIDS, STORE_DATASOURCE_UIDS
from stack.models import ConfigModel


class ExemplarDestination(ConfigModel):
    """An exemplar label whose value is a trace id, linked to a tracing datasource."""

    name: str
    datasourceUid: str
    urlDisplayLabel: str


class PrometheusJsonData(ConfigModel):
    httpMethod: Literal["POST", "GET"] = "POST"
    prometheusType: Literal["Prometheus"] = "Prometheus"
    timeInterval: str
    exemplarTraceIdDestinations: tuple[ExemplarDestination, ...]


class DerivedField(ConfigModel):
    """A field derived from each log line; `matcherType: label` matches a label or structured metadata."""

    name: str
    matcherType: Literal["label", "regex"]
    matcherRegex: str
    datasourceUid: str
    url: str
    urlDisplayLabel: str


class LokiJsonData(ConfigModel):
    maxLines: str = "1000"
    derivedFields: tuple[DerivedField, ...]


class TagMapping(ConfigModel):
    """A span attribute (key) and the label it is called in the target datasource (value)."""

    key: str
    value: str | None = None


class TracesToLogs(ConfigModel):
    datasourceUid: str
    spanStartTimeShift: str
    spanEndTimeShift: str
    tags: tuple[TagMapping, ...]
    filterByTraceID: bool = False
    filterBySpanID: bool = False
    customQuery: bool = True
    query: str


class LinkedQuery(ConfigModel):
    name: str
    query: str


class TracesToMetrics(ConfigModel):
    datasourceUid: str
    spanStartTimeShift: str
    spanEndTimeShift: str
    tags: tuple[TagMapping, ...]
    queries: tuple[LinkedQuery, ...]


class DatasourceLink(ConfigModel):
    datasourceUid: str


class Toggle(ConfigModel):
    enabled: bool = True


class TempoSearch(ConfigModel):
    hide: bool = False


class TempoJsonData(ConfigModel):
    """The keys Grafana 12's Tempo datasource reads (TempoJsonData in its types.ts). There is no `lokiSearch`:
    the Loki search tab went in Grafana 11.0; traces to logs (tracesToLogsV2) is the link to Loki."""

    tracesToLogsV2: TracesToLogs
    tracesToMetrics: TracesToMetrics
    serviceMap: DatasourceLink
    nodeGraph: Toggle = Toggle()
    search: TempoSearch = TempoSearch()


class JaegerJsonData(ConfigModel):
    """The keys Grafana 12's built-in Jaeger datasource reads that we set (its JaegerJsonData: trace to logs,
    trace to metrics, the node graph of a trace); it has no service map (Tempo's serviceMap)."""

    tracesToLogsV2: TracesToLogs
    tracesToMetrics: TracesToMetrics
    nodeGraph: Toggle = Toggle()


class VictoriaLogsJsonData(ConfigModel):
    """victorialogs-datasource's Options (src/types.ts at v0.30.1), the keys we set."""

    maxLines: str = "1000"
    derivedFields: tuple[DerivedField, ...]  # its DerivedFieldConfig (src/types.ts) has Loki's keys


class AlertmanagerJsonData(ConfigModel):
    implementation: Literal["prometheus", "mimir", "cortex"] = "prometheus"
    handleGrafanaManagedAlerts: bool = False


JsonData = (
    PrometheusJsonData | LokiJsonData | TempoJsonData | JaegerJsonData | VictoriaLogsJsonData | AlertmanagerJsonData
)
VICTORIALOGS_PLUGIN = "victoriametrics-logs-datasource"  # the plugin id (type) of VictoriaLogs' datasource


class Datasource(ConfigModel):
    name: str
    type: Literal["prometheus", "loki", "tempo", "jaeger", "victoriametrics-logs-datasource", "alertmanager"]
    uid: str
    access: Literal["proxy"] = "proxy"
    url: str
    isDefault: bool = False
    editable: bool = False
    jsonData: JsonData


class DatasourcesFile(ConfigModel):
    apiVersion: Literal[1] = 1
    prune: bool = True
    datasources: tuple[Datasource, ...]


class ProviderOptions(ConfigModel):
    path: str
    foldersFromFilesStructure: bool = False


class DashboardProvider(ConfigModel):
    name: str
    orgId: int = 1
    folder: str
    type: Literal["file"] = "file"
    disableDeletion: bool = True
    allowUiUpdates: bool = False
    updateIntervalSeconds: int = 30
    options: ProviderOptions


class DashboardProvidersFile(ConfigModel):
    apiVersion: Literal[1] = 1
    providers: tuple[DashboardProvider, ...]


# --- dashboard query targets: each to_json_data returns new objects (a dashboard shares none with another) ---
PROMETHEUS_REF: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}  # the dashboard variable
LOKI_REF: dict[str, str] = {"type": "loki", "uid": DATASOURCE_UIDS["loki"]}
TEMPO_REF: dict[str, str] = {"type": "tempo", "uid": DATASOURCE_UIDS["tempo"]}


def prom_query(
    expr: str, legend: str, ref: str = "A", exemplar: bool = False, instant: bool = False, format: str = "time_series"
) -> dict[str, Any]:
    """The JSON of a Prometheus target: a range query (instant: one value per series) in code mode."""
    return {
        "datasource": dict(PROMETHEUS_REF),
        "editorMode": "code",
        "exemplar": exemplar,
        "expr": expr,
        "format": format,
        "instant": instant,
        "legendFormat": legend,
        "range": not instant,
        "refId": ref,
    }


@dataclass(frozen=True)
class PromTarget:
    """A Prometheus query with a datasource object and the exemplar flag."""

    expr: str
    legend: str
    exemplar: bool = False
    instant: bool = False
    format: str = "time_series"
    ref: str = "A"

    def to_json_data(self, ref: str | None = None) -> dict[str, Any]:
        """Its JSON, with refId `ref` instead of its own when given."""
        return prom_query(self.expr, self.legend, ref or self.ref, self.exemplar, self.instant, self.format)


@dataclass(frozen=True)
class LokiTarget:
    expr: str
    ref: str = "A"

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": dict(LOKI_REF),
            "editorMode": "code",
            "expr": self.expr,
            "queryType": "range",
            "refId": self.ref,
        }


@dataclass(frozen=True)
class VictoriaLogsTarget:
    """A LogsQL query listing log records (the plugin's `instant` type: /select/logsql/query)."""

    expr: str
    ref: str = "A"

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": {"type": VICTORIALOGS_PLUGIN, "uid": STORE_DATASOURCE_UIDS["victorialogs"]},
            "editorMode": "code",
            "expr": self.expr,
            "queryType": "instant",
            "refId": self.ref,
        }


@dataclass(frozen=True)
class JaegerTarget:
    """A Jaeger search (not a query language: service, minimum duration, limit) listing matching traces."""

    service: str
    min_duration: str
    limit: int = 20
    ref: str = "A"

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": {"type": "jaeger", "uid": STORE_DATASOURCE_UIDS["jaeger"]},
            "limit": self.limit,
            "minDuration": self.min_duration,
            "queryType": "search",
            "refId": self.ref,
            "service": self.service,
        }


@dataclass(frozen=True)
class TempoTarget:
    """A TraceQL search that lists matching traces."""

    query: str
    limit: int = 20
    ref: str = "A"

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": dict(TEMPO_REF),
            "limit": self.limit,
            "query": self.query,
            "queryType": "traceql",
            "refId": self.ref,
            "tableType": "traces",
        }
