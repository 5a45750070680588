"""prometheus.yml, restricted to the keys we set, as the pinned Prometheus (3.16) reads them."""

from typing import Literal

from pydantic import Field

from stack.models import ConfigModel


class GlobalConfig(ConfigModel):
    scrape_interval: str
    evaluation_interval: str
    scrape_timeout: str | None = None
    external_labels: dict[str, str] | None = None


class StaticConfig(ConfigModel):
    targets: tuple[str, ...]
    labels: dict[str, str] | None = None


class Authorization(ConfigModel):
    type: Literal["Bearer"] = "Bearer"
    credentials_file: str


class ScrapeConfig(ConfigModel):
    job_name: str
    scrape_interval: str | None = None
    scrape_timeout: str | None = None
    metrics_path: str = "/metrics"
    scheme: Literal["http", "https"] = "http"
    honor_labels: bool | None = None
    authorization: Authorization | None = None
    static_configs: tuple[StaticConfig, ...]


class AlertmanagerConfig(ConfigModel):
    api_version: Literal["v2"] = "v2"
    scheme: Literal["http", "https"] = "http"
    static_configs: tuple[StaticConfig, ...]


class AlertingConfig(ConfigModel):
    alertmanagers: tuple[AlertmanagerConfig, ...]


class RemoteWriteConfig(ConfigModel):
    url: str
    name: str | None = None
    headers: dict[str, str] | None = None


class PrometheusConfig(ConfigModel):
    global_: GlobalConfig = Field(alias="global")
    alerting: AlertingConfig | None = None  # None: the rules are evaluated elsewhere (a Mimir ruler)
    rule_files: tuple[str, ...] = ()
    scrape_configs: tuple[ScrapeConfig, ...]
    remote_write: tuple[RemoteWriteConfig, ...] | None = None
