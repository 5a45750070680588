"""Typed models of each component's configuration; unknown keys are rejected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """Frozen, closed model; dumps by alias without unset optional keys, in field order."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data
