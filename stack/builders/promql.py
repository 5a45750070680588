"""Small PromQL helpers: selectors with escaped label values, so no setting can inject PromQL."""

from __future__ import annotations

import json

from stack import conventions as c
from stack.durations import Duration
from stack.service_settings import Service


def quote(value: str) -> str:
    """A PromQL string literal (double-quoted, backslash and quote escaped). Most values need no escape at all
    (printable ASCII without a quote or backslash): those are quoted as they are, the rest by json.dumps."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value)


def selector(metric: str, **matchers: str) -> str:
    inner = ",".join([f"{key}={quote(value)}" for key, value in matchers.items()])
    return f"{metric}{{{inner}}}"


def svc(metric: str, service: str, **matchers: str) -> str:
    if not matchers:  # the common case, written directly: what selector writes for the one matcher
        return f"{metric}{{{c.SERVICE_LABEL}={quote(service)}}}"
    return selector(metric, **{c.SERVICE_LABEL: service}, **matchers)


def rate(series: str, window: Duration) -> str:
    return f"rate({series}[{window}])"


def sum_by(labels: tuple[str, ...], expr: str) -> str:
    return f"sum by ({', '.join(labels)}) ({expr})"


def number(value: float) -> str:
    """A float literal without binary noise (0.001, not 0.0010000000000000009)."""
    text = f"{value:.10g}"
    return text


def names(service: Service) -> c.HttpNames:
    """The HTTP metric and label names of the service's metric convention (its own, for custom)."""
    return service.http_names


def failed(service: Service) -> str:
    """The service's requests answered with a 5xx status (grouped "5xx" or raw "503" alike)."""
    return names(service).failed(service.name)


def error_ratio(service: Service, window: Duration, by: tuple[str, ...]) -> str:
    """5xx / all requests; 0 (not empty) when there are requests but no errors."""
    return ErrorRatio(service)(window, by)


class ErrorRatio:
    """error_ratio of one service at any window: its two selectors written once for all its windows."""

    def __init__(self, service: Service) -> None:
        self.total, self.errors = svc(names(service).requests, service.name), failed(service)

    def __call__(self, window: Duration, by: tuple[str, ...]) -> str:
        total = sum_by(by, rate(self.total, window))
        errors = sum_by(by, rate(self.errors, window))
        return f"({errors} or {total} * 0) / {total}"
