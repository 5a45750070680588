"""Loading the Mimir target: its files unchanged, one loader for Mimir's and Cortex's prefixes, and a group key
Cortex would drop silently refused by name before anything is posted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack import conventions as c
from stack.errors import StackError
from stack.models.cortex import CORTEX_GROUP_KEYS, mimir_only_keys
from stack.render import render_all
from stack.runtime.ring_load import (
    CORTEX_RULES_PREFIX,
    MIMIR_RULES_PREFIX,
    RulerApi,
    alertmanager_body,
    load_target,
    read_target,
)
from tests.cortex.conftest import ring_settings


def _target(root: Path) -> Path:
    """The mimir target's files as `obsstack generate` writes them, under `root`."""
    settings = ring_settings()
    for artifact in render_all(settings):
        if artifact.path.startswith(settings.output.mimir_dir + "/"):
            path = root / artifact.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(artifact.text, encoding="utf-8")
    return root / settings.output.mimir_dir


def test_the_generated_groups_use_only_keys_cortex_reads(tmp_path: Path) -> None:
    """Every group of the generated namespaces is read back whole, unchanged: no key Cortex would drop."""
    target = _target(tmp_path)
    namespaces, config = read_target(target)
    assert {n.name for n in namespaces} == {"orders", c.MIMIR_PLATFORM_NAMESPACE}
    for namespace in namespaces:
        on_disk = yaml.safe_load(namespace.path.read_text(encoding="utf-8"))
        assert list(namespace.groups) == on_disk["groups"]
        assert all(set(g) <= set(CORTEX_GROUP_KEYS) for g in namespace.groups)
    assert config == (target / c.MIMIR_ALERTMANAGER_CONFIG).read_text(encoding="utf-8")


@pytest.mark.parametrize("key", ["source_tenants", "evaluation_delay", "align_evaluation_time_on_interval"])
def test_a_mimir_only_group_key_is_refused_by_name_and_nothing_loaded(tmp_path: Path, key: str) -> None:
    """A Mimir-only key in a group stops the load before any request (the API URL is never reached), naming
    the file, the group and the key."""
    target = _target(tmp_path)
    path = target / c.MIMIR_RULES_DIR / "orders.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["groups"][1][key] = ["other-tenant"] if key == "source_tenants" else "1m"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    name = document["groups"][1]["name"]
    unreachable = RulerApi("http://127.0.0.1:9", CORTEX_RULES_PREFIX)  # discard port: a request would fail
    with pytest.raises(StackError) as refused:
        load_target(target, unreachable, lambda line: None)
    lines = refused.value.lines()
    assert lines[-1] == "nothing was loaded"
    assert lines[0].startswith(f"orders.yaml: group {name}: key {key} is Mimir-only")
    assert "drop it silently" in lines[0]


def test_an_unknown_group_key_is_named_too() -> None:
    """Any key outside Prometheus' rule-group format is reported, Mimir's or not."""
    problems = mimir_only_keys({"groups": [{"name": "g", "rules": [], "intervall": "1m"}]}, "x.yaml")
    assert problems == [
        "x.yaml: group g: key intervall is unknown to Cortex; Cortex's ruler would drop it silently, expected only "
        "name, interval, query_offset, limit, labels, rules"
    ]


def test_one_loader_two_prefixes() -> None:
    """The same loader posts a group to Mimir's or Cortex's ruler config API: only the prefix differs."""
    assert RulerApi("https://mimir.example", MIMIR_RULES_PREFIX).group_url("orders") == (
        "https://mimir.example/prometheus/config/v1/rules/orders"
    )
    assert RulerApi("http://127.0.0.1:9009").group_url("obsstack-platform") == (
        "http://127.0.0.1:9009/api/v1/rules/obsstack-platform"
    )


def test_the_alertmanager_body_carries_the_config_text_unchanged(tmp_path: Path) -> None:
    """The tenant config is posted as mimirtool posts it: the file's text as alertmanager_config, no templates."""
    text = (_target(tmp_path) / c.MIMIR_ALERTMANAGER_CONFIG).read_text(encoding="utf-8")
    body = yaml.safe_load(alertmanager_body(text))
    assert body == {"template_files": {}, "alertmanager_config": text}
