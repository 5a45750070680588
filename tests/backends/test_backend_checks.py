"""`obsstack validate`'s dashboard, provisioning and grammar checks pass on each choice of stores: the
dashboards decode strictly with the Grafana Foundation SDK and pass dashlint against the provisioned
datasources, the provisioning matches Grafana's documented format (and the VictoriaLogs plugin's Options)
with every link resolving, and the grammar check parses LogQL/TraceQL while saying plainly that LogsQL and
Jaeger searches are not parsed (no published grammar) but executed by the runtime's doctor."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack import conventions as c
from stack.settings import StackSettings
from stack.validate.dashboards import check_lint, check_schema, load_dashboards
from stack.validate.grammars import check_grammars
from stack.validate.provisioning import check_provisioning

pytestmark = pytest.mark.tools


def test_dashboards_pass_the_strict_sdk_decode_and_dashlint(
    project: Path, settings: StackSettings, dashcheck: str
) -> None:
    """No dashcheck finding and no dashlint finding: every datasource UID is one the stack provisions."""
    files = sorted((project / settings.output.dashboards_dir).glob("*.json"))
    boards = load_dashboards(project, settings)
    results = [check_schema(files, project), check_lint(project, settings, boards)]
    assert [r.line() for r in results if r.status != "ok"] == []


def test_provisioning_matches_the_documented_format(project: Path, settings: StackSettings) -> None:
    """Datasources (compose and the Kubernetes ConfigMap) and providers pass, links included."""
    results = check_provisioning(project, settings)
    assert [r.line() for r in results if r.status != "ok"] == []


@pytest.mark.parametrize("choice", [("jaeger", "victorialogs")], indirect=True)
def test_a_victorialogs_key_the_plugin_does_not_know_fails(project: Path, settings: StackSettings) -> None:
    """An unknown key in the VictoriaLogs datasource's jsonData is named with its path."""
    path = project / "compose" / c.GRAFANA_DATASOURCES
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = next(d for d in data["datasources"] if d["name"] == "VictoriaLogs")
    source["jsonData"]["lokiSearch"] = {"datasourceUid": "obs-jaeger"}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    details = [r.detail for r in check_provisioning(project, settings) if r.status != "ok"]
    assert any("(VictoriaLogs).jsonData.lokiSearch: Extra inputs are not permitted" in d for d in details), details


@pytest.mark.parametrize("choice", [("jaeger", "victorialogs")], indirect=True)
def test_a_jaeger_trace_to_logs_into_nothing_fails(project: Path, settings: StackSettings) -> None:
    """Jaeger's trace to logs naming a UID nothing provisions is a finding."""
    path = project / "compose" / c.GRAFANA_DATASOURCES
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = next(d for d in data["datasources"] if d["name"] == "Jaeger")
    source["jsonData"]["tracesToLogsV2"]["datasourceUid"] = "obs-nowhere"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    details = [r.detail for r in check_provisioning(project, settings) if r.status != "ok"]
    assert any("tracesToLogsV2.datasourceUid" in d and "obs-nowhere" in d for d in details), details


def test_grammar_check_parses_what_it_can_and_says_what_it_cannot(
    project: Path, settings: StackSettings, choice: tuple[str, str]
) -> None:
    """LogQL/TraceQL are parsed with Grafana's grammars; LogsQL and Jaeger searches are counted as not
    parsed, never reported as parsed."""
    [result] = check_grammars(project, settings)
    if result.status == "skipped":
        pytest.skip(result.detail)
    assert result.status == "ok", result.detail
    traces, logs = choice
    unparsed = "not parsed (no published grammar)"
    assert (unparsed in result.detail) == (traces == "jaeger" or logs == "victorialogs")
    if logs == "victorialogs":
        assert "0 LogQL" in result.detail
        assert "LogsQL queries" in result.detail
    if traces == "jaeger":
        assert "Jaeger searches, executed by the runtime's no-data doctor" in result.detail
