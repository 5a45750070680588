"""settings -> the Kubernetes target (pure): a Kustomize base and Helm values overlays."""

from __future__ import annotations

from typing import Any

from stack.models import ConfigModel
from stack.settings import StackSettings


def build_kubernetes(settings: StackSettings) -> dict[str, ConfigModel | dict[str, Any] | str]:
    """File name (relative to output.kubernetes_dir) -> its document."""
    raise NotImplementedError("the Kubernetes target is being built")
