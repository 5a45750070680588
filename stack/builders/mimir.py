"""settings -> the Grafana Mimir target (pure): mimirtool rule files, tenant Alertmanager config, ring config."""

from __future__ import annotations

from typing import Any

from stack import conventions as c
from stack.models import ConfigModel
from stack.settings import StackSettings


def build_mimir(settings: StackSettings, placement: c.Placement) -> dict[str, ConfigModel | dict[str, Any] | str]:
    """File name (relative to output.mimir_dir) -> its document."""
    raise NotImplementedError("the Mimir target is being built")
