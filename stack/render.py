"""PURE: model objects -> (path, text) artifacts, byte-for-byte deterministic.

Every YAML file starts with the generated header; keys keep model order; no timestamps or hosts.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.backends import store_configs
from stack.builders.compose import build_alertmanager_compose, build_compose, build_ephemeral
from stack.builders.dashboards import iter_dashboards
from stack.builders.grafana import build_dashboard_providers, build_datasources
from stack.builders.otelcol import build_otelcol
from stack.builders.prometheus import build_prometheus
from stack.builders.rule_tests import build_rule_tests
from stack.builders.rules import build_rule_files
from stack.models import ConfigModel
from stack.models.jsontext import to_json as to_json
from stack.models.rules import RULE_VIEWS, TEST_VIEWS, AlertingRule, RuleFile, RuleGroup
from stack.settings import StackSettings
from stack.yaml_block import BlockWriter, Written

Placement = c.Placement
_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class Pending(Protocol[_T_co]):
    """A started job: calling it gives its result (waiting for it if need be, the same object every time);
    `cancel()` says it is not wanted (a run that failed elsewhere), a no-op once it is collected."""

    def __call__(self) -> _T_co: ...

    def cancel(self) -> None: ...


class Aside(Protocol):
    """How a pure job of the plan is run: `now` runs it at once, here; the CLI passes `stack.forked.aside`, which
    runs it in a forked process, so that a second core computes it while this one renders the rest."""

    def __call__(self, job: Callable[[], _T], /) -> Pending[_T]: ...


@dataclass(frozen=True)
class _Done(Generic[_T]):
    result: _T

    def __call__(self) -> _T:
        return self.result

    def cancel(self) -> None:
        pass


def now(job: Callable[[], _T]) -> Pending[_T]:
    return _Done(job())


@dataclass(frozen=True)
class Shared:
    """What more than one renderer embeds, built once per plan: each dashboard's JSON text (dashboards/ and
    the Kubernetes ConfigMaps hold the same bytes) and the rule files (alerts/, the PrometheusRules, the Mimir
    rule namespaces); and the promtool test files, the job `aside` runs."""

    settings: StackSettings
    aside: Aside = now

    @cached_property
    def rule_tests_job(self) -> Pending[list[tuple[str, str]]]:
        """The promtool test files' (path, text), started on first use: render_all starts the job before any
        renderer runs, and render_alerts collects it last."""
        settings = self.settings  # the job holds the settings, not this object and what it caches
        return self.aside(lambda: _rule_test_texts(settings))

    @cached_property
    def dashboards(self) -> dict[str, str]:
        return {name: to_json(board) for name, board in iter_dashboards(self.settings)}  # one board held at a time

    @cached_property
    def rule_files(self) -> dict[str, RuleFile]:
        return build_rule_files(self.settings)

    @cached_property
    def _group_texts(self) -> dict[int, tuple[RuleGroup, str | None]]:
        """Each rule group of the rule files (by identity, held) and its text as a list item, written once (read
        from the models through their views)."""
        return {id(group): (group, _BLOCK.item(group)) for rules in self.rule_files.values() for group in rules.groups}

    def written_groups(self, groups: tuple[RuleGroup, ...]) -> Written | None:
        """`groups` (those of a rule file) as written once, None when there are none, or one is not a rule file's or
        is left to PyYAML."""
        texts = []
        for group in groups:
            held, text = self._group_texts.get(id(group), (None, None))
            if held is not group or text is None:
                return None
            texts.append(text)
        if not texts:
            return None
        return Written("\n".join(texts), lambda: [group.to_data() for group in groups])

    def document(self, model: ConfigModel) -> dict[str, Any]:
        """`model.to_data()`, and for a model holding rule groups (its `GROUPS_AT`: the fields down to them, each
        named as its key) with the groups as written once: alerts/ writes them, the PrometheusRules and Mimir's
        namespaces place the same text."""
        path: tuple[str, ...] = getattr(type(model), "GROUPS_AT", ())
        if not path:
            return model.to_data()
        holders = [model]
        for name in path[:-1]:
            holders.append(getattr(holders[-1], name))
        written = self.written_groups(getattr(holders[-1], path[-1]))
        if written is None:
            return model.to_data()
        emptied: Any = ()
        for name, holder in zip(reversed(path), reversed(holders), strict=True):
            emptied = holder.model_copy(update={name: emptied})  # the document without its groups, dumped
        data: dict[str, Any] = emptied.to_data()
        place = data
        for name in path[:-1]:
            place = place[name]
        place[path[-1]] = written
        return data


def _shared(settings: StackSettings, shared: Shared | None) -> Shared:
    return shared if shared is not None and shared.settings is settings else Shared(settings)


@dataclass(frozen=True, order=True)
class Artifact:
    """One generated file: a path relative to the project root and its exact text."""

    path: str
    text: str


# libyaml's emitter when PyYAML has it (the same bytes, about ten times faster), else the pure-Python one
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """No aliases, literal blocks for multi-line strings, no line folding."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _pyyaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100_000, allow_unicode=True)


