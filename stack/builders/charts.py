"""settings -> the Helm side of the Kubernetes target: the pinned charts (helmfile.yaml) and their values.

The data plane in a cluster (every name below is the in-cluster Service the chart creates for the release
name given here, in kubernetes.namespace):
- kube-prometheus-stack: the prometheus-operator and its CRDs, Alertmanager (configured by the generated
  AlertmanagerConfig) and Grafana (its sidecars load the generated dashboard and datasource ConfigMaps).
  Its Prometheus is off: Mimir stores the metrics and evaluates the rules, so nothing is evaluated twice.
- k8s-monitoring: Alloy scrapes the generated ServiceMonitors/PodMonitors into Mimir, syncs the generated
  PrometheusRules to Mimir's ruler (destinations.mimir.rules), and receives the services' OTLP
  (traces -> Tempo, logs -> Loki, the metrics of metrics_source otlp services -> Mimir, labelled as a scrape
  would label them) on port 4318 of its alloy-receiver collector.
- mimir-distributed: metrics and the ruler, which sends alerts to kube-prometheus-stack's Alertmanager.
  Ingest storage architecture (the chart's default since 6.0, Mimir 3's preferred and stable one) with
  the chart's single-node Kafka: see the README for why and what to change for production.
- the log and trace stores `backends` chooses: loki (Monolithic, filesystem) or victoria-logs-single (OTLP
  logs from k8s-monitoring's receiver); tempo-distributed (OTLP in, span metrics and service graphs written to
  Mimir for the Tempo datasource's service map and traces-to-metrics links) or jaeger (Jaeger v2 all-in-one,
  configured with the same config.yaml model as compose's, memory store).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from stack import conventions as c
from stack.builders.jaeger import build_jaeger
from stack.builders.promql import quote
from stack.models import ConfigModel
from stack.models import charts as h
from stack.settings import StackSettings

# Helm repositories that publish the charts today (grafana's loki and tempo-distributed charts moved to
# grafana-community in 2026; the grafana repository keeps mimir-distributed and k8s-monitoring)
REPOSITORIES = (
    h.HelmRepository(name="prometheus-community", url="https://prometheus-community.github.io/helm-charts"),
    h.HelmRepository(name="grafana", url="https://grafana.github.io/helm-charts"),
    h.HelmRepository(name="grafana-community", url="https://grafana-community.github.io/helm-charts"),
)
# the repositories of the licence-clean stores' charts, listed only when `backends` chooses them
STORE_REPOSITORIES = {
    "jaeger": h.HelmRepository(name="jaegertracing", url="https://jaegertracing.github.io/helm-charts"),
    "victorialogs": h.HelmRepository(name="vm", url="https://victoriametrics.github.io/helm-charts/"),
}
# release name -> repository/chart
KPS, K8S_MONITORING, MIMIR, LOKI, TEMPO = "kube-prometheus-stack", "k8s-monitoring", "mimir", "loki", "tempo"
JAEGER, VICTORIALOGS = "jaeger", "victoria-logs-single"
CHARTS = {
    KPS: "prometheus-community/kube-prometheus-stack",
    K8S_MONITORING: "grafana/k8s-monitoring",
    MIMIR: "grafana/mimir-distributed",
    LOKI: "grafana-community/loki",
    TEMPO: "grafana-community/tempo-distributed",
    JAEGER: "jaegertracing/jaeger",
    VICTORIALOGS: "vm/victoria-logs-single",
}
STORE_RELEASES = {"loki": LOKI, "tempo": TEMPO, "jaeger": JAEGER, "victorialogs": VICTORIALOGS}
VICTORIALOGS_SERVICE = "victorialogs"  # server.fullnameOverride: the chart's naming depends on its version
HELM_DIR = "helm"
METRICS_COLLECTOR, RECEIVER_COLLECTOR = "alloy-metrics", "alloy-receiver"
OTLP_HTTP_PORT = 4318  # the OTel Operator's Python agent exports http/protobuf here
DASHBOARD_LABEL, DATASOURCE_LABEL, FOLDER_ANNOTATION = "grafana_dashboard", "grafana_datasource", "grafana_folder"
SIDECAR_LABEL_VALUE = "1"


def values_file(release: str) -> str:
    return posixpath.join(HELM_DIR, f"{release}.values.yaml")


@dataclass(frozen=True)
class ClusterUrls:
    """The in-cluster addresses of the charts' Services for the release names above, in one namespace."""

    namespace: str

    def _svc(self, name: str, port: int | None = None) -> str:
        return f"http://{name}.{self.namespace}.svc" + (f":{port}" if port else "")

    @property
    def mimir(self) -> str:  # the gateway (port 80): push, Prometheus API under /prometheus, ruler API
        return self._svc(f"{MIMIR}-gateway")

    @property
    def mimir_push(self) -> str:
        return f"{self.mimir}/api/v1/push"

    @property
    def mimir_query(self) -> str:
        return f"{self.mimir}/prometheus"

    @property
    def loki(self) -> str:  # the gateway (port 80)
        return self._svc(f"{LOKI}-gateway")

    @property
    def tempo_query(self) -> str:
        return self._svc(f"{TEMPO}-query-frontend", 3200)

    @property
    def tempo_otlp_grpc(self) -> str:
        return self._svc(f"{TEMPO}-distributor", 4317)

    @property
    def jaeger_query(self) -> str:  # the jaeger chart's all-in-one Service (fullnameOverride: jaeger)
        return self._svc(JAEGER, 16686)

    @property
    def jaeger_otlp_grpc(self) -> str:
        return self._svc(JAEGER, 4317)

    @property
    def victorialogs(self) -> str:  # victoria-logs-single's server Service (server.fullnameOverride)
        return self._svc(VICTORIALOGS_SERVICE, 9428)

    @property
    def alertmanager(self) -> str:
        return self._svc(f"{KPS}-alertmanager", 9093)

    @property
    def otlp_receiver(self) -> str:
        return self._svc(f"{K8S_MONITORING}-{RECEIVER_COLLECTOR}", OTLP_HTTP_PORT)


