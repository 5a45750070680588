"""settings -> loki.yaml model: single binary, TSDB schema v13 on the filesystem, OTLP ingestion, retention.

OTLP log records keep their trace_id and span_id as structured metadata (Loki's default mapping, which
needs `allow_structured_metadata`); the log attributes of the same names are kept there explicitly too.
"""

from __future__ import annotations

from stack import conventions as c
from stack.models.loki import (
    AnalyticsConfig,
    AttributesConfig,
    CommonConfig,
    CommonStorage,
    CompactorConfig,
    FilesystemStorage,
    IndexConfig,
    KVStore,
    LimitsConfig,
    LokiConfig,
    OTLPConfig,
    PeriodConfig,
    ResourceAttributes,
    RingConfig,
    SchemaConfig,
    ServerConfig,
)
from stack.settings import StackSettings

SCHEMA_FROM = "2024-04-01"
RETENTION = "168h"
INDEX_LABELS = ("service.name", "service.namespace", "deployment.environment")


def build_loki(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> LokiConfig:
    root = placement.data("loki", "/loki")
    local = placement.listen if placement.local else None
    return LokiConfig(
        auth_enabled=False,
        server=ServerConfig(
            http_listen_address=local,
            http_listen_port=settings.components.loki.port,
            grpc_listen_address=local,
            grpc_listen_port=c.LOKI_GRPC_PORT,
        ),
        common=CommonConfig(
            instance_addr="127.0.0.1",
            path_prefix=root,
            storage=CommonStorage(
                filesystem=FilesystemStorage(chunks_directory=f"{root}/chunks", rules_directory=f"{root}/rules")
            ),
            ring=RingConfig(kvstore=KVStore(store="inmemory")),
        ),
        schema_config=SchemaConfig(
            configs=(
                PeriodConfig(
                    from_=SCHEMA_FROM,
                    store="tsdb",
                    object_store="filesystem",
                    schema_version="v13",
                    index=IndexConfig(prefix="index_", period="24h"),
                ),
            )
        ),
        limits_config=_limits(),
        compactor=CompactorConfig(
            working_directory=f"{root}/compactor",
            compaction_interval="10m",
            retention_enabled=True,
            retention_delete_delay="2h",
            delete_request_store="filesystem",
        ),
        analytics=AnalyticsConfig(reporting_enabled=False),
    )


def _limits() -> LimitsConfig:
    return LimitsConfig(
        allow_structured_metadata=True,
        retention_period=RETENTION,
        otlp_config=OTLPConfig(
            resource_attributes=ResourceAttributes(
                attributes_config=(AttributesConfig(action="index_label", attributes=INDEX_LABELS),)
            ),
            log_attributes=(AttributesConfig(action="structured_metadata", attributes=("trace_id", "span_id")),),
        ),
    )
