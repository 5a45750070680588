"""settings -> the Kubernetes target (pure): a Kustomize base and Helm values overlays.

base/ holds one object per file, all listed by base/kustomization.yaml (namespace kubernetes.namespace):
per service a PrometheusRule (the groups of its promtool-tested rule file, unchanged) and a ServiceMonitor
or PodMonitor; the platform groups in their own PrometheusRule; one AlertmanagerConfig with the routing
of alertmanager.yml; the dashboards and datasources as ConfigMaps for Grafana's sidecars; the OTel
Operator's Instrumentation for Python. helm/ and helmfile.yaml pin the charts that run them (charts.py).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

import yaml

from stack import conventions as c
from stack.builders import charts
from stack.builders.alertmanager import build_alertmanager
from stack.builders.dashboards import build_dashboards
from stack.builders.grafana import build_datasources
from stack.builders.rules import build_rule_files
from stack.models import ConfigModel
from stack.models import alertmanager as am
from stack.models import kubernetes as k
from stack.models.grafana import VICTORIALOGS_PLUGIN
from stack.models.jsontext import to_json
from stack.models.rules import RuleFile
from stack.settings import Service, StackSettings
from stack.yaml_block import BlockWriter

BASE_DIR = "base"
KUSTOMIZATION = posixpath.join(BASE_DIR, "kustomization.yaml")
HELMFILE = "helmfile.yaml"
PREFIX = "obsstack"  # object names obsstack-<...>: they never clash with the user's own objects
PLATFORM = "platform"
DATASOURCES_KEY = "obsstack-datasources.yaml"
MATCHER_RE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)"(.*)"$')
# what compose's static labels set on a service's series, set here by relabeling (the rules select on them)
JOB_LABEL = "job"
# Prometheus' text formats in order, OpenMetrics first: exemplars (trace ids) are only sent in OpenMetrics
SCRAPE_PROTOCOLS: tuple[k.ScrapeProtocol, ...] = ("OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText0.0.4")
# OBS_OTLP_LOGS: k8s-monitoring here receives OTLP and collects no pod logs, so obsstack_fastapi exports its log
# lines by OTLP too (its default leaves them on stdout for a collector to read)
PYTHON_ENV = (
    k.EnvVar(name="OTEL_LOGS_EXPORTER", value="otlp"),
    k.EnvVar(name="OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED", value="true"),
    k.EnvVar(name="OBS_OTLP_LOGS", value="true"),
)
# the scraped services expose their metrics (ServiceMonitor/PodMonitor): their agent sends none
SCRAPED_ENV = (k.EnvVar(name="OTEL_METRICS_EXPORTER", value="none"),)


def _safe_dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=100_000, allow_unicode=True)


# the bytes of _safe_dump (PyYAML's pure-Python emitter, about 15 ms here), written directly
SAFE_YAML = BlockWriter(_safe_dump)


def build_kubernetes(
    settings: StackSettings,
    boards: Mapping[str, str] | None = None,
    rule_files: Mapping[str, RuleFile] | None = None,
) -> dict[str, ConfigModel]:
    """File name (relative to output.kubernetes_dir) -> its document. `boards` (dashboard name -> the JSON text
    of dashboards/) and `rule_files` (those of alerts/): as render built them, else built here."""
    objects = build_objects(settings, boards, rule_files)
    files: dict[str, ConfigModel] = {posixpath.join(BASE_DIR, name): obj for name, obj in objects.items()}
    files[KUSTOMIZATION] = k.Kustomization(namespace=settings.kubernetes.namespace, resources=tuple(objects))
    files.update(charts.build_chart_values(settings))
    files[HELMFILE] = charts.build_helmfile(settings)
    return files


def build_objects(
    settings: StackSettings,
    boards: Mapping[str, str] | None = None,
    rule_files: Mapping[str, RuleFile] | None = None,
) -> dict[str, k.KubernetesObject]:
    """File name (relative to base/) -> the one object it holds, in kustomization order."""
    objects: dict[str, k.KubernetesObject] = {}
    for name, rule in prometheus_rules(settings, rule_files).items():
        objects[f"prometheusrule-{name}.yaml"] = rule
    for service in settings.services:
        if not service.scraped:
            continue  # metrics_source otlp: pushed to k8s-monitoring's OTLP receiver, never scraped
        monitor = service_monitor(settings, service)
        objects[f"{monitor.kind.lower()}-{service.name}.yaml"] = monitor
    objects["alertmanagerconfig.yaml"] = alertmanager_config(settings)
    for name, config_map in dashboards(settings, boards).items():
        objects[f"dashboard-{name}.yaml"] = config_map
    objects["datasources.yaml"] = datasources(settings)
    objects["instrumentation.yaml"] = instrumentation(settings)
    for service in settings.services:
        if not service.scraped:
            objects[f"instrumentation-{service.name}.yaml"] = instrumentation(settings, service)
    return objects


def _meta(settings: StackSettings, name: str, labels: dict[str, str] | None = None, **annotations: str) -> k.ObjectMeta:
    return k.ObjectMeta(
        name=f"{PREFIX}-{name}",
        namespace=settings.kubernetes.namespace,
        labels=labels,
        annotations=annotations or None,
    )


def _selected(settings: StackSettings, service: Service | None = None) -> dict[str, str]:
    """The labels kube-prometheus-stack and Alloy select the objects by, and the service's own labels."""
    own = dict(sorted(service.labels.items())) if service else {}
    return {**own, **settings.kubernetes.selector_labels}


