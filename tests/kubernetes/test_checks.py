"""validate's Kubernetes checks on the real generated output, and on that output broken one way at a time:
kubectl kustomize, the pinned CRD and Kubernetes schemas, the API server's own rules, and promtool on the
PrometheusRules' groups with the generated promtool tests."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import stack.validate.k8s_modules as m
import stack.validate.kubernetes as k8s
from stack.config import load_settings
from stack.render import render_all
from stack.settings import StackSettings
from stack.tools import CheckResult, find_tool
from stack.validate import staged_project
from stack.validate.k8s_rules import check_rules
from stack.validate.k8s_schemas import Schemas, go_regex, load_documents
from stack.validate.promtool import run_rule_tests
from stack.write import write_plan
from tests.support import require_pinned

pytestmark = pytest.mark.tools

REPO = Path(__file__).resolve().parents[2]
Document = dict[str, Any]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, StackSettings]:
    """The repository's stack.yaml generated with the Kubernetes target on, in a fresh directory."""
    root = tmp_path_factory.mktemp("k8s-project")
    shutil.copy(REPO / "stack.yaml", root / "stack.yaml")
    settings = load_settings(root / "stack.yaml", {"kubernetes": {"enabled": True}})
    write_plan(root, render_all(settings))
    return root, settings


@pytest.fixture
def stage(project: tuple[Path, StackSettings]) -> Iterator[Path]:
    with staged_project(*project) as staged:
        yield staged


@pytest.fixture(scope="module")
def tools(project: tuple[Path, StackSettings]) -> None:
    """kubectl and promtool at their pinned versions, and go; under CI a missing one fails."""
    if find_tool("go") is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("go is not installed")
    require_pinned(project[1], "kubectl", "promtool")


@pytest.fixture(scope="module")
def schemas(project: tuple[Path, StackSettings], tools: None) -> Schemas:
    return k8s.load_schemas(project[1].kubernetes)


def edit(path: Path, change: Callable[[Document], None]) -> None:
    """Rewrite the one object of a generated file after `change` mutated it."""
    (document,) = load_documents(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def by_name(results: list[CheckResult], start: str) -> CheckResult:
    (found,) = [r for r in results if r.name.startswith(start)]
    return found


def base_of(stage: Path, settings: StackSettings) -> Path:
    return stage / settings.output.kubernetes_dir / k8s.BASE


def schema_result(stage: Path, settings: StackSettings, schemas: Schemas, start: str) -> CheckResult:
    """The schema check (custom or core) of the staged base's files."""
    return by_name(k8s.schema_checks(k8s.base_objects(base_of(stage, settings)), schemas, settings.kubernetes), start)


def test_generated_output_passes_every_check(stage: Path, project: tuple[Path, StackSettings], tools: None) -> None:
    """The generated Kubernetes target passes kustomize, the CRD and core schemas and the promtool tests."""
    results = list(k8s.check_kubernetes(stage, project[1]))
    assert [r.name for r in results if r.status != "ok"] == [], "\n".join(r.line() for r in results)
    names = {r.name.split(" ")[0] for r in results}
    assert {"kubectl", "promtool", "PrometheusRules", "custom", "core"} <= names


def test_disabled_target_has_no_checks(stage: Path, project: tuple[Path, StackSettings]) -> None:
    """With kubernetes.enabled off, check_kubernetes returns no results at all."""
    off = project[1].model_copy(update={"kubernetes": project[1].kubernetes.model_copy(update={"enabled": False})})
    assert list(k8s.check_kubernetes(stage, off)) == []


def test_unknown_field_fails_its_crd_check(stage: Path, project: tuple[Path, StackSettings], schemas: Schemas) -> None:
    """A field the ServiceMonitor CRD does not declare is reported with its path and the declared fields."""
    settings = project[1]
    monitor = base_of(stage, settings) / "servicemonitor-orders.yaml"
    edit(monitor, lambda d: d["spec"]["endpoints"][0].update(scrapeIntervall="30s"))
    result = schema_result(stage, settings, schemas, "custom")
    assert result.failed
    expected = "ServiceMonitor monitoring/obsstack-orders: spec.endpoints[0].scrapeIntervall: unknown field"
    assert expected in result.detail
    assert "scrapeTimeout" in result.detail  # what the schema declares there


def test_wrong_type_fails_its_crd_check(stage: Path, project: tuple[Path, StackSettings], schemas: Schemas) -> None:
    """A rule's `for` given as a number fails the PrometheusRule CRD check, naming the field and the type."""
    settings = project[1]
    rule = base_of(stage, settings) / "prometheusrule-platform.yaml"
    edit(rule, lambda d: d["spec"]["groups"][0]["rules"][0].update({"for": 120}))
    result = schema_result(stage, settings, schemas, "custom")
    assert result.failed
    expected = "spec.groups[0].rules[0].for: 120 is not of type 'string'"
    assert f"PrometheusRule monitoring/obsstack-platform-rules: {expected}" in result.detail


def test_crd_patterns_and_list_maps_are_enforced(schemas: Schemas) -> None:
    """Go's `(?i)` patterns, int-or-string fields and list-type maps behave as the API server's do."""
    rule: Document = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "r"}}
    rule["spec"] = {"groups": [{"name": "g", "partial_response_strategy": "WARN", "rules": [{"expr": 1}]}]}
    assert schemas.errors(rule) == []
    rule["spec"]["groups"] += [{"name": "g", "partial_response_strategy": "maybe", "rules": [{"expr": [1]}]}]
    errors = schemas.errors(rule)
    assert any(e.startswith("spec.groups: duplicate entry with name") for e in errors), errors
    assert any(e.startswith("spec.groups[1].partial_response_strategy: 'maybe' does not match") for e in errors)
    assert any(e.startswith("spec.groups[1].rules[0].expr: [1] is not of type 'integer', 'string'") for e in errors)


