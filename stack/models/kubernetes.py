"""Kubernetes objects of the Kubernetes target, one object per file, each a subset of its upstream type.

Field names are the API's own (camelCase), as in the CRDs the operators ship at the pinned versions:
prometheus-operator v0.93.1 (`example/prometheus-operator-crd/`: PrometheusRule, ServiceMonitor and
PodMonitor in monitoring.coreos.com/v1, AlertmanagerConfig in monitoring.coreos.com/v1alpha1) and the
OpenTelemetry Operator v0.144.0 (`config/crd/bases/opentelemetry.io_instrumentations.yaml`, v1alpha1).
Enumerations are Literals of the CRD's enum, so a value the API server would refuse fails here first.
A rule group is `stack.models.rules.RuleGroup`, the type of the promtool-tested rule files: a
PrometheusRule holds exactly the groups those files hold.
"""

from typing import ClassVar, Final, Literal

from pydantic import Field

from stack.models import ConfigModel
from stack.models.rules import RuleGroup

MONITORING_V1: Final = "monitoring.coreos.com/v1"
MONITORING_V1ALPHA1: Final = "monitoring.coreos.com/v1alpha1"
OTEL_V1ALPHA1: Final = "opentelemetry.io/v1alpha1"


class ObjectMeta(ConfigModel):
    name: str
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


# --- PrometheusRule (monitoring.coreos.com/v1) ---------------------------------------------------------
class PrometheusRuleSpec(ConfigModel):
    groups: tuple[RuleGroup, ...]


class PrometheusRule(ConfigModel):
    GROUPS_AT: ClassVar[tuple[str, ...]] = ("spec", "groups")  # where a document holds its rule groups (render)

    apiVersion: Literal["monitoring.coreos.com/v1"] = MONITORING_V1
    kind: Literal["PrometheusRule"] = "PrometheusRule"
    metadata: ObjectMeta
    spec: PrometheusRuleSpec


# --- ServiceMonitor / PodMonitor (monitoring.coreos.com/v1) ---------------------------------------------
ScrapeProtocol = Literal[
    "PrometheusProto", "OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusText0.0.4", "PrometheusText1.0.0"
]
RelabelAction = Literal[
    "replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase",
    "keepequal", "dropequal",
]  # fmt: skip


class SecretKeySelector(ConfigModel):
    name: str
    key: str
    optional: bool | None = None


class SafeAuthorization(ConfigModel):
    type: str = "Bearer"
    credentials: SecretKeySelector


class RelabelConfig(ConfigModel):
    sourceLabels: tuple[str, ...] | None = None
    separator: str | None = None
    targetLabel: str | None = None
    regex: str | None = None
    replacement: str | None = None
    action: RelabelAction | None = None


class LabelSelector(ConfigModel):
    matchLabels: dict[str, str]


class NamespaceSelector(ConfigModel):
    any: bool | None = None
    matchNames: tuple[str, ...] | None = None


class Endpoint(ConfigModel):
    """ServiceMonitor endpoint (type Endpoint) and PodMonitor endpoint (type PodMetricsEndpoint) share these;
    a numbered port is `targetPort` in the first (the pod's port behind the Service), `portNumber` in the second."""

    port: str | None = None
    targetPort: int | None = Field(None, ge=1, le=65535)
    portNumber: int | None = Field(None, ge=1, le=65535)
    path: str
    scheme: Literal["http", "https"] | None = None
    interval: str
    authorization: SafeAuthorization | None = None
    relabelings: tuple[RelabelConfig, ...] | None = None


class ServiceMonitorSpec(ConfigModel):
    selector: LabelSelector
    namespaceSelector: NamespaceSelector
    endpoints: tuple[Endpoint, ...]
    scrapeProtocols: tuple[ScrapeProtocol, ...] | None = None


class ServiceMonitor(ConfigModel):
    apiVersion: Literal["monitoring.coreos.com/v1"] = MONITORING_V1
    kind: Literal["ServiceMonitor"] = "ServiceMonitor"
    metadata: ObjectMeta
    spec: ServiceMonitorSpec