def prometheus_rules(
    settings: StackSettings, rule_files: Mapping[str, RuleFile] | None = None
) -> dict[str, k.PrometheusRule]:
    """Rule name -> PrometheusRule holding exactly the groups of the promtool-tested rule file."""
    rule_files = build_rule_files(settings) if rule_files is None else rule_files
    by_service = {s.name: s for s in settings.services}
    rules: dict[str, k.PrometheusRule] = {}
    for service in settings.services:
        groups = rule_files[c.rules_file(service.name)].groups
        rules[service.name] = k.PrometheusRule(
            metadata=_meta(settings, f"{service.name}-rules", _selected(settings, by_service[service.name])),
            spec=k.PrometheusRuleSpec(groups=groups),
        )
    rules[PLATFORM] = k.PrometheusRule(
        metadata=_meta(settings, f"{PLATFORM}-rules", _selected(settings)),
        spec=k.PrometheusRuleSpec(groups=rule_files[c.PLATFORM_RULES_FILE].groups),
    )
    return rules


def service_monitor(settings: StackSettings, service: Service) -> k.ServiceMonitor | k.PodMonitor:
    """Scrape the service's named port (its `metrics_port` by number, when it has one) and metrics path at the
    profile's interval, with its bearer token from the token Secret when it has one, and the labels compose's
    static config gives its series."""
    k8s = settings.kubernetes
    token = service.metrics_token_file
    number = service.metrics_port
    pod = k8s.monitor_kind == "PodMonitor"
    endpoint = k.Endpoint(
        port=None if number else k8s.metrics_port,
        targetPort=number if number and not pod else None,
        portNumber=number if number and pod else None,
        path=service.metrics_path,
        interval=str(settings.timing.scrape_interval),
        authorization=k.SafeAuthorization(
            credentials=k.SecretKeySelector(name=k8s.metrics_token_secret, key=service.name)
        )
        if token
        else None,
        relabelings=tuple(
            k.RelabelConfig(targetLabel=label, replacement=value, action="replace")
            for label, value in {
                c.SERVICE_LABEL: service.name,
                JOB_LABEL: service.name,
                **dict(sorted(service.labels.items())),
            }.items()
        ),
    )
    selector = k.LabelSelector(matchLabels={k8s.app_label: service.name})
    namespaces = k.NamespaceSelector(matchNames=(k8s.services_namespace,))
    meta = _meta(settings, service.name, _selected(settings, service))
    if pod:
        spec = k.PodMonitorSpec(
            selector=selector,
            namespaceSelector=namespaces,
            podMetricsEndpoints=(endpoint,),
            scrapeProtocols=SCRAPE_PROTOCOLS,
        )
        return k.PodMonitor(metadata=meta, spec=spec)
    return k.ServiceMonitor(
        metadata=meta,
        spec=k.ServiceMonitorSpec(
            selector=selector, namespaceSelector=namespaces, endpoints=(endpoint,), scrapeProtocols=SCRAPE_PROTOCOLS
        ),
    )


def _matchers(matchers: tuple[str, ...] | None) -> tuple[k.Matcher, ...] | None:
    """alertmanager.yml's `name="value"` matchers as AlertmanagerConfig's {name, value, matchType}."""
    if matchers is None:
        return None
    parsed = []
    for text in matchers:
        match = MATCHER_RE.match(text)
        if match is None:
            raise ValueError(f'matcher {text!r} is not of the form name<op>"value"')
        name, op, value = match.groups()
        parsed.append(k.Matcher(name=name, value=value, matchType=op))
    return tuple(parsed)


def _route(route: am.Route) -> k.Route:
    return k.Route(
        receiver=route.receiver,
        groupBy=route.group_by,
        groupWait=route.group_wait,
        groupInterval=route.group_interval,
        repeatInterval=route.repeat_interval,
        matchers=_matchers(route.matchers),
        continue_=route.continue_,
        routes=tuple(_route(child) for child in route.routes) if route.routes else None,
    )


