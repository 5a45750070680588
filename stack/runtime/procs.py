"""I/O: start programs in their own session, recognise them later, stop exactly their process group.

A pid alone is not an identity (pids are reused): each started process is recorded with its start
time (Linux /proc/<pid>/stat field 22, or `ps -o lstart=` elsewhere) and stopped only if it matches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT = 10.0
POLL = 0.2


@dataclass(frozen=True)
class Started:
    pid: int
    start_time: str


def start_time(pid: int) -> str | None:
    """The process' start time as recorded by the kernel, or None if there is no such live process."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self/stat").exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return None if fields[0] in {"Z", "X"} else fields[19]
    proc = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def alive(started: Started) -> bool:
    """True while the very process we started runs (not a zombie, not a new process with its pid)."""
    _reap(started.pid)
    return start_time(started.pid) == started.start_time


def spawn(argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> Started:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    proc.returncode = 0  # we track it by pid from here on; keeps Popen.__del__ quiet
    return Started(proc.pid, start_time(proc.pid) or "")


def stop(started: Started, timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM the process group, wait (bounded), then SIGKILL it. False if it was already gone."""
    if not alive(started):
        return False
    _signal_group(started.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(started) and not group_exists(started.pid):
            return True
        time.sleep(POLL)
    _signal_group(started.pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while alive(started) and time.monotonic() < deadline:
        time.sleep(POLL)
    return True


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def http_ok(url: str, timeout: float = 2.0, token_file: str = "", any_status: bool = False) -> bool:
    """True if `url` answers 2xx (with `Authorization: Bearer <token>` read from `token_file` if given); with
    `any_status`, if it answers HTTP at all (a service with no health or metrics path: only its routes)."""
    headers = {}
    if token_file:
        try:
            headers["Authorization"] = "Bearer " + Path(token_file).read_text(encoding="utf-8").strip()
        except OSError:
            return False
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http on loopback
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http on loopback
            return bool(200 <= response.status < 300)
    except urllib.error.HTTPError:
        return any_status
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
