"""A real Docker engine for the stand-in image tests and the stand-in images built on it. Without an engine
the tests are skipped, or fail under CI=true; under CI a missing engine is first started with
scripts/docker-engine.sh (and stopped again only if it started it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from stack.config import load_settings
from stack.errors import StackError
from stack.models.standin import STANDINS
from stack.runtime.standin import build_images
from stack.settings import StackSettings
from tests.compose_engine.engine import REPO
from tests.support import absent

ENGINE_SCRIPT = REPO / "scripts" / "docker-engine.sh"


def _answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0


@pytest.fixture(scope="session")
def engine() -> Iterator[None]:
    """A Docker engine that answers `docker info`."""
    started = False
    if not _answers() and os.environ.get("CI") and ENGINE_SCRIPT.is_file():
        done = subprocess.run([str(ENGINE_SCRIPT), "start"], capture_output=True, text=True, timeout=120, check=False)
        started = done.returncode == 0 and "dockerd started" in done.stdout
    if not _answers():
        absent("no Docker engine answers `docker info`; run scripts/install-system-deps.sh and "
               "scripts/docker-engine.sh start")  # fmt: skip
    yield
    if started:
        subprocess.run([str(ENGINE_SCRIPT), "stop"], capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def settings() -> StackSettings:
    """The repository's own stack.yaml: the pinned versions the stand-ins carry."""
    return load_settings(REPO / "stack.yaml")


@pytest.fixture(scope="session")
def standins(engine: None, settings: StackSettings) -> dict[str, str]:
    """Component -> stand-in tag, each image built (or found unchanged) from the cached pinned builds."""
    try:
        swaps = build_images(settings, STANDINS, lambda line: None)
    except StackError as error:
        absent(str(error))
    return {name: swaps[getattr(settings.components, name).image] for name in STANDINS}
