"""tempo.yaml for the single binary (Tempo 2.8 reference configuration), restricted to the keys we set."""

from typing import Literal

from stack.models import ConfigModel
from stack.models.otlp import Receivers


class ServerConfig(ConfigModel):
    http_listen_address: str | None = None
    http_listen_port: int
    grpc_listen_address: str | None = None
    grpc_listen_port: int
    log_level: Literal["debug", "info", "warn", "error"] = "info"


class DistributorConfig(ConfigModel):
    receivers: Receivers


class IngesterConfig(ConfigModel):
    max_block_duration: str


class Compaction(ConfigModel):
    block_retention: str


class CompactorConfig(ConfigModel):
    compaction: Compaction


class RemoteWrite(ConfigModel):
    url: str
    send_exemplars: bool


class GeneratorStorage(ConfigModel):
    path: str
    remote_write: tuple[RemoteWrite, ...]


class GeneratorRegistry(ConfigModel):
    external_labels: dict[str, str]


class MetricsGeneratorConfig(ConfigModel):
    registry: GeneratorRegistry
    storage: GeneratorStorage


class PathConfig(ConfigModel):
    path: str


class TraceStorage(ConfigModel):
    backend: Literal["local"]
    wal: PathConfig
    local: PathConfig


class StorageConfig(ConfigModel):
    trace: TraceStorage


Processor = Literal["service-graphs", "span-metrics", "local-blocks"]


class GeneratorOverrides(ConfigModel):
    processors: tuple[Processor, ...]


class OverridesDefaults(ConfigModel):
    metrics_generator: GeneratorOverrides


class OverridesConfig(ConfigModel):
    defaults: OverridesDefaults


class UsageReport(ConfigModel):
    reporting_enabled: bool


class TempoConfig(ConfigModel):
    stream_over_http_enabled: bool
    server: ServerConfig
    distributor: DistributorConfig
    ingester: IngesterConfig
    compactor: CompactorConfig
    metrics_generator: MetricsGeneratorConfig
    storage: StorageConfig
    overrides: OverridesConfig
    usage_report: UsageReport
