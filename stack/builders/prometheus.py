"""settings -> prometheus.yml model."""

from __future__ import annotations

import posixpath

from stack import conventions as c
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


def relative_to_config(settings: StackSettings, target: str) -> str:
    """`target` (relative to the project root) as seen from the directory of prometheus.yml."""
    config_dir = posixpath.dirname(posixpath.join(settings.output.compose_dir, c.PROMETHEUS_CONFIG))
    return posixpath.relpath(target, config_dir)


def build_prometheus(settings: StackSettings) -> PrometheusConfig:
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
            *(_component_job(name, f"{name}:{getattr(components, name).port}") for name in SELF_SCRAPED),
            *(_service_job(settings, service) for service in settings.services),
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
                targets=(service.compose_address,),
                labels={c.SERVICE_LABEL: service.name, **dict(sorted(service.labels.items()))},
            ),
        ),
    )