# PyYAML's bytes, each distinct scalar analysed once; rule and promtool test files read from their models, not
# dumped first
_BLOCK = BlockWriter(_pyyaml, literal_blocks=True, views={**TEST_VIEWS, **RULE_VIEWS})


def to_yaml(data: Any, header: str = c.GENERATED_HEADER) -> str:
    return _BLOCK.write(data, header)


_templates = Environment(
    loader=PackageLoader("stack", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
)


def render_template(template: str, **context: Any) -> str:
    return _templates.get_template(template).render(**context)


def render_alerts(settings: StackSettings, placement: Placement, shared: Shared | None = None) -> Iterable[Artifact]:
    alerts_dir = settings.output.alerts_dir
    built = _shared(settings, shared)
    rule_files = built.rule_files
    for name, rule_file in rule_files.items():
        yield Artifact(posixpath.join(alerts_dir, name), to_yaml(built.document(rule_file)))
    yield from _runbooks(settings, rule_files)
    yield from (Artifact(path, text) for path, text in built.rule_tests_job())  # last: they may still be on their way


def _rule_test_texts(settings: StackSettings) -> list[tuple[str, str]]:
    tests = posixpath.join(settings.output.alerts_dir, "tests")
    return [(posixpath.join(tests, name), to_yaml(test_file)) for name, test_file in build_rule_tests(settings).items()]


def _runbooks(settings: StackSettings, rule_files: dict[str, RuleFile]) -> Iterable[Artifact]:
    """One runbook per alert name; the template lays out each rule's entry, worked out here in one pass."""
    by_name: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for rule_file in rule_files.values():
        for alert in rule_file.alerts():
            by_name.setdefault(alert.alert, []).append(runbook_entry(alert))
    for name, entries in sorted(by_name.items()):
        text = render_template("runbook.md.j2", name=name, entries=entries, header=c.GENERATED_HEADER)
        yield Artifact(posixpath.join(settings.output.alerts_dir, "runbooks", f"{name}.md"), text)


def runbook_entry(alert: AlertingRule) -> tuple[str, str, str, str, str]:
    """A rule's runbook entry: (heading, summary, expression, ` for <duration>` or nothing, dashboard link)."""
    labels, annotations = alert.labels, alert.annotations
    heading = f"{labels.get('service', 'all services')}: severity {labels['severity']}"
    tier = labels.get("burnrate_tier")
    if tier:
        heading += f", tier {tier}"
    held_for = f" for {alert.for_}" if alert.for_ else ""
    return heading, annotations["summary"], alert.expr, held_for, annotations["dashboard_url"]


def render_prometheus(
    settings: StackSettings, placement: Placement, shared: Shared | None = None
) -> Iterable[Artifact]:
    compose = settings.output.compose_dir
    prometheus = build_prometheus(settings, placement)
    yield Artifact(posixpath.join(compose, c.PROMETHEUS_CONFIG), to_yaml(prometheus.to_data()))
    alertmanager = build_alertmanager(settings)
    yield Artifact(posixpath.join(compose, c.ALERTMANAGER_CONFIG), to_yaml(alertmanager.to_data()))


def render_compose(settings: StackSettings, placement: Placement, shared: Shared | None = None) -> Iterator[Artifact]:
    """The compose files and the configs of the chosen stores that read one (Loki, Tempo, Jaeger), the
    collector and containers' Alertmanager."""
    models: dict[str, ConfigModel] = {
        c.COMPOSE_FILE: build_compose(settings),
        c.COMPOSE_EPHEMERAL_FILE: build_ephemeral(settings),
        c.ALERTMANAGER_COMPOSE_CONFIG: build_alertmanager_compose(settings),
        **{path: build(settings, placement) for path, build in store_configs(settings).items()},
        c.OTELCOL_CONFIG: build_otelcol(settings, placement),
    }
    for name, model in models.items():
        yield Artifact(posixpath.join(settings.output.compose_dir, name), to_yaml(model.to_data()))
    why = "# compose/.env holds the stack's passwords (created by obsstack up)"
    ignore = f"{c.GENERATED_HEADER}{why}\n{c.COMPOSE_ENV_FILE}\n"
    yield Artifact(posixpath.join(settings.output.compose_dir, ".gitignore"), ignore)


def render_grafana(settings: StackSettings, placement: Placement, shared: Shared | None = None) -> Iterable[Artifact]:
    """Dashboards as JSON and the provisioning YAML."""
    for name, text in _shared(settings, shared).dashboards.items():
        yield Artifact(posixpath.join(settings.output.dashboards_dir, c.dashboard_file(name)), text)
    compose = settings.output.compose_dir
    datasources = build_datasources(settings, placement).to_data()
    yield Artifact(posixpath.join(compose, c.GRAFANA_DATASOURCES), to_yaml(datasources))
    providers = build_dashboard_providers(settings, placement).to_data()
    yield Artifact(posixpath.join(compose, c.GRAFANA_DASHBOARD_PROVIDERS), to_yaml(providers))


def render_kubernetes(
    settings: StackSettings, placement: Placement, shared: Shared | None = None
) -> Iterable[Artifact]:
    """The Kubernetes target (when enabled): a Kustomize base and Helm values overlays, one object per file;
    its ConfigMaps hold the dashboards' JSON text and its PrometheusRules the rule files' groups, as built once
    for dashboards/ and alerts/."""
    from stack.builders.kubernetes import build_kubernetes

    built = _shared(settings, shared)
    for name, document in build_kubernetes(settings, built.dashboards, built.rule_files).items():
        yield Artifact(posixpath.join(settings.output.kubernetes_dir, name), to_yaml(built.document(document)))


def render_mimir(settings: StackSettings, placement: Placement, shared: Shared | None = None) -> Iterable[Artifact]:
    """The Mimir target (when enabled): a rule namespace file per service and the tenant Alertmanager config."""
    from stack.builders.mimir import build_mimir

    built = _shared(settings, shared)
    for name, document in build_mimir(settings, built.rule_files).items():
        yield Artifact(posixpath.join(settings.output.mimir_dir, name), to_yaml(built.document(document)))


def render_ring(settings: StackSettings, placement: Placement) -> tuple[Artifact, ...]:
    """The files of a local Cortex ring run (`up --local --ring`; never part of the committed plan): each member's
    config (cortex/<member>.yaml) and Prometheus' config without rules, remote-writing to every member."""
    from stack.builders.cortex import build_cortex, members, ring_prometheus

    configs = [Artifact(f"cortex/{m.name}.yaml", to_yaml(build_cortex(settings, m, placement.data_root).to_data()))
               for m in members(settings)]  # fmt: skip
    prometheus = ring_prometheus(settings, build_prometheus(settings, placement))
    path = posixpath.join(settings.output.compose_dir, c.PROMETHEUS_CONFIG)
    return (*configs, Artifact(path, to_yaml(prometheus.to_data())))


Renderer = Callable[[StackSettings, Placement, Shared | None], Iterable[Artifact]]

# The ordered list of renderers; each component adds one entry here. The alerts come last: they end with the
# promtool tests, which render_all starts aside before the first renderer runs.
RENDERERS: tuple[Renderer, ...] = (
    render_prometheus,
    render_compose,
    render_grafana,
    render_kubernetes,
    render_mimir,
    render_alerts,
)
# renderers of a target that stack.yaml may leave off: they produce nothing then
OPTIONAL: dict[Renderer, Callable[[StackSettings], bool]] = {
    render_kubernetes: lambda settings: settings.kubernetes.enabled,
    render_mimir: lambda settings: settings.mimir.enabled,
}


def render_all(
    settings: StackSettings, placement: Placement = c.IN_CONTAINERS, aside: Aside = now
) -> tuple[Artifact, ...]:
    """The whole plan for a placement, sorted by path. Fails if a renderer produced nothing or two one path.
    `aside` runs the promtool tests' job, started before the renderers (the same bytes whichever runs it)."""
    artifacts: list[Artifact] = []
    shared = Shared(settings, aside)
    tests = shared.rule_tests_job
    try:
        for renderer in RENDERERS:
            if renderer in OPTIONAL and not OPTIONAL[renderer](settings):
                continue
            produced = list(renderer(settings, placement, shared))
            if not produced:
                raise RuntimeError(f"renderer {renderer.__name__} produced no files")
            artifacts += produced
    finally:
        tests.cancel()  # collected by render_alerts unless a renderer failed: then the job is not waited for
    paths = [a.path for a in artifacts]
    duplicates = sorted(path for path, count in Counter(paths).items() if count > 1)
    if duplicates:
        raise RuntimeError(f"two renderers produced {duplicates}")
    return tuple(sorted(artifacts, key=lambda artifact: artifact.path))  # paths are unique: no text compared
