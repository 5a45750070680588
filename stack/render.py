"""PURE: model objects -> (path, text) artifacts, byte-for-byte deterministic.

Every YAML file starts with the generated header; keys keep model order; no timestamps or hosts.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.compose import render_compose
from stack.builders.grafana import render_grafana
from stack.builders.prometheus import build_prometheus
from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.models.rules import RuleFile
from stack.settings import StackSettings


@dataclass(frozen=True, order=True)
class Artifact:
    """One generated file: a path relative to the project root and its exact text."""

    path: str
    text: str


class _Dumper(yaml.SafeDumper):
    """No aliases, literal blocks for multi-line strings, no line folding."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def to_yaml(data: Any, header: str = c.GENERATED_HEADER) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True)
    return header + body


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_templates = Environment(
    loader=PackageLoader("stack", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
)


def render_template(template: str, **context: Any) -> str:
    return _templates.get_template(template).render(**context)


def render_alerts(settings: StackSettings) -> Iterable[Artifact]:
    alerts_dir = settings.output.alerts_dir
    rule_files = build_rule_files(settings)
    for name, rule_file in rule_files.items():
        yield Artifact(posixpath.join(alerts_dir, name), to_yaml(rule_file.to_data()))
    for name, test_file in build_rule_tests(settings).items():
        yield Artifact(posixpath.join(alerts_dir, "tests", name), to_yaml(test_file.to_data()))
    yield from _runbooks(settings, rule_files)


def _runbooks(settings: StackSettings, rule_files: dict[str, RuleFile]) -> Iterable[Artifact]:
    by_name: dict[str, list[Any]] = {}
    for rule_file in rule_files.values():
        for alert in rule_file.alerts():
            by_name.setdefault(alert.alert, []).append(alert)
    for name, alerts in sorted(by_name.items()):
        text = render_template("runbook.md.j2", name=name, alerts=alerts, header=c.GENERATED_HEADER)
        yield Artifact(posixpath.join(settings.output.alerts_dir, "runbooks", f"{name}.md"), text)


def render_prometheus(settings: StackSettings) -> Iterable[Artifact]:
    compose = settings.output.compose_dir
    yield Artifact(
        posixpath.join(compose, c.PROMETHEUS_CONFIG), to_yaml(build_prometheus(settings).to_data())
    )
    yield Artifact(
        posixpath.join(compose, c.ALERTMANAGER_CONFIG), to_yaml(build_alertmanager(settings).to_data())
    )


# The ordered list of renderers; each component adds one entry here.
RENDERERS: tuple[Callable[[StackSettings], Iterable[Artifact]], ...] = (
    render_alerts,
    render_prometheus,
    render_compose,
    render_grafana,
)


def render_all(settings: StackSettings) -> tuple[Artifact, ...]:
    """The whole plan, sorted by path. Fails if a renderer produced nothing or two produced one path."""
    artifacts: list[Artifact] = []
    for renderer in RENDERERS:
        produced = list(renderer(settings))
        if not produced:
            raise RuntimeError(f"renderer {renderer.__name__} produced no files")
        artifacts += produced
    paths = [a.path for a in artifacts]
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if duplicates:
        raise RuntimeError(f"two renderers produced {duplicates}")
    return tuple(sorted(artifacts))
