"""I/O: a PNG of a local HTML file (the verify report), taken with headless Chromium (Debian's `chromium`).

Chromium is driven over its DevTools pipe (`--remote-debugging-pipe`: commands on fd 3, answers on fd 4, each a
JSON message ending in NUL), so the whole page is captured at a fixed width whatever its height, with no
extra Python dependency and no port opened. The page is opened from disk; Chromium runs with a throw-away
profile, and with `--no-sandbox` only when run as root (its sandbox refuses root).
"""

from __future__ import annotations

import base64
import fcntl
import json
import math
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from stack.errors import StackError

BROWSERS = ("chromium", "chromium-browser")
INSTALL = "install Debian's chromium (`apt-get install chromium`, as scripts/install-system-deps.sh does)"
WIDTH, TIMEOUT = 1300, 60.0


def find_browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        raise StackError(f"chromium: not found on PATH; {INSTALL}")
    return found


def _high(fds: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved above 9, so placing Chromium's ends at fds 3 and 4 overwrites none of them."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved[0], moved[1]


class DevTools:
    """One Chromium over its DevTools pipe: send a command, wait for its answer (or an event) within a deadline."""

    def __init__(self, browser: str, profile: str) -> None:
        to_browser, self._write = _high(os.pipe())
        self._read, from_browser = _high(os.pipe())
        args = ["--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip
        if os.geteuid() == 0:
            args.insert(0, "--no-sandbox")
        shell = f'exec "$0" "$@" 3<&{to_browser} 4>&{from_browser} {to_browser}<&- {from_browser}>&-'
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", shell, browser, *args],
            pass_fds=(to_browser, from_browser),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next = b"", 0
        self.deadline = time.monotonic() + TIMEOUT

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([self._read], [], [], max(0.0, left))
            chunk = os.read(self._read, 1 << 20) if ready else b""
            if not chunk:
                raise StackError(f"chromium: no answer within {TIMEOUT:.0f}s{self._stderr()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        found: dict[str, Any] = json.loads(message)
        return found

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        command: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        os.write(self._write, json.dumps(command).encode() + b"\0")
        while (answer := self._message()).get("id") != self._next:
            pass
        if "error" in answer:
            raise StackError(f"chromium: {method}: {answer['error'].get('message', answer['error'])}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def wait_event(self, method: str) -> None:
        while self._message().get("method") != method:
            pass

    def _stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        lines = self.proc.stderr.read().decode(errors="replace").strip().splitlines()
        return f" (it exited {self.proc.returncode}: {lines[-1]})" if lines else f" (it exited {self.proc.returncode})"

    def close(self) -> None:
        try:
            os.write(self._write, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._write)
            os.close(self._read)


def capture(tools: DevTools, url: str, width: int) -> bytes:
    """The page at `url` as a PNG `width` CSS pixels wide and as tall as its content."""
    target = tools.call("Target.createTarget", url="about:blank")["targetId"]
    session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    tools.call("Page.enable", session)
    tools.call("Emulation.setDeviceMetricsOverride", session, width=width, height=800, deviceScaleFactor=1,
               mobile=False)  # fmt: skip
    tools.call("Page.navigate", session, url=url)
    tools.wait_event("Page.loadEventFired")
    size = tools.call("Page.getLayoutMetrics", session)["cssContentSize"]
    height = max(1, math.ceil(size["height"]))
    tools.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1,
               mobile=False)  # fmt: skip
    shot = tools.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True,
                      clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})  # fmt: skip
    return base64.b64decode(shot["data"])


def screenshot(html: Path, png: Path, width: int = WIDTH) -> Path:
    """Write `png`: the whole page of the local file `html` at `width` pixels, written atomically."""
    if not html.is_file():
        raise StackError(f"{html}: no such report; run `obsstack verify` first")
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="obsstack-chromium-") as profile:
        tools = DevTools(browser, profile)
        try:
            data = capture(tools, html.resolve().as_uri(), width)
        finally:
            tools.close()
    partial = png.with_name(f".{png.name}.tmp")
    partial.write_bytes(data)
    os.replace(partial, png)
    return png


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
