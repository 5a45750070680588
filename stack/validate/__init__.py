"""I/O: run the real tools (promtool, amtool, docker compose) on the generated files.

The files are staged in a temporary copy of the project layout with placeholder secrets, so a missing
token file (secrets are never committed) does not fail `promtool check config`, and nothing is written.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from stack import conventions as c
from stack.settings import StackSettings
from stack.tools import CheckResult, run_tool
from stack.validate.compose import check_compose
from stack.validate.dashboards import check_dashboards
from stack.validate.kubernetes import check_kubernetes
from stack.validate.mimir import check_mimir

ORACLE_TESTS = "tests/promtool"


@contextmanager
def staged_project(root: Path, settings: StackSettings) -> Iterator[Path]:
    """A temporary copy of the generated files (and oracle tests) with placeholder secret files."""
    with tempfile.TemporaryDirectory(prefix="obsstack-validate-") as temp:
        stage = Path(temp)
        output = settings.output
        copied = (output.alerts_dir, output.dashboards_dir, output.compose_dir, output.kubernetes_dir,
                  output.mimir_dir, ORACLE_TESTS)  # fmt: skip
        for relative in copied:
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
CHECKS: tuple[Check, ...] = (
    check_prometheus, check_alertmanager, check_dashboards, check_compose, check_kubernetes, check_mimir,
)  # fmt: skip


def validate(root: Path, settings: StackSettings) -> list[CheckResult]:
    with staged_project(root, settings) as stage:
        return [result for check in CHECKS for result in check(stage, settings)]
