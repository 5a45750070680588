"""`obsstack validate` checks of the dashboards on disk: dashcheck (a strict decode with the Grafana
Foundation SDK's Go types), the pure linter (what the schema cannot see, against the provisioned datasources),
and promtool parsing every PromQL expression (each one a recording rule in a throw-away file for
`promtool check rules`)."""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from stack import conventions as c
from stack.dashlint import expression_rules, lint, promql_queries
from stack.settings import StackSettings
from stack.tools import TOOL_TIMEOUT, CheckResult, cached_binary, missing
from stack.validate.grammars import linked_promql
from stack.validate.promtool import promtool

SDK_MODULE = "github.com/grafana/grafana-foundation-sdk/go"
SDK_VERSION = "0.0.22"  # the pin: cache dir dashcheck-<this>; stack/checkers/dashboards/go.mod requires v<this>
DASHCHECK = "dashcheck"
SCHEMA_CHECK = f"dashboard schema (grafana-foundation-sdk {SDK_VERSION})"
SHOWN = 20  # findings printed per check


def load_dashboards(stage: Path, settings: StackSettings) -> dict[str, dict[str, Any]]:
    """The dashboards written under the output's dashboards directory."""
    folder = stage / settings.output.dashboards_dir
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def provisioned_datasources(stage: Path, settings: StackSettings) -> set[str] | None:
    """The UIDs in the generated Grafana datasource provisioning file, or None when there is no such file."""
    path = stage / posixpath.join(settings.output.compose_dir, c.GRAFANA_DATASOURCES)
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(d["uid"]) for d in data.get("datasources", []) if isinstance(d, dict) and d.get("uid")}


def check_schema(files: list[Path], cwd: Path) -> CheckResult:
    """dashcheck on every dashboard file: each finding is a JSON line {file, path, error}."""
    binary = cached_binary(DASHCHECK, SDK_VERSION, DASHCHECK)
    if binary is None:
        return missing(SCHEMA_CHECK, DASHCHECK)
    names = [str(f.relative_to(cwd)) for f in files]
    try:
        done = subprocess.run([str(binary), *names], cwd=cwd, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return CheckResult(SCHEMA_CHECK, "failed", f"timed out after {TOOL_TIMEOUT}s")
    findings = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    if done.returncode == 0 and not findings:
        return CheckResult(SCHEMA_CHECK, "ok")
    if not findings:
        return CheckResult(SCHEMA_CHECK, "failed", f"dashcheck exited {done.returncode}: {done.stderr.strip()}")
    shown = "; ".join(f"{f['file']}: {f['path']}: {f['error']}" for f in findings[:SHOWN])
    more = f" (and {len(findings) - SHOWN} more)" if len(findings) > SHOWN else ""
    return CheckResult(SCHEMA_CHECK, "failed", f"{len(findings)} findings: {shown}{more}")


def check_expressions(queries: list[tuple[str, str]], workdir: Path, settings: StackSettings) -> CheckResult:
    """The pinned `promtool check rules` on a throw-away rule file holding every expression."""
    path = workdir / "dashboard-queries.rules.yml"
    path.write_text(json.dumps(expression_rules(queries), indent=1), encoding="utf-8")
    result = promtool("promtool check dashboard queries", settings, ["check", "rules", path.name], workdir)
    broken = sorted({int(i) for i in re.findall(r"dashboard_query_(\d+)", result.detail)})
    if not broken:
        return result
    named = "; ".join(f"dashboard_query_{i} is {queries[i][0]}: {queries[i][1]}" for i in broken)
    return replace(result, detail=f"{result.detail}\n{named}")


def check_lint(stage: Path, settings: StackSettings, boards: dict[str, dict[str, Any]]) -> CheckResult:
    datasources = provisioned_datasources(stage, settings)
    if datasources is None:
        where = posixpath.join(settings.output.compose_dir, c.GRAFANA_DATASOURCES)
        return CheckResult(
            "dashboard lint", "failed", f"no datasource provisioning file {where}; run `obsstack generate`"
        )
    findings = lint(boards, settings.timing.scrape_interval, datasources)
    return CheckResult("dashboard lint", "failed" if findings else "ok", "; ".join(map(str, findings[:SHOWN])))


def check_dashboards(stage: Path, settings: StackSettings) -> list[CheckResult]:
    boards = load_dashboards(stage, settings)
    if not boards:
        where = settings.output.dashboards_dir
        return [CheckResult("dashboard lint", "failed", f"no dashboards in {where}/; run `obsstack generate`")]
    files = sorted((stage / settings.output.dashboards_dir).glob("*.json"))
    queries = [pair for board in boards.values() for pair in promql_queries(board)]
    queries += linked_promql(stage, settings)  # Grafana's trace-to-metrics PromQL, filled in
    expressions = check_expressions(queries, stage, settings)
    return [check_schema(files, stage), check_lint(stage, settings, boards), expressions]
