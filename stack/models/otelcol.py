"""The OpenTelemetry collector-contrib (0.13x) configuration, restricted to the components we use.

Pipelines name components by id; a validator checks that every id they name is configured.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stack.models import ConfigModel
from stack.models.otlp import Receivers


class MemoryLimiter(ConfigModel):
    check_interval: str
    limit_percentage: int = Field(gt=0, le=100)
    spike_limit_percentage: int = Field(gt=0, le=100)


class Batch(ConfigModel):
    send_batch_size: int | None = None
    timeout: str | None = None


class ResourceAction(ConfigModel):
    key: str
    value: str | None = None
    action: Literal["insert", "update", "upsert", "delete"]


class ResourceProcessor(ConfigModel):
    attributes: tuple[ResourceAction, ...]


class Processors(ConfigModel):
    memory_limiter: MemoryLimiter
    resource: ResourceProcessor
    batch: Batch


class TLSClient(ConfigModel):
    insecure: bool


class OTLPExporter(ConfigModel):
    endpoint: str
    tls: TLSClient


class OTLPHTTPExporter(ConfigModel):
    endpoint: str


class ResourceToTelemetry(ConfigModel):
    enabled: bool


class RemoteWriteExporter(ConfigModel):
    endpoint: str
    resource_to_telemetry_conversion: ResourceToTelemetry


class Exporters(ConfigModel):
    otlp_tempo: OTLPExporter = Field(alias="otlp/tempo")
    otlphttp_loki: OTLPHTTPExporter = Field(alias="otlphttp/loki")
    prometheusremotewrite: RemoteWriteExporter


class HealthCheck(ConfigModel):
    endpoint: str


class Extensions(ConfigModel):
    health_check: HealthCheck


class Pipeline(ConfigModel):
    receivers: tuple[str, ...]
    processors: tuple[str, ...]
    exporters: tuple[str, ...]


class Pipelines(ConfigModel):
    traces: Pipeline
    metrics: Pipeline
    logs: Pipeline


class PrometheusPullExporter(ConfigModel):
    host: str
    port: int


class PullExporter(ConfigModel):
    prometheus: PrometheusPullExporter


class PullReader(ConfigModel):
    exporter: PullExporter


class MetricReader(ConfigModel):
    pull: PullReader


class TelemetryMetrics(ConfigModel):
    level: Literal["none", "basic", "normal", "detailed"] = "normal"
    readers: tuple[MetricReader, ...]


class Telemetry(ConfigModel):
    metrics: TelemetryMetrics


class ServiceConfig(ConfigModel):
    extensions: tuple[str, ...]
    telemetry: Telemetry
    pipelines: Pipelines


class OtelcolConfig(ConfigModel):
    extensions: Extensions
    receivers: Receivers
    processors: Processors
    exporters: Exporters
    service: ServiceConfig

    @model_validator(mode="after")
    def _known_ids(self) -> OtelcolConfig:
        known = {
            "receivers": set(self.receivers.to_data()),
            "processors": set(self.processors.to_data()),
            "exporters": set(self.exporters.to_data()),
        }
        unknown = [f"service.extensions: {e}" for e in self.service.extensions if e not in self.extensions.to_data()]
        for name, pipeline in self.service.pipelines:
            for kind, ids in known.items():
                unknown += [f"pipelines.{name}.{kind}: {i}" for i in getattr(pipeline, kind) if i not in ids]
        if unknown:
            raise ValueError(f"components used but not configured: {', '.join(unknown)}")
        return self
