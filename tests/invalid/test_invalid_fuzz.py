"""Fuzzing `obsstack generate` with hypothesis: random mutations of a valid stack.yaml (one value replaced by a
hostile one, a key removed or added, a character inserted into the text) and of OBSSTACK_* variables must give
exit 0 or one clean refusal (exit 2, every line `error: <field> in <source>: ...`), never a traceback or the
internal-error exit, and must never touch a file outside the output directories: the project's own files
and a sentinel directory beside it are hashed before and after every run."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stack.cli import app
from stack.config import load_settings

BASE = """\
project: fuzz
services:
  - name: orders
    port: 8000
    image: acme/orders:1.2.0
    env: {LOG_LEVEL: info}
    labels: {team: checkout}
    latency: {warning: 0.25, critical: 1.0}
    error_rate: {warning: 0.02, critical: 0.1, min_request_rate: 0.5}
    db_pool: {warning: 0.7, critical: 0.9}
    slo: {objective: 0.995}
    traffic: ["GET /orders", {method: POST, path: /orders, json: {sku: a1}}]
    business:
      metrics:
        - {name: payments_total, type: counter, title: Payments, labels: {outcome: [ok, failed]}}
        - {name: carts, type: gauge, title: Carts}
      alerts:
        - {name: PaymentFailuresHigh, metric: payments_total, failure: {outcome: failed}, above: 0.1, for: 5m}
  - name: billing
    port: 8001
    command: [uvicorn, billing:app, --port, "8001"]
    metrics_path: /metrics
    restarts: {max_restarts: 3}
  - name: worker
    port: 8002
    build: {context: ., dockerfile: Dockerfile}
    secret_files: [secrets/worker-token]
    metrics_token_file: secrets/metrics-token
    metrics_convention: custom
    metric_names: {requests: jobs_total, duration: job_seconds}
    metric_labels: {route: task}
    latency_buckets: [0.1, 0.5, 1, 5]
profiles:
  production: {scrape_interval: 15s, rate_window: 5m}
alerting: {webhook_url: "http://127.0.0.1:9095/alerts"}
components:
  grafana: {image: "grafana/grafana:12.1.1", port: 3000}
output: {alerts_dir: alerts, dashboards_dir: dashboards}
kubernetes: {enabled: true}
mimir: {enabled: true}
"""
USER_FILES = {".gitignore": "secrets/\n", "notes.txt": "mine\n", "src/app.py": "print('hi')\n"}
MANIFEST = ".obsstack-generated"
# `error: <field> in <source>: ...`, or a YAML error at `<file>:<line>:<column>`, or a file-level problem
CLEAN = re.compile(r"error: (\S.* in \S+: |/\S+: |/\S+:\d+:\d+: ).{1,1000}")
OUTPUT_KEYS = ("alerts_dir", "dashboards_dir", "compose_dir", "kubernetes_dir", "mimir_dir")
# what issue 28's users wrote, beside what hypothesis makes up
HOSTILE: list[Any] = [
    "", " ", "\n", "x\n", "off", "no", "yes", "9091", "true", "null", "platform", "loadgen", "obsstack-platform",
    "..", "../x", "/etc", ".", "a/../../b", "$HOME", "${X}", "$(id)", "{{ .x }}", "img:LATEST", "x:latest",
    "status", "le", "route", "0s", "99999999999999999999d", "http://[::1", "http://127.0.0.1:99999/",
    "a" * 5000, 0, -1, 1, 65535, 65536, 99999, 10**20, 2.0, 1e308, float("inf"), float("-inf"), float("nan"),
    True, False, None, [], {}, [1, "a"], {"a": 1}, {"status": "200"}, ["GET /x\n"],
]  # fmt: skip
INSERTS = [":", "\n", " ", "- ", "{", "[", "&a ", "*a", "!!python/object ", "\t", "? ", "'", "\x00", "\ufeff"]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
VALUES = st.one_of(
    st.sampled_from(HOSTILE), TEXT, st.integers(), st.floats(), st.booleans(),
    st.lists(TEXT, max_size=3), st.dictionaries(TEXT, st.one_of(TEXT, st.integers()), max_size=2),
)  # fmt: skip
ENV_NAMES = [
    "OBSSTACK_PROJECT", "OBSSTACK_PROFILE", "OBSSTACK_SERVICES", "OBSSTACK_KUBERNETES", "OBSSTACK_KUBERNETES__ENABLED",
    "OBSSTACK_COMPONENTS__GRAFANA__PORT", "OBSSTACK_COMPONENTS__PROMETHEUS", "OBSSTACK_OUTPUT__ALERTS_DIR",
    "OBSSTACK_ALERTING__WEBHOOK_URL", "OBSSTACK_PROFILES__PRODUCTION__SLO_WINDOW", "OBSSTACK_METRICS",
]  # fmt: skip
FUZZ = settings(
    max_examples=int(os.environ.get("OBSSTACK_FUZZ_EXAMPLES", "300")),
    deadline=None,
    # the same examples on every run (CI is reproducible, a failure reruns as it was); OBSSTACK_FUZZ_RANDOM=1
    # explores new ones
    derandomize=not os.environ.get("OBSSTACK_FUZZ_RANDOM"),
    database=None,  # nothing written into the working tree (.hypothesis/)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in the parsed YAML a value sits (keys of mappings, indexes of lists)."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


BASE_DATA = yaml.safe_load(BASE)
PATHS = list(paths(BASE_DATA))
BASE_OUTPUT_DIRS = {str(BASE_DATA["output"].get(key, key.removesuffix("_dir"))) for key in OUTPUT_KEYS}


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """BASE with one value replaced, removed or given a sibling: as text for stack.yaml."""
    data = copy.deepcopy(BASE_DATA)
    for _ in range(1):
        where = draw(st.sampled_from(PATHS))
        parent = data
        for key in where[:-1]:
            parent = parent[key] if isinstance(parent, dict) and key in parent else parent
            if isinstance(parent, list) and isinstance(key, int) and key < len(parent):
                parent = parent[key]
        last = where[-1]
        if not isinstance(parent, dict | list) or (isinstance(parent, list) and not isinstance(last, int)):
            continue
        if isinstance(parent, list) and last >= len(parent):
            continue
        action = draw(st.sampled_from(["replace", "replace", "replace", "suffix", "remove", "add"]))
        if action == "remove" and isinstance(parent, dict):
            parent.pop(last, None)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "labels", "port", "enabled", "name"]))] = draw(VALUES)
        elif action == "suffix" and isinstance(parent[last], str):
            parent[last] += draw(st.sampled_from(["\n", "$", " ", ":LATEST", "/..", "\x00", "{{"]))
        else:
            parent[last] = draw(VALUES)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated project (BASE) with the user's own files beside the generated ones."""
    root = tmp_path_factory.mktemp("fuzz-template") / "project"
    root.mkdir()
    for name, text in USER_FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "stack.yaml").write_text(BASE, encoding="utf-8")
    result = CliRunner().invoke(app, ["generate", "--config", str(root / "stack.yaml")])
    assert result.exit_code == 0, result.output
    return root


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


