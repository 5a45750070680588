"""The generated configs rewritten for local processes on 127.0.0.1, under .obsstack/local/.

The whole plan of `render_all` is written there (so prometheus.yml's ../../alerts resolves the same
way), then the configs that name hosts are replaced by copies of their models rewritten for 127.0.0.1:
scrape targets, the Alertmanager target, token paths, and only the jobs of components that run.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection
from pathlib import Path

from stack import conventions as c
from stack.builders.loki import build_loki
from stack.builders.otelcol import build_otelcol
from stack.builders.prometheus import build_prometheus
from stack.builders.tempo import build_tempo
from stack.models import ConfigModel
from stack.models.prometheus import PrometheusConfig, ScrapeConfig, StaticConfig
from stack.render import render_all, to_yaml
from stack.settings import StackSettings
from stack.write import write_files

COMPONENTS = ("prometheus", "alertmanager", "grafana", "loki", "tempo", "otelcol")


def addresses(settings: StackSettings) -> dict[str, str]:
    """host:port of every component and service on this machine, by scrape job name."""
    found = {name: f"127.0.0.1:{getattr(settings.components, name).port}" for name in COMPONENTS}
    return found | {s.name: f"{s.local_address}:{s.port}" for s in settings.services}


def local_prometheus(settings: StackSettings, root: Path, running: Collection[str]) -> PrometheusConfig:
    config = build_prometheus(settings)
    by_job = addresses(settings)
    tokens = {s.name: s.metrics_token_file for s in settings.services}
    jobs = tuple(
        _local_job(job, by_job[job.job_name], root, tokens.get(job.job_name))
        for job in config.scrape_configs
        if job.job_name in running
    )
    target = StaticConfig(targets=(f"127.0.0.1:{settings.components.alertmanager.port}",))
    managers = tuple(m.model_copy(update={"static_configs": (target,)}) for m in config.alerting.alertmanagers)
    alerting = config.alerting.model_copy(update={"alertmanagers": managers})
    return config.model_copy(update={"scrape_configs": jobs, "alerting": alerting})


def _local_job(job: ScrapeConfig, address: str, root: Path, token: str | None) -> ScrapeConfig:
    statics = tuple(s.model_copy(update={"targets": (address,)}) for s in job.static_configs)
    update: dict[str, object] = {"static_configs": statics}
    if job.authorization is not None and token:
        update["authorization"] = job.authorization.model_copy(
            update={"credentials_file": str((root / token).resolve())}
        )
    return job.model_copy(update=update)


def write_local_configs(settings: StackSettings, root: Path, local: Path, data: Path, running: Collection[str]) -> None:
    """Write the plan under `local`, then the rewritten configs over their compose versions."""
    files = {artifact.path: artifact.text for artifact in render_all(settings)}
    placement = c.Placement(local=True, data_root=str(data.resolve()))
    models: dict[str, ConfigModel] = {
        c.PROMETHEUS_CONFIG: local_prometheus(settings, root, running),
        c.LOKI_CONFIG: build_loki(settings, placement),
        c.TEMPO_CONFIG: build_tempo(settings, placement),
        c.OTELCOL_CONFIG: build_otelcol(settings, placement),
    }
    for name, model in models.items():
        files[posixpath.join(settings.output.compose_dir, name)] = to_yaml(model.to_data())
    write_files(local, files)
