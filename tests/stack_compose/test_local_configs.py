"""Local placement: the models (not the text) for 127.0.0.1 and only the components that run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stack import conventions as c
from stack.builders.prometheus import build_prometheus
from stack.runtime.procs import Started, alive, start_time, stop
from stack.settings import StackSettings


def test_prometheus_targets_rewritten(tmp_path: Path, fast: StackSettings) -> None:
    """Targets and the Alertmanager become 127.0.0.1:<port>; jobs of absent components are dropped."""
    service = fast.services[0]
    running = ("prometheus", "alertmanager", service.name)
    config = build_prometheus(fast, c.Placement(local=True, project_root=str(tmp_path), running=running))
    jobs = {job.job_name: job for job in config.scrape_configs}
    assert set(jobs) == {"prometheus", "alertmanager", service.name}
    assert jobs[service.name].static_configs[0].targets == (f"127.0.0.1:{service.port}",)
    assert jobs[service.name].static_configs[0].labels == {"service": service.name, **service.labels}
    am = config.alerting.alertmanagers[0].static_configs[0].targets
    assert am == (f"127.0.0.1:{fast.components.alertmanager.port}",)
    auth = jobs[service.name].authorization
    assert auth is not None
    assert Path(auth.credentials_file).is_absolute()
    assert config.global_.scrape_interval == str(fast.timing.scrape_interval)


def test_stop_never_signals_a_reused_pid() -> None:
    """A recorded pid whose start time differs (pid reuse) is reported gone and left alone."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        real = Started(proc.pid, start_time(proc.pid) or "")
        impostor = Started(proc.pid, "not-its-start-time")
        assert alive(real)
        assert not alive(impostor)
        assert stop(impostor) is False
        assert proc.poll() is None
        assert stop(real, timeout=5) is True
        assert proc.wait(timeout=5) is not None
    finally:
        proc.kill()
        proc.wait()


def test_grafana_provisioning_placed_for_local_processes(tmp_path: Path, fast: StackSettings) -> None:
    """Local placement: every datasource URL is 127.0.0.1:<port> and the provider reads the local copy."""
    from stack.builders.grafana import build_dashboard_providers, build_datasources

    placement = c.Placement(local=True, config_root=str(tmp_path / "local"))
    urls = {d.type: d.url for d in build_datasources(fast, placement).datasources}
    components = fast.components
    ports = {"prometheus": components.prometheus.port, "loki": components.loki.port,
             "tempo": components.tempo.port, "alertmanager": components.alertmanager.port}  # fmt: skip
    assert urls == {kind: f"http://127.0.0.1:{port}" for kind, port in ports.items()}
    provider = build_dashboard_providers(fast, placement).providers[0]
    assert provider.options.path == str(tmp_path / "local" / fast.output.dashboards_dir)
    in_containers = build_datasources(fast)
    assert {d.url for d in in_containers.datasources} == {f"http://{k}:{p}" for k, p in ports.items()}


def test_verify_reads_what_the_running_stack_loaded(tmp_path: Path) -> None:
    """A local stack runs the plan rendered for its profile under .obsstack/local/; without one, the project's files."""
    from stack.runtime.lifecycle import deployed_root
    from stack.runtime.state import State, clear_state, write_state

    assert deployed_root(tmp_path) == tmp_path
    write_state(tmp_path, State("local", "fast", ()))
    try:
        assert deployed_root(tmp_path) == tmp_path.resolve() / c.STATE_DIR / "local"
    finally:
        clear_state(tmp_path)
