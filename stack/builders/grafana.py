"""settings -> Grafana provisioning: datasources with fixed UIDs that link to each other, and a provider.

Correlations: Prometheus exemplars (the app's `trace_id`, Tempo's span metrics' `traceID`) -> the trace
store; the log store's `trace_id` -> the trace store; the trace store -> the log store (traces to logs), ->
Prometheus (traces to metrics, Tempo's service map). Alertmanager for silences. The log and trace stores'
datasources are their entries of stack.builders.backends.
"""

from __future__ import annotations

import posixpath

from stack import conventions as c
from stack.builders.backends import UIDS as STORE_UIDS
from stack.builders.backends import log_store, trace_store, url
from stack.models.grafana import (
    AlertmanagerJsonData,
    DashboardProvider,
    DashboardProvidersFile,
    Datasource,
    DatasourcesFile,
    ExemplarDestination,
    PrometheusJsonData,
    ProviderOptions,
)
from stack.settings import StackSettings

UIDS = c.DATASOURCE_UIDS
__all__ = ["build_dashboard_providers", "build_datasources", "prometheus_datasource", "url"]


def build_datasources(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> DatasourcesFile:
    logs, traces = log_store(settings), trace_store(settings)
    trace_uid = STORE_UIDS[traces.name]
    return DatasourcesFile(
        datasources=(
            prometheus_datasource(settings, placement),
            logs.datasource(settings, placement, trace_uid),
            traces.datasource(settings, placement, logs.to_logs()),
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
    traces = trace_store(settings)
    trace_links = tuple(
        ExemplarDestination(name=label, datasourceUid=STORE_UIDS[traces.name], urlDisplayLabel="View trace")
        for label in traces.exemplar_labels
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
