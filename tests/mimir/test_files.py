"""The Mimir target's files: one namespace per service holding exactly its promtool-tested groups and the tenant's
Alertmanager config, checked by cortextool, promtool and amtool at their pinned versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.mimir import build_mimir, refused_keys
from stack.builders.rules import build_rule_files
from stack.config import load_settings
from stack.errors import StackError
from stack.render import render_all
from stack.settings import StackSettings
from stack.validate import staged_project
from stack.validate.mimir import check_mimir
from tests.mimir.conftest import settings_with
from tests.support import require_pinned


def rendered(settings: StackSettings) -> dict[str, Any]:
    """The mimir target's generated files (as the writer writes them), parsed, by path under output.mimir_dir."""
    prefix = settings.output.mimir_dir + "/"
    return {a.path[len(prefix) :]: yaml.safe_load(a.text) for a in render_all(settings) if a.path.startswith(prefix)}


def test_off_by_default_and_nothing_written(tmp_path) -> None:
    """Without `mimir: {enabled: true}` no mimir/ file is generated and validate adds no check."""
    settings = settings_with(tmp_path, "{enabled: false}")
    assert rendered(settings) == {}
    assert list(check_mimir(tmp_path, settings)) == []


def test_only_the_rule_namespaces_and_the_tenant_config(tmp_path) -> None:
    """The target is what a user loads into their own Mimir: rule namespaces and the tenant's Alertmanager
    config; no config of a local Mimir (obsstack runs none)."""
    settings = settings_with(tmp_path)
    names = {f"{c.MIMIR_RULES_DIR}/{s.name}.yaml" for s in settings.services}
    assert set(rendered(settings)) == names | {
        f"{c.MIMIR_RULES_DIR}/{c.MIMIR_PLATFORM_NAMESPACE}.yaml",
        c.MIMIR_ALERTMANAGER_CONFIG,
    }


def test_one_namespace_per_service_with_exactly_its_rule_file_groups(tmp_path) -> None:
    """rules/<service>.yaml holds the service's groups as alerts/<service>.rules.yml has them, and the platform
    groups sit in their own namespace: nothing added, dropped or reordered."""
    settings = settings_with(tmp_path)
    files, rule_files = rendered(settings), build_rule_files(settings)
    namespaces = {path: doc for path, doc in files.items() if path.startswith(f"{c.MIMIR_RULES_DIR}/")}
    expected = {f"{c.MIMIR_RULES_DIR}/{s.name}.yaml" for s in settings.services}
    assert set(namespaces) == expected | {f"{c.MIMIR_RULES_DIR}/{c.MIMIR_PLATFORM_NAMESPACE}.yaml"}
    for service in settings.services:
        doc = namespaces[f"{c.MIMIR_RULES_DIR}/{service.name}.yaml"]
        assert doc["namespace"] == service.name
        assert doc["groups"] == rule_files[c.rules_file(service.name)].to_data()["groups"]
    platform = namespaces[f"{c.MIMIR_RULES_DIR}/{c.MIMIR_PLATFORM_NAMESPACE}.yaml"]
    assert platform["groups"] == rule_files[c.PLATFORM_RULES_FILE].to_data()["groups"]
    assert c.ALERT_WATCHDOG in {r.get("alert") for g in platform["groups"] for r in g["rules"]}


def test_two_services_two_namespaces(tmp_path, make_project) -> None:
    """Each service of a stack.yaml gets its own namespace file; no group appears in two namespaces."""
    text = "project: shop\nservices: [{name: api, port: 8001}, {name: billing, port: 8002}]\nmimir: {enabled: true}\n"
    files = rendered(load_settings(make_project(text)))
    names = sorted(p for p in files if p.startswith("rules/"))
    assert names == ["rules/api.yaml", "rules/billing.yaml", f"rules/{c.MIMIR_PLATFORM_NAMESPACE}.yaml"]
    groups = [g["name"] for p in names for g in files[p]["groups"]]
    assert len(groups) == len(set(groups))
    assert {g["name"] for g in files["rules/api.yaml"]["groups"]} == set(c.rule_groups("api"))


def test_tenant_alertmanager_config_is_the_plain_alertmanagers(tmp_path) -> None:
    """alertmanager.yaml is the same routing, inhibition and receivers as the stack's own Alertmanager."""
    settings = settings_with(tmp_path)
    assert rendered(settings)[c.MIMIR_ALERTMANAGER_CONFIG] == build_alertmanager(settings).to_data()


def test_keys_mimir_refuses_in_a_tenant_config_are_named() -> None:
    """`*_file` keys, proxies and TLS files are what Mimir's Alertmanager refuses for a tenant: all are found."""
    data = {
        "global": {"smtp_auth_password_file": "/s"},
        "receivers": [{"name": "x", "webhook_configs": [{"url_file": "/u", "http_config": {
            "proxy_url": "http://p", "tls_config": {"ca_file": "/ca", "cert": "x", "server_name": "ok"}}}]}],
    }  # fmt: skip
    assert refused_keys(data) == {
        "global.smtp_auth_password_file",
        "receivers[0].webhook_configs[0].url_file",
        "receivers[0].webhook_configs[0].http_config.proxy_url",
        "receivers[0].webhook_configs[0].http_config.tls_config.ca_file",
        "receivers[0].webhook_configs[0].http_config.tls_config.cert",
    }
    assert refused_keys({"receivers": [{"webhook_configs": [{"url": "http://127.0.0.1:9095/alerts"}]}]}) == set()


