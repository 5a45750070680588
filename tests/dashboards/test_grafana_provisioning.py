"""Grafana provisioning: datasources with fixed UIDs that link to each other, and the dashboard provider."""

from __future__ import annotations

import pytest

from stack import conventions as c
from stack.builders.grafana import build_dashboard_providers, build_datasources
from stack.config import load_settings

STACK = """\
project: demo
profile: fast
services:
  - name: orders
components:
  prometheus: {image: "prom/prometheus:v3.16.0", port: 9191}
"""


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


@pytest.fixture
def datasources(settings):
    return {d.type: d for d in build_datasources(settings).datasources}


def test_fixed_uids_and_compose_urls(datasources):
    """Each datasource has its fixed UID and the compose service URL with the configured port."""
    assert {t: d.uid for t, d in datasources.items()} == c.DATASOURCE_UIDS
    assert datasources["prometheus"].url == "http://prometheus:9191"
    assert datasources["loki"].url == "http://loki:3100"
    assert datasources["tempo"].url == "http://tempo:3200"
    assert datasources["alertmanager"].url == "http://alertmanager:9093"
    assert [t for t, d in datasources.items() if d.isDefault] == ["prometheus"]


def test_prometheus_time_interval_is_the_scrape_interval(datasources, settings):
    """timeInterval equals the profile's scrape interval; exemplars' trace_id links to Tempo."""
    data = datasources["prometheus"].jsonData
    assert data.timeInterval == str(settings.timing.scrape_interval) == "1s"
    assert data.exemplarTraceIdDestinations[0].name == "trace_id"
    assert data.exemplarTraceIdDestinations[0].datasourceUid == c.DATASOURCE_UIDS["tempo"]


def test_loki_trace_id_links_to_tempo(datasources):
    """The trace_id structured metadata becomes a derived field linking to Tempo ($ escaped as $$)."""
    field = datasources["loki"].jsonData.derivedFields[0]
    assert (field.matcherType, field.matcherRegex) == ("label", "trace_id")
    assert field.datasourceUid == c.DATASOURCE_UIDS["tempo"]
    assert field.url == "$${__value.raw}"


def test_tempo_links_to_logs_metrics_and_service_map(datasources):
    """Tempo has traces-to-logs (Loki, service_name label), traces-to-metrics and the service map."""
    data = datasources["tempo"].jsonData
    assert data.tracesToLogsV2.datasourceUid == c.DATASOURCE_UIDS["loki"]
    assert data.tracesToLogsV2.tags[0].value == "service_name"
    assert "trace_id=" in data.tracesToLogsV2.query
    assert data.tracesToMetrics.datasourceUid == c.DATASOURCE_UIDS["prometheus"]
    assert data.tracesToMetrics.tags[0].value == c.SERVICE_LABEL
    assert data.serviceMap.datasourceUid == c.DATASOURCE_UIDS["prometheus"]


def test_alertmanager_is_prometheus_flavoured(datasources):
    """The Alertmanager datasource uses the prometheus implementation."""
    assert datasources["alertmanager"].jsonData.implementation == "prometheus"


def test_dashboard_provider_loads_the_mounted_dashboards(settings):
    """One file provider reads the dashboards from the container mount and forbids UI edits."""
    (provider,) = build_dashboard_providers(settings).providers
    assert provider.options.path == c.CONTAINER_DASHBOARDS
    assert provider.type == "file"
    assert provider.allowUiUpdates is False
