"""What every settings model shares: the frozen base (unknown keys and non-finite numbers refused), the
constrained number types, and the patterns names and values of stack.yaml must match whole (\\Z: no newline).

Like the models, the settings modules leave out `from __future__ import annotations` (see stack.models)."""

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}\Z")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}\Z")
LABEL_VALUE_RE = re.compile(r"^[A-Za-z0-9 ._:/@+-]{0,128}\Z")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
IMAGE_RE = re.compile(
    r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})\Z"
)
PATH_RE = re.compile(r"^/[A-Za-z0-9._~/-]*\Z")
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}\Z")
METRIC_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}\Z")
ALERT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}\Z")
TITLE_RE = re.compile(r"^[A-Za-z0-9 ._:/()%+-]{1,80}\Z")
UNIT_RE = re.compile(r"^[a-z][a-z0-9_:/.-]{0,31}\Z")
RESERVED_LABELS = frozenset({"service", "job", "instance", "severity", "alertname", "le", "burnrate_tier"})
KINDS = ("external", "command", "image", "build")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

Ratio = Annotated[float, Field(gt=0, lt=1)]
Seconds = Annotated[float, Field(gt=0)]
Port = Annotated[int, Field(ge=1, le=65535, strict=True)]  # strict: YAML `true` is not port 1


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
