"""The Mimir target's files: one namespace per service holding exactly its promtool-tested groups, the tenant's
Alertmanager config, and a ring config whose processes differ only by their flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.mimir import build_mimir, refused_keys
from stack.builders.rules import build_rule_files
from stack.cli import app
from stack.config import load_settings
from stack.errors import StackError
from stack.models.mimir import MimirConfig
from stack.render import render_all
from stack.settings import StackSettings
from stack.validate import staged_project
from stack.validate.mimir import check_mimir
from tests.mimir.conftest import require_mimir_binary, settings_with

LOCAL = c.Placement(local=True, data_root="/srv/obsstack/data")


def rendered(settings: StackSettings) -> dict[str, Any]:
    """The mimir target's generated files (as the writer writes them), parsed, by path under output.mimir_dir."""
    prefix = settings.output.mimir_dir + "/"
    return {a.path[len(prefix) :]: yaml.safe_load(a.text) for a in render_all(settings) if a.path.startswith(prefix)}


def test_off_by_default_and_nothing_written(tmp_path) -> None:
    """Without `mimir: {enabled: true}` no mimir/ file is generated and validate adds no check."""
    settings = settings_with(tmp_path, "{enabled: false}")
    assert rendered(settings) == {}
    assert check_mimir(tmp_path, settings) == []


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


def test_ring_config_one_memberlist_cluster_and_every_alertmanager(tmp_path) -> None:
    """All processes join the same members, the ruler sends to every process's Alertmanager, ingesters,
    store-gateways and Alertmanagers keep 3 copies, ingest storage is off, storage is under the data root."""
    settings = settings_with(tmp_path)
    config = build_mimir(settings, LOCAL)[c.MIMIR_CONFIG]
    assert isinstance(config, MimirConfig)
    assert config.target == "all,alertmanager"
    assert not config.multitenancy_enabled  # one tenant, named by the ring (Prometheus 2.42 sends no headers)
    assert config.no_auth_tenant == settings.project
    assert config.memberlist.join_members == ("127.0.0.1:9209", "127.0.0.1:9210", "127.0.0.1:9211")
    urls = config.limits.ruler_alertmanager_client_config.alertmanager_url.split(",")
    assert urls == [f"http://127.0.0.1:{p}/alertmanager" for p in (9009, 9010, 9011)]
    assert config.ingester.ring.replication_factor == 3
    assert config.store_gateway.sharding_ring.replication_factor == 3
    assert config.alertmanager.sharding_ring.replication_factor == 3
    assert config.ingest_storage.enabled is False
    assert config.ruler.evaluation_interval == str(settings.timing.evaluation_interval)
    dirs = {config.blocks_storage.filesystem.dir, config.ruler_storage.filesystem.dir,
            config.alertmanager_storage.filesystem.dir}  # fmt: skip
    assert dirs == {f"/srv/obsstack/data/mimir/{d}" for d in ("blocks", "rules", "alertmanager")}


def test_one_process_ring_replicates_once(tmp_path) -> None:
    """With `replicas: 1` there is one memberlist member and one copy of everything (RF cannot exceed it)."""
    config = build_mimir(settings_with(tmp_path, "{enabled: true, replicas: 1}"), LOCAL)[c.MIMIR_CONFIG]
    assert isinstance(config, MimirConfig)
    assert config.memberlist.join_members == ("127.0.0.1:9209",)
    assert config.ingester.ring.replication_factor == 1


def test_replica_flags_differ_in_ports_ids_and_directories_only(tmp_path) -> None:
    """Each process has its own ports, instance id in every ring and data directories; nothing is shared."""
    settings = settings_with(tmp_path)
    flags = [c.mimir_replica_flags(settings.components, 3, i, "/d") for i in range(3)]
    assert "-server.http-listen-port=9010" in flags[1]
    assert "-server.grpc-listen-port=9110" in flags[1]
    assert "-memberlist.bind-port=9210" in flags[1]
    assert "-blocks-storage.tsdb.dir=/d/mimir/mimir-1/tsdb" in flags[1]
    assert {f"-{ring}.instance-id=mimir-2" for ring in c.MIMIR_RINGS} <= set(flags[2])
    assert all(len(set(f)) == len(f) for f in flags)
    assert not set(flags[0]) & set(flags[1])  # no flag value is the same for two processes
    ports = c.mimir_ports(settings.components, 3)
    assert len(set(ports.values())) == 9


def test_a_port_clash_with_the_ring_is_one_line(make_project) -> None:
    """A service on replica 1's HTTP port is refused only when the mimir target is on, naming the port."""
    text = "project: demo\nservices: [{name: api, port: 9010}]\n"
    off = CliRunner().invoke(app, ["generate", "--check", "--config", str(make_project(text))])
    assert "already the port" not in off.output
    result = CliRunner().invoke(app, ["generate", "--config", str(make_project(text + "mimir: {enabled: true}\n"))])
    assert result.exit_code == 2
    assert "services[0] (api).port: 127.0.0.1:9010 is already the port of components.mimir-1 http" in result.output


def test_a_service_named_like_the_platform_namespace_is_refused(make_project) -> None:
    """The platform namespace cannot be shared with a service of the same name."""
    text = f"project: demo\nservices: [{{name: {c.MIMIR_PLATFORM_NAMESPACE}}}]\nmimir: {{enabled: true}}\n"
    with pytest.raises(StackError, match="would share the Mimir namespace of the platform alerts"):
        build_mimir(load_settings(make_project(text)), LOCAL)


def _generated(tmp_path: Path) -> tuple[Path, StackSettings]:
    settings = settings_with(tmp_path)
    for artifact in render_all(settings):
        path = tmp_path / artifact.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(artifact.text, encoding="utf-8")
    return tmp_path, settings


@pytest.mark.tools
def test_validate_passes_on_the_generated_files(tmp_path, promtool, amtool) -> None:
    """mimirtool, promtool (on the groups read back from the namespaces), amtool and `mimir -modules` accept
    the generated files."""
    root, settings = _generated(tmp_path)
    require_mimir_binary("mimirtool", settings)
    require_mimir_binary("mimir", settings)
    with staged_project(root, settings) as stage:
        results = check_mimir(stage, settings)
    assert [r.line() for r in results if r.status != "ok"] == []
    assert len(results) == 7


@pytest.mark.tools
def test_validate_catches_a_namespace_that_drifted_from_the_rule_files(tmp_path, promtool, amtool) -> None:
    """A namespace whose alert differs from the promtool-tested file fails the comparison and the replayed
    promtool tests; a config key mimir does not know fails `mimir -modules`."""
    root, settings = _generated(tmp_path)
    require_mimir_binary("mimirtool", settings)
    require_mimir_binary("mimir", settings)
    namespace = root / "mimir" / "rules" / "orders.yaml"
    namespace.write_text(namespace.read_text().replace("for: 5m", "for: 7m", 1), encoding="utf-8")
    config = root / "mimir" / c.MIMIR_CONFIG
    config.write_text(config.read_text() + "not_a_mimir_key: 1\n", encoding="utf-8")
    with staged_project(root, settings) as stage:
        failed = {r.name: r.detail for r in check_mimir(stage, settings) if r.failed}
    assert failed["mimir namespaces = rule files"] == "orders.yaml: its groups differ from alerts/orders.rules.yml"
    assert "promtool test rules (mimir namespaces)" in failed
    assert "field not_a_mimir_key not found in type mimir.Config" in failed["mimir accepts the ring config"]
