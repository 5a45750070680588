"""PURE: OTLP metric export requests -> the families Prometheus will have once the collector's remote write
(or Prometheus' own OTLP receiver, with suffixes added) translates them: `http.server.request.duration`
with unit `s` -> `http_server_request_duration_seconds`, attributes with `_` for `.`, `_total` for
monotonic sums, `{annotation}` units dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from stack.probe.observed import FamilyBuilder, Kind, Observed

SERVICE_NAME = "service.name"
HTTP_DURATIONS = ("http.server.request.duration", "http.server.duration")  # stable, old semconv
UNITS = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds",
    "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "%": "percent",
}  # fmt: skip
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def prometheus_name(name: str, unit: str, kind: Kind) -> str:
    """The Prometheus name of an OTLP metric (the collector's translation with unit and type suffixes)."""
    base = _INVALID.sub("_", name)
    words = base.split("_")
    suffix = _unit_suffix(unit, kind)
    if suffix and suffix not in words:
        base = f"{base}_{suffix}"
    return f"{base}_total" if kind == "counter" and not base.endswith("_total") else base


def _unit_suffix(unit: str, kind: Kind) -> str:
    unit = re.sub(r"\{[^}]*\}", "", unit).strip()
    if unit == "1":
        return "ratio" if kind == "gauge" else ""
    main, _, per = unit.partition("/")
    words = [UNITS.get(main, _INVALID.sub("_", main))] if main else []
    if per:
        words.append(f"per_{UNITS.get(per, per)}".replace("seconds", "second").replace("minutes", "minute"))
    return "_".join(w for w in words if w)


def decode_exports(requests: Sequence[ExportMetricsServiceRequest], where: str, service: str | None) -> Observed:
    """The families of one resource: the one named `service` (service.name) if it came, else the first that
    carries an HTTP server duration, else the first. `service_names` lists every service.name seen, the
    chosen one first."""
    resources = [rm for request in requests for rm in request.resource_metrics]
    names = [_service_name(rm) for rm in resources]
    chosen = next((n for n in names if service is not None and n == service), None)
    chosen = chosen or next((n for n, rm in zip(names, resources, strict=True) if _has_http(rm)), None)
    chosen = chosen if chosen is not None else (names[0] if names else None)
    builders: dict[str, FamilyBuilder] = {}
    for name, rm in zip(names, resources, strict=True):
        if name == chosen:
            _add_resource(rm, builders)
    ordered = ([chosen] if chosen is not None else []) + sorted({n for n in names if n != chosen})
    families = tuple(b.freeze() for b in builders.values())
    return Observed("otlp", where, families, service_names=tuple(ordered))


def _service_name(resource_metrics: Any) -> str:
    for attribute in resource_metrics.resource.attributes:
        if attribute.key == SERVICE_NAME:
            return str(attribute.value.string_value)
    return ""


def _has_http(resource_metrics: Any) -> bool:
    return any(m.name in HTTP_DURATIONS for sm in resource_metrics.scope_metrics for m in sm.metrics)


def _add_resource(resource_metrics: Any, builders: dict[str, FamilyBuilder]) -> None:
    for scope in resource_metrics.scope_metrics:
        for metric in scope.metrics:
            kind, points = _kind_and_points(metric)
            name = prometheus_name(metric.name, metric.unit, kind)
            builder = builders.setdefault(name, FamilyBuilder(name, kind))
            for point in points:
                edges = tuple(point.explicit_bounds) if kind == "histogram" else ()
                builder.add(_attributes(point.attributes), edges)


def _kind_and_points(metric: Any) -> tuple[Kind, Iterable[Any]]:
    data = metric.WhichOneof("data")
    if data == "sum":
        return ("counter" if metric.sum.is_monotonic else "gauge"), metric.sum.data_points
    if data == "gauge":
        return "gauge", metric.gauge.data_points
    if data == "histogram":
        return "histogram", metric.histogram.data_points
    return "other", ()


def _attributes(attributes: Iterable[Any]) -> dict[str, str]:
    """Attributes as Prometheus labels: `.` -> `_`, values as text (strings, ints, bools, doubles)."""
    labels: dict[str, str] = {}
    for attribute in attributes:
        which = attribute.value.WhichOneof("value")
        if which in {"string_value", "int_value", "bool_value", "double_value"}:
            labels[_INVALID.sub("_", attribute.key)] = str(getattr(attribute.value, which))
    return labels
