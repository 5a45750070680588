"""LogQL and TraceQL parsed with Grafana's lezer grammars: panels, derived fields, trace to logs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stack.settings import StackSettings
from stack.validate.grammars import check_grammars, concrete, linked_promql
from tests.conftest import REPO
from tests.validate.conftest import edit_yaml

BOARD = Path("dashboards/orders-golden-signals.json")
DATASOURCES = Path("compose/grafana/provisioning/datasources/datasources.yml")


def set_target(root: Path, title: str, key: str, query: str) -> None:
    """Replace the query of the panel titled `title` (first target) in the golden-signals dashboard."""
    path = root / BOARD
    board = json.loads(path.read_text(encoding="utf-8"))
    panels = [p for top in board["panels"] for p in (top, *top.get("panels", []))]
    next(p for p in panels if p.get("title", "").startswith(title))["targets"][0][key] = query
    path.write_text(json.dumps(board), encoding="utf-8")


def failure(root: Path, settings: StackSettings) -> str:
    (result,) = check_grammars(root, settings)
    assert result.status == "failed", result.line()
    return result.detail


def test_data_link_macros_and_variables_get_plausible_values() -> None:
    """Trace/span macros, `${__tags}`, interval macros and variables are replaced before parsing."""
    query = '{${__tags}} | trace_id="${__trace.traceId}" | span="${__span.spanId}" [$__auto] $service'
    assert concrete(query, {"service": "orders"}, 'service_name="x"') == (
        '{service_name="x"} | trace_id="4bf92f3577b34da6a3ce929d0e0e4736" | span="00f067aa0ba902b7" [5m] orders'
    )
    assert concrete('rate({a="$x"}[$__rate_interval])', {}) == 'rate({a="placeholder"}[5m])'


@pytest.mark.tools
def test_generated_queries_parse(lezer: Path, repo_settings: StackSettings) -> None:
    """Every LogQL and TraceQL query this repository generates parses without an error node."""
    (result,) = check_grammars(REPO, repo_settings)
    assert result.status == "ok", result.line()
    assert re.match(r"parsed [1-9]\d* LogQL and [1-9]\d* TraceQL queries", result.detail), result.detail


@pytest.mark.tools
def test_a_logql_syntax_error_in_a_panel_fails(lezer: Path, generated: Path, repo_settings: StackSettings) -> None:
    """A broken LogQL panel query is named by dashboard, panel title, position and query."""
    set_target(generated, "Error logs", "expr", '{service_name="$service"} |= ')
    detail = failure(generated, repo_settings)
    assert "dashboard orders-golden-signals panel 'Error logs' target A: logql syntax error at line 1 column" in detail
    assert "'{service_name=\"orders\"} |= '" in detail


@pytest.mark.tools
def test_a_traceql_syntax_error_in_a_panel_fails(lezer: Path, generated: Path, repo_settings: StackSettings) -> None:
    """A TraceQL condition with no value is found, although lezer recovers from it."""
    set_target(generated, "Slow traces", "query", "{ resource.service.name = && duration > 200ms }")
    detail = failure(generated, repo_settings)
    assert "panel 'Slow traces (> 200ms)' target A: traceql syntax error at line 1 column 27" in detail


@pytest.mark.tools
def test_kubernetes_dashboards_are_parsed_too(lezer: Path, generated: Path, repo_settings: StackSettings) -> None:
    """The dashboards embedded in the Kubernetes ConfigMaps are checked like the dashboards directory."""
    path = generated / "kubernetes/base/dashboard-orders-golden-signals.yaml"

    def broken(configmap: Any) -> None:
        key = next(iter(configmap["data"]))
        configmap["data"][key] = configmap["data"][key].replace("detected_level=~", "detected_level=~=")

    edit_yaml(path, broken)
    detail = failure(generated, repo_settings)
    assert "dashboard kubernetes/base/dashboard-orders-golden-signals.yaml data.orders-golden-signals.json" in detail


@pytest.mark.tools
def test_a_broken_trace_to_logs_query_fails(lezer: Path, generated: Path, repo_settings: StackSettings) -> None:
    """Tempo's trace-to-logs custom query is LogQL once `${__tags}` and the trace id are filled in."""

    def broken(data: Any) -> None:
        tempo = next(d for d in data["datasources"] if d["type"] == "tempo")
        tempo["jsonData"]["tracesToLogsV2"]["query"] = '{$${__tags}} | trace_id=="$${__trace.traceId}"'

    edit_yaml(generated / DATASOURCES, broken)
    detail = failure(generated, repo_settings)
    assert f"{DATASOURCES}: Tempo tracesToLogsV2.query: logql syntax error" in detail
    assert 'trace_id=="4bf92f3577b34da6a3ce929d0e0e4736"' in detail


@pytest.mark.tools
def test_a_derived_field_linking_to_loki_is_logql(lezer: Path, generated: Path, repo_settings: StackSettings) -> None:
    """A derived field's internal link runs its url as a query on the linked data source: LogQL for Loki."""

    def to_loki(data: Any) -> None:
        loki = next(d for d in data["datasources"] if d["type"] == "loki")
        loki["jsonData"]["derivedFields"][0].update(datasourceUid="obs-loki", url='{job=~"$${__value.raw}"')

    edit_yaml(generated / DATASOURCES, to_loki)
    assert f"{DATASOURCES}: Loki derivedFields[0].url: logql syntax error" in failure(generated, repo_settings)


@pytest.mark.parametrize(("ci", "status"), [("", "skipped"), ("true", "failed")])
def test_a_missing_checker_names_the_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_settings: StackSettings, ci: str, status: str
) -> None:
    """Without the installed checker the check is skipped, and failed under CI=true, naming the fix."""
    monkeypatch.setenv("OBSSTACK_CACHE", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    (result,) = check_grammars(REPO, repo_settings)
    assert result.status == status
    assert "obsstack components build lezer" in result.detail or "install Node.js" in result.detail


def test_trace_to_metrics_promql_is_handed_over_filled_in(repo_settings: StackSettings) -> None:
    """Tempo's trace-to-metrics PromQL comes out with `$$` unescaped and `$__tags` as the mapped label,
    the selector's closing brace kept, for promtool to parse."""
    found = dict(linked_promql(REPO, repo_settings))
    where = f"{DATASOURCES}: Tempo tracesToMetrics.queries[0]"
    assert 'service="placeholder"}[5m]))' in found[where]
    assert "$" not in "".join(found.values())
