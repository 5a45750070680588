"""Checks of single values of stack.yaml shared by the settings models: paths, URLs, names obsstack reserves
and labels its rules read. Each returns the value or raises ValueError with what is wrong and the value."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from stack import conventions as c
from stack.errors import shown

SAFE_PATH_RE = re.compile(r"^[A-Za-z0-9._/+@-]+\Z")
MAX_PATH, MAX_NAME = 1024, 255  # what every file system obsstack writes to holds (Linux: PATH_MAX/4, NAME_MAX)
VERSION_RE = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]{1,40})?\Z")
# names a service cannot have: each is also the name of a file or namespace obsstack generates for the whole
# stack (alerts/platform.rules.yml, mimir/rules/obsstack-platform.yaml) or of a compose service of its own
RESERVED_SERVICE_NAMES = frozenset({
    c.PLATFORM_RULES_FILE.removesuffix(".rules.yml"), c.MIMIR_PLATFORM_NAMESPACE, "loadgen", c.OVERVIEW_DASHBOARD,
})  # fmt: skip
# labels the generated rules and panels read from the scraped series: a service label of the same name would
# replace the scraped one (Prometheus' target labels win without honor_labels), and the rules would not match
RULE_LABELS = frozenset(
    {"service", "job", "instance", "severity", "alertname", "le", "burnrate_tier", "quantile", "code", "status"}
    | {label for names in c.CONVENTIONS.values() for label in (names.route, names.method, names.status)}
    | {"route", "method", "handler"}
)
TEMPLATE_MARKERS = ("{{", "}}")


def check_buckets(value: tuple[float, ...]) -> tuple[float, ...]:
    if not value or any(b <= 0 for b in value) or list(value) != sorted(set(value)):
        raise ValueError(f"must be strictly increasing positive seconds, got {shown(list(value))}")
    return value


def check_relative_path(value: str) -> str:
    """A path inside the project: relative, no '..', only letters, digits and . _ / + @ - (no newline)."""
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or not SAFE_PATH_RE.fullmatch(value):
        raise ValueError(
            f"must be a relative path inside the project (no '..', not absolute, letters, digits, "
            f"'.', '_', '/', '+', '@' or '-'), got {shown(value)}"
        )
    if len(value) > MAX_PATH or any(len(part) > MAX_NAME for part in path.parts):
        raise ValueError(
            f"must be a path of at most {MAX_PATH} characters, each name at most {MAX_NAME}, got {shown(value)}"
        )
    return str(path)


def check_url_parts(value: str) -> str:
    """A URL whose host and port parse (a port of 1 to 65535, a closed IPv6 literal)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"must be a URL with a valid host and port ({error}), got {shown(value)}") from None
    if not parts.hostname or port == 0:
        raise ValueError(f"must be a URL with a host and a port of 1 to 65535, got {shown(value)}")
    return value


def check_service_name(value: str) -> str:
    if value in RESERVED_SERVICE_NAMES:
        raise ValueError(
            f"{value!r} is the name of a file or namespace obsstack generates for the whole stack, expected "
            f"another name than {', '.join(sorted(RESERVED_SERVICE_NAMES))}"
        )
    return value


def check_own_labels(labels: dict[str, str], read: set[str]) -> None:
    """A service's labels must not shadow a label the rules read (`read`: the service's own HTTP labels)."""
    for key in labels:
        if key in RULE_LABELS or key in read:
            raise ValueError(
                f"labels: {key!r} is a label the generated rules read from the scraped series; a service label "
                f"of that name would replace it and the alerts would not match, got {key}={shown(labels[key])}"
            )


def check_env_value(key: str, value: str) -> None:
    if any(marker in value for marker in TEMPLATE_MARKERS):
        raise ValueError(f"env {key}: template markers '{{{{' and '}}}}' are not passed through, got {shown(value)}")


def check_version(value: str) -> str:
    """A pinned tool version: digits and dots (a pre-release suffix allowed), nothing a shell would read."""
    if not VERSION_RE.fullmatch(value):
        raise ValueError(f"must be a version such as 1.2.3, got {shown(value)}")
    return value
