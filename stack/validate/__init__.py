"""I/O: run the real tools (promtool, amtool, docker compose, ...) at their pinned versions on the generated files.

The files are staged in a temporary copy of the project layout with placeholder secrets, so a missing
token file (secrets are never committed) does not fail `promtool check config`, and nothing is written.
`validate` yields each check's result as it finishes.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from stack import conventions as c
from stack.settings import StackSettings
from stack.tools import CheckResult
from stack.validate.compose import check_compose
from stack.validate.dashboards import check_dashboards
from stack.validate.grammars import check_grammars
from stack.validate.kubernetes import check_kubernetes
from stack.validate.mimir import check_mimir
from stack.validate.promtool import amtool, promtool, run_rule_tests
from stack.validate.provisioning import check_provisioning

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
                shutil.copytree(source, stage / relative, ignore=shutil.ignore_patterns(".env", "__pycache__"))
        for service in settings.services:
            if service.metrics_token_file:
                secret = stage / service.metrics_token_file
                secret.parent.mkdir(parents=True, exist_ok=True)
                secret.write_text("placeholder-token-for-validation\n", encoding="utf-8")
        yield stage


Check = Callable[[Path, StackSettings], Iterable[CheckResult]]


def check_prometheus(stage: Path, settings: StackSettings) -> Iterator[CheckResult]:
    alerts = settings.output.alerts_dir
    config = posixpath.join(settings.output.compose_dir, c.PROMETHEUS_CONFIG)
    rule_files = sorted(str(p.relative_to(stage)) for p in (stage / alerts).glob("*.rules.yml"))
    yield promtool("promtool check config", settings, ["check", "config", config], stage)
    yield promtool("promtool check rules", settings, ["check", "rules", *rule_files], stage)
    tests = sorted((stage / alerts / "tests").glob("*.yml"))
    oracles = sorted((stage / ORACLE_TESTS).glob("*.yml"))
    oracle = "promtool test rules (oracle)"
    with ThreadPoolExecutor(1) as pool:  # the oracle tests meanwhile, on what the generated run leaves idle
        running = pool.submit(run_rule_tests, oracle, settings, oracles, stage) if oracles else None
        yield run_rule_tests("promtool test rules (generated)", settings, tests, stage)
        yield running.result() if running else CheckResult(oracle, "skipped", f"no tests in {ORACLE_TESTS}")


def check_alertmanager(stage: Path, settings: StackSettings) -> Iterator[CheckResult]:
    config = posixpath.join(settings.output.compose_dir, c.ALERTMANAGER_CONFIG)
    yield amtool("amtool check-config", settings, config, stage)


# The ordered checks, one entry per component; each yields its results as they finish.
CHECKS: tuple[Check, ...] = (
    check_prometheus,
    check_alertmanager,
    check_dashboards,
    check_provisioning,
    check_grammars,
    check_compose,
    check_kubernetes,
    check_mimir,
)


def validate(root: Path, settings: StackSettings) -> Iterator[CheckResult]:
    """Every check's results on a staged copy of the generated files, each yielded as soon as it is known."""
    with staged_project(root, settings) as stage:
        for check in CHECKS:
            yield from check(stage, settings)
