"""Grafana's documented provisioning format as closed, strict pydantic models: the oracle that
`obsstack validate` holds our generated provisioning files against (not the models the builders use).

Sources, Grafana 12 documentation: administration/provisioning (data sources: `apiVersion`,
`deleteDatasources`, `prune`, `datasources`; dashboard providers), administration/correlations
(provisioned `correlations`), and each data source's "Provision the data source" page: prometheus
(`exemplarTraceIdDestinations`, `httpMethod`...), loki (`derivedFields`), tempo (`tracesToLogsV2`,
`tracesToMetrics`, `tracesToProfiles`, `serviceMap`, `nodeGraph`, `search`, `lokiSearch`...), jaeger
(`tracesToLogsV2`, `tracesToMetrics`, `nodeGraph`, `traceQuery`, `spanBar`), alertmanager, and the
VictoriaLogs plugin's Options type (victoriametrics-logs-datasource v0.30.1, src/types.ts).
A key these pages do not name fails, as does a value of the wrong type (no coercion: "true" is not true).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

HEADER_KEY = re.compile(r"httpHeader(Name|Value)\d+")


class Closed(BaseModel):
    """Unknown keys and coercions fail."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --- jsonData ------------------------------------------------------------------------------------------
class HttpJsonData(Closed):
    """The HTTP settings every HTTP data source documents; `httpHeaderName<n>` pairs are read as headers."""

    timeout: int | None = None
    keepCookies: list[str] = []
    oauthPassThru: bool | None = None
    tlsAuth: bool | None = None
    tlsAuthWithCACert: bool | None = None
    tlsSkipVerify: bool | None = None
    serverName: str | None = None
    manageAlerts: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _headers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for key, value in data.items():
            if HEADER_KEY.fullmatch(key) and not isinstance(value, str):
                raise ValueError(f"{key} must be a string, got {value!r}")
        return {key: value for key, value in data.items() if not HEADER_KEY.fullmatch(key)}


class ExemplarDestination(Closed):
    """An exemplar label linked to a tracing data source (datasourceUid) or to an external url."""

    name: str
    datasourceUid: str | None = None
    url: str | None = None
    urlDisplayLabel: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ExemplarDestination:
        if (self.datasourceUid is None) == (self.url is None):
            raise ValueError("exactly one of datasourceUid (internal link) or url (external link) is expected")
        return self


class PrometheusJsonData(HttpJsonData):
    httpMethod: Literal["POST", "GET"] | None = None
    prometheusType: Literal["Prometheus", "Cortex", "Mimir", "Thanos"] | None = None
    prometheusVersion: str | None = None
    cacheLevel: Literal["Low", "Medium", "High", "None"] | None = None
    incrementalQuerying: bool | None = None
    incrementalQueryOverlapWindow: str | None = None
    disableRecordingRules: bool | None = None
    allowAsRecordingRulesTarget: bool | None = None
    timeInterval: str | None = None
    queryTimeout: str | None = None
    defaultEditor: Literal["code", "builder"] | None = None
    disableMetricsLookup: bool | None = None
    customQueryParameters: str | None = None
    seriesLimit: int | None = None
    exemplarTraceIdDestinations: list[ExemplarDestination] = []


class DerivedField(Closed):
    """A field derived from each log line: an internal link (datasourceUid, url = the query) or a URL."""

    name: str
    matcherRegex: str
    matcherType: Literal["regex", "label"] = "regex"
    url: str
    urlDisplayLabel: str | None = None
    datasourceUid: str | None = None
    targetBlank: bool | None = None


class LokiJsonData(HttpJsonData):
    maxLines: int | str | None = None
    derivedFields: list[DerivedField] = []
    alertmanagerUid: str | None = None
    predefinedOperations: str | None = None


class TagMapping(Closed):
    key: str
    value: str | None = None


class TracesToLogs(Closed):
    datasourceUid: str
    spanStartTimeShift: str | None = None
    spanEndTimeShift: str | None = None
    tags: list[TagMapping] = []
    filterByTraceID: bool | None = None
    filterBySpanID: bool | None = None
    customQuery: bool | None = None
    query: str | None = None


class LinkedQuery(Closed):
    name: str
    query: str


class TracesToMetrics(Closed):
    datasourceUid: str
    spanStartTimeShift: str | None = None
    spanEndTimeShift: str | None = None
    tags: list[TagMapping] = []
    queries: list[LinkedQuery] = []


class TracesToProfiles(Closed):
    datasourceUid: str
    tags: list[TagMapping] = []
    profileTypeId: str | None = None
    customQuery: bool | None = None
    query: str | None = None


class DatasourceLink(Closed):
    datasourceUid: str


class Toggle(Closed):
    enabled: bool


class SearchFilter(Closed):
    """A static filter of the TraceQL search builder."""

    id: str
    tag: str | None = None
    operator: str | None = None
    scope: Literal["resource", "span", "intrinsic", "unscoped", "event", "link", "instrumentation"] | None = None
    value: str | list[str] | None = None
    valueType: str | None = None


