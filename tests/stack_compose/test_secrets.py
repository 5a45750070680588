"""Secrets: created once with mode 0600, never overwritten; .env gets only its missing keys."""

from __future__ import annotations

import stat
from pathlib import Path

from stack import conventions as c
from stack.secrets import ensure_secrets, env_keys, read_env
from stack.settings import StackSettings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_missing_secrets_owner_only(tmp_path: Path, settings: StackSettings) -> None:
    """Token files and compose/.env are created with random values and mode 0600."""
    made = ensure_secrets(tmp_path, settings)
    for path in (*made.token_files, made.faults_token, made.env_file):
        assert mode(path) == 0o600, path
    assert mode(tmp_path / c.SECRETS_DIR) == 0o700
    env = read_env(made.env_file)
    assert set(env_keys(settings)) <= set(env)
    assert all(len(env[k]) >= 32 for k in env_keys(settings))
    assert len(made.faults_token.read_text().strip()) >= 32


def test_never_overwrites(tmp_path: Path, settings: StackSettings) -> None:
    """A second call changes nothing and reports nothing created."""
    first = ensure_secrets(tmp_path, settings)
    before = {p: p.read_text() for p in (*first.token_files, first.faults_token, first.env_file)}
    second = ensure_secrets(tmp_path, settings)
    assert second.created == ()
    assert {p: p.read_text() for p in before} == before


def test_env_keeps_existing_values_and_adds_missing(tmp_path: Path, settings: StackSettings) -> None:
    """A hand-written password is kept; only the missing key is appended."""
    service = settings.services[0].model_copy(update={"requires": ("postgres",)})
    settings = settings.model_copy(update={"services": (service,)})
    env_file = tmp_path / settings.output.compose_dir / c.COMPOSE_ENV_FILE
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"{c.ENV_GRAFANA_PASSWORD}=mine", encoding="utf-8")
    ensure_secrets(tmp_path, settings)
    env = read_env(env_file)
    assert env[c.ENV_GRAFANA_PASSWORD] == "mine"
    assert env[c.ENV_POSTGRES_PASSWORD]
