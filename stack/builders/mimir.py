"""settings -> the Grafana Mimir target (pure): the ruler's rule files and the tenant's Alertmanager config.

- `rules/<service>.yaml`: one namespace per service (the rule-file format of mimirtool and cortextool) holding
  exactly that service's groups of `build_rule_files` (the groups promtool's generated tests prove), and
  `rules/obsstack-platform.yaml` with the stack-wide groups (watchdog, ...).
- `alertmanager.yaml`: the tenant's Alertmanager config, the same document as the plain Alertmanager's.
  Mimir refuses for a tenant what would read the server's files or reach through its proxy (`*_file` keys,
  TLS files, proxy settings); such a key is refused here, by name, before Mimir would.

Users load them into their own Mimir (`mimirtool rules sync`, `mimirtool alertmanager load`); obsstack runs no
Mimir.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.rules import build_rule_files
from stack.errors import StackError
from stack.models import ConfigModel
from stack.models.alertmanager import AlertmanagerConfig
from stack.models.mimir import RuleNamespace
from stack.models.rules import RuleFile
from stack.settings import StackSettings

# what Mimir's Alertmanager refuses in a tenant's config (pkg/alertmanager/api.go validateAlertmanagerConfig)
REFUSED_KEYS = frozenset({"proxy_url", "proxy_from_environment"})
REFUSED_TLS_KEYS = frozenset({"ca", "cert", "key"})


def build_mimir(settings: StackSettings, rule_files: Mapping[str, RuleFile] | None = None) -> dict[str, ConfigModel]:
    """File name (relative to output.mimir_dir) -> its document (`rule_files`: those of alerts/, as render
    built them, else built here)."""
    files: dict[str, ConfigModel] = {
        f"{c.MIMIR_RULES_DIR}/{ns.namespace}.yaml": ns for ns in build_rule_namespaces(settings, rule_files)
    }
    files[c.MIMIR_ALERTMANAGER_CONFIG] = build_tenant_alertmanager(settings)
    return files


def build_rule_namespaces(
    settings: StackSettings, rule_files: Mapping[str, RuleFile] | None = None
) -> tuple[RuleNamespace, ...]:
    """One namespace per service with exactly its rule file's groups, then the platform namespace."""
    taken = [s.name for s in settings.services if s.name == c.MIMIR_PLATFORM_NAMESPACE]
    if taken:
        raise StackError(
            f"services: a service named {taken[0]!r} would share the Mimir namespace of the platform alerts; "
            "expected another name"
        )
    files = build_rule_files(settings) if rule_files is None else rule_files
    spaces = [RuleNamespace(namespace=s.name, groups=files[c.rules_file(s.name)].groups) for s in settings.services]
    spaces.append(RuleNamespace(namespace=c.MIMIR_PLATFORM_NAMESPACE, groups=files[c.PLATFORM_RULES_FILE].groups))
    return tuple(spaces)


def build_tenant_alertmanager(settings: StackSettings) -> AlertmanagerConfig:
    """The plain Alertmanager's config, checked against what Mimir refuses in a tenant's config."""
    config = build_alertmanager(settings)
    refused = sorted(refused_keys(config.to_data()))
    if refused:
        raise StackError(
            f"alertmanager config: Mimir's Alertmanager refuses {', '.join(refused)} in a tenant's config "
            "(no server files or proxies); expected the secret inline or the mimir target disabled"
        )
    return config


def refused_keys(data: Any, path: str = "") -> set[str]:
    """Paths of the keys in an Alertmanager config Mimir refuses for a tenant: `*_file`, proxies, TLS files."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            tls = path.endswith("tls_config") and key in REFUSED_TLS_KEYS
            if str(key).endswith("_file") or key in REFUSED_KEYS or tls:
                found.add(where)
            found |= refused_keys(value, where)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found |= refused_keys(item, f"{path}[{index}]")
    return found