def releases(settings: StackSettings) -> dict[str, str]:
    """Release name -> repository/chart of what runs: the fixed charts and the chosen stores' charts."""
    chosen = {STORE_RELEASES[settings.backends.logs], STORE_RELEASES[settings.backends.traces]}
    return {name: chart for name, chart in CHARTS.items() if name not in STORE_RELEASES.values() or name in chosen}


def build_helmfile(settings: StackSettings) -> h.Helmfile:
    k8s, charts = settings.kubernetes, settings.kubernetes.charts
    versions = {
        KPS: charts.kube_prometheus_stack,
        K8S_MONITORING: charts.k8s_monitoring,
        MIMIR: charts.mimir_distributed,
        LOKI: charts.loki,
        TEMPO: charts.tempo_distributed,
        JAEGER: charts.jaeger,
        VICTORIALOGS: charts.victoria_logs_single,
    }
    needs = {K8S_MONITORING: (f"{k8s.namespace}/{KPS}",)}  # the CRDs of ServiceMonitor and PrometheusRule
    releases_ = tuple(
        h.HelmRelease(
            name=name,
            namespace=k8s.namespace,
            chart=chart,
            version=versions[name],
            values=(values_file(name),),
            needs=needs.get(name),
        )
        for name, chart in releases(settings).items()
    )
    stores = (settings.backends.traces, settings.backends.logs)
    extra = tuple(repository for store, repository in STORE_REPOSITORIES.items() if store in stores)
    return h.Helmfile(repositories=REPOSITORIES + extra, releases=releases_)


def build_chart_values(settings: StackSettings) -> dict[str, ConfigModel]:
    """Values file path (relative to the Kubernetes directory) -> its values model."""
    urls = ClusterUrls(settings.kubernetes.namespace)
    values: dict[str, ConfigModel] = {
        values_file(KPS): kube_prometheus_stack(settings),
        values_file(K8S_MONITORING): k8s_monitoring(settings, urls),
        values_file(MIMIR): mimir(settings, urls),
        values_file(LOKI): loki(),
        values_file(TEMPO): tempo(urls),
        values_file(JAEGER): jaeger(settings),
        values_file(VICTORIALOGS): victorialogs(settings),
    }
    return {path: model for path, model in values.items() if path in {values_file(r) for r in releases(settings)}}


