"""I/O: the Mimir target's files checked with the pinned tools (when the target is enabled).

- cortextool (github.com/cortexproject/cortex-tools: the same rule-file format as mimirtool, Apache-2.0)
  `rules lint --dry-run` (parses every namespace file strictly: an unknown key or a bad expression fails,
  naming the file) and `rules check` (recording rule names, duplicate rules);
- the namespaces' groups are exactly those of the promtool-tested rule files: they are compared, then written
  back as Prometheus rule files beside a copy of the generated promtool tests, which `promtool check rules`
  and `promtool test rules` run on (so the alerts Mimir evaluates are the proven ones, not just alike; when the
  groups are equal the test run is the one alerts/ had, see stack/validate/promtool.py);
- no group key that Cortex's ruler would drop silently (a Mimir-only key: the same files load unchanged into the
  local Cortex ring of `obsstack up --local --ring`, stack.runtime.ring_load);
- `amtool check-config` on the tenant's Alertmanager config.
"""

from __future__ import annotations

import posixpath
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from stack import conventions as c
from stack.models.cortex import mimir_only_keys
from stack.settings import StackSettings
from stack.tools import CheckResult, run_pinned
from stack.validate.promtool import amtool, promtool, run_rule_tests

REPLAY_DIR = ".mimir-promtool"  # in the stage: the groups read back from the namespaces, and the tests


def check_mimir(stage: Path, settings: StackSettings) -> Iterator[CheckResult]:
    if not settings.mimir.enabled:
        return
    target = stage / settings.output.mimir_dir
    namespaces = sorted((target / c.MIMIR_RULES_DIR).glob("*.yaml"))
    if not namespaces:
        yield CheckResult("mimir rule namespaces", "failed", f"no {c.MIMIR_RULES_DIR}/*.yaml in {target}")
        return
    files = [str(p.relative_to(stage)) for p in namespaces]
    pin = settings.tool_pin("cortextool")
    yield run_pinned("cortextool rules lint --dry-run", pin, ["rules", "lint", "--dry-run", *files], stage)
    yield run_pinned("cortextool rules check", pin, ["rules", "check", *files], stage)
    problems = [line for path in namespaces for line in mimir_only_keys(_load(path), path.name)]
    status = "failed" if problems else "ok"
    yield CheckResult("mimir namespaces: no group key Cortex drops", status, "; ".join(problems))
    yield from _replay(stage, settings, namespaces)
    config = posixpath.join(settings.output.mimir_dir, c.MIMIR_ALERTMANAGER_CONFIG)
    yield amtool("amtool check-config (mimir tenant)", settings, config, stage)


def _replay(stage: Path, settings: StackSettings, namespaces: list[Path]) -> Iterator[CheckResult]:
    """The namespaces' groups against the rule files, then promtool on the groups as read from Mimir's files."""
    alerts = stage / settings.output.alerts_dir
    replay = stage / REPLAY_DIR
    shutil.rmtree(replay, ignore_errors=True)
    (replay / "tests").mkdir(parents=True)
    differences: list[str] = []
    for path in namespaces:
        document = _load(path)
        namespace = str(document.get("namespace", ""))
        name = c.PLATFORM_RULES_FILE if namespace == c.MIMIR_PLATFORM_NAMESPACE else c.rules_file(namespace)
        groups = {"groups": document.get("groups")}
        original = alerts / name
        if not original.is_file():
            differences.append(f"{path.name}: namespace {namespace!r} has no rule file {name}")
        elif _load(original) != groups:
            differences.append(f"{path.name}: its groups differ from {settings.output.alerts_dir}/{name}")
        (replay / name).write_text(yaml.safe_dump(groups, sort_keys=False), encoding="utf-8")
    for test in sorted((alerts / "tests").glob("*.yml")):  # their rule_files (../x.rules.yml) now name the replay
        shutil.copyfile(test, replay / "tests" / test.name)
    yield CheckResult("mimir namespaces = rule files", "failed" if differences else "ok", "; ".join(differences))
    rule_files = sorted(str(p.relative_to(stage)) for p in replay.glob("*.rules.yml"))
    yield promtool("promtool check rules (mimir namespaces)", settings, ["check", "rules", *rule_files], stage)
    tests = sorted((replay / "tests").glob("*.yml"))
    yield run_rule_tests("promtool test rules (mimir namespaces)", settings, tests, stage)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}
