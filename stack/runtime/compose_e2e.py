"""`make compose-e2e`: the generated compose file on a real Docker engine, with locally built images.

Steps: the engine (scripts/docker-engine.sh start), the stand-in component images (stack.runtime.standin), a
Python base image built with debootstrap (Debian 12's Python 3.11, cached by its inputs), a temporary project
(the repository's stack.yaml with the licence-clean stores and the orders service as a compose `build:`), a
compose override that swaps the official images for the stand-ins and leaves out what cannot run here, then
`obsstack up --compose --ephemeral`, `obsstack verify --profile fast` and `obsstack down`. Nothing is left
running or stored afterwards but the images.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from stack import conventions as c
from stack.config import load_settings
from stack.errors import StackError
from stack.runtime import standin
from stack.runtime.compose import OVERRIDE_ENV
from stack.settings import StackSettings

Echo = Callable[[str], None]
REPO = Path(__file__).resolve().parents[2]
PYTHON_BASE = "obsstack-standin/python:3.11-bookworm"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip")
VENV = "/opt/python"  # python and pip on PATH as in the official image; pip installs into it (PEP 668)
INPUTS_LABEL = "org.obsstack.inputs"
# The host's CA bundle replaces Debian's in the image: pip in the service's build reaches PyPI as the host does
# (here through a TLS-intercepting proxy whose CA only the host's bundle holds); it is part of the inputs.
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# AGPL, never fetched or run here: no image of them can be had, so the e2e leaves them out by name
LEFT_OUT = ("grafana", "loki", "tempo")
LEFT_OUT_PROFILE = "obsstack-left-out"
BACKENDS = {"traces": "jaeger", "logs": "victorialogs"}
PROJECT_FILES = ("pyproject.toml", "obsstack_fastapi", "stack", "sample_app")


def docker(*args: str, capture: bool = True, stdin: Any = None) -> str:
    proc = subprocess.run(["docker", *args], capture_output=capture, text=stdin is None, stdin=stdin, check=False)
    if proc.returncode != 0:
        raise StackError(f"`docker {' '.join(args)}` failed with exit code {proc.returncode}: {proc.stderr or ''}")
    return proc.stdout or ""


def mirror_url(sources: Path = Path("/etc/apt/sources.list.d/debian.sources")) -> str:
    """The Debian mirror apt uses here (its first URIs: line), else deb.debian.org."""
    if sources.exists():
        for line in sources.read_text(encoding="utf-8").splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def base_inputs(mirror: str, ca_bundle: bytes) -> str:
    """A digest of what the Python base image is built from: same inputs, same image (skip the build)."""
    spec = f"debootstrap minbase {SUITE} {mirror} {','.join(PACKAGES)} venv {VENV}\n".encode() + ca_bundle
    return hashlib.sha256(spec).hexdigest()[:16]


def image_label(image: str, label: str) -> str | None:
    """The image's label, or None when the image is absent."""
    proc = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', image],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return proc.stdout.strip() if proc.returncode == 0 else None


def python_base(echo: Echo) -> str:
    """obsstack-standin/python:3.11-bookworm from debootstrap (minbase), unless present with the same inputs."""
    mirror = mirror_url()
    inputs = base_inputs(mirror, CA_BUNDLE.read_bytes())
    if image_label(PYTHON_BASE, INPUTS_LABEL) == inputs:
        echo(f"cached: {PYTHON_BASE} (inputs {inputs})")
        return PYTHON_BASE
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="obsstack-pybase-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        echo(f"building {PYTHON_BASE}: debootstrap {SUITE} from {mirror}")
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), mirror],
             quiet=True)  # fmt: skip
        _run(["chroot", str(rootfs), "python3", "-m", "venv", VENV])
        shutil.copyfile(CA_BUNDLE, rootfs / CA_BUNDLE.relative_to("/"))
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        _import(rootfs, inputs)
    echo(f"built: {PYTHON_BASE} in {time.monotonic() - started:.0f}s")
    return PYTHON_BASE


