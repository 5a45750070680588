"""Helm values overlays (the subset of each chart's values obsstack sets) and the helmfile that pins them.

Each key was read from the chart's values.yaml at the pinned version (kubernetes.charts in stack.yaml):
kube-prometheus-stack 88.5.3 (prometheus-community/helm-charts, with the grafana chart 12.11.1 of
grafana-community as its dependency), k8s-monitoring 4.4.0 (grafana/k8s-monitoring-helm:
destinations/*-values.yaml and the feature charts' values), mimir-distributed 6.x (grafana/mimir:
operations/helm/charts/mimir-distributed, CHANGELOG 6.0.0 for `kafka.enabled`), loki 18.11.0 and
tempo-distributed 3.3.0 (grafana-community/helm-charts), jaeger 4.11.1 (jaegertracing/helm-charts:
charts/jaeger/values.yaml, templates/jaeger/) and victoria-logs-single 0.13.9 (VictoriaMetrics/helm-charts).
Unknown keys are refused, so a value that is not one of these fails in our tests rather than being ignored
by Helm.
"""

from typing import Any, Literal

from pydantic import Field

from stack.models import ConfigModel

# --- helmfile.yaml (helmfile's own format) ---------------------------------------------------------------


class HelmRepository(ConfigModel):
    name: str
    url: str


class HelmRelease(ConfigModel):
    name: str
    namespace: str
    chart: str  # <repository name>/<chart>
    version: str
    values: tuple[str, ...]
    needs: tuple[str, ...] | None = None  # <namespace>/<release> installed first


class Helmfile(ConfigModel):
    repositories: tuple[HelmRepository, ...]
    releases: tuple[HelmRelease, ...]


# --- common pieces -----------------------------------------------------------------------------------------
class Enabled(ConfigModel):
    enabled: bool


class MatchLabels(ConfigModel):
    matchLabels: dict[str, str]


# --- kube-prometheus-stack ----------------------------------------------------------------------------------
class MatcherStrategy(ConfigModel):
    type: Literal["OnNamespace", "OnNamespaceExceptForAlertmanagerNamespace", "None"]


class AlertmanagerSpec(ConfigModel):
    alertmanagerConfigSelector: MatchLabels
    alertmanagerConfigMatcherStrategy: MatcherStrategy


class KpsAlertmanager(ConfigModel):
    enabled: bool = True
    alertmanagerSpec: AlertmanagerSpec


class DefaultRules(ConfigModel):
    create: bool


class DashboardProvider(ConfigModel):
    foldersFromFilesStructure: bool


class DashboardSidecar(ConfigModel):
    enabled: bool = True
    label: str
    labelValue: str
    searchNamespace: str
    folderAnnotation: str
    provider: DashboardProvider


class DatasourceSidecar(ConfigModel):
    enabled: bool = True
    label: str
    labelValue: str
    defaultDatasourceEnabled: bool
    alertmanager: Enabled


class GrafanaSidecar(ConfigModel):
    dashboards: DashboardSidecar
    datasources: DatasourceSidecar


class KpsGrafana(ConfigModel):
    enabled: bool = True
    sidecar: GrafanaSidecar


class KubePrometheusStackValues(ConfigModel):
    crds: Enabled
    defaultRules: DefaultRules
    prometheus: Enabled
    alertmanager: KpsAlertmanager
    grafana: KpsGrafana


# --- k8s-monitoring -------------------------------------------------------------------------------------------
class Cluster(ConfigModel):
    name: str


class RuleSync(ConfigModel):
    """destinations.<name>.rules: Alloy's mimir.rules.kubernetes, PrometheusRules -> Mimir's ruler."""

    enabled: bool
    address: str
    namespaces: tuple[str, ...]
    labelSelectors: dict[str, str]


class Signal(ConfigModel):
    enabled: bool


class OtlpTls(ConfigModel):
    insecure: bool


class Destination(ConfigModel):
    type: Literal["prometheus", "loki", "otlp"]
    url: str
    protocol: Literal["grpc", "http"] | None = None
    tls: OtlpTls | None = None
    metrics: Signal | None = None
    logs: Signal | None = None
    traces: Signal | None = None
    rules: RuleSync | None = None


class MonitorSelection(ConfigModel):
    enabled: bool = True
    namespaces: tuple[str, ...]
    labelSelectors: dict[str, str]


class PrometheusOperatorObjects(ConfigModel):
    enabled: bool = True
    collector: str
    serviceMonitors: MonitorSelection
    podMonitors: MonitorSelection
    probes: Enabled


