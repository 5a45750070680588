"""promtool at the pinned version, and its rule tests run once per distinct set of rules and tests.

The PrometheusRules and the Mimir namespaces are read back into rule files and put through the same promtool
tests as alerts/. When the groups read back equal the tested ones (which their own comparison checks), the
run would prove nothing new: each run is keyed by a content hash of the tests and the groups their
`rule_files` load, and a second run with the same key reuses the first one's result, saying so. A run's test
groups are shared out between one promtool process per core.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import yaml

from stack.settings import StackSettings
from stack.tools import CheckResult, run_pinned

RUNS_DIR = ".promtool-test-runs"  # in the stage: per run, its result (<key>.json) and its shards


def promtool(name: str, settings: StackSettings, args: Sequence[str], stage: Path) -> CheckResult:
    return run_pinned(name, settings.tool_pin("promtool"), args, stage)


def amtool(name: str, settings: StackSettings, config: str, stage: Path) -> CheckResult:
    return run_pinned(name, settings.tool_pin("amtool"), ["check-config", config], stage)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def _loaded_rules(test: Path, content: Any) -> list[Any]:
    """The documents of the rule files a promtool test loads (globs resolved from the test's directory)."""
    names = (content.get("rule_files") or []) if isinstance(content, dict) else []
    found: list[Any] = []
    for name in names:
        pattern = os.path.join(test.parent, str(name))  # absolute or relative to the test, as promtool reads it
        found += [_load(Path(path)) for path in sorted(glob.glob(pattern)) or [pattern]]
    return found


def tests_key(tests: Sequence[Path]) -> str:
    """A hash of what promtool would run: each test without its `rule_files`, and the groups they load."""
    runs = []
    for test in tests:
        content = _load(test)
        rest = {k: v for k, v in content.items() if k != "rule_files"} if isinstance(content, dict) else content
        runs.append({"test": rest, "rules": _loaded_rules(test, content)})
    return hashlib.sha256(json.dumps(runs, sort_keys=True, default=str).encode()).hexdigest()


def run_rule_tests(name: str, settings: StackSettings, tests: Sequence[Path], stage: Path) -> CheckResult:
    """`promtool test rules` on `tests`, or the result of an earlier run in this stage with the same key."""
    if not tests:
        return CheckResult(name, "failed", "no promtool test files")
    key = tests_key(tests)
    record = stage / RUNS_DIR / f"{key}.json"
    if record.is_file():
        first = CheckResult(**json.loads(record.read_text(encoding="utf-8")))
        same = f"same groups and tests as {first.name}, ran once"
        return replace(first, name=name, detail=same if first.status == "ok" else f"{same}: {first.detail}")
    shards = split(tests, stage / RUNS_DIR / key[:12], len(os.sched_getaffinity(0)))
    with ThreadPoolExecutor(len(shards)) as pool:
        args = (["test", "rules", *(str(t.relative_to(stage)) for t in shard)] for shard in shards)
        results = list(pool.map(lambda arg: promtool(name, settings, arg, stage), args))
    result = _combined(name, results)
    if result.status != "skipped":
        record.parent.mkdir(exist_ok=True)
        record.write_text(json.dumps(asdict(result)), encoding="utf-8")
    return result


def split(tests: Sequence[Path], directory: Path, count: int) -> list[list[Path]]:
    """The test groups of every file dealt round-robin into `count` shards (one promtool process each, so the
    machine's cores share the run): shard i has, of each file, a copy holding its groups i, i + count, ...,
    with `rule_files` made absolute. A file that is not a test file goes to the first shard as it is."""
    shards: list[list[Path]] = [[] for _ in range(count)]
    for index, test in enumerate(tests):
        content = _load(test)
        groups = content.get("tests") if isinstance(content, dict) else None
        if not isinstance(groups, list) or not groups:
            shards[0].append(test)
            continue
        rules = [os.path.join(test.parent.resolve(), str(r)) for r in content.get("rule_files") or []]
        for part in range(min(count, len(groups))):
            path = directory / f"shard{part}" / f"{index}.{test.name}"
            path.parent.mkdir(parents=True, exist_ok=True)
            piece = {**content, "rule_files": rules, "tests": groups[part::count]}
            path.write_text(yaml.safe_dump(piece, sort_keys=False), encoding="utf-8")
            shards[part].append(path)
    return [shard for shard in shards if shard]


def _combined(name: str, results: list[CheckResult]) -> CheckResult:
    """One result for the shards: failed if one failed (with every failure), else skipped if they were."""
    failed = [r.detail for r in results if r.failed]
    if failed:
        return CheckResult(name, "failed", "\n".join(failed))
    return next((r for r in results if r.status == "skipped"), CheckResult(name, "ok"))
