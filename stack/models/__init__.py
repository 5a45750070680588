"""Typed models of each component's configuration; unknown keys are rejected.

The model modules (and the settings modules) do not use `from __future__ import annotations`: pydantic would
compile every string annotation back into a type when it builds the class, about a sixth of building them at
import. A model that names itself or a later one quotes that name.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """Frozen, closed model; dumps by alias without unset optional keys, in field order."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data
