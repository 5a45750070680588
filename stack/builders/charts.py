"""settings -> the Helm side of the Kubernetes target: the pinned charts (helmfile.yaml) and their values.

The data plane in a cluster (every name below is the in-cluster Service the chart creates for the release
name given here, in kubernetes.namespace):
- kube-prometheus-stack: the prometheus-operator and its CRDs, Alertmanager (configured by the generated
  AlertmanagerConfig) and Grafana (its sidecars load the generated dashboard and datasource ConfigMaps).
  Its Prometheus is off: Mimir stores the metrics and evaluates the rules, so nothing is evaluated twice.
- k8s-monitoring: Alloy scrapes the generated ServiceMonitors/PodMonitors into Mimir, syncs the generated
  PrometheusRules to Mimir's ruler (destinations.mimir.rules), and receives the services' OTLP
  (traces -> Tempo, logs -> Loki) on port 4318 of its alloy-receiver collector.
- mimir-distributed: metrics and the ruler, which sends alerts to kube-prometheus-stack's Alertmanager.
  Ingest storage architecture (the chart's default since 6.0, Mimir 3's preferred and stable one) with
  the chart's single-node Kafka: see the README for why and what to change for production.
- loki (Monolithic, filesystem) and tempo-distributed (OTLP in, span metrics and service graphs written to
  Mimir for the Tempo datasource's service map and traces-to-metrics links).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

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
# release name -> repository/chart
KPS, K8S_MONITORING, MIMIR, LOKI, TEMPO = "kube-prometheus-stack", "k8s-monitoring", "mimir", "loki", "tempo"
CHARTS = {
    KPS: "prometheus-community/kube-prometheus-stack",
    K8S_MONITORING: "grafana/k8s-monitoring",
    MIMIR: "grafana/mimir-distributed",
    LOKI: "grafana-community/loki",
    TEMPO: "grafana-community/tempo-distributed",
}
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
    def jaeger_query(self) -> str:  # jaegertracing/helm-charts `jaeger` (Jaeger v2 all-in-one), release jaeger
        return self._svc("jaeger", 16686)

    @property
    def victorialogs(self) -> str:  # VictoriaMetrics' victoria-logs-single, release victoria-logs-single
        return self._svc("victoria-logs-single-server", 9428)

    @property
    def alertmanager(self) -> str:
        return self._svc(f"{KPS}-alertmanager", 9093)

    @property
    def otlp_receiver(self) -> str:
        return self._svc(f"{K8S_MONITORING}-{RECEIVER_COLLECTOR}", OTLP_HTTP_PORT)


def build_helmfile(settings: StackSettings) -> h.Helmfile:
    k8s, charts = settings.kubernetes, settings.kubernetes.charts
    versions = {
        KPS: charts.kube_prometheus_stack,
        K8S_MONITORING: charts.k8s_monitoring,
        MIMIR: charts.mimir_distributed,
        LOKI: charts.loki,
        TEMPO: charts.tempo_distributed,
    }
    needs = {K8S_MONITORING: (f"{k8s.namespace}/{KPS}",)}  # the CRDs of ServiceMonitor and PrometheusRule
    releases = tuple(
        h.HelmRelease(
            name=name,
            namespace=k8s.namespace,
            chart=chart,
            version=versions[name],
            values=(values_file(name),),
            needs=needs.get(name),
        )
        for name, chart in CHARTS.items()
    )
    return h.Helmfile(repositories=REPOSITORIES, releases=releases)


def build_chart_values(settings: StackSettings) -> dict[str, ConfigModel]:
    """Values file path (relative to the Kubernetes directory) -> its values model."""
    urls = ClusterUrls(settings.kubernetes.namespace)
    return {
        values_file(KPS): kube_prometheus_stack(settings),
        values_file(K8S_MONITORING): k8s_monitoring(settings, urls),
        values_file(MIMIR): mimir(settings, urls),
        values_file(LOKI): loki(),
        values_file(TEMPO): tempo(urls),
    }


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
    off, on = h.Signal(enabled=False), h.Signal(enabled=True)
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
            LOKI: h.Destination(type="loki", url=f"{urls.loki}/loki/api/v1/push"),
            TEMPO: h.Destination(
                type="otlp",
                url=urls.tempo_otlp_grpc,
                protocol="grpc",
                tls=h.OtlpTls(insecure=True),
                metrics=off,
                logs=off,
                traces=on,
            ),
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
        ),
        collectors={
            METRICS_COLLECTOR: h.Collector(presets=("clustered", "statefulset")),
            RECEIVER_COLLECTOR: h.Collector(presets=("deployment",)),
        },
    )


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