def test_core_kind_fails_the_kubernetes_schema(
    stage: Path, project: tuple[Path, StackSettings], schemas: Schemas
) -> None:
    """A ConfigMap with a number in data and a bad name fails the core check (schema and API server rules)."""
    settings = project[1]

    def damage(document: Document) -> None:
        document["data"]["count"] = 3
        document["metadata"]["name"] = "Obsstack_Datasources"

    edit(base_of(stage, settings) / "datasources.yaml", damage)
    result = schema_result(stage, settings, schemas, "core")
    assert result.failed
    assert "ConfigMap monitoring/Obsstack_Datasources: data.count: 3 is not of type 'string'" in result.detail
    assert "metadata.name: 'Obsstack_Datasources' is not an RFC 1123 subdomain" in result.detail


def test_bad_kustomization_fails_kubectl_kustomize(
    stage: Path, project: tuple[Path, StackSettings], tools: None
) -> None:
    """A kustomization listing a file that does not exist fails the real `kubectl kustomize`."""
    settings = project[1]
    edit(base_of(stage, settings) / "kustomization.yaml", lambda d: d["resources"].append("missing.yaml"))
    result, objects = k8s.kustomize(base_of(stage, settings), settings.tool_pin("kubectl"))
    assert result.failed
    assert objects is None
    assert "missing.yaml" in result.detail


def test_changed_group_fails_the_promtool_test(stage: Path, project: tuple[Path, StackSettings], tools: None) -> None:
    """A PrometheusRule whose group differs from the tested rule file fails the same promtool test."""
    settings = project[1]
    rule = base_of(stage, settings) / "prometheusrule-platform.yaml"
    edit(rule, lambda d: d["spec"]["groups"][0]["rules"][0].update({"for": "30m"}))  # TargetDown
    platform_test = stage / settings.output.alerts_dir / "tests" / "platform.test.yml"
    results = list(check_rules(stage, settings, k8s.base_objects(base_of(stage, settings)), [platform_test]))
    promtool = by_name(results, "promtool test rules")
    assert promtool.failed
    assert "TargetDown" in promtool.detail
    carried = by_name(results, "PrometheusRules carry")
    assert "group platform.alerts differs from the one platform.test.yml tests" in carried.detail


def test_equal_groups_reuse_the_rule_files_run_and_a_changed_one_runs_again(
    stage: Path, project: tuple[Path, StackSettings], tools: None
) -> None:
    """Once the rule files' tests ran in the stage, the PrometheusRules' equal groups reuse that run; a changed
    group is another key, so promtool runs again on it and fails."""
    settings = project[1]
    tests = sorted((stage / settings.output.alerts_dir / "tests").glob("*.yml"))
    assert run_rule_tests("promtool test rules (generated)", settings, tests, stage).status == "ok"
    base = base_of(stage, settings)
    same = by_name(list(check_rules(stage, settings, k8s.base_objects(base), tests)), "promtool test rules")
    assert (same.status, same.detail) == ("ok", "same groups and tests as promtool test rules (generated), ran once")
    edit(base / "prometheusrule-platform.yaml", lambda d: d["spec"]["groups"][0]["rules"][0].update({"for": "30m"}))
    changed = by_name(list(check_rules(stage, settings, k8s.base_objects(base), tests)), "promtool test rules")
    assert changed.failed
    assert "TargetDown" in changed.detail


