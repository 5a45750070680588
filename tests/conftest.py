"""Shared fixtures: temporary projects and real external tools."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stack.tools import cached_binary, find_tool
from stack.validate.dashboards import DASHCHECK, SDK_VERSION
from tests.support import absent, pinned_tool

REPO = Path(__file__).resolve().parents[1]

MINIMAL_STACK = """\
project: demo
services:
  - name: orders
    port: 8000
"""


def require_tool(name: str) -> str:
    """The tool's path; under CI a missing tool fails the test instead of skipping it."""
    found = find_tool(name)
    if found is None:
        message = f"{name} is not installed"
        absent(message)
    return found


def require_pinned_tool(tool: str) -> str:
    """The tool at the version this repository's stack.yaml pins (tests.support.pinned_tool)."""
    from stack.config import load_settings

    return pinned_tool(load_settings(REPO / "stack.yaml", {}), tool)


@pytest.fixture
def promtool() -> str:
    return require_pinned_tool("promtool")


@pytest.fixture
def amtool() -> str:
    return require_pinned_tool("amtool")


@pytest.fixture
def prometheus_binary() -> str:
    return require_pinned_tool("prometheus")


@pytest.fixture
def dashcheck() -> str:
    """dashcheck's path; under CI a missing build fails the test instead of skipping it."""
    found = cached_binary(DASHCHECK, SDK_VERSION, DASHCHECK)
    if found is None:
        message = f"dashcheck {SDK_VERSION} is not built (obsstack components build dashcheck)"
        absent(message)
    return str(found)


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[str], Path]:
    """Write a stack.yaml into a fresh directory and return its path."""

    def make(text: str = MINIMAL_STACK) -> Path:
        config = tmp_path / "stack.yaml"
        config.write_text(text, encoding="utf-8")
        return config

    return make


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL server on a free loopback port (Debian's postgresql package), stopped after."""
    if os.environ.get("OBSSTACK_TEST_POSTGRES_URL"):
        yield os.environ["OBSSTACK_TEST_POSTGRES_URL"]
        return
    bindir = _postgres_bin()
    if bindir is None:
        message = "PostgreSQL server is not installed (apt-get install postgresql)"
        absent(message)
    data = Path(tempfile.mkdtemp(prefix="obsstack-pg-"))  # pytest's tmp root is 0700: postgres could not enter
    data.chmod(0o777)
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = data / "cluster"
    subprocess.run([*as_user, str(bindir / "initdb"), "-A", "trust", "-U", "app", "-D", str(cluster)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {data}"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(cluster), "-o", options, "-w", "-t", "60",
                    "-l", str(data / "pg.log"), "start"], check=True, capture_output=True, timeout=90)  # fmt: skip
    try:
        subprocess.run([*as_user, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "app",
                        "orders"], check=True, capture_output=True, timeout=60)  # fmt: skip
        yield f"postgresql+asyncpg://app@127.0.0.1:{port}/orders"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(cluster), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60, check=False)  # fmt: skip
        shutil.rmtree(data, ignore_errors=True)
