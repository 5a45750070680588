"""Install the LogQL/TraceQL checker (stack/checkers/lezer: Grafana's lezer grammars, Apache-2.0, pinned by the
committed package-lock.json) into the component cache, `cache_root()/components/lezer-<digest>/`.

`npm ci --ignore-scripts` installs exactly the lockfile (no install scripts run); the directory is staged
and renamed into place, so present means complete and is reused. At validate time only `node` runs: no
network.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from stack.errors import StackError
from stack.tools import find_tool, staged
from stack.validate.grammars import LEZER_FILES, LEZER_SOURCE, lezer_dir

Echo = Callable[[str], None]
NPM_TIMEOUT = 600


def build_lezer(echo: Echo) -> Path:
    """The installed checker's directory (holding check.mjs and node_modules), installed first when absent."""
    final = lezer_dir()
    if (final / "node_modules").is_dir():
        echo(f"lezer: cached at {final}")
        return final
    npm = find_tool("npm")
    if npm is None or find_tool("node") is None:
        raise StackError("lezer: node and npm not found; install Node.js >= 20 (Debian: apt-get install nodejs npm)")
    started = time.monotonic()
    with staged(final) as staging:
        for name in LEZER_FILES:
            shutil.copy2(LEZER_SOURCE / name, staging / name)
        _npm_ci(npm, staging, echo)
    echo(f"lezer: installed in {time.monotonic() - started:.0f}s -> {final}")
    return final


def _npm_ci(npm: str, where: Path, echo: Echo) -> None:
    echo(f"lezer: npm ci --ignore-scripts in {where}")
    # lezer-logql 0.4.2 declares engines node >= 24; it runs on Node 20 (tests/validate parse with it)
    argv = [npm, "ci", "--ignore-scripts", "--engine-strict=false", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(argv, cwd=where, capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise StackError(f"lezer: `npm ci` timed out after {NPM_TIMEOUT}s in {where}") from error
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise StackError(f"lezer: `npm ci --ignore-scripts` failed in {where}: {' | '.join(lines[-3:])}")
