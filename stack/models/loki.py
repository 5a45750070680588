"""loki.yaml for the single binary (Loki 3.5 reference configuration), restricted to the keys we set."""

from typing import Literal

from pydantic import Field

from stack.models import ConfigModel

LogLevel = Literal["debug", "info", "warn", "error"]


class ServerConfig(ConfigModel):
    http_listen_address: str | None = None
    http_listen_port: int
    grpc_listen_address: str | None = None
    grpc_listen_port: int
    log_level: LogLevel = "info"


class FilesystemStorage(ConfigModel):
    chunks_directory: str
    rules_directory: str


class CommonStorage(ConfigModel):
    filesystem: FilesystemStorage


class KVStore(ConfigModel):
    store: Literal["inmemory", "memberlist", "consul", "etcd"]


class RingConfig(ConfigModel):
    kvstore: KVStore


class CommonConfig(ConfigModel):
    instance_addr: str
    path_prefix: str
    storage: CommonStorage
    replication_factor: int = 1
    ring: RingConfig


class IndexConfig(ConfigModel):
    prefix: str
    period: str


class PeriodConfig(ConfigModel):
    from_: str = Field(alias="from")
    store: Literal["tsdb"]
    object_store: Literal["filesystem"]
    schema_version: Literal["v13"] = Field(alias="schema")
    index: IndexConfig


class SchemaConfig(ConfigModel):
    configs: tuple[PeriodConfig, ...]


class AttributesConfig(ConfigModel):
    action: Literal["index_label", "structured_metadata", "drop"]
    attributes: tuple[str, ...]


class ResourceAttributes(ConfigModel):
    ignore_defaults: bool | None = None
    attributes_config: tuple[AttributesConfig, ...]


class OTLPConfig(ConfigModel):
    resource_attributes: ResourceAttributes | None = None
    log_attributes: tuple[AttributesConfig, ...] | None = None


class LimitsConfig(ConfigModel):
    allow_structured_metadata: bool
    retention_period: str
    otlp_config: OTLPConfig


class CompactorConfig(ConfigModel):
    working_directory: str
    compaction_interval: str | None = None
    retention_enabled: bool
    retention_delete_delay: str | None = None
    delete_request_store: Literal["filesystem"]


class AnalyticsConfig(ConfigModel):
    reporting_enabled: bool


class LokiConfig(ConfigModel):
    auth_enabled: bool
    server: ServerConfig
    common: CommonConfig
    schema_config: SchemaConfig
    limits_config: LimitsConfig
    compactor: CompactorConfig
    analytics: AnalyticsConfig
