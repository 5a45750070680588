"""The stand-in images on a real Docker engine: each runs its pinned binary as the official image's
non-root user, answers compose's health command, and its data directory is writable by that user both as
the ephemeral variant's tmpfs and as the persistent variant's named volume, through docker compose itself."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.builders.compose import build_compose, build_ephemeral
from stack.config import load_settings
from stack.models.distributions import VERSION_FLAG
from stack.models.standin import INPUTS_LABEL, STANDIN_REPOSITORY, STANDINS
from stack.runtime.binaries import pinned
from stack.runtime.standin import build_images
from stack.settings import StackSettings
from stack.tools import VERSION_RE
from tests.compose_engine.engine import REPO, compose_command, container, docker, wait_for

pytestmark = pytest.mark.e2e

OFFICIAL_UID = {"prometheus": 65534, "alertmanager": 65534, "otelcol": 10001, "jaeger": 10001}
OTELCOL_CONFIG = """\
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:4317
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:1
extensions:
  health_check:
    endpoint: 0.0.0.0:13133
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp]
"""


@pytest.fixture(scope="module")
def clean_stores() -> StackSettings:
    """The repository's stack.yaml on the licence-clean stores (Jaeger, VictoriaLogs), as the e2e runs it."""
    return load_settings(REPO / "stack.yaml", {"backends": {"traces": "jaeger", "logs": "victorialogs"}})


@pytest.fixture(scope="module")
def compose_services(clean_stores: StackSettings) -> dict[str, Any]:
    """The generated compose file's services (as data, as the renderer writes them)."""
    services: dict[str, Any] = build_compose(clean_stores).to_data()["services"]
    return services


def uid_of(name: str) -> int:
    """The uid the container's main process runs as, as the host's process table shows it."""
    rows = docker("top", name, "-o", "pid,uid").stdout.split("\n")[1:]
    return int(rows[0].split()[1])


@pytest.mark.parametrize("component", list(STANDINS))
def test_binary_reports_pinned_version(standins: dict[str, str], settings: StackSettings, component: str) -> None:
    """The image's entrypoint is the pinned build: it reports the version stack.yaml pins."""
    done = docker("run", "--rm", standins[component], *VERSION_FLAG[component].split())
    found = VERSION_RE.search(done.stdout + done.stderr)
    assert found is not None, done.stdout + done.stderr
    assert found.group(1) == pinned(settings, component)


def test_only_standin_names_are_tagged(standins: dict[str, str], settings: StackSettings) -> None:
    """Every stand-in is tagged obsstack-standin/<component>:<version>, never an official image's name."""
    for component, tag in standins.items():
        assert tag == f"{STANDIN_REPOSITORY}/{component}:{pinned(settings, component)}"
        official = getattr(settings.components, component).image
        assert docker("image", "inspect", official, check=False).returncode != 0, official


def test_rebuild_is_skipped_when_inputs_are_unchanged(standins: dict[str, str], settings: StackSettings) -> None:
    """A second build of unchanged inputs keeps every image (same id, same inputs label) and takes seconds."""
    before = {t: docker("image", "inspect", "--format", "{{.Id}}", t).stdout for t in standins.values()}
    lines: list[str] = []
    start = time.monotonic()
    build_images(settings, STANDINS, lines.append)
    assert time.monotonic() - start < 15
    assert lines == [f"{tag}: up to date" for tag in standins.values()], lines
    after = {t: docker("image", "inspect", "--format", "{{.Id}}", t).stdout for t in standins.values()}
    assert after == before
    for tag in standins.values():
        label = docker("image", "inspect", "--format", f'{{{{index .Config.Labels "{INPUTS_LABEL}"}}}}', tag)
        assert len(label.stdout.strip()) == 64


@pytest.mark.parametrize("component", ["prometheus", "alertmanager", "jaeger", "victorialogs"])
def test_runs_healthy_as_its_user(standins: dict[str, str], compose_services: dict[str, Any], component: str) -> None:
    """Started with its image's defaults (VictoriaLogs with compose's user and command), the component runs
    as its non-root user, `id -u` in it agrees, and compose's own health command succeeds in it."""
    service = compose_services[component]
    options = ("--user", service["user"]) if service.get("user") else ()
    args = tuple(service["command"]) if component == "victorialogs" else ()
    expected = int(service["user"].split(":")[0]) if service.get("user") else OFFICIAL_UID[component]
    with container(standins[component], *args, options=options) as name:
        check = wait_for(name, ["exec", name, *service["healthcheck"]["test"][1:]])
        assert check.returncode == 0, check.stderr
        assert uid_of(name) == expected
        assert docker("exec", name, "id", "-u").stdout.strip() == str(expected)


def test_collector_runs_healthy_as_its_user(standins: dict[str, str], tmp_path: Path) -> None:
    """The collector (no shell, as the official image) runs as 10001 and its health_check extension answers
    in its network namespace (probed with busybox wget from another stand-in sharing it)."""
    config = tmp_path / "config.yaml"
    config.write_text(OTELCOL_CONFIG, encoding="utf-8")
    config.chmod(0o644)
    mount = ("-v", f"{config}:/etc/otelcol-contrib/config.yaml:ro")
    with container(standins["otelcol"], options=mount) as name:
        probe = ["run", "--rm", "--network", f"container:{name}", "--entrypoint", "wget", standins["prometheus"]]
        check = wait_for(name, [*probe, "-q", "-O", "/dev/null", "http://127.0.0.1:13133/"])
        assert check.returncode == 0, check.stderr
        assert uid_of(name) == OFFICIAL_UID["otelcol"]


