"""The rule groups inside the PrometheusRules, extracted back into rule files and put through promtool: the
same generated (and oracle) promtool tests that test alerts/, with their `rule_files` pointed at the extracted
files, and a group-by-group comparison with the tested rule files. Together they prove the PrometheusRules
carry exactly the tested rules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stack.settings import StackSettings
from stack.tools import CheckResult
from stack.validate.promtool import promtool, run_rule_tests

STAGING = "kubernetes-promtool"
Group = Mapping[str, Any]


@dataclass(frozen=True)
class Extracted:
    files: dict[str, Path]  # "namespace/name" of each PrometheusRule -> its rule file
    groups: dict[str, tuple[str, Group]]  # group name -> (the PrometheusRule carrying it, the group)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def extract(objects: Iterable[Mapping[str, Any]], directory: Path) -> Extracted:
    """One rule file per PrometheusRule (`{"groups": spec.groups}`) written under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    groups: dict[str, tuple[str, Group]] = {}
    for document in objects:
        if document.get("kind") != "PrometheusRule":
            continue
        meta = document.get("metadata") or {}
        owner = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        spec_groups = (document.get("spec") or {}).get("groups") or []
        path = directory / f"{owner.replace('/', '.').strip('.')}.rules.yml"
        path.write_text(yaml.safe_dump({"groups": spec_groups}, sort_keys=False), encoding="utf-8")
        files[owner] = path
        groups |= {group.get("name", ""): (owner, group) for group in spec_groups}
    return Extracted(files, groups)


def _tested_groups(test: Path) -> dict[str, Group]:
    """The groups of the rule files a promtool test loads, by name."""
    found: dict[str, Group] = {}
    for rule_file in (_load(test) or {}).get("rule_files") or []:
        source = (test.parent / rule_file).resolve()
        if source.is_file():
            found |= {group["name"]: group for group in (_load(source) or {}).get("groups") or []}
    return found


def _retarget(test: Path, extracted: Extracted, directory: Path) -> tuple[Path | None, list[str]]:
    """The test rewritten to load the extracted files (None if no PrometheusRule carries its groups)."""
    tested = _tested_groups(test)
    carried = {name: extracted.groups[name] for name in tested if name in extracted.groups}
    if not carried:
        return None, []
    problems = [f"{test.name}: group {name} is in no PrometheusRule" for name in tested if name not in carried]
    for name, (owner, group) in carried.items():
        if dict(group) != dict(tested[name]):
            problems.append(f"PrometheusRule {owner}: group {name} differs from the one {test.name} tests")
    content = _load(test)
    content["rule_files"] = sorted({str(extracted.files[owner]) for owner, _ in carried.values()})
    target = directory / "tests" / f"{test.parent.name}.{test.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return target, problems


def check_rules(
    stage: Path, settings: StackSettings, objects: Iterable[Mapping[str, Any]], tests: Iterable[Path]
) -> Iterator[CheckResult]:
    """promtool on the PrometheusRules' groups, with the promtool tests of the rule files they came from."""
    directory = stage / STAGING
    extracted = extract(objects, directory)
    if not extracted.files:
        yield CheckResult("PrometheusRules", "failed", "no PrometheusRule in the Kubernetes output")
        return
    files = [str(path) for path in extracted.files.values()]
    yield promtool("promtool check rules (PrometheusRules)", settings, ["check", "rules", *files], stage)
    retargeted: list[Path] = []
    problems: list[str] = []
    covered: set[str] = set()
    for test in tests:
        target, found = _retarget(test, extracted, directory)
        problems += found
        if target is not None:
            retargeted.append(target)
            covered |= set(_tested_groups(test))
    problems += [f"PrometheusRule {owner}: group {name} is tested by no promtool test"
                 for name, (owner, _) in sorted(extracted.groups.items()) if name not in covered]  # fmt: skip
    carried = "PrometheusRules carry the tested groups"
    yield CheckResult(carried, "failed", "; ".join(problems)) if problems else CheckResult(carried, "ok")
    name = "promtool test rules (PrometheusRules)"
    if not retargeted:
        yield CheckResult(name, "failed", "no promtool test loads their groups")
    else:
        yield run_rule_tests(name, settings, retargeted, stage)
