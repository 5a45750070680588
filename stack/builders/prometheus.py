"""settings -> prometheus.yml model, for containers or (local placement) for processes on 127.0.0.1.

Local placement keeps only the jobs of what runs, targets 127.0.0.1 and reads token files by absolute path.
A service is scraped on its scrape port (`metrics_port`, else its port); a `metrics_source: otlp` service has
no job (it pushes through the collector: builders/otelcol.py), hence no `up` and no TargetDown.
"""

from __future__ import annotations

import posixpath

from stack import conventions as c
from stack.builders.backends import stores
from stack.models.prometheus import (
    AlertingConfig,
    AlertmanagerConfig,
    Authorization,
    GlobalConfig,
    PrometheusConfig,
    ScrapeConfig,
    StaticConfig,
)
from stack.settings import Service, StackSettings

SELF_SCRAPED = ("alertmanager", "grafana", "loki", "tempo", "otelcol")


def self_scraped(settings: StackSettings) -> tuple[str, ...]:
    """The components scraped on their own port: Loki and Tempo only when they are the chosen stores (compose
    runs no other; a job of a store it does not run is a target down, `lookup loki: no such host`)."""
    chosen = stores(settings)
    return tuple(name for name in SELF_SCRAPED if name not in ("loki", "tempo") or name in chosen)


def relative_to_config(settings: StackSettings, target: str) -> str:
    """`target` (relative to the project root) as seen from the directory of prometheus.yml."""
    config_dir = posixpath.dirname(posixpath.join(settings.output.compose_dir, c.PROMETHEUS_CONFIG))
    return posixpath.relpath(target, config_dir)


LOCAL_COMPONENTS = ("prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol")


def build_prometheus(settings: StackSettings, placement: c.Placement = c.IN_CONTAINERS) -> PrometheusConfig:
    config = _containers(settings)
    return _local(settings, config, placement) if placement.local else config


def _containers(settings: StackSettings) -> PrometheusConfig:
    timing = settings.timing
    components = settings.components
    return PrometheusConfig(
        global_=GlobalConfig(
            scrape_interval=str(timing.scrape_interval),
            evaluation_interval=str(timing.evaluation_interval),
            external_labels={"stack": settings.project},
        ),
        alerting=AlertingConfig(
            alertmanagers=(
                AlertmanagerConfig(
                    static_configs=(StaticConfig(targets=(f"alertmanager:{components.alertmanager.port}",)),)
                ),
            )
        ),
        rule_files=(relative_to_config(settings, posixpath.join(settings.output.alerts_dir, "*.rules.yml")),),
        scrape_configs=(
            _component_job("prometheus", f"localhost:{components.prometheus.port}"),
            *(_component_job(name, f"{name}:{getattr(components, name).port}") for name in self_scraped(settings)),
            *(_service_job(settings, service) for service in settings.services if service.scraped),
        ),
    )


def _component_job(name: str, target: str) -> ScrapeConfig:
    return ScrapeConfig(
        job_name=name,
        static_configs=(StaticConfig(targets=(target,), labels={c.SERVICE_LABEL: name}),),
    )


def _service_job(settings: StackSettings, service: Service) -> ScrapeConfig:
    token = service.metrics_token_file
    return ScrapeConfig(
        job_name=service.name,
        metrics_path=service.metrics_path,
        authorization=Authorization(credentials_file=relative_to_config(settings, token)) if token else None,
        static_configs=(
            StaticConfig(
                targets=(scrape_target(service),),
                labels={c.SERVICE_LABEL: service.name, **dict(sorted(service.labels.items()))},
            ),
        ),
    )


def scrape_target(service: Service) -> str:
    """host:port where Prometheus in compose scrapes the service: its compose address, on its scrape port."""
    host = service.compose_address.rpartition(":")[0]
    return f"{host}:{service.scrape_port}"


def local_addresses(settings: StackSettings) -> dict[str, str]:
    """host:port to scrape of every component and scraped service on this machine, by scrape job name."""
    found = {name: f"127.0.0.1:{getattr(settings.components, name).port}" for name in LOCAL_COMPONENTS}
    return found | {s.name: f"{s.local_address}:{s.scrape_port}" for s in settings.services if s.scraped}


def _local(settings: StackSettings, config: PrometheusConfig, placement: c.Placement) -> PrometheusConfig:
    by_job = local_addresses(settings)
    tokens = {s.name: s.metrics_token_file for s in settings.services}
    jobs = tuple(
        _local_job(job, by_job[job.job_name], placement.project_root, tokens.get(job.job_name))
        for job in config.scrape_configs
        if job.job_name in placement.running
    )
    assert config.alerting is not None  # the containers' config always alerts
    target = StaticConfig(targets=(f"127.0.0.1:{settings.components.alertmanager.port}",))
    managers = tuple(m.model_copy(update={"static_configs": (target,)}) for m in config.alerting.alertmanagers)
    alerting = config.alerting.model_copy(update={"alertmanagers": managers})
    return config.model_copy(update={"scrape_configs": jobs, "alerting": alerting})


def _local_job(job: ScrapeConfig, address: str, root: str, token: str | None) -> ScrapeConfig:
    statics = tuple(s.model_copy(update={"targets": (address,)}) for s in job.static_configs)
    update: dict[str, object] = {"static_configs": statics}
    if job.authorization is not None and token:
        credentials = posixpath.normpath(posixpath.join(root, token))
        update["authorization"] = job.authorization.model_copy(update={"credentials_file": credentials})
    return job.model_copy(update=update)
