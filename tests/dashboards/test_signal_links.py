"""Links between the signals as the pinned upstream versions store them: error logs in Loki, exemplar labels
in Prometheus, the Tempo datasource's settings in Grafana.

Each oracle below is the upstream behaviour at the version stack.yaml pins, with the source it comes from.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from obsstack_fastapi.otlp_logs import _record
from opentelemetry.trace import INVALID_SPAN_CONTEXT

from stack import conventions as c
from stack.builders.dashboards import build_dashboards
from stack.builders.grafana import build_datasources
from stack.builders.tempo import build_tempo
from stack.config import load_settings
from stack.dashlint import iter_panels

STACK = """\
project: demo
services:
  - name: orders
"""

# Loki v3.5.3, pkg/distributor/field_detection.go: the fields a level is read from, in this order
# (defaultAllowedLevelFields); an OTLP record's severity_text is always structured metadata
# (pkg/loghttp/push/otlp.go), so it is where detected_level comes from when it is set.
LOKI_LEVEL_FIELDS = (
    "level", "LEVEL", "Level", "log.level", "severity", "SEVERITY", "Severity", "SeverityText",
    "lvl", "LVL", "Lvl", "severity_text", "Severity_Text", "SEVERITY_TEXT",
)  # fmt: skip
# ... and, without any of them, from severity_number (detectLogLevelFromLogEntry), by OTel ranges.
LOKI_NUMBER_LEVELS = ((4, "trace"), (8, "debug"), (12, "info"), (16, "warn"), (20, "error"), (24, "fatal"))

# Tempo v2.9.0, modules/generator/registry/histogram.go: `if traceIDLabelName == "" { ... = "traceID" }`,
# overridable per tenant with metrics_generator.trace_id_label_name.
TEMPO_DEFAULT_EXEMPLAR_LABEL = "traceID"
# obsstack_fastapi/metrics.py: the app's duration histogram observes with {"trace_id": <trace id>}.
APP_EXEMPLAR_LABEL = "trace_id"

# Grafana 12.1.1: the jsonData keys the Tempo datasource reads (public/app/plugins/datasource/tempo/types.ts
# TempoJsonData, and the trace-to-* sections of @grafana/o11y-ds-frontend). `lokiSearch` went with the Loki
# tab (grafana/grafana#84346, Grafana 11.0).
GRAFANA_TEMPO_JSON_KEYS = {
    "tracesToLogs", "tracesToLogsV2", "tracesToMetrics", "tracesToProfiles", "serviceMap", "search",
    "nodeGraph", "spanBar", "tagLimit", "traceQuery", "streamingEnabled", "timeRangeForTags",
}  # fmt: skip


@pytest.fixture
def settings(make_project):
    return load_settings(make_project(STACK))


def loki_structured_metadata(record: Any) -> dict[str, str]:
    """What Loki 3.5.3 stores with an OTLP log record of the library: attributes, severity, detected_level."""
    metadata = {str(k): str(v) for k, v in (record.attributes or {}).items()}
    number = int(record.severity_number.value) if record.severity_number else 0
    if number:
        metadata["severity_number"] = str(number)
    if record.severity_text:
        metadata["severity_text"] = record.severity_text
    level = next((metadata[f] for f in LOKI_LEVEL_FIELDS if f in metadata), "")
    if not level and number:
        level = next((name for upper, name in LOKI_NUMBER_LEVELS if number <= upper), "unknown")
    if level:
        metadata["detected_level"] = level
    return metadata


LABEL_FILTER = re.compile(r'\|\s*([A-Za-z_][\w.]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def selected(query: str, metadata: dict[str, str]) -> bool:
    """Whether the pipeline's label filters keep a line with this metadata (LogQL regexes are anchored)."""
    filters = LABEL_FILTER.findall(query.split("}", 1)[1])
    assert filters, f"no label filter in {query!r}"
    for name, op, value in filters:
        actual = metadata.get(name, "")
        regex = op in ("=~", "!~")
        hit = re.fullmatch(value, actual) is not None if regex else actual == value
        if hit == op.startswith("!"):
            return False
    return True


def error_logs_query(settings) -> str:
    board = build_dashboards(settings)["orders-golden-signals"]
    (panel,) = [p for p in iter_panels(board) if p.get("title") == "Error logs"]
    (target,) = panel["targets"]
    return str(target["expr"])


@pytest.mark.parametrize(
    ("method", "wanted"),
    [("error", True), ("exception", True), ("critical", True), ("warning", False), ("info", False)],
)
def test_error_logs_panel_selects_the_library_error_records(settings, method: str, wanted: bool) -> None:
    """The Error logs panel keeps the library's error and critical OTLP records, as Loki 3.5.3 stores them
    (severity_text / detected_level structured metadata, no `level`), and leaves out warnings and info."""
    event = {"event": "boom", "level": "error" if method == "exception" else method, "logger": "orders"}
    metadata = loki_structured_metadata(_record(1, method, event, INVALID_SPAN_CONTEXT))
    assert "level" not in metadata  # the bridge drops it: a filter on `level` would match nothing
    assert selected(error_logs_query(settings), metadata) is wanted


def test_error_logs_panel_selects_records_levelled_by_number_only(settings) -> None:
    """A record of another SDK with only a severity number in the ERROR range is an error log too."""
    metadata = {"severity_number": "17", "detected_level": "error"}
    assert selected(error_logs_query(settings), metadata)
    assert not selected(error_logs_query(settings), {"severity_number": "9", "detected_level": "info"})


def configured(data: Any, key: str) -> str | None:
    """The value of `key` anywhere in a dumped config, if it is set."""
    if isinstance(data, dict):
        if key in data:
            return str(data[key])
        data = list(data.values())
    if isinstance(data, list):
        return next((found for item in data if (found := configured(item, key))), None)
    return None


def test_exemplars_of_the_app_and_of_tempo_link_to_tempo(settings) -> None:
    """Both exemplar labels that carry a trace id (the app's and Tempo's metrics-generator's) link to Tempo."""
    tempo_label = configured(build_tempo(settings).to_data(), "trace_id_label_name") or TEMPO_DEFAULT_EXEMPLAR_LABEL
    (prometheus,) = [d for d in build_datasources(settings).datasources if d.type == "prometheus"]
    links = {d.name: d.datasourceUid for d in prometheus.jsonData.exemplarTraceIdDestinations}  # type: ignore[union-attr]
    for label in (APP_EXEMPLAR_LABEL, tempo_label):
        assert links.get(label) == c.DATASOURCE_UIDS["tempo"], label


def test_tempo_datasource_sets_only_keys_grafana_reads(settings) -> None:
    """Every jsonData key of the Tempo datasource is one Grafana 12.1.1's Tempo datasource reads."""
    (tempo,) = [d for d in build_datasources(settings).datasources if d.type == "tempo"]
    keys = set(tempo.jsonData.to_data())
    assert keys <= GRAFANA_TEMPO_JSON_KEYS, keys - GRAFANA_TEMPO_JSON_KEYS
    assert {"tracesToLogsV2", "tracesToMetrics", "serviceMap"} <= keys  # the links to Loki and Prometheus stay