def _import(rootfs: Path, inputs: str) -> None:
    changes = (
        f"ENV PATH={VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        f"LABEL {INPUTS_LABEL}={inputs}",
        'CMD ["python3"]',
    )
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    try:
        docker("import", *(a for change in changes for a in ("--change", change)), "-", PYTHON_BASE,
               capture=False, stdin=tar.stdout)  # fmt: skip
    finally:
        tar.wait()


def _run(argv: list[str], env: Mapping[str, str] | None = None, quiet: bool = False) -> None:
    """`argv`, its output shown (or, `quiet`, only its last lines when it fails)."""
    proc = subprocess.run(argv, env=env, capture_output=quiet, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:]) if quiet else "(output above)"
        raise StackError(f"`{' '.join(argv)}` failed with exit code {proc.returncode}: {tail}")


def project_stack(stack: dict[str, Any]) -> dict[str, Any]:
    """The repository's stack.yaml for compose: licence-clean stores, the fast profile, and the service that runs
    on the host as a command (orders) built from the demo's Dockerfile instead, with container paths."""
    services = []
    for service in stack["services"]:
        service = dict(service)
        if "command" in service:
            service.pop("command")
            service["build"] = {"context": ".", "dockerfile": "sample_app/Dockerfile"}
            env = dict(service.get("env", {}))
            env.pop("DATABASE_URL", None)  # the image's own: sqlite under /app, its user's
            for key, value in env.items():
                if isinstance(value, str) and value in service.get("secret_files", ()):
                    env[key] = posixpath.join(c.CONTAINER_ROOT, value)
            service["env"] = env
        services.append(service)
    return {**stack, "services": services, "backends": {**stack.get("backends", {}), **BACKENDS}}


def make_project(into: Path) -> Path:
    """A temporary project: the demo's sources (the build context) and the compose stack.yaml."""
    for name in PROJECT_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, into / name)
    stack = yaml.safe_load((REPO / "stack.yaml").read_text(encoding="utf-8"))
    (into / "stack.yaml").write_text(yaml.safe_dump(project_stack(stack), sort_keys=False), encoding="utf-8")
    return into / "stack.yaml"


def override(images: Mapping[str, str], compose: Mapping[str, Any], base: str) -> dict[str, Any]:
    """The compose override: stand-in images for the official ones, the local Python base for every build, and the
    services left out (LEFT_OUT) behind a profile nobody enables."""
    services: dict[str, Any] = {}
    for name, service in compose["services"].items():
        if name in LEFT_OUT:
            services[name] = {"profiles": [LEFT_OUT_PROFILE]}
        elif "build" in service:
            services[name] = {"build": {"args": {"BASE": base}}}
        elif service.get("image") in images:
            services[name] = {"image": images[service["image"]]}
    return {"services": services}


