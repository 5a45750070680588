"""`obsstack validate` checks of the compose files: the real `docker compose config -q`, and the pinned amtool
on the containers' Alertmanager config. Passwords are placeholders staged next to the compose file."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

from stack import conventions as c
from stack.secrets import env_keys
from stack.settings import StackSettings
from stack.tools import CheckResult, run_tool
from stack.validate.promtool import amtool


def check_compose(stage: Path, settings: StackSettings) -> Iterator[CheckResult]:
    compose_dir = stage / settings.output.compose_dir
    (compose_dir / c.COMPOSE_ENV_FILE).write_text(
        "".join(f"{key}=placeholder-for-validation\n" for key in env_keys(settings)), encoding="utf-8"
    )
    base = ["docker-compose", "-f", c.COMPOSE_FILE]
    ephemeral = [*base, "-f", c.COMPOSE_EPHEMERAL_FILE]
    am_config = posixpath.join(settings.output.compose_dir, c.ALERTMANAGER_COMPOSE_CONFIG)
    yield run_tool("docker compose config", [*base, "--profile", c.LOAD_PROFILE, "config", "-q"], compose_dir)
    yield run_tool("docker compose config (ephemeral)", [*ephemeral, "config", "-q"], compose_dir)
    yield amtool("amtool check-config (compose)", settings, am_config, stage)
