"""I/O: the Mimir target's files checked with the real tools (when the target is enabled).

- `mimirtool rules check` and `rules lint --dry-run` on every namespace file;
- the namespaces' groups are exactly those of the promtool-tested rule files: they are compared, then written
  back as Prometheus rule files beside a copy of the generated promtool tests, which `promtool check rules`
  and `promtool test rules` run on (so the alerts Mimir evaluates are the proven ones, not just alike);
- `amtool check-config` on the tenant's Alertmanager config;
- the ring's config accepted by the pinned `mimir` for every process's flags: `mimir -modules` reads the
  file (unknown keys are an error), parses the flags, validates the whole config and exits without starting.

mimir and mimirtool are the cached builds at the pinned version (`obsstack components build`), else PATH's.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

import yaml

from stack import conventions as c
from stack.settings import StackSettings
from stack.tools import CheckResult, built_or_path, missing, run_tool

REPLAY_DIR = ".mimir-promtool"  # in the stage: the groups read back from the namespaces, and the tests


def check_mimir(stage: Path, settings: StackSettings) -> list[CheckResult]:
    if not settings.mimir.enabled:
        return []
    target = stage / settings.output.mimir_dir
    namespaces = sorted((target / c.MIMIR_RULES_DIR).glob("*.yaml"))
    if not namespaces:
        return [CheckResult("mimir rule namespaces", "failed", f"no {c.MIMIR_RULES_DIR}/*.yaml in {target}")]
    files = [str(p.relative_to(stage)) for p in namespaces]
    return [
        *_mimirtool(stage, settings, files),
        *_replay(stage, settings, namespaces),
        run_tool(
            "amtool check-config (mimir tenant)",
            ["amtool", "check-config", posixpath.join(settings.output.mimir_dir, c.MIMIR_ALERTMANAGER_CONFIG)],
            stage,
        ),
        _mimir_config(stage, settings),
    ]


def tool(name: str, settings: StackSettings) -> str | None:
    """The cached build of mimir/mimirtool at the pinned version, else the one on PATH."""
    return built_or_path(name, settings.components.pinned("mimir"))


def _mimirtool(stage: Path, settings: StackSettings, files: list[str]) -> list[CheckResult]:
    found = tool("mimirtool", settings)
    if found is None:
        return [missing("mimirtool rules check", "mimirtool")]
    return [
        run_tool("mimirtool rules check", [found, "rules", "check", *files], stage),
        run_tool("mimirtool rules lint --dry-run", [found, "rules", "lint", "--dry-run", *files], stage),
    ]


def _replay(stage: Path, settings: StackSettings, namespaces: list[Path]) -> list[CheckResult]:
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
    rule_files = sorted(str(p.relative_to(stage)) for p in replay.glob("*.rules.yml"))
    tests = sorted(str(p.relative_to(stage)) for p in (replay / "tests").glob("*.yml"))
    same = CheckResult("mimir namespaces = rule files", "failed" if differences else "ok", "; ".join(differences))
    return [
        same,
        run_tool("promtool check rules (mimir namespaces)", ["promtool", "check", "rules", *rule_files], stage),
        run_tool("promtool test rules (mimir namespaces)", ["promtool", "test", "rules", *tests], stage),
    ]


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _mimir_config(stage: Path, settings: StackSettings) -> CheckResult:
    """`mimir -modules` with the config and each process's flags: parsed and validated, nothing started."""
    name = "mimir accepts the ring config"
    found = tool("mimir", settings)
    if found is None:
        return missing(name, "mimir")
    config = stage / settings.output.mimir_dir / c.MIMIR_CONFIG
    replicas = settings.mimir.replicas
    for index in range(replicas):
        flags = c.mimir_replica_flags(settings.components, replicas, index, str(stage / "data"))
        result = run_tool(name, [found, f"-config.file={config}", *flags, "-modules"], stage)
        if result.failed:
            return CheckResult(name, "failed", f"{c.mimir_instance(index)}: {result.detail}")
    return CheckResult(name, "ok", f"{replicas} processes")
