"""Helpers shared by the tests: free loopback ports, the real sample app as a process, and the pinned tools."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from prometheus_client import CollectorRegistry, start_http_server

from stack import conventions as c
from stack.durations import Duration
from stack.runtime.programs import programs
from stack.runtime.promapi import PromClient, wait_until
from stack.settings import StackSettings
from stack.tools import ToolError, locate, unavailable

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_app(
    workdir: Path, stdout: int = subprocess.DEVNULL, **env: str
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`python -m sample_app` on a free loopback port with its own SQLite file, until healthy; always stopped.

    Yields (base URL, process). Inherited APP_/OBS_/OTEL_/SENTRY_ variables are dropped so the machine's
    environment cannot change the app under test."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "OBS_", "OTEL_", "SENTRY_"))}
    repo = str(Path(__file__).resolve().parents[1])  # sample_app is a directory of the repo, not installed
    database = f"sqlite+aiosqlite:///{workdir}/app.db"
    full = {**clean, "PYTHONPATH": repo, "APP_PORT": str(port), "DATABASE_URL": database, **env}
    stderr = subprocess.STDOUT if stdout == subprocess.PIPE else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample_app"], env=full, cwd=workdir, text=True, stdout=stdout, stderr=stderr
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> tuple[bool, str]:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200, "not healthy"
        except httpx.HTTPError as exc:
            return False, str(exc)

    try:
        assert wait_until(healthy, START_TIMEOUT, 0.2).ok, "sample app did not start"
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` but stack.yaml, with its bytes (to show that nothing was written or lost)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != "stack.yaml"}


def assert_refused(project: Path, text: str, expected: list[str]) -> None:
    """`obsstack generate` on `text` as the project's stack.yaml: exit 2, one error line naming stack.yaml
    and every expected fragment, no traceback, and no generated file written or removed."""
    from typer.testing import CliRunner

    from stack.cli import app

    before = snapshot(project)
    config = project / "stack.yaml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--config", str(config)])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1, lines
    assert "Traceback" not in result.output
    assert "stack.yaml" in lines[0]
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(project) == before, "bad input must not write or remove any file"


def pinned_tool(settings: StackSettings, tool: str) -> str:
    """The tool at its pinned version (cached build, else PATH): a missing one skips the test, or fails it
    under CI=true, and another version on PATH fails it, as `obsstack validate` treats them."""
    try:
        return locate(settings.tool_pin(tool))
    except ToolError as error:
        if unavailable(tool, error).failed:
            pytest.fail(error.detail)
        pytest.skip(error.detail)


def require_pinned(settings: StackSettings, *tools: str) -> None:
    """Each of `tools` at its pinned version (see pinned_tool)."""
    for tool in tools:
        pinned_tool(settings, tool)


def generated_project(root: Path, text: str) -> Path:
    """`root` holding stack.yaml `text` and the files `obsstack generate` made from it."""
    from typer.testing import CliRunner

    from stack.cli import app

    (root / "stack.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--config", str(root / "stack.yaml")])
    assert result.exit_code == 0, result.output
    return root


def answers(url: str) -> bool:
    """`url` answers 200 within a second."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def collector_binary(settings: StackSettings) -> str:
    """The collector `up --local` would start for `settings` (the pinned build): a missing one skips the test,
    or fails it under CI."""
    found = next(p for p in programs(settings) if p.name == "otelcol").find(settings)
    if found is None:
        absent("the collector is not built; run `obsstack components build otelcol`")
    return found


SCRAPED = """\
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: {job}
    static_configs: [{{targets: ["127.0.0.1:{port}"], labels: {{service: {job}}}}}]
"""


@contextmanager
def scraping_prometheus(
    tmp_path: Path, binary: str, registry: CollectorRegistry, job: str, rules: str = ""
) -> Iterator[PromClient]:
    """`registry` served on 127.0.0.1 and the Prometheus `binary` scraping it every second as `job` (with the
    label service=`job`), evaluating `rules` (a rule file's text) every second; yields a client once the target
    is up, stops both after."""
    target, port = free_port(), free_port()
    server, thread = start_http_server(target, addr="127.0.0.1", registry=registry)
    config = SCRAPED.format(port=target, job=job)
    if rules:
        (tmp_path / "rules.yml").write_text(rules, encoding="utf-8")
        config += "rule_files: [rules.yml]\n"
    (tmp_path / "prometheus.yml").write_text(config, encoding="utf-8")
    flags = c.prometheus_flags(str(tmp_path / "prometheus.yml"), str(tmp_path / "data"), f"127.0.0.1:{port}",
                               Duration.parse("1h"))  # fmt: skip
    prom = PromClient(f"http://127.0.0.1:{port}")
    with (tmp_path / "prometheus.log").open("w") as log:
        proc = subprocess.Popen([binary, *flags], stdout=log, stderr=subprocess.STDOUT)
    try:
        scraped = wait_until(lambda: (bool(prom.query(f'up{{job="{job}"}} == 1')), f"{job} not scraped"), 30, 0.5)
        assert scraped.ok, (tmp_path / "prometheus.log").read_text()
        yield prom
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        server.shutdown()
        thread.join(timeout=5)


def absent(message: str) -> NoReturn:
    """A tool or build a test needs is not there: the test is skipped, or failed under CI (where a missing
    component is a failure, never a skip)."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