def data_service(compose_services: dict[str, Any], tag: str, component: str) -> dict[str, Any]:
    """A compose service of the stand-in with the generated file's user and data volume that writes a file and
    a directory into it and prints its uid (or shows the directory and fails)."""
    service = compose_services[component]
    data = next(v for v in service["volumes"] if v.startswith(f"{component}-data:"))
    target = data.split(":")[1]
    script = f"set -e; echo probe > {target}/probe; mkdir {target}/dir; rm -r {target}/probe {target}/dir; id -u"
    script += f" || {{ ls -ld {target} >&2; exit 1; }}"
    spec: dict[str, Any] = {"image": tag, "entrypoint": ["/bin/sh", "-c", script], "volumes": [data]}
    return spec | ({"user": service["user"]} if service.get("user") else {})


def ephemeral_part(clean_stores: StackSettings, component: str) -> dict[str, Any]:
    """The generated ephemeral override, restricted to what it says about `component` and its data volume."""
    override: dict[str, Any] = build_ephemeral(clean_stores).to_data()
    part = {key: {component: override[key][component]} for key in ("services",) if component in override.get(key, {})}
    volume = f"{component}-data"
    return part | ({"volumes": {volume: override["volumes"][volume]}} if volume in override.get("volumes", {}) else {})


@pytest.mark.parametrize("ephemeral", [True, False], ids=["tmpfs", "volume"])
@pytest.mark.parametrize("component", ["prometheus", "alertmanager", "victorialogs"])
def test_data_dir_is_writable_by_its_user(
    standins: dict[str, str],
    clean_stores: StackSettings,
    compose_services: dict[str, Any],
    tmp_path: Path,
    component: str,
    ephemeral: bool,
) -> None:
    """Through docker compose, the data directory compose gives the component (the ephemeral variant's tmpfs
    with the generated mode, or the persistent variant's named volume) is writable by the image's user."""
    service = data_service(compose_services, standins[component], component)
    base = {"services": {component: service}, "volumes": {f"{component}-data": {}}}
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(base), encoding="utf-8")
    files = ["-f", "compose.yaml"]
    if ephemeral:
        (tmp_path / "ephemeral.yaml").write_text(yaml.safe_dump(ephemeral_part(clean_stores, component)))
        files += ["-f", "ephemeral.yaml"]
    base_cmd = [*compose_command(), "-p", f"obsstack-standin-test-{uuid.uuid4().hex[:8]}", *files]
    try:
        done = subprocess.run(
            [*base_cmd, "run", "--rm", component], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
        expected = service["user"].split(":")[0] if "user" in service else str(OFFICIAL_UID[component])
        assert done.stdout.split() == [expected], f"{component} data as uid {expected}: {done.stderr[-1500:]}"
    finally:
        subprocess.run([*base_cmd, "down", "-v"], cwd=tmp_path, capture_output=True, timeout=60, check=False)


# The official images' metadata, as their Dockerfiles set it (prometheus/prometheus and prometheus/alertmanager
# Dockerfile, opentelemetry-collector-releases distributions/otelcol-contrib/Dockerfile, jaegertracing/jaeger
# cmd/jaeger/Dockerfile, VictoriaMetrics app/victoria-logs/deployment/Dockerfile): a hand-written oracle.
OFFICIAL = {
    "prometheus": {
        "Entrypoint": ["/bin/prometheus"],
        "Cmd": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "User": "65534", "WorkingDir": "/prometheus", "ports": {9090},
    },
    "alertmanager": {
        "Entrypoint": ["/bin/alertmanager"],
        "Cmd": ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
        "User": "65534", "WorkingDir": "/alertmanager", "ports": {9093},
    },
    "otelcol": {
        "Entrypoint": ["/otelcol-contrib"], "Cmd": ["--config", "/etc/otelcol-contrib/config.yaml"],
        "User": "10001", "WorkingDir": "", "ports": {4317, 4318, 55678, 55679},
    },
    "jaeger": {
        "Entrypoint": ["/cmd/jaeger/jaeger-linux"], "Cmd": None, "User": "10001", "WorkingDir": "",
        "ports": {5778, 5779, 4317, 4318, 14268, 14250, 9411, 16686, 13132, 13133},
    },
    "victorialogs": {
        "Entrypoint": ["/victoria-logs-prod"], "Cmd": None, "User": "", "WorkingDir": "", "ports": {9428},
    },
}  # fmt: skip


@pytest.mark.parametrize("component", list(STANDINS))
def test_metadata_mirrors_the_official_image(standins: dict[str, str], component: str) -> None:
    """Entrypoint, default command, user, working directory and exposed ports are the official image's, so the
    generated compose file (which sets only command, and user where the image runs as root) runs unchanged."""
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", standins[component]).stdout)
    expected = OFFICIAL[component]
    unset = {"Entrypoint": None, "Cmd": None, "User": "", "WorkingDir": ""}  # the engine leaves out empty fields
    assert {key: config.get(key, empty) for key, empty in unset.items()} == {
        key: expected[key] for key in ("Entrypoint", "Cmd", "User", "WorkingDir")
    }
    assert {int(port.split("/")[0]) for port in config["ExposedPorts"]} == expected["ports"]
