"""render: what several outputs embed is built once per plan, and embedded as the same bytes."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stack import conventions as c
from stack.builders import dashboards as dashboard_builder
from stack.builders.kubernetes import prometheus_rules
from stack.builders.mimir import build_rule_namespaces
from stack.config import load_settings
from stack.models.jsontext import to_json
from stack.models.rules import RuleFile
from stack.render import Shared, render_all, to_yaml

WITH_KUBERNETES = (
    "project: demo\nkubernetes: {enabled: true}\nservices:\n  - name: orders\n  - {name: billing, port: 8001}\n"
)


def test_dashboards_built_once_and_embedded_as_the_same_bytes(make_project, monkeypatch) -> None:
    """With the Kubernetes target on, the dashboards are built once; each ConfigMap holds dashboards/<name>.json."""
    settings = load_settings(make_project(WITH_KUBERNETES))
    calls = []
    real = dashboard_builder.iter_dashboards
    monkeypatch.setattr("stack.render.iter_dashboards", lambda s: calls.append(s) or real(s))
    texts = {a.path: a.text for a in render_all(settings)}
    assert len(calls) == 1
    for name in ("orders-golden-signals", "billing-golden-signals", c.OVERVIEW_DASHBOARD):
        config_map = texts[f"kubernetes/base/dashboard-{name}.yaml"]
        embedded = config_map.split(f"{c.dashboard_file(name)}: |\n", 1)[1]
        dedented = "".join(line[4:] + "\n" for line in embedded.splitlines() if line.startswith("    "))
        assert dedented == texts[f"dashboards/{c.dashboard_file(name)}"]


def test_rule_groups_written_once_and_placed_where_embedded(make_project) -> None:
    """A rule file, its PrometheusRule and its Mimir namespace, with the groups written once and placed, are the
    bytes of each document's own dump; groups that are not the rule files' objects are dumped as they are."""
    settings = load_settings(make_project(WITH_KUBERNETES + "mimir: {enabled: true}\n"))
    shared = Shared(settings)
    rule_file = shared.rule_files[c.rules_file("orders")]
    rule = prometheus_rules(settings, shared.rule_files)["orders"]
    namespace = build_rule_namespaces(settings, shared.rule_files)[0]
    for model in (rule_file, rule, namespace):
        assert model.GROUPS_AT
        assert to_yaml(shared.document(model)) == to_yaml(model.to_data())
    assert shared.written_groups(rule_file.groups) is not None
    copied = RuleFile(groups=tuple(group.model_copy() for group in rule_file.groups))
    assert shared.written_groups(copied.groups) is None
    assert shared.document(copied) == copied.to_data()


finite = st.floats(allow_nan=False, allow_infinity=False)
json_trees = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), finite, st.text(max_size=6),
              st.sampled_from([1e-9, 1e-05, -3e-07, 0.00001, 1e16, 1.5e300, 5e-324, 0.0001, "1e-9", ": 1e-9"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(json_trees)
def test_json_text_is_pythons(data: Any) -> None:
    """to_json writes the bytes of json.dumps(indent=2, sort_keys=True, ensure_ascii=False), floats included."""
    assert to_json(data) == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert all(math.isfinite(x) for x in _floats(json.loads(to_json(data))))


def _floats(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [x for item in value.values() for x in _floats(item)]
    if isinstance(value, list):
        return [x for item in value for x in _floats(item)]
    return [value] if isinstance(value, float) else []
