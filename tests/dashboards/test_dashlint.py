"""The dashboard linter flags each bad case, and promtool rejects a dashboard query that does not parse."""

from __future__ import annotations

import copy

import pytest

from stack import conventions as c
from stack.dashlint import concrete, fill_template, lint
from stack.durations import Duration
from stack.settings import StackSettings
from stack.validate.dashboards import check_expressions

SCRAPE = Duration.parse("15s")
PROM = {"type": "prometheus", "uid": "${datasource}"}


def panel(pid: int, x: int = 0, y: int = 0, expr: str = "up", unit: str = "short", w: int = 12) -> dict:
    return {
        "id": pid,
        "type": "timeseries",
        "title": f"panel {pid}",
        "datasource": PROM,
        "gridPos": {"h": 8, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}},
        "targets": [{"datasource": PROM, "expr": expr, "refId": "A"}],
    }


def board(*panels: dict, name: str = "test") -> dict:
    return {
        "uid": c.stable_uid(name),
        "title": name,
        "panels": list(panels),
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
    }


def whats(findings) -> list[str]:
    return [f.what for f in findings]


def test_good_dashboard_has_no_findings():
    """Two side-by-side panels with units, variable datasources and $__rate_interval pass."""
    good = board(panel(1), panel(2, x=12, expr="rate(x_total[$__rate_interval])"))
    assert lint({"test": good}, SCRAPE) == []


def test_overlapping_grid_positions():
    """Two panels sharing grid cells are reported."""
    findings = lint({"test": board(panel(1), panel(2, x=6))}, SCRAPE)
    assert any("overlaps" in w for w in whats(findings))


def test_grid_outside_24_columns():
    """A panel reaching past column 24 is reported."""
    findings = lint({"test": board(panel(1, x=20, w=12))}, SCRAPE)
    assert any("outside the grid" in w for w in whats(findings))


def test_missing_unit():
    """A timeseries without a unit is reported."""
    findings = lint({"test": board(panel(1, unit=""))}, SCRAPE)
    assert whats(findings) == ["no unit"]


def test_missing_query():
    """A panel with no target expression is reported."""
    empty = panel(1)
    empty["targets"] = []
    assert whats(lint({"test": board(empty)}, SCRAPE)) == ["no query"]


def test_duplicate_panel_id():
    """Two panels with the same id are reported."""
    findings = lint({"test": board(panel(3), panel(3, y=8))}, SCRAPE)
    assert whats(findings) == ["duplicate panel id 3"]


def test_short_hard_coded_rate_window():
    """[45s] with a 15s scrape interval is shorter than four scrape intervals: reported; [2m] is not."""
    findings = lint({"test": board(panel(1, expr="rate(x_total[45s])"))}, SCRAPE)
    assert len(findings) == 1
    assert "[45s]" in findings[0].what
    assert "1m" in findings[0].expected
    assert lint({"test": board(panel(1, expr="rate(x_total[2m])"))}, SCRAPE) == []


def test_hard_coded_datasource_name():
    """A datasource given by name (a string), or by an unknown UID, is reported."""
    named = panel(1)
    named["datasource"] = "Prometheus"
    unknown = copy.deepcopy(panel(2, x=12))
    unknown["targets"][0]["datasource"] = {"type": "prometheus", "uid": "abc123"}
    findings = lint({"test": board(named, unknown)}, SCRAPE)
    assert len(findings) == 2
    assert all("datasource" in f.what for f in findings)


def test_overlapping_panels_are_named():
    """An overlap names both panels."""
    findings = lint({"test": board(panel(1), panel(2, x=6, y=4))}, SCRAPE)
    assert [str(f) for f in findings] == [
        "test panel #2 'panel 2': overlaps panel #1 'panel 1', expected no overlapping panels"
    ]


def test_fixed_datasource_uid_is_accepted():
    """A provisioned datasource's fixed UID is as good as the variable."""
    fixed = panel(1)
    fixed["datasource"] = fixed["targets"][0]["datasource"] = {"type": "loki", "uid": c.DATASOURCE_UIDS["loki"]}
    assert lint({"test": board(fixed)}, SCRAPE) == []


def test_unknown_panel_type():
    """A panel type Grafana does not ship (the removed angular graph panel) is reported."""
    old = panel(1)
    old["type"] = "graph"
    assert whats(lint({"test": board(old)}, SCRAPE)) == ["panel type 'graph'"]


