"""Adding a probed entry to an existing stack.yaml as text: at the end of `services:`, indented like the
file's items, every other line kept."""

from __future__ import annotations

import pytest
import yaml

from stack.probe.append import append_service
from stack.probe.observed import ProbeError

ENTRY = "  - name: payments\n    # probed\n    port: 8101\n"


def test_entry_goes_after_the_last_item_and_its_indented_comments() -> None:
    """Indented comments belong to the last item; a top-level comment and key after the block stay after it."""
    text = "project: x\nservices:\n  - name: api\n    port: 8000\n    # slo: {}\n\n# alerting below\nalerting: {}\n"
    result = append_service(text, ENTRY, "stack.yaml")
    assert result == (
        "project: x\nservices:\n  - name: api\n    port: 8000\n    # slo: {}\n"
        + ENTRY
        + "\n# alerting below\nalerting: {}\n"
    )
    assert [s["name"] for s in yaml.safe_load(result)["services"]] == ["api", "payments"]


def test_deeper_indentation_is_followed() -> None:
    """Items at four spaces: the entry's dash at four spaces too, its keys two further."""
    text = "services:\n    - name: api\n      port: 8000\n"
    result = append_service(text, ENTRY, "stack.yaml")
    assert result.endswith("    - name: payments\n      # probed\n      port: 8101\n")
    assert [s["port"] for s in yaml.safe_load(result)["services"]] == [8000, 8101]


def test_a_file_without_services_gets_the_block_at_its_end() -> None:
    """No `services:` key (and no final newline): the block is added at the end."""
    result = append_service("profile: fast", ENTRY, "stack.yaml")
    assert result == "profile: fast\n\nservices:\n" + ENTRY
    assert yaml.safe_load(result)["services"][0]["name"] == "payments"


def test_flow_style_services_are_refused_in_one_line() -> None:
    """`services: [...]`: one line asking for a block sequence, nothing guessed."""
    with pytest.raises(ProbeError, match="flow style"):
        append_service("services: [{name: api}]\n", ENTRY, "stack.yaml")