def test_a_service_named_like_the_platform_namespace_is_refused(make_project) -> None:
    """The platform namespace cannot be shared with a service of the same name: the settings refuse the name."""
    text = f"project: demo\nservices: [{{name: {c.MIMIR_PLATFORM_NAMESPACE}}}]\nmimir: {{enabled: true}}\n"
    with pytest.raises(StackError, match="is the name of a file or namespace obsstack generates for the whole stack"):
        build_mimir(load_settings(make_project(text)))


def _generated(tmp_path: Path) -> tuple[Path, StackSettings]:
    settings = settings_with(tmp_path)
    for artifact in render_all(settings):
        path = tmp_path / artifact.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(artifact.text, encoding="utf-8")
    return tmp_path, settings


@pytest.mark.tools
def test_validate_passes_on_the_generated_files(tmp_path) -> None:
    """cortextool, promtool (on the groups read back from the namespaces) and amtool accept the generated files."""
    root, settings = _generated(tmp_path)
    require_pinned(settings, "cortextool", "promtool", "amtool")
    with staged_project(root, settings) as stage:
        results = list(check_mimir(stage, settings))
    assert [r.line() for r in results if r.status != "ok"] == []
    assert [r.name for r in results] == [
        "cortextool rules lint --dry-run",
        "cortextool rules check",
        "mimir namespaces: no group key Cortex drops",
        "mimir namespaces = rule files",
        "promtool check rules (mimir namespaces)",
        "promtool test rules (mimir namespaces)",
        "amtool check-config (mimir tenant)",
    ]


@pytest.mark.tools
@pytest.mark.parametrize(
    ("original", "broken", "expected"),
    [
        ("  rules:\n", "  evaluation_intervall: 1m\n  rules:\n", "field evaluation_intervall not found"),
        ("expr: sum by (service) (", "expr: sum by (service (", "parse error"),
    ],
    ids=["unknown group key", "invalid expression"],
)
def test_cortextool_fails_a_broken_namespace_naming_it(tmp_path, original: str, broken: str, expected: str) -> None:
    """A group key the rule-file format does not have, or an expression that does not parse, fails
    `cortextool rules lint` and `rules check`, naming the namespace's file and the fault."""
    root, settings = _generated(tmp_path)
    require_pinned(settings, "cortextool", "promtool", "amtool")
    namespace = root / "mimir" / "rules" / "orders.yaml"
    text = namespace.read_text(encoding="utf-8")
    assert original in text, f"fixture drifted: {original!r} not in {namespace.name}"
    namespace.write_text(text.replace(original, broken, 1), encoding="utf-8")
    with staged_project(root, settings) as stage:
        failed = {r.name: r.detail for r in check_mimir(stage, settings) if r.failed}
    for name in ("cortextool rules lint --dry-run", "cortextool rules check"):
        assert "mimir/rules/orders.yaml" in failed[name], failed
        assert expected in failed[name], failed[name]


@pytest.mark.tools
def test_validate_catches_a_namespace_that_drifted_from_the_rule_files(tmp_path) -> None:
    """A namespace whose alert differs from the promtool-tested file fails the comparison and the replayed
    promtool tests."""
    root, settings = _generated(tmp_path)
    require_pinned(settings, "cortextool", "promtool", "amtool")
    namespace = root / "mimir" / "rules" / "orders.yaml"
    namespace.write_text(namespace.read_text().replace("for: 5m", "for: 7m", 1), encoding="utf-8")
    with staged_project(root, settings) as stage:
        failed = {r.name: r.detail for r in check_mimir(stage, settings) if r.failed}
    assert failed["mimir namespaces = rule files"] == "orders.yaml: its groups differ from alerts/orders.rules.yml"
    assert "promtool test rules (mimir namespaces)" in failed
    assert "cortextool rules lint --dry-run" not in failed  # still a valid namespace, only not the tested one


def test_validate_names_a_group_key_cortex_would_drop(tmp_path) -> None:
    """A Mimir-only group key (source_tenants) fails the check that the namespaces load unchanged into Cortex,
    naming the file, the group and the key."""
    root, settings = _generated(tmp_path)
    namespace = root / "mimir" / "rules" / "orders.yaml"
    document = yaml.safe_load(namespace.read_text(encoding="utf-8"))
    document["groups"][0]["source_tenants"] = ["team-a"]
    namespace.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with staged_project(root, settings) as stage:
        results = {r.name: r for r in check_mimir(stage, settings)}
    check = results["mimir namespaces: no group key Cortex drops"]
    assert check.failed
    group = document["groups"][0]["name"]
    assert check.detail.startswith(f"orders.yaml: group {group}: key source_tenants is Mimir-only")
