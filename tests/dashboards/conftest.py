"""The dashcheck binary `obsstack components build dashcheck` puts in the component cache."""

from __future__ import annotations

import os

import pytest

from stack.tools import cached_binary
from stack.validate.dashboards import DASHCHECK, SDK_VERSION


@pytest.fixture
def dashcheck() -> str:
    """dashcheck's path; under CI a missing build fails the test instead of skipping it."""
    found = cached_binary(DASHCHECK, SDK_VERSION, DASHCHECK)
    if found is None:
        message = f"dashcheck {SDK_VERSION} is not built (obsstack components build dashcheck)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return str(found)
