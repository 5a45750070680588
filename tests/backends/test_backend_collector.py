"""The collector built at the pinned version accepts the generated config of every choice of stores
(`otelcol-obsstack validate --config`), containers and local placement alike: exporters, connectors and
pipelines are what that collector release understands, not only what our models allow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from stack import conventions as c
from stack.render import render_all
from stack.settings import StackSettings
from stack.tools import cached_binary
from tests.support import absent

pytestmark = pytest.mark.tools
LOCAL = c.Placement(local=True, data_root="/d", project_root="/p", config_root="/cfg")


def unavailable(message: str) -> None:
    """A missing build skips the test here and fails it under CI=true."""
    absent(message)


def collector(settings: StackSettings, config: dict) -> str:
    """The cached collector at the pinned version, with every connector `config` uses."""
    version = settings.components.pinned("otelcol")
    binary = cached_binary("otelcol", version, "otelcol-obsstack")
    if binary is None:
        unavailable(f"otelcol {version} is not built (obsstack components build otelcol)")
    listing = subprocess.run([str(binary), "components"], capture_output=True, text=True, timeout=60, check=True)
    built = {item["name"] for item in (yaml.safe_load(listing.stdout).get("connectors") or [])}
    lacking = sorted(set(config.get("connectors", {})) - built)
    if lacking:
        unavailable(f"the cached otelcol {version} lacks connectors {', '.join(lacking)}: rebuild it with "
                    f"backends.traces={settings.backends.traces} (obsstack components build otelcol)")  # fmt: skip
    return str(binary)


@pytest.mark.parametrize("placement", [c.IN_CONTAINERS, LOCAL], ids=["containers", "local"])
def test_the_pinned_collector_accepts_the_config(settings: StackSettings, placement: c.Placement,
                                                 tmp_path: Path) -> None:  # fmt: skip
    """`validate --config` exits 0 on the collector config of this choice of stores."""
    plan = {a.path: a.text for a in render_all(settings, placement)}
    text = plan[f"{settings.output.compose_dir}/{c.OTELCOL_CONFIG}"]
    binary = collector(settings, yaml.safe_load(text))
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    done = subprocess.run([binary, "validate", f"--config={config}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