def kube_prometheus_stack(settings: StackSettings) -> h.KubePrometheusStackValues:
    return h.KubePrometheusStackValues(
        crds=h.Enabled(enabled=True),
        defaultRules=h.DefaultRules(create=False),  # Mimir's ruler evaluates obsstack's rules only
        prometheus=h.Enabled(enabled=False),
        alertmanager=h.KpsAlertmanager(
            alertmanagerSpec=h.AlertmanagerSpec(
                alertmanagerConfigSelector=h.MatchLabels(matchLabels=dict(settings.kubernetes.selector_labels)),
                # alerts come from the services' namespace (or none): no namespace matcher on our routes
                alertmanagerConfigMatcherStrategy=h.MatcherStrategy(type="None"),
            )
        ),
        grafana=h.KpsGrafana(
            sidecar=h.GrafanaSidecar(
                dashboards=h.DashboardSidecar(
                    label=DASHBOARD_LABEL,
                    labelValue=SIDECAR_LABEL_VALUE,
                    searchNamespace=settings.kubernetes.namespace,
                    folderAnnotation=FOLDER_ANNOTATION,
                    provider=h.DashboardProvider(foldersFromFilesStructure=True),
                ),
                datasources=h.DatasourceSidecar(
                    label=DATASOURCE_LABEL,
                    labelValue=SIDECAR_LABEL_VALUE,
                    defaultDatasourceEnabled=False,  # obsstack's datasources (fixed UIDs) replace the chart's
                    alertmanager=h.Enabled(enabled=False),
                ),
            )
        ),
    )


def k8s_monitoring(settings: StackSettings, urls: ClusterUrls) -> h.K8sMonitoringValues:
    k8s = settings.kubernetes
    selection = h.MonitorSelection(namespaces=(k8s.services_namespace,), labelSelectors=dict(k8s.selector_labels))
    return h.K8sMonitoringValues(
        cluster=h.Cluster(name=settings.project),
        destinations={
            MIMIR: h.Destination(
                type="prometheus",
                url=urls.mimir_push,
                rules=h.RuleSync(
                    enabled=True,
                    address=urls.mimir,
                    namespaces=(k8s.namespace,),
                    labelSelectors=dict(k8s.selector_labels),
                ),
            ),
            **store_destinations(settings, urls),
        },
        prometheusOperatorObjects=h.PrometheusOperatorObjects(
            collector=METRICS_COLLECTOR,
            serviceMonitors=selection,
            podMonitors=selection,
            probes=h.Enabled(enabled=False),
        ),
        applicationObservability=h.ApplicationObservability(
            collector=RECEIVER_COLLECTOR,
            receivers=h.Receivers(otlp=h.OtlpReceiver(http=h.OtlpHttp(enabled=True))),
            metrics=pushed_labels(settings),
        ),
        collectors={
            METRICS_COLLECTOR: h.Collector(presets=("clustered", "statefulset")),
            RECEIVER_COLLECTOR: h.Collector(presets=("deployment",)),
        },
    )


def pushed_labels(settings: StackSettings) -> h.AppMetrics | None:
    """What the compose collector's transform does (builders/otelcol.py), in the receiver's datapoint context:
    the metrics of each metrics_source otlp service, matched by service.name, get `service` and its stack.yaml
    labels as labels (Alloy's Prometheus conversion keeps datapoint attributes, not resource ones); None when
    no service pushes."""
    statements = tuple(
        f"set(attributes[{quote(key)}], {quote(value)}) where resource.attributes[\"service.name\"] == {quote(s.name)}"
        for s in settings.services
        if not s.scraped
        for key, value in {c.SERVICE_LABEL: s.name, **dict(sorted(s.labels.items()))}.items()
    )
    return h.AppMetrics(transforms=h.MetricTransforms(datapoint=statements)) if statements else None