@contextmanager
def copy_of(template: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh copy of the template project and a sentinel directory beside it."""
    with tempfile.TemporaryDirectory(prefix="obsstack-fuzz-") as scratch:
        project, sentinel = Path(scratch) / "project", Path(scratch) / "sentinel"
        shutil.copytree(template, project, symlinks=True)
        sentinel.mkdir()
        (sentinel / "keep.txt").write_text("outside the project\n", encoding="utf-8")
        (sentinel / "alerts").mkdir()
        (sentinel / "alerts" / "orders.rules.yml").write_text("not obsstack's\n", encoding="utf-8")
        yield project, sentinel


def output_dirs(config: Path) -> set[str]:
    settings_ = load_settings(config)
    return {getattr(settings_.output, key) for key in OUTPUT_KEYS}


def check_run(template: Path, text: str | bytes, env: dict[str, str] | None = None, check: bool = False) -> None:
    """generate (--check) on `text`: exit 0 or one clean refusal (--check: or 1, stale); the sentinel untouched,
    the project's files outside the output directories untouched; a refusal and --check write nothing at all."""
    with copy_of(template) as (project, sentinel), mock.patch.dict(os.environ, env or {}):
        config = project / "stack.yaml"
        config.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        before, outside = hashes(project), hashes(sentinel)
        result = CliRunner().invoke(app, ["generate", *(["--check"] if check else []), "--config", str(config)])
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert "Traceback" not in result.output, result.output
        assert result.exit_code in ((0, 1, 2) if check else (0, 2)), (result.exit_code, result.output)
        assert hashes(sentinel) == outside, "a file outside the project was touched"
        if check:
            assert hashes(project) == before, "generate --check must write and remove nothing"
        if result.exit_code == 2:  # one refusal: a line per problem (a mapping may hold two unknown keys)
            assert lines, result.output
            assert all(CLEAN.fullmatch(line) for line in lines), lines
            assert hashes(project) == before, "a refusal must write and remove nothing"
            return
        kept = BASE_OUTPUT_DIRS | output_dirs(config) | {MANIFEST, "stack.yaml"}
        after = hashes(project)

        def mine(path: str) -> bool:
            return not any(path == d or path.startswith(f"{d}/") for d in kept)

        assert {p: h for p, h in before.items() if mine(p)} == {p: h for p, h in after.items() if mine(p)}


@FUZZ
@given(text=mutated(), check=st.booleans())
def test_mutated_stack_yaml_is_accepted_or_cleanly_refused(template: Path, text: str, check: bool) -> None:
    """A stack.yaml with one value replaced, removed or added, to generate or generate --check: exit 0 (--check:
    or 1) or one clean refusal, no stray write."""
    check_run(template, text, check=check)


@settings(FUZZ, max_examples=max(FUZZ.max_examples // 3, 10))
@given(position=st.integers(0, len(BASE)), insert=st.sampled_from(INSERTS))
def test_mutated_yaml_text_is_accepted_or_cleanly_refused(template: Path, position: int, insert: str) -> None:
    """A character inserted anywhere in stack.yaml's text (broken YAML, tags, aliases, NUL): exit 0 or one line."""
    check_run(template, BASE[:position] + insert + BASE[position:])


@settings(FUZZ, max_examples=max(FUZZ.max_examples // 3, 10))
@given(name=st.sampled_from(ENV_NAMES), value=st.one_of(st.sampled_from([str(v) for v in HOSTILE]), TEXT))
def test_mutated_environment_is_accepted_or_cleanly_refused(template: Path, name: str, value: str) -> None:
    """An OBSSTACK_* variable set to a hostile or random value: exit 0 or one clean line naming it."""
    if "\x00" in value:
        value = value.replace("\x00", "")  # the environment cannot hold NUL
    check_run(template, BASE, {name: value})
