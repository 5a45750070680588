"""`obsstack validate` checks of the dashboards on disk: the pure linter, and promtool parsing every PromQL
expression (each one a recording rule in a throw-away file for `promtool check rules`)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from stack.dashlint import expression_rules, lint, promql_queries
from stack.settings import StackSettings
from stack.tools import CheckResult, run_tool


def load_dashboards(stage: Path, settings: StackSettings) -> dict[str, dict[str, Any]]:
    """The dashboards written under the output's dashboards directory."""
    folder = stage / settings.output.dashboards_dir
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))}


def check_expressions(queries: list[tuple[str, str]], workdir: Path) -> CheckResult:
    """`promtool check rules` on a throw-away rule file holding every expression."""
    path = workdir / "dashboard-queries.rules.yml"
    path.write_text(json.dumps(expression_rules(queries), indent=1), encoding="utf-8")
    result = run_tool("promtool check dashboard queries", ["promtool", "check", "rules", path.name], workdir)
    broken = sorted({int(i) for i in re.findall(r"dashboard_query_(\d+)", result.detail)})
    if not broken:
        return result
    named = "; ".join(f"dashboard_query_{i} is {queries[i][0]}: {queries[i][1]}" for i in broken)
    return replace(result, detail=f"{result.detail}\n{named}")


def check_dashboards(stage: Path, settings: StackSettings) -> list[CheckResult]:
    boards = load_dashboards(stage, settings)
    if not boards:
        where = settings.output.dashboards_dir
        return [CheckResult("dashboard lint", "failed", f"no dashboards in {where}/; run `obsstack generate`")]
    findings = lint(boards, settings.timing.scrape_interval)
    lint_result = CheckResult("dashboard lint", "failed" if findings else "ok", "; ".join(map(str, findings[:20])))
    queries = [pair for board in boards.values() for pair in promql_queries(board)]
    return [lint_result, check_expressions(queries, stage)]