def test_untested_group_fails(stage: Path, project: tuple[Path, StackSettings], tools: None) -> None:
    """A group that no promtool test loads makes the PrometheusRules check fail, naming the group."""
    settings = project[1]
    extra = {"name": "extra.alerts", "rules": [{"alert": "Extra", "expr": "vector(1)"}]}
    edit(base_of(stage, settings) / "prometheusrule-platform.yaml", lambda d: d["spec"]["groups"].append(extra))
    platform_test = stage / settings.output.alerts_dir / "tests" / "platform.test.yml"
    results = list(check_rules(stage, settings, k8s.base_objects(base_of(stage, settings)), [platform_test]))
    carried = by_name(results, "PrometheusRules carry")
    assert "PrometheusRule monitoring/obsstack-platform-rules: group extra.alerts is tested by no promtool test" in (
        carried.detail
    )


def test_missing_kubectl_fails_under_ci(
    stage: Path, project: tuple[Path, StackSettings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without kubectl (no pinned build, none on PATH) the kustomize check fails under CI, naming the build."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubectl on PATH either
    settings = project[1]
    result, objects = k8s.kustomize(base_of(stage, settings), settings.tool_pin("kubectl"))
    assert (result.status, objects) == ("failed", None)
    version = settings.kubernetes.kubectl_version
    assert result.detail == f"kubectl {version} not found; run `obsstack components build kubectl`"


def test_another_kubectl_version_on_path_is_refused(
    stage: Path, project: tuple[Path, StackSettings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A kubectl on PATH reporting another version than the pin fails the kustomize check, even outside CI."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path / "cache"))
    fake = tmp_path / "kubectl"
    fake.write_text("#!/bin/sh\necho 'Client Version: v1.32.4'\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = project[1]
    result, objects = k8s.kustomize(base_of(stage, settings), settings.tool_pin("kubectl"))
    assert (result.status, objects) == ("failed", None)
    pinned = settings.kubernetes.kubectl_version
    assert f"kubectl: {fake} reports version 1.32.4, stack.yaml pins {pinned}" in result.detail


def test_unknown_module_version_is_one_clear_line(tools: None) -> None:
    """A pinned version the Go proxy does not have fails with one line naming the module and version."""
    with pytest.raises(m.ModuleError) as caught:
        m.module_dir(m.Module(m.PROMETHEUS_OPERATOR, "0.0.0"))
    message = str(caught.value)
    assert message.startswith(f"go mod download {m.PROMETHEUS_OPERATOR}@v0.0.0: ")
    assert "\n" not in message


def test_pod_monitor_variant_passes_its_crd(tmp_path: Path, schemas: Schemas) -> None:
    """With kubernetes.monitor_kind PodMonitor, the generated PodMonitor passes its CRD's schema too."""
    shutil.copy(REPO / "stack.yaml", tmp_path / "stack.yaml")
    overrides = {"kubernetes": {"enabled": True, "monitor_kind": "PodMonitor"}}
    settings = load_settings(tmp_path / "stack.yaml", overrides)
    write_plan(tmp_path, render_all(settings))
    objects = k8s.base_objects(tmp_path / settings.output.kubernetes_dir / k8s.BASE)
    assert "PodMonitor" in {o["kind"] for o in objects}
    results = k8s.schema_checks(objects, schemas, settings.kubernetes)
    assert [r.status for r in results] == ["ok", "ok"], "\n".join(r.line() for r in results)


@pytest.mark.parametrize(
    ("go", "matches", "rejects"),
    [
        ("^(?i)(abort|warn)?$", "Warn", "maybe"),
        ("^((?i)sun|mon)day$", "SUNday", "SUNDAY"),  # the flag holds to the end of its group only
        ("^([()](?i)a)$", "(A", "(b"),
    ],
)
def test_go_patterns_read_as_go_reads_them(go: str, matches: str, rejects: str) -> None:
    """A Go pattern's scoped `(?i)` flag becomes Python's `(?i:...)` over the rest of its group."""
    pattern = re.compile(go_regex(go))
    assert pattern.search(matches)
    assert not pattern.search(rejects)
