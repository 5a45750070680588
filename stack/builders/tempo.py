"""settings -> tempo.yaml model: local storage, OTLP receivers, and the metrics-generator writing
service-graph and span metrics (with exemplars) to Prometheus' remote-write receiver."""

from __future__ import annotations

from stack import conventions as c
from stack.models.otlp import Endpoint, OTLPProtocols, OTLPReceiver, Receivers
from stack.models.tempo import (
    Compaction,
    CompactorConfig,
    DistributorConfig,
    GeneratorOverrides,
    GeneratorRegistry,
    GeneratorStorage,
    IngesterConfig,
    MetricsGeneratorConfig,
    OverridesConfig,
    OverridesDefaults,
    PathConfig,
    RemoteWrite,
    ServerConfig,
    StorageConfig,
    TempoConfig,
    TraceStorage,
    UsageReport,
)
from stack.settings import StackSettings

BLOCK_RETENTION = "72h"


def remote_write_url(settings: StackSettings, placement: c.Placement) -> str:
    return f"http://{placement.host('prometheus')}:{settings.components.prometheus.port}/api/v1/write"


def build_tempo(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> TempoConfig:
    root = placement.data("tempo", "/var/tempo")
    local = placement.listen if placement.local else None
    grpc_port, http_port = placement.tempo_otlp_ports
    return TempoConfig(
        stream_over_http_enabled=True,
        server=ServerConfig(
            http_listen_address=local,
            http_listen_port=settings.components.tempo.port,
            grpc_listen_address=local,
            grpc_listen_port=c.TEMPO_GRPC_PORT,
        ),
        distributor=DistributorConfig(
            receivers=Receivers(
                otlp=OTLPReceiver(
                    protocols=OTLPProtocols(
                        grpc=Endpoint(endpoint=f"{placement.listen}:{grpc_port}"),
                        http=Endpoint(endpoint=f"{placement.listen}:{http_port}"),
                    )
                )
            )
        ),
        ingester=IngesterConfig(max_block_duration="5m"),
        compactor=CompactorConfig(compaction=Compaction(block_retention=BLOCK_RETENTION)),
        metrics_generator=MetricsGeneratorConfig(
            registry=GeneratorRegistry(external_labels={"source": "tempo", "stack": settings.project}),
            storage=GeneratorStorage(
                path=f"{root}/generator/wal",
                remote_write=(RemoteWrite(url=remote_write_url(settings, placement), send_exemplars=True),),
            ),
        ),
        storage=StorageConfig(
            trace=TraceStorage(
                backend="local", wal=PathConfig(path=f"{root}/wal"), local=PathConfig(path=f"{root}/blocks")
            )
        ),
        overrides=OverridesConfig(
            defaults=OverridesDefaults(
                metrics_generator=GeneratorOverrides(processors=("service-graphs", "span-metrics"))
            )
        ),
        usage_report=UsageReport(reporting_enabled=False),
    )
