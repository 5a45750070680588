"""I/O: load the Mimir target's files (mimir/) unchanged into a ruler and Alertmanager API, Mimir's or Cortex's.

One loader, the API prefix its only difference: Mimir takes a rule group at
`/prometheus/config/v1/rules/{namespace}`, Cortex at `/api/v1/rules/{namespace}`; both take the tenant's
Alertmanager config (`template_files` + `alertmanager_config`, the body mimirtool posts) at `/api/v1/alerts`.

Before anything is posted, every namespace is read and a group key Cortex's ruler would drop silently (a
Mimir-only key) is refused by name: nothing is loaded then. Cortex embeds an older Alertmanager (0.31) that
parses the tenant config strictly: a key it does not know is reported with Cortex's own message, never dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

from stack import conventions as c
from stack.errors import ConfigError, StackError
from stack.models.cortex import mimir_only_keys

Echo = Callable[[str], None]
MIMIR_RULES_PREFIX = "/prometheus/config/v1/rules"
CORTEX_RULES_PREFIX = "/api/v1/rules"
ALERTS_PATH = "/api/v1/alerts"
RULES_API = "/prometheus/api/v1/rules"  # what the ruler serves (Prometheus' rules API), on Mimir and Cortex alike
TIMEOUT = 10.0


@dataclass(frozen=True)
class RulerApi:
    """Where a tenant's rules and Alertmanager config are loaded: a base URL, the ruler config API's prefix and
    the tenant header(s)."""

    base_url: str
    rules_prefix: str = CORTEX_RULES_PREFIX
    headers: Mapping[str, str] = field(default_factory=dict)

    def group_url(self, namespace: str) -> str:
        return f"{self.base_url}{self.rules_prefix}/{quote(namespace, safe='')}"


@dataclass(frozen=True)
class Namespace:
    name: str
    groups: tuple[dict[str, Any], ...]
    path: Path


def read_target(target: Path) -> tuple[tuple[Namespace, ...], str]:
    """The target's rule namespaces and the tenant's Alertmanager config text, refusing (one line per problem,
    nothing loaded) a missing file or a group key Cortex would drop."""
    files = sorted((target / c.MIMIR_RULES_DIR).glob("*.yaml"))
    if not files:
        raise StackError(f"no rule namespaces in {target / c.MIMIR_RULES_DIR}; expected the mimir target's files "
                         "(`mimir: {enabled: true}` in stack.yaml, then `obsstack generate`)")  # fmt: skip
    namespaces, problems = [], []
    for path in files:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        problems += mimir_only_keys(document, path.name)
        namespaces.append(
            Namespace(str(document.get("namespace", path.stem)), tuple(document.get("groups") or ()), path)
        )
    if problems:
        raise ConfigError([*problems, "nothing was loaded"])
    config = target / c.MIMIR_ALERTMANAGER_CONFIG
    if not config.is_file():
        raise StackError(f"no {c.MIMIR_ALERTMANAGER_CONFIG} in {target}; expected the tenant's Alertmanager config")
    return tuple(namespaces), config.read_text(encoding="utf-8")


def alertmanager_body(config_text: str) -> str:
    """The body of `POST /api/v1/alerts`: the config as one string, no templates (as mimirtool posts it)."""
    return yaml.safe_dump({"template_files": {}, "alertmanager_config": config_text}, sort_keys=False)


def _post(url: str, body: str, headers: Mapping[str, str], what: str) -> None:
    try:
        response = httpx.post(url, content=body.encode("utf-8"), timeout=TIMEOUT,
                              headers={**headers, "Content-Type": "application/yaml"})  # fmt: skip
    except httpx.HTTPError as exc:
        raise StackError(f"{what}: {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code not in (200, 201, 202, 204):
        raise StackError(f"{what}: {url} answered HTTP {response.status_code}: {response.text.strip()[:500]}")


def load_target(target: Path, api: RulerApi, echo: Echo) -> int:
    """Post every group of every namespace, then the tenant's Alertmanager config; the number of groups."""
    namespaces, config_text = read_target(target)
    count = 0
    for namespace in namespaces:
        for group in namespace.groups:
            body = yaml.safe_dump(group, sort_keys=False)
            _post(api.group_url(namespace.name), body, api.headers, f"rule group {group.get('name')} "
                  f"({namespace.path.name})")  # fmt: skip
            count += 1
    what = f"the tenant's Alertmanager config ({c.MIMIR_ALERTMANAGER_CONFIG}) was refused by the ring's Alertmanager"
    _post(f"{api.base_url}{ALERTS_PATH}", alertmanager_body(config_text), api.headers, what)
    echo(f"loaded {count} rule groups of {len(namespaces)} namespaces and the tenant's Alertmanager config "
         f"into {api.base_url} ({api.rules_prefix})")  # fmt: skip
    return count


def served_groups(base_url: str, headers: Mapping[str, str]) -> tuple[int, str]:
    """How many rule groups the ruler at `base_url` serves for the tenant, with a note when it cannot say."""
    try:
        response = httpx.get(f"{base_url}{RULES_API}", headers=dict(headers), timeout=5)
        if response.status_code != 200:
            return 0, f"HTTP {response.status_code}: {response.text.strip()[:200]}"
        return len(response.json()["data"]["groups"]), ""
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"


def wait_groups(base_url: str, headers: Mapping[str, str], expected: int, timeout: float) -> float:
    """Seconds until the ruler serves `expected` groups (every one loaded); a StackError past `timeout`."""
    start = time.monotonic()
    while True:
        count, note = served_groups(base_url, headers)
        elapsed = time.monotonic() - start
        if count >= expected:
            return elapsed
        if elapsed >= timeout:
            raise StackError(f"the ruler at {base_url} serves {count} of {expected} rule groups after "
                             f"{timeout:.0f}s{f' ({note})' if note else ''}")  # fmt: skip
        time.sleep(0.5)
