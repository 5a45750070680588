"""Local stack with a Mimir ring as the rule engine (`obsstack up --mimir`): what changes, checked on the
models, with the real promtool, and through the CLI's refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

from typer.testing import CliRunner

from stack import conventions as c
from stack.builders.prometheus import build_prometheus
from stack.cli import app
from stack.render import to_yaml
from stack.runtime.programs import programs
from stack.settings import StackSettings


def test_prometheus_forwards_everything_to_each_mimir_process(tmp_path: Path, fast: StackSettings) -> None:
    """With the rules in Mimir, Prometheus evaluates none and alerts nobody: it remote-writes every sample to
    each process of the ring, with the tenant header, so a stopped process loses nothing."""
    service = fast.services[0]
    placement = c.Placement(local=True, project_root=str(tmp_path), running=("prometheus", service.name),
                            rules="mimir")  # fmt: skip
    config = build_prometheus(fast, placement)
    assert config.alerting is None
    assert config.rule_files == ()
    assert config.remote_write is not None
    ports = [fast.components.mimir.port + i for i in range(fast.mimir.replicas)]
    assert [w.url for w in config.remote_write] == [f"http://127.0.0.1:{p}/api/v1/push" for p in ports]
    assert {w.headers[c.TENANT_HEADER] for w in config.remote_write if w.headers} == {fast.project}
    assert len({w.name for w in config.remote_write}) == fast.mimir.replicas  # one queue each


def test_mimir_placed_prometheus_config_passes_promtool(tmp_path: Path, fast: StackSettings, promtool: str) -> None:
    """The real promtool accepts the Mimir-placed prometheus.yml (keys both 2.42 and 3.x know)."""
    for service in fast.services:
        if service.metrics_token_file:
            token = tmp_path / service.metrics_token_file
            token.parent.mkdir(parents=True, exist_ok=True)
            token.write_text("token\n")
    placement = c.Placement(local=True, project_root=str(tmp_path), rules="mimir",
                            running=("prometheus", *(s.name for s in fast.services)))  # fmt: skip
    path = tmp_path / "prometheus.yml"
    path.write_text(to_yaml(build_prometheus(fast, placement).to_data()))
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mimir_ring_replaces_alertmanager(fast: StackSettings) -> None:
    """`up --mimir` starts Prometheus and one required process per replica (mimir-0..), each with its own
    port and readiness URL, and no Alertmanager: the ring's Alertmanager sends the notifications."""
    names = {p.name: p for p in programs(fast, "mimir")}
    assert "alertmanager" not in names
    ring = [names[f"mimir-{i}"] for i in range(fast.mimir.replicas)]
    assert all(p.required and p.component == "mimir" and p.health_path == "/ready" for p in ring)
    assert [p.port for p in ring] == [fast.components.mimir.port + i for i in range(fast.mimir.replicas)]
    assert "alertmanager" in {p.name for p in programs(fast)}


def test_stop_refuses_what_is_not_running(tmp_path: Path) -> None:
    """`obsstack stop NAME` without that process running is one line and exit 2, nothing stopped."""
    (tmp_path / "stack.yaml").write_text("project: demo\nservices: [{name: api, port: 8000}]\n")
    result = CliRunner().invoke(app, ["stop", "mimir-2", "--config", str(tmp_path / "stack.yaml")])
    assert result.exit_code == 2
    assert "stop mimir-2: not a process of the running local stack" in result.output
    assert "Traceback" not in result.output


def test_mimir_with_compose_is_refused(tmp_path: Path) -> None:
    """`up --mimir --compose` is refused at once: the ring runs as local processes."""
    (tmp_path / "stack.yaml").write_text("project: demo\nservices: [{name: api, port: 8000}]\n")
    result = CliRunner().invoke(app, ["up", "--mimir", "--compose", "--config", str(tmp_path / "stack.yaml")])
    assert result.exit_code == 2
    assert "--mimir runs a local Mimir ring" in result.output
    assert not (tmp_path / ".obsstack").exists()