def mimir(settings: StackSettings, urls: ClusterUrls) -> h.MimirValues:
    structured = {
        "multitenancy_enabled": False,  # one tenant ("anonymous"): Alloy, Tempo and Grafana send no tenant header
        "ruler": {
            "alertmanager_url": urls.alertmanager,
            "evaluation_interval": str(settings.timing.evaluation_interval),  # what the promtool tests assume
        },
    }
    return h.MimirValues(
        mimir=h.MimirConfig(structuredConfig=structured),
        kafka=h.Enabled(enabled=True),
        alertmanager=h.Enabled(enabled=False),  # kube-prometheus-stack's Alertmanager receives the alerts
        minio=h.Enabled(enabled=True),
    )


def loki() -> h.LokiValues:
    schema = h.LokiSchema(
        from_="2024-04-01",
        store="tsdb",
        object_store="filesystem",
        schema_="v13",
        index=h.LokiIndex(prefix="index_", period="24h"),
    )
    return h.LokiValues(
        deploymentMode="Monolithic",
        loki=h.LokiConfig(
            auth_enabled=False,
            commonConfig=h.LokiCommon(replication_factor=1),
            schemaConfig=h.LokiSchemaConfig(configs=(schema,)),
            storage=h.LokiStorage(type="filesystem"),
        ),
        minio=h.Enabled(enabled=False),
    )


def tempo(urls: ClusterUrls) -> h.TempoValues:
    return h.TempoValues(
        traces=h.TempoTraces(otlp=h.TempoOtlp(http=h.Enabled(enabled=True), grpc=h.Enabled(enabled=True))),
        metricsGenerator=h.MetricsGenerator(
            enabled=True,
            config=h.GeneratorConfig(storage=h.GeneratorStorage(remote_write=(h.RemoteWrite(url=urls.mimir_push),))),
        ),
        overrides=h.TempoOverrides(
            defaults=h.TenantOverrides(
                metrics_generator=h.GeneratorOverrides(processors=("service-graphs", "span-metrics"))
            )
        ),
    )


def store_destinations(settings: StackSettings, urls: ClusterUrls) -> dict[str, h.Destination]:
    """k8s-monitoring's destinations for the chosen log and trace stores (the services' OTLP goes there)."""
    off, on = h.Signal(enabled=False), h.Signal(enabled=True)
    otlp_logs = f"{urls.victorialogs}{c.VICTORIALOGS_OTLP_PATH.removesuffix('/v1/logs')}"  # the exporter adds /v1/logs
    logs = {
        "loki": h.Destination(type="loki", url=f"{urls.loki}/loki/api/v1/push"),
        "victorialogs": h.Destination(type="otlp", url=otlp_logs, protocol="http", metrics=off, logs=on, traces=off),
    }
    traces = {
        "tempo": h.Destination(type="otlp", url=urls.tempo_otlp_grpc, protocol="grpc", tls=h.OtlpTls(insecure=True),
                               metrics=off, logs=off, traces=on),
        "jaeger": h.Destination(type="otlp", url=urls.jaeger_otlp_grpc, protocol="grpc", tls=h.OtlpTls(insecure=True),
                                metrics=off, logs=off, traces=on),
    }  # fmt: skip
    log_store, trace_store = settings.backends.logs, settings.backends.traces
    return {STORE_RELEASES[log_store]: logs[log_store], STORE_RELEASES[trace_store]: traces[trace_store]}


def jaeger(settings: StackSettings) -> h.JaegerValues:
    """Jaeger v2 all-in-one at components.jaeger's tag, with the config compose's Jaeger reads (memory store)."""
    return h.JaegerValues(
        fullnameOverride=JAEGER,
        jaeger=h.JaegerDeployment(image=h.ImageTag(tag=settings.components.jaeger.image.rsplit(":", 1)[1])),
        storage=h.JaegerStorageValues(type="memory"),
        userconfig=build_jaeger(settings).to_data(),
    )


def victorialogs(settings: StackSettings) -> h.VictoriaLogsValues:
    return h.VictoriaLogsValues(
        server=h.VictoriaLogsServer(
            fullnameOverride=VICTORIALOGS_SERVICE,
            image=h.ImageTag(tag=settings.components.victorialogs.image.rsplit(":", 1)[1]),
            retentionPeriod=c.VICTORIALOGS_RETENTION,
            persistentVolume=h.Enabled(enabled=True),
        )
    )
