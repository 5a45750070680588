"""alertmanager.yml (Alertmanager 0.25+ syntax: `matchers`, not the deprecated `match`)."""

from pydantic import Field

from stack.models import ConfigModel


class WebhookConfig(ConfigModel):
    url: str
    send_resolved: bool = True
    max_alerts: int = 0


class Receiver(ConfigModel):
    name: str
    webhook_configs: tuple[WebhookConfig, ...] | None = None


class Route(ConfigModel):
    receiver: str | None = None
    matchers: tuple[str, ...] | None = None
    group_by: tuple[str, ...] | None = None
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    continue_: bool | None = Field(default=None, alias="continue")
    routes: tuple["Route", ...] | None = None


class InhibitRule(ConfigModel):
    source_matchers: tuple[str, ...]
    target_matchers: tuple[str, ...]
    equal: tuple[str, ...] | None = None


class GlobalConfig(ConfigModel):
    resolve_timeout: str = "5m"


class AlertmanagerConfig(ConfigModel):
    global_: GlobalConfig = Field(alias="global")
    route: Route
    inhibit_rules: tuple[InhibitRule, ...]
    receivers: tuple[Receiver, ...]