class OtlpHttp(ConfigModel):
    enabled: bool


class OtlpReceiver(ConfigModel):
    http: OtlpHttp


class Receivers(ConfigModel):
    otlp: OtlpReceiver


class MetricTransforms(ConfigModel):
    """OTTL statements the feature's transform processor runs on the received metrics, in the datapoint
    context (its _processor_transform.tpl)."""

    datapoint: tuple[str, ...] = Field(min_length=1)


class AppMetrics(ConfigModel):
    transforms: MetricTransforms


class ApplicationObservability(ConfigModel):
    enabled: bool = True
    collector: str
    receivers: Receivers
    metrics: AppMetrics | None = None  # the labels of metrics_source otlp services' pushed metrics


class Collector(ConfigModel):
    presets: tuple[str, ...]


class K8sMonitoringValues(ConfigModel):
    cluster: Cluster
    destinations: dict[str, Destination]
    prometheusOperatorObjects: PrometheusOperatorObjects
    applicationObservability: ApplicationObservability
    collectors: dict[str, Collector]


# --- mimir-distributed ---------------------------------------------------------------------------------------
class MimirConfig(ConfigModel):
    structuredConfig: dict[str, Any]  # Mimir's own configuration file, merged over the chart's


class MimirValues(ConfigModel):
    mimir: MimirConfig
    kafka: Enabled  # ingest storage: the chart's bundled single-node Kafka
    alertmanager: Enabled
    minio: Enabled


# --- loki -------------------------------------------------------------------------------------------------------
class LokiIndex(ConfigModel):
    prefix: str
    period: str


class LokiSchema(ConfigModel):
    from_: str = Field(alias="from")
    store: Literal["tsdb"]
    object_store: str
    schema_: str = Field(alias="schema")
    index: LokiIndex


class LokiSchemaConfig(ConfigModel):
    configs: tuple[LokiSchema, ...]


class LokiStorage(ConfigModel):
    type: Literal["s3", "gcs", "azure", "filesystem"]


class LokiCommon(ConfigModel):
    replication_factor: int


class LokiConfig(ConfigModel):
    auth_enabled: bool
    commonConfig: LokiCommon
    schemaConfig: LokiSchemaConfig
    storage: LokiStorage


class LokiValues(ConfigModel):
    deploymentMode: Literal["Monolithic", "SimpleScalable", "Distributed"]
    loki: LokiConfig
    minio: Enabled


# --- tempo-distributed ------------------------------------------------------------------------------------------
class TempoOtlp(ConfigModel):
    http: Enabled
    grpc: Enabled


class TempoTraces(ConfigModel):
    otlp: TempoOtlp


class RemoteWrite(ConfigModel):
    url: str


class GeneratorStorage(ConfigModel):
    remote_write: tuple[RemoteWrite, ...]


class GeneratorConfig(ConfigModel):
    storage: GeneratorStorage


class MetricsGenerator(ConfigModel):
    enabled: bool
    config: GeneratorConfig


class GeneratorOverrides(ConfigModel):
    processors: tuple[Literal["service-graphs", "span-metrics", "local-blocks"], ...]


class TenantOverrides(ConfigModel):
    metrics_generator: GeneratorOverrides


class TempoOverrides(ConfigModel):
    defaults: TenantOverrides


class TempoValues(ConfigModel):
    traces: TempoTraces
    metricsGenerator: MetricsGenerator
    overrides: TempoOverrides


# --- jaeger (Jaeger v2: one all-in-one Deployment configured by `userconfig`) ----------------------------------
class ImageTag(ConfigModel):
    tag: str


class JaegerDeployment(ConfigModel):
    image: ImageTag


class JaegerStorageValues(ConfigModel):
    """`storage.type` only selects the chart's Elasticsearch/Cassandra environment; the store is userconfig's."""

    type: Literal["memory", "elasticsearch", "cassandra"]


class JaegerValues(ConfigModel):
    fullnameOverride: str  # the Service name (ports 4317/4318 OTLP, 16686 UI and API, 16685 gRPC query)
    jaeger: JaegerDeployment
    storage: JaegerStorageValues
    userconfig: dict[str, Any]  # Jaeger's own config.yaml, mounted and passed as --config


# --- victoria-logs-single ------------------------------------------------------------------------------------
class VictoriaLogsServer(ConfigModel):
    fullnameOverride: str  # the server's Service name (port 9428)
    image: ImageTag
    retentionPeriod: str
    persistentVolume: Enabled


class VictoriaLogsValues(ConfigModel):
    server: VictoriaLogsServer
