"""The ring's Cortex configs: typed models dumped per member, accepted by the pinned cortex itself, and an
unknown key refused by the models and by cortex; Prometheus' config of a ring run evaluates nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from stack import conventions as c
from stack.builders.cortex import build_cortex, members, ring_prometheus
from stack.builders.prometheus import build_prometheus
from stack.models.cortex import REPLICAS, CortexConfig
from stack.render import render_ring
from tests.cortex.conftest import ring_settings

PLACEMENT = c.Placement(local=True, data_root="/data", project_root="/project", config_root="/project/.obsstack/local",
                        running=("prometheus", "orders"))  # fmt: skip


def test_three_members_with_their_own_ports_ids_and_directories() -> None:
    """Each member listens on its own HTTP, gRPC and memberlist port (following components.mimir.port), registers
    under its own id in every ring, keeps its own TSDB, and shares the buckets with the others."""
    settings = ring_settings(port=19009)
    configs = [build_cortex(settings, m, "/data").to_data() for m in members(settings)]
    assert len(configs) == REPLICAS == 3
    assert [(d["server"]["http_listen_port"], d["server"]["grpc_listen_port"], d["memberlist"]["bind_port"])
            for d in configs] == [(19009, 19109, 19209), (19010, 19110, 19210), (19011, 19111, 19211)]  # fmt: skip
    for index, data in enumerate(configs):
        name = f"cortex-{index}"
        rings = (data["ruler"]["ring"], data["alertmanager"]["sharding_ring"], data["distributor"]["ring"])
        ids = {data["ingester"]["lifecycler"]["id"], *(ring["instance_id"] for ring in rings)}
        assert ids == {name}
        assert data["blocks_storage"]["tsdb"]["dir"] == f"/data/{name}/tsdb"
        assert data["ruler_storage"]["filesystem"]["dir"] == "/data/cortex-shared/rules"
        others = {f"127.0.0.1:{19209 + i}" for i in range(3) if i != index}
        assert set(data["memberlist"]["join_members"]) == others


def test_replication_three_loopback_only_tenant_required() -> None:
    """Replication factor 3 for ingesters, Alertmanagers and store-gateways; everything listens on 127.0.0.1;
    auth on, so every request names its tenant; the ruler sends to every member's Alertmanager."""
    settings = ring_settings()
    data = build_cortex(settings, members(settings)[1], "/data").to_data()
    assert data["auth_enabled"] is True
    assert data["ingester"]["lifecycler"]["ring"]["replication_factor"] == 3
    assert data["alertmanager"]["sharding_ring"]["replication_factor"] == 3
    assert data["alertmanager"]["sharding_enabled"] is True
    assert data["server"]["http_listen_address"] == data["server"]["grpc_listen_address"] == "127.0.0.1"
    assert data["memberlist"]["bind_addr"] == ["127.0.0.1"]
    assert data["alertmanager"]["cluster"]["listen_address"] == ""  # no gossip listener on 0.0.0.0:9094
    assert data["ruler"]["alertmanager_url"].split(",") == [f"{m.url}/alertmanager" for m in members(settings)]
    assert data["ruler"]["evaluation_interval"] == str(settings.timing.evaluation_interval)


def test_an_unknown_key_fails_the_model() -> None:
    """The models are closed: a key Cortex 1.21 does not have cannot be set."""
    settings = ring_settings()
    data = build_cortex(settings, members(settings)[0], "/data").to_data()
    data["ruler"]["evaluation_intervall"] = "1s"
    with pytest.raises(ValidationError, match="evaluation_intervall"):
        CortexConfig.model_validate(data)


def test_prometheus_of_a_ring_run_evaluates_nothing_and_writes_to_every_member() -> None:
    """Same scrapes as the local stack; no rule files, no Alertmanager; one remote write per member, each with
    the tenant header."""
    settings = ring_settings()
    local = build_prometheus(settings, PLACEMENT)
    ring = ring_prometheus(settings, local).to_data()
    assert ring["scrape_configs"] == local.to_data()["scrape_configs"]
    assert "rule_files" not in ring or ring["rule_files"] == []
    assert "alerting" not in ring
    assert [(w["url"], w["headers"]) for w in ring["remote_write"]] == [
        (f"{m.url}/api/v1/push", {"X-Scope-OrgID": settings.project}) for m in members(settings)
    ]


def test_render_ring_writes_each_member_and_prometheus() -> None:
    """render_ring: one config per member under cortex/ and Prometheus' config at its usual path."""
    settings = ring_settings()
    paths = [a.path for a in render_ring(settings, PLACEMENT)]
    assert paths == ["cortex/cortex-0.yaml", "cortex/cortex-1.yaml", "cortex/cortex-2.yaml",
                     f"{settings.output.compose_dir}/{c.PROMETHEUS_CONFIG}"]  # fmt: skip


def _check(cortex: str, config: Path) -> subprocess.CompletedProcess[str]:
    """cortex parses the file strictly and validates it; -modules lists the targets and starts nothing."""
    return subprocess.run([cortex, f"-config.file={config}", "-modules"], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip


@pytest.mark.tools
def test_cortex_accepts_every_member_config(cortex: str, tmp_path: Path) -> None:
    """The pinned cortex loads and validates each rendered member config (its strict YAML parse is the oracle)."""
    for artifact in render_ring(ring_settings(), PLACEMENT)[:REPLICAS]:
        path = tmp_path / Path(artifact.path).name
        path.write_text(artifact.text, encoding="utf-8")
        done = _check(cortex, path)
        assert done.returncode == 0, done.stderr
        assert "ruler" in done.stdout
        assert "alertmanager" in done.stdout


@pytest.mark.tools
def test_cortex_refuses_an_unknown_key_naming_it(cortex: str, tmp_path: Path) -> None:
    """A key Cortex does not have fails its config load, and its message names the key."""
    text = render_ring(ring_settings(), PLACEMENT)[0].text
    data = yaml.safe_load(text)
    data["ruler"]["evaluation_intervall"] = "1s"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = _check(cortex, path)
    assert done.returncode != 0
    assert "evaluation_intervall" in done.stderr