def test_datasource_uid_nothing_provisions():
    """A fixed UID that the provisioning file does not define is reported, even if obsstack's conventions know
    it; the provisioned UIDs are what counts."""
    loki = panel(1)
    loki["datasource"] = loki["targets"][0]["datasource"] = {"type": "loki", "uid": c.DATASOURCE_UIDS["loki"]}
    findings = lint({"test": board(loki)}, SCRAPE, datasources={c.DATASOURCE_UIDS["prometheus"]})
    assert len(findings) == 2
    assert all("'obs-loki' is neither a datasource variable nor a provisioned datasource" in w for w in whats(findings))


def test_datasource_variable_current_value_must_be_provisioned():
    """A datasource variable whose current value nothing provisions is reported."""
    bad = board(panel(1))
    bad["templating"]["list"][0]["current"] = {"text": "gone", "value": "gone"}
    assert whats(lint({"test": bad}, SCRAPE)) == ["current value 'gone'"]


def test_undefined_variable_in_query_and_title():
    """$instance in a query and ${region} in a title, with neither defined, are reported; globals are not."""
    used = panel(1, expr='rate(x{instance=~"$instance"}[$__rate_interval])')
    used["title"] = "Requests in ${region}"
    assert sorted(whats(lint({"test": board(used)}, SCRAPE))) == [
        "variable $instance is not defined",
        "variable $region is not defined",
    ]


def test_defined_variable_is_accepted():
    """A variable of the dashboard may be used in queries, with any of Grafana's three syntaxes."""
    good = board(panel(1, expr='x{a="$service", b="${service:regex}", c="[[service]]"}'))
    good["templating"]["list"].append({"name": "service", "type": "query", "datasource": PROM, "query": "q"})
    assert lint({"test": good}, SCRAPE) == []


def test_dashboard_link_must_resolve():
    """A link to a dashboard uid outside the set is reported; one inside the set and an absolute URL are not."""
    linking = board(panel(1))
    other = board(panel(1), name="other")
    linking["links"] = [
        {"type": "link", "title": "gone", "url": "/d/no-such-uid/gone"},
        {"type": "link", "title": "other", "url": f"/d/{other['uid']}/other"},
        {"type": "link", "title": "docs", "url": "https://grafana.com/docs/"},
    ]
    findings = lint({"test": linking, "other": other}, SCRAPE)
    assert whats(findings) == ["link '/d/no-such-uid/gone' names dashboard uid 'no-such-uid'"]


def test_unstable_uid():
    """A UID that is not derived from the dashboard name is reported."""
    bad = board(panel(1))
    bad["uid"] = "random-uid"
    findings = lint({"test": bad}, SCRAPE)
    assert len(findings) == 1
    assert "uid" in findings[0].what


def test_finding_reads_what_where_expected():
    """A finding prints dashboard, panel, the problem and what was expected."""
    finding = lint({"test": board(panel(1, unit=""))}, SCRAPE)[0]
    assert str(finding) == "test panel #1 'panel 1': no unit, expected fieldConfig.defaults.unit"


def test_macros_and_variables_become_concrete():
    """Grafana macros become a duration and template variables a plain string before promtool sees them."""
    expr = 'rate(x{service="$service",instance=~"${instance}"}[$__rate_interval])'
    assert concrete(expr) == 'rate(x{service="placeholder",instance=~"placeholder"}[5m])'


@pytest.mark.tools
def test_promtool_rejects_a_broken_expression(promtool, tmp_path):
    """promtool check rules on the throw-away rule file fails for a query that does not parse."""
    good = [("d / p", 'sum by (le) (rate(x_bucket{service="$service"}[$__rate_interval]))')]
    assert check_expressions(good, tmp_path, StackSettings(services=[{"name": "api"}])).status == "ok"
    broken = [*good, ("d / broken", "sum by (le (rate(x[5m]))")]
    result = check_expressions(broken, tmp_path, StackSettings(services=[{"name": "api"}]))
    assert result.status == "failed", result.detail
    assert "dashboard_query_1" in result.detail or "parse error" in result.detail


def test_a_bare_variable_leaves_the_selectors_closing_brace():
    """`$name` without braces ends at the name: the `}` after it is the selector's, as Grafana reads it, while
    `${name}` and `$__auto` (Loki's step) are replaced whole."""
    assert fill_template('{a="b",$x}', "5m", {"x": 'c="d"'}, "p") == '{a="b",c="d"}'
    assert fill_template('{a="${x}"}[$__auto]', "5m", {"x": "v"}, "p") == '{a="v"}[5m]'
