"""Build obsstack's own Go checkers into the component cache: dashcheck, the strict dashboard decoder.

dashcheck (stack/checkers/dashboards/, shipped as package data) decodes dashboards with the Grafana Foundation SDK's Go
types (github.com/grafana/grafana-foundation-sdk/go, Apache-2.0; its go.mod requires no other module). It is
built like the other components: into `cache_root()/components/dashcheck-<SDK version>/dashcheck`, checked
(`dashcheck --version` names the SDK version it was built with) in a temporary sibling, renamed into place.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from stack.errors import StackError
from stack.runtime.gobuild import Echo, go_directive, need_go, run_go
from stack.tools import cache_root, cached_binary, reported_version, staged
from stack.validate.dashboards import DASHCHECK, SDK_MODULE, SDK_VERSION

SOURCE = Path(__file__).resolve().parents[1] / "checkers" / "dashboards"
SOURCE_FILES = ("go.mod", "go.sum", "main.go")


def build_dashcheck(echo: Echo) -> Path:
    """The cached dashcheck binary at SDK_VERSION, built first when absent."""
    if (done := cached_binary(DASHCHECK, SDK_VERSION, DASHCHECK)) is not None:
        echo(f"{DASHCHECK} {SDK_VERSION}: cached at {done}")
        return done
    what, started = f"{DASHCHECK} {SDK_VERSION}", time.monotonic()
    need_go(what, go_directive(source_gomod()))
    final = cache_root() / "components" / f"{DASHCHECK}-{SDK_VERSION}"
    work = cache_root() / "work" / f"{DASHCHECK}-{SDK_VERSION}"
    work.mkdir(parents=True, exist_ok=True)
    with staged(final) as staging:
        for name in SOURCE_FILES:
            shutil.copyfile(SOURCE / name, work / name)
        out = staging / DASHCHECK
        run_go(["build", "-trimpath", "-ldflags", "-s -w", "-o", str(out), "."], work, what, echo)
        check_reports(out)
    echo(f"{what}: built in {time.monotonic() - started:.0f}s -> {final / DASHCHECK}")
    return final / DASHCHECK


def source_gomod() -> str:
    """stack/checkers/dashboards/go.mod, which must require the SDK at SDK_VERSION (the pin is stated twice: the cache
    directory names it, Go needs it in go.mod; this keeps them equal)."""
    path = SOURCE / "go.mod"
    if not path.is_file():
        raise StackError(f"{DASHCHECK}: {path} not found; expected the checker's Go module in the repository")
    text = path.read_text(encoding="utf-8")
    if not re.search(rf"^require {re.escape(SDK_MODULE)} v{re.escape(SDK_VERSION)}$", text, re.M):
        raise StackError(f"{DASHCHECK}: {path} does not require {SDK_MODULE} v{SDK_VERSION}, expected that pin")
    return text


def check_reports(binary: Path) -> None:
    got = reported_version(str(binary), "--version")
    if got != SDK_VERSION:
        raise StackError(f"{DASHCHECK}: the built binary reports SDK version {got}, expected {SDK_VERSION}")


def checker_builds() -> dict[str, Callable[[Echo], Path]]:
    """obsstack's own checkers by the name `obsstack components build NAME` takes."""
    from stack.runtime.lezer import build_lezer

    return {DASHCHECK: build_dashcheck, "lezer": build_lezer}