class PodMonitorSpec(ConfigModel):
    selector: LabelSelector
    namespaceSelector: NamespaceSelector
    podMetricsEndpoints: tuple[Endpoint, ...]
    scrapeProtocols: tuple[ScrapeProtocol, ...] | None = None


class PodMonitor(ConfigModel):
    apiVersion: Literal["monitoring.coreos.com/v1"] = MONITORING_V1
    kind: Literal["PodMonitor"] = "PodMonitor"
    metadata: ObjectMeta
    spec: PodMonitorSpec


# --- AlertmanagerConfig (monitoring.coreos.com/v1alpha1) ------------------------------------------------
class Matcher(ConfigModel):
    name: str
    value: str
    matchType: Literal["=", "!=", "=~", "!~"]


class Route(ConfigModel):
    receiver: str | None = None
    groupBy: tuple[str, ...] | None = None
    groupWait: str | None = None
    groupInterval: str | None = None
    repeatInterval: str | None = None
    matchers: tuple[Matcher, ...] | None = None
    continue_: bool | None = Field(default=None, alias="continue")
    routes: "tuple[Route, ...] | None" = None


class WebhookConfig(ConfigModel):
    url: str
    sendResolved: bool | None = None
    maxAlerts: int | None = None


class Receiver(ConfigModel):
    name: str
    webhookConfigs: tuple[WebhookConfig, ...] | None = None


class InhibitRule(ConfigModel):
    sourceMatch: tuple[Matcher, ...]
    targetMatch: tuple[Matcher, ...]
    equal: tuple[str, ...] | None = None


class AlertmanagerConfigSpec(ConfigModel):
    route: Route
    receivers: tuple[Receiver, ...]
    inhibitRules: tuple[InhibitRule, ...]


class AlertmanagerConfig(ConfigModel):
    apiVersion: Literal["monitoring.coreos.com/v1alpha1"] = MONITORING_V1ALPHA1
    kind: Literal["AlertmanagerConfig"] = "AlertmanagerConfig"
    metadata: ObjectMeta
    spec: AlertmanagerConfigSpec


# --- ConfigMap (v1) --------------------------------------------------------------------------------------
class ConfigMap(ConfigModel):
    apiVersion: Literal["v1"] = "v1"
    kind: Literal["ConfigMap"] = "ConfigMap"
    metadata: ObjectMeta
    data: dict[str, str]


# --- Instrumentation (opentelemetry.io/v1alpha1) --------------------------------------------------------
Propagator = Literal["tracecontext", "baggage", "b3", "b3multi", "jaeger", "xray", "ottrace", "none"]
SamplerType = Literal[
    "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off",
    "parentbased_traceidratio", "jaeger_remote", "xray",
]  # fmt: skip


class EnvVar(ConfigModel):
    name: str
    value: str


class Exporter(ConfigModel):
    endpoint: str


class Sampler(ConfigModel):
    type: SamplerType
    argument: str | None = None


class Python(ConfigModel):
    env: tuple[EnvVar, ...] | None = None


class InstrumentationSpec(ConfigModel):
    exporter: Exporter
    propagators: tuple[Propagator, ...]
    sampler: Sampler
    python: Python


class Instrumentation(ConfigModel):
    apiVersion: Literal["opentelemetry.io/v1alpha1"] = OTEL_V1ALPHA1
    kind: Literal["Instrumentation"] = "Instrumentation"
    metadata: ObjectMeta
    spec: InstrumentationSpec


# --- Kustomization (kustomize.config.k8s.io/v1beta1) ----------------------------------------------------
class Kustomization(ConfigModel):
    apiVersion: Literal["kustomize.config.k8s.io/v1beta1"] = "kustomize.config.k8s.io/v1beta1"
    kind: Literal["Kustomization"] = "Kustomization"
    namespace: str
    resources: tuple[str, ...]


KubernetesObject = PrometheusRule | ServiceMonitor | PodMonitor | AlertmanagerConfig | ConfigMap | Instrumentation