def left_out(compose: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(name for name in compose["services"] if name in LEFT_OUT)


def obsstack(*args: str, env: Mapping[str, str] | None = None) -> None:
    _run([str(Path(sys.executable).parent / "obsstack"), *args], env=env)


def start_engine(echo: Echo) -> bool:
    """An engine that answers: scripts/docker-engine.sh starts dockerd when none does. True when it started one
    (then only that one is stopped afterwards)."""
    script = REPO / "scripts/docker-engine.sh"
    if not script.exists():
        docker("info")  # no script: an engine must answer already
        return False
    proc = subprocess.run([str(script), "start"], capture_output=True, text=True, check=False)
    echo((proc.stdout + proc.stderr).strip())
    if proc.returncode != 0:
        raise StackError(f"`scripts/docker-engine.sh start` failed with exit code {proc.returncode}")
    return "dockerd started" in proc.stdout


def stop_engine() -> None:
    _run([str(REPO / "scripts/docker-engine.sh"), "stop"])


def components(settings: StackSettings) -> tuple[str, ...]:
    return ("prometheus", "alertmanager", "otelcol", settings.backends.logs, settings.backends.traces)


def run_stack(config: Path, override_file: Path, echo: Echo) -> None:
    """up (compose, ephemeral, fast), verify, then down whatever happened."""
    env = {**os.environ, OVERRIDE_ENV: str(override_file)}
    started = time.monotonic()
    try:
        obsstack("up", "--compose", "--ephemeral", "--profile", "fast", "--config", str(config), env=env)
        echo(f"compose-e2e: stack healthy in {time.monotonic() - started:.0f}s")
        echo(f"compose-e2e: processes run as {non_root(project_of(config))}")
        obsstack("verify", "--profile", "fast", "--config", str(config), env=env)
    except StackError:
        show_logs(project_of(config), echo)
        raise
    finally:
        obsstack("down", "--config", str(config), env=env)
        left_behind(project_of(config))
    echo(f"compose-e2e: down left no container, network or volume of {project_of(config)}")


def non_root(project: str) -> dict[str, str]:
    """Container -> the uids its processes run as (from the host's ps); fails when one runs as root."""
    found = {}
    label = f"label=com.docker.compose.project={project}"
    for name in docker("ps", "--filter", label, "--format", "{{.Names}}").split():
        uids = {line.split()[1] for line in docker("top", name, "-o", "pid,uid").splitlines()[1:]}
        found[name.removeprefix(f"{project}-")] = ",".join(sorted(uids))
    root = [name for name, uids in found.items() if "0" in uids.split(",")]
    if root:
        raise StackError(f"containers {root} of {project} run processes as root; expected their images' users")
    return found


def left_behind(project: str) -> None:
    """Fails when `down` left a container, network or volume of the project (only images may stay)."""
    label = f"label=com.docker.compose.project={project}"
    left = {
        kind: docker(*command, "--filter", label, "--format", "{{.Names}}" if kind == "container" else "{{.Name}}")
        for kind, command in (("container", ("ps", "-a")), ("network", ("network", "ls")), ("volume", ("volume", "ls")))
    }
    found = {kind: names.split() for kind, names in left.items() if names.strip()}
    if found:
        raise StackError(f"obsstack down left {found} of compose project {project}; expected only images")


def project_of(config: Path) -> str:
    return str(yaml.safe_load(config.read_text(encoding="utf-8"))["project"])


def show_logs(project: str, echo: Echo) -> None:
    """The state and last log lines of each container of the project (before `down` removes them)."""
    names = docker("ps", "-a", "--filter", f"label=com.docker.compose.project={project}", "--format",
                   "{{.Names}}\t{{.Status}}").splitlines()  # fmt: skip
    for line in names:
        echo(f"--- {line}")
        logs = subprocess.run(["docker", "logs", "--tail", "15", line.split("\t")[0]], capture_output=True,
                              text=True, check=False)  # fmt: skip
        echo((logs.stdout + logs.stderr).rstrip())


def compose_e2e(echo: Echo) -> None:
    started = time.monotonic()
    ours = start_engine(echo)
    try:
        with tempfile.TemporaryDirectory(prefix="obsstack-compose-e2e-") as tmp:
            config = make_project(Path(tmp))
            settings = load_settings(config, {"profile": "fast"})
            images = standin.build_images(settings, components(settings), echo)
            base = python_base(echo)
            echo(f"compose-e2e: images ready after {time.monotonic() - started:.0f}s")
            obsstack("generate", "--profile", "fast", "--config", str(config))
            compose = yaml.safe_load((config.parent / settings.output.compose_dir / "compose.yaml").read_text())
            override_file = Path(tmp) / "compose.e2e-override.yaml"
            override_file.write_text(yaml.safe_dump(override(images, compose, base), sort_keys=False))
            echo(f"compose-e2e: left out (AGPL, no image here): {', '.join(left_out(compose)) or 'none'}")
            run_stack(config, override_file, echo)
    finally:
        if ours:
            stop_engine()
    echo(f"compose-e2e passed in {time.monotonic() - started:.0f}s")


def main() -> int:
    try:
        compose_e2e(print)
    except StackError as error:
        print(f"compose-e2e failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
