"""Loki, Tempo and collector configs: the settings the issue asks for, and unknown keys rejected."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stack import conventions as c
from stack.builders.loki import build_loki
from stack.builders.otelcol import build_otelcol
from stack.builders.tempo import build_tempo
from stack.models.loki import LokiConfig
from stack.models.otelcol import OtelcolConfig
from stack.models.tempo import TempoConfig
from stack.settings import StackSettings

LOCAL = c.Placement(local=True, data_root="/tmp/state/data")


@pytest.mark.parametrize(
    ("build", "model", "path"),
    [
        (build_loki, LokiConfig, ("limits_config",)),
        (build_tempo, TempoConfig, ("metrics_generator", "storage")),
        (build_otelcol, OtelcolConfig, ("processors", "batch")),
    ],
)
def test_unknown_keys_rejected(settings: StackSettings, build, model, path) -> None:
    """A misspelt key anywhere in a config fails validation of its model."""
    data = build(settings).to_data()
    node = data
    for key in path:
        node = node[key]
    node["not_a_real_key"] = True
    with pytest.raises(ValidationError, match="Extra inputs"):
        model.model_validate(data)


def test_loki_tsdb_v13_otlp_and_retention(settings: StackSettings) -> None:
    """Single binary on the filesystem, TSDB schema v13, structured metadata on, compactor retention."""
    loki = build_loki(settings)
    period = loki.schema_config.configs[0]
    assert (period.store, period.schema_version, period.object_store) == ("tsdb", "v13", "filesystem")
    assert loki.limits_config.allow_structured_metadata
    kept = [a for entry in loki.limits_config.otlp_config.log_attributes or () for a in entry.attributes]
    assert "trace_id" in kept
    assert loki.compactor.retention_enabled
    assert loki.compactor.delete_request_store == "filesystem"
    assert loki.server.http_listen_port == settings.components.loki.port


def test_tempo_metrics_generator_writes_exemplars_to_prometheus(settings: StackSettings) -> None:
    """Service graphs and span metrics go to Prometheus' remote-write receiver with exemplars."""
    tempo = build_tempo(settings)
    (remote,) = tempo.metrics_generator.storage.remote_write
    assert remote.url == f"http://prometheus:{settings.components.prometheus.port}/api/v1/write"
    assert remote.send_exemplars
    assert set(tempo.overrides.defaults.metrics_generator.processors) == {"service-graphs", "span-metrics"}
    assert tempo.distributor.receivers.otlp.protocols.grpc.endpoint == "0.0.0.0:4317"
    assert tempo.storage.trace.backend == "local"


def test_collector_pipelines(settings: StackSettings) -> None:
    """Traces to tempo:4317, logs to Loki's /otlp, metrics by remote write; memory limiter first."""
    config = build_otelcol(settings)
    assert config.exporters.otlp_tempo.endpoint == "tempo:4317"
    assert config.exporters.otlphttp_loki.endpoint == "http://loki:3100/otlp"
    assert config.exporters.prometheusremotewrite.endpoint == "http://prometheus:9090/api/v1/write"
    for _, pipeline in config.service.pipelines:
        assert pipeline.processors[0] == "memory_limiter"
        assert pipeline.processors[-1] == "batch"
    reader = config.service.telemetry.metrics.readers[0].pull.exporter.prometheus
    assert reader.port == settings.components.otelcol.port
    assert config.extensions.health_check.endpoint.endswith(f":{c.OTELCOL_HEALTH_PORT}")


def test_collector_rejects_a_pipeline_naming_an_unconfigured_component(settings: StackSettings) -> None:
    """A pipeline that names an exporter that is not configured fails validation."""
    data = build_otelcol(settings).to_data()
    data["service"]["pipelines"]["logs"]["exporters"] = ["loki"]
    with pytest.raises(ValidationError, match=r"pipelines\.logs\.exporters: loki"):
        OtelcolConfig.model_validate(data)


def test_local_placement_listens_on_loopback_only(settings: StackSettings) -> None:
    """Rewritten for local processes, every listener and peer is 127.0.0.1 and data is under the state."""
    otelcol, tempo, loki = build_otelcol(settings, LOCAL), build_tempo(settings, LOCAL), build_loki(settings, LOCAL)
    assert otelcol.receivers.otlp.protocols.grpc.endpoint == "127.0.0.1:4317"
    assert otelcol.exporters.otlp_tempo.endpoint == f"127.0.0.1:{c.TEMPO_LOCAL_OTLP_PORTS[0]}"
    assert tempo.distributor.receivers.otlp.protocols.grpc.endpoint == f"127.0.0.1:{c.TEMPO_LOCAL_OTLP_PORTS[0]}"
    assert tempo.server.http_listen_address == "127.0.0.1"
    assert loki.server.http_listen_address == "127.0.0.1"
    assert loki.common.path_prefix == "/tmp/state/data/loki"
