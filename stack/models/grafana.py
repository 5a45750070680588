"""Grafana provisioning files (apiVersion 1): datasources with correlations, and a dashboard provider.

Field names are Grafana's own (camelCase), as in its provisioning reference, so a key reads the same here
and in the docs. A literal `$` in a value is written `$$`: Grafana expands `$VAR` in provisioning files.
"""

from __future__ import annotations

from typing import Literal

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
    tracesToLogsV2: TracesToLogs
    tracesToMetrics: TracesToMetrics
    serviceMap: DatasourceLink
    nodeGraph: Toggle = Toggle()
    search: TempoSearch = TempoSearch()
    lokiSearch: DatasourceLink


class AlertmanagerJsonData(ConfigModel):
    implementation: Literal["prometheus", "mimir", "cortex"] = "prometheus"
    handleGrafanaManagedAlerts: bool = False


JsonData = PrometheusJsonData | LokiJsonData | TempoJsonData | AlertmanagerJsonData


class Datasource(ConfigModel):
    name: str
    type: Literal["prometheus", "loki", "tempo", "alertmanager"]
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