def alertmanager_config(settings: StackSettings) -> k.AlertmanagerConfig:
    """The routing, receivers and inhibitions of alertmanager.yml (build_alertmanager), as the operator's
    AlertmanagerConfig. Its `global` has no place there: resolve_timeout stays the Alertmanager's (5m, the
    same as obsstack's). The webhook URLs are alerting.*webhook_url: they must be reachable from the cluster."""
    config = build_alertmanager(settings)
    receivers = tuple(
        k.Receiver(
            name=receiver.name,
            webhookConfigs=tuple(
                k.WebhookConfig(url=hook.url, sendResolved=hook.send_resolved, maxAlerts=hook.max_alerts)
                for hook in receiver.webhook_configs or ()
            ),
        )
        for receiver in config.receivers
    )
    inhibit = tuple(
        k.InhibitRule(
            sourceMatch=_matchers(rule.source_matchers) or (),
            targetMatch=_matchers(rule.target_matchers) or (),
            equal=rule.equal,
        )
        for rule in config.inhibit_rules
    )
    return k.AlertmanagerConfig(
        metadata=_meta(settings, "alerting", _selected(settings)),
        spec=k.AlertmanagerConfigSpec(route=_route(config.route), receivers=receivers, inhibitRules=inhibit),
    )


def dashboards(settings: StackSettings, boards: Mapping[str, str] | None = None) -> dict[str, k.ConfigMap]:
    """Dashboard name -> ConfigMap for Grafana's dashboard sidecar, holding the bytes of dashboards/<name>.json
    (`boards`: those texts, as render built them) in the project's folder."""
    if boards is None:
        boards = {name: to_json(board) for name, board in build_dashboards(settings).items()}
    return {
        name: k.ConfigMap(
            metadata=_meta(
                settings,
                f"dashboard-{name}",
                {charts.DASHBOARD_LABEL: charts.SIDECAR_LABEL_VALUE},
                **{charts.FOLDER_ANNOTATION: settings.project},
            ),
            data={c.dashboard_file(name): text},
        )
        for name, text in boards.items()
    }


def datasources(settings: StackSettings) -> k.ConfigMap:
    """The compose datasources (same UIDs, same correlations) pointed at the charts' in-cluster Services:
    Prometheus -> Mimir's gateway (/prometheus), Loki's gateway, Tempo's query-frontend, and
    kube-prometheus-stack's Alertmanager."""
    urls = charts.ClusterUrls(settings.kubernetes.namespace)
    in_cluster = {
        "prometheus": urls.mimir_query,
        "loki": urls.loki,
        "tempo": urls.tempo_query,
        "jaeger": urls.jaeger_query,
        VICTORIALOGS_PLUGIN: urls.victorialogs,
        "alertmanager": urls.alertmanager,
    }
    provisioning = build_datasources(settings)
    placed = provisioning.model_copy(
        update={
            "datasources": tuple(d.model_copy(update={"url": in_cluster[d.type]}) for d in provisioning.datasources)
        }
    )
    # the sidecar writes each key to a file of Grafana's provisioning/datasources; YAML text, as Grafana reads
    text = SAFE_YAML.write(placed.to_data())
    return k.ConfigMap(
        metadata=_meta(settings, "datasources", {charts.DATASOURCE_LABEL: charts.SIDECAR_LABEL_VALUE}),
        data={DATASOURCES_KEY: text},
    )


def instrumentation(settings: StackSettings, pushed: Service | None = None) -> k.Instrumentation:
    """The OTel Operator's auto-instrumentation for Python: its agent exports http/protobuf (the operator
    sets OTEL_EXPORTER_OTLP_PROTOCOL so), hence port 4318 of k8s-monitoring's OTLP receiver. A scraped
    service's pod opts in with the annotation instrumentation.opentelemetry.io/inject-python:
    "<namespace>/obsstack-python" (its agent sends no metrics); a metrics_source otlp service's with
    "<namespace>/obsstack-python-<service>", whose agent pushes them as that service, at the scrape interval
    (in the stable HTTP conventions for otel)."""
    urls = charts.ClusterUrls(settings.kubernetes.namespace)
    env: tuple[k.EnvVar, ...] = SCRAPED_ENV
    if pushed is not None:
        own = c.service_env(pushed.name, settings.buckets(pushed), None, None, urls.otlp_receiver, "kubernetes",
                            export_interval_ms=settings.timing.scrape_interval.ms,
                            stable_semconv=pushed.metrics_convention == "otel")  # fmt: skip
        keep = ("OTEL_SERVICE_NAME", c.EXPORT_INTERVAL_ENV, c.SEMCONV_OPT_IN_ENV)  # the endpoint is the exporter's
        env = tuple(k.EnvVar(name=key, value=own[key]) for key in keep if key in own)
    return k.Instrumentation(
        metadata=_meta(settings, "python" if pushed is None else f"python-{pushed.name}"),
        spec=k.InstrumentationSpec(
            exporter=k.Exporter(endpoint=urls.otlp_receiver),
            propagators=("tracecontext", "baggage"),
            sampler=k.Sampler(type="parentbased_always_on"),
            python=k.Python(env=(*env, *PYTHON_ENV)),
        ),
    )
