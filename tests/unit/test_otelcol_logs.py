"""Logs by file: in local mode the collector reads the services' JSON lines (filelog receivers with a file_storage
checkpoint) and those services do not also export them by OTLP; in containers everything stays OTLP. The
collector's manifest builds the receiver and the extension whatever stack.yaml says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from stack import conventions as c
from stack.builders.distributions import recipe
from stack.builders.otelcol import build_otelcol
from stack.config import load_settings
from stack.models.distributions import OcbRecipe
from stack.models.otelcol import OtelcolConfig
from stack.runtime.programs import Layout, command_services
from stack.settings import StackSettings

STACK = """\
project: demo
services:
  - name: orders
    command: [python, -m, sample_app]
    port: 8000
  - name: zero-code
    command: [python, -m, sample_app]
    port: 8001
    metrics_convention: otel
  - name: billing
    external: true
    port: 8002
    log_file: logs/billing.jsonl
  - name: legacy
    external: true
    port: 8003
"""
LOCAL = c.Placement(local=True, data_root="/s/data", project_root="/p", logs_root="/s/logs")


@pytest.fixture
def settings(make_project: Any) -> StackSettings:
    return load_settings(make_project(STACK))


def test_local_collector_reads_the_log_files(settings: StackSettings) -> None:
    """Locally: one filelog receiver per command service writing obsstack_fastapi's JSON (its output file) and per
    external service declaring `log_file` (relative to stack.yaml), each naming its service, all in the logs
    pipeline beside OTLP, with the read offsets kept by file_storage under the collector's data directory."""
    data = build_otelcol(settings, LOCAL).to_data()
    files = {k: v["include"] for k, v in data["receivers"].items() if k.startswith("filelog/")}
    assert files == {"filelog/orders": ["/s/logs/orders.log"], "filelog/billing": ["/p/logs/billing.jsonl"]}
    assert data["receivers"]["filelog/billing"]["resource"] == {"service.name": "billing"}
    assert {r["storage"] for k, r in data["receivers"].items() if k != "otlp"} == {"file_storage"}
    assert data["extensions"]["file_storage"] == {"directory": "/s/data/otelcol", "create_directory": True}
    assert data["service"]["extensions"] == ["health_check", "file_storage"]
    assert data["service"]["pipelines"]["logs"]["receivers"] == ["otlp", "filelog/orders", "filelog/billing"]
    assert data["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]


def test_each_json_field_lands_where_the_otlp_bridge_puts_it(settings: StackSettings) -> None:
    """The operators: JSON parsed, timestamp (ISO-8601 UTC, ms) and severity (with warning, exception, critical)
    and trace context from their fields, `event` as the body, and those fields then removed from the attributes,
    each removal only when the field is there."""
    receiver = build_otelcol(settings, LOCAL).to_data()["receivers"]["filelog/orders"]
    parser, move, *removals = receiver["operators"]
    assert (parser["type"], parser["on_error"]) == ("json_parser", "send_quiet")
    assert parser["timestamp"] == {"parse_from": "attributes.timestamp", "layout_type": "gotime",
                                   "layout": "2006-01-02T15:04:05.000Z07:00"}  # fmt: skip
    assert parser["severity"]["mapping"] == {"warn": ["warning"], "error": ["exception"], "fatal": ["critical"]}
    assert parser["trace"] == {"trace_id": {"parse_from": "attributes.trace_id"},
                               "span_id": {"parse_from": "attributes.span_id"}}  # fmt: skip
    assert move == {"type": "move", "from": "attributes.event", "to": "body", "if": "attributes.event != nil"}
    assert [(r["field"], r["if"]) for r in removals] == [
        (f"attributes.{k}", f"attributes.{k} != nil") for k in ("level", "timestamp", "trace_id", "span_id")
    ]
    assert receiver["start_at"] == "end"


def test_containers_keep_otlp_logs(settings: StackSettings) -> None:
    """In containers the collector reads no file (a container's log file is root's; the collector runs as a
    non-root user): no filelog receiver, no storage extension."""
    data = build_otelcol(settings).to_data()
    assert list(data["receivers"]) == ["otlp"]
    assert "file_storage" not in data["extensions"]
    assert data["service"]["pipelines"]["logs"]["receivers"] == ["otlp"]


def test_the_model_reads_the_config_back_and_refuses_a_wrong_key(settings: StackSettings) -> None:
    """A generated config validates back into the model (filelog/<service> keys included); a key the filelog
    receiver does not have, or an operator type we do not use, is refused."""
    data = build_otelcol(settings, LOCAL).to_data()
    assert OtelcolConfig.model_validate(data).to_data() == data
    wrong = {**data, "receivers": {**data["receivers"], "filelog/orders": {
        **data["receivers"]["filelog/orders"], "start_from": "end"}}}  # fmt: skip
    with pytest.raises(ValidationError, match="start_from"):
        OtelcolConfig.model_validate(wrong)
    odd = data["receivers"]["filelog/orders"]["operators"] + [{"type": "regex_parser", "regex": "x"}]
    with pytest.raises(ValidationError, match="regex_parser"):
        OtelcolConfig.model_validate({**data, "receivers": {**data["receivers"], "filelog/orders": {
            **data["receivers"]["filelog/orders"], "operators": odd}}})  # fmt: skip


def test_services_read_by_file_do_not_also_export_otlp_logs(settings: StackSettings, tmp_path: Path) -> None:
    """Local mode: the service whose file the collector reads gets OBS_OTLP_LOGS=false, the otel-convention one
    true (its agent exports its logs); started beside a compose stack (collector in a container), true."""
    layout = Layout(tmp_path, tmp_path / ".obsstack")

    def otlp_logs(local: bool) -> dict[str, str]:
        return {p.name: p.env(layout, settings)["OBS_OTLP_LOGS"] for p, _ in command_services(settings, True, local)}

    assert otlp_logs(local=True) == {"orders": "false", "zero-code": "true"}
    assert otlp_logs(local=False) == {"orders": "true", "zero-code": "true"}


def test_the_collector_build_has_the_receiver_and_the_extension(settings: StackSettings) -> None:
    """The ocb manifest builds the filelog receiver and the file_storage extension at the collector's version
    (the committed compose config uses neither), so local mode never needs another build."""
    built = recipe(settings, "otelcol")
    assert isinstance(built, OcbRecipe)
    version = built.version
    receivers = [m.gomod for m in built.manifest.receivers]
    extensions = [m.gomod for m in built.manifest.extensions]
    contrib = "github.com/open-telemetry/opentelemetry-collector-contrib"
    assert f"{contrib}/receiver/filelogreceiver v{version}" in receivers
    assert f"{contrib}/extension/storage/filestorage v{version}" in extensions