class TempoSearch(Closed):
    hide: bool | None = None
    filters: list[SearchFilter] = []


class TraceQuery(Closed):
    timeShiftEnabled: bool | None = None
    spanStartTimeShift: str | None = None
    spanEndTimeShift: str | None = None


class SpanBar(Closed):
    type: Literal["None", "Duration", "Tag"]
    tag: str | None = None


class Streaming(Closed):
    search: bool | None = None
    metrics: bool | None = None


class TempoJsonData(HttpJsonData):
    tracesToLogsV2: TracesToLogs | None = None
    tracesToMetrics: TracesToMetrics | None = None
    tracesToProfiles: TracesToProfiles | None = None
    serviceMap: DatasourceLink | None = None
    nodeGraph: Toggle | None = None
    search: TempoSearch | None = None
    lokiSearch: DatasourceLink | None = None
    traceQuery: TraceQuery | None = None
    spanBar: SpanBar | None = None
    streamingEnabled: Streaming | None = None
    tagLimit: int | None = None


class JaegerJsonData(HttpJsonData):
    """Grafana's built-in Jaeger data source (docs: datasources/jaeger, "Provision the data source"): trace to
    logs, metrics and profiles, the node graph, the trace query time shifts and the span bar."""

    tracesToLogsV2: TracesToLogs | None = None
    tracesToMetrics: TracesToMetrics | None = None
    tracesToProfiles: TracesToProfiles | None = None
    nodeGraph: Toggle | None = None
    traceQuery: TraceQuery | None = None
    spanBar: SpanBar | None = None


class VictoriaLogsJsonData(HttpJsonData):
    """The VictoriaLogs plugin (victoriametrics-logs-datasource, src/types.ts `Options` at v0.30.1): its
    derived fields have Loki's shape (name, matcherType, matcherRegex, url, datasourceUid, urlDisplayLabel)."""

    maxLines: str | None = None
    httpMethod: Literal["POST", "GET"] | None = None
    customQueryParameters: str | None = None
    queryBuilderLimits: dict[str, int] | None = None
    derivedFields: list[DerivedField] = []
    enableSecureSocksProxy: bool | None = None
    logLevelRules: list[dict[str, Any]] = []
    multitenancyHeaders: dict[str, str] | None = None
    vmuiUrl: str | None = None
    otelPreset: dict[str, Any] | None = None


VICTORIALOGS = "victoriametrics-logs-datasource"


class AlertmanagerJsonData(HttpJsonData):
    implementation: Literal["prometheus", "mimir", "cortex"]
    handleGrafanaManagedAlerts: bool | None = None


JSON_DATA: dict[str, type[HttpJsonData]] = {
    "prometheus": PrometheusJsonData,
    "loki": LokiJsonData,
    "tempo": TempoJsonData,
    "jaeger": JaegerJsonData,
    VICTORIALOGS: VictoriaLogsJsonData,
    "alertmanager": AlertmanagerJsonData,
}


# --- the files -----------------------------------------------------------------------------------------
class Transformation(Closed):
    type: Literal["regex", "logfmt"]
    expression: str | None = None
    field: str | None = None
    mapValue: str | None = None


class CorrelationConfig(Closed):
    type: Literal["query"] = "query"
    target: dict[str, Any]
    field: str
    transformations: list[Transformation] = []


class Correlation(Closed):
    targetUID: str
    label: str
    description: str | None = None
    config: CorrelationConfig


class Datasource(Closed):
    """One data source; `jsonData` is checked against the model of its `type` (JSON_DATA) separately."""

    name: str
    type: Literal["prometheus", "loki", "tempo", "jaeger", "victoriametrics-logs-datasource", "alertmanager"]
    access: Literal["proxy", "direct"] = "proxy"
    orgId: int = 1
    uid: str | None = None
    url: str | None = None
    user: str | None = None
    database: str | None = None
    basicAuth: bool | None = None
    basicAuthUser: str | None = None
    withCredentials: bool | None = None
    isDefault: bool | None = None
    jsonData: dict[str, Any] = {}
    secureJsonData: dict[str, str] = {}
    version: int | None = None
    editable: bool | None = None
    correlations: list[Correlation] = []


class DeleteDatasource(Closed):
    name: str
    orgId: int = 1


class DatasourcesFile(Closed):
    apiVersion: Literal[1]
    deleteDatasources: list[DeleteDatasource] = []
    prune: bool | None = None
    datasources: list[Datasource] = []


class ProviderOptions(Closed):
    path: str
    foldersFromFilesStructure: bool | None = None


class DashboardProvider(Closed):
    name: str
    orgId: int = 1
    folder: str | None = None
    folderUid: str | None = None
    type: Literal["file"] = "file"
    disableDeletion: bool | None = None
    updateIntervalSeconds: int | None = None
    allowUiUpdates: bool | None = None
    options: ProviderOptions


class DashboardProvidersFile(Closed):
    apiVersion: Literal[1]
    providers: list[DashboardProvider]
