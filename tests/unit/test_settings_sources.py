"""Settings sources: precedence declared on StackSettings, one validation, partial nested values, YAML bounds."""

from __future__ import annotations

import time

import pytest

from stack.config import load_settings
from stack.errors import ConfigError
from stack.settings import StackSettings, file_values

STACK = "project: fromfile\nservices: [{name: api}]\n"


def test_precedence_is_declared_on_the_settings_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """StackSettings itself applies flags > OBSSTACK_* environment > file values > defaults."""
    monkeypatch.setenv("OBSSTACK_PROFILE", "fast")
    with file_values({"project": "fromfile", "profile": "production", "services": [{"name": "api"}]}):
        assert StackSettings().profile == "fast"
        assert StackSettings(profile="production").profile == "production"
        assert StackSettings().project == "fromfile"
        assert StackSettings().alerting.grafana_url == "http://127.0.0.1:3000"


def test_file_values_apply_only_inside_their_block() -> None:
    """Outside file_values, StackSettings sees no stack.yaml (so services, which are required, are missing)."""
    with file_values({"services": [{"name": "api"}]}):
        assert StackSettings().services[0].name == "api"
    with pytest.raises(ValueError, match="services"):
        StackSettings()


def test_settings_are_validated_once(make_project, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_settings runs the cross-field checks once and returns a plain StackSettings."""
    calls: list[int] = []
    check_ports = StackSettings._check_ports

    def counting(self: StackSettings) -> None:
        calls.append(1)
        check_ports(self)

    monkeypatch.setattr(StackSettings, "_check_ports", counting)
    settings = load_settings(make_project(STACK))
    assert len(calls) == 1
    assert type(settings) is StackSettings


def test_a_component_given_only_its_port_keeps_its_pinned_image(make_project) -> None:
    """components.grafana: {port: 3001} changes the port and keeps the default pinned image."""
    settings = load_settings(make_project(STACK + "components:\n  grafana: {port: 3001}\n"))
    assert settings.components.grafana.port == 3001
    assert settings.components.grafana.image == StackSettings.model_fields["components"].default.grafana.image


def test_a_component_port_from_the_environment_is_read_as_a_number(make_project, monkeypatch) -> None:
    """OBSSTACK_COMPONENTS__LOKI__PORT=3101 (text, as every variable) sets the port to the number 3101."""
    monkeypatch.setenv("OBSSTACK_COMPONENTS__LOKI__PORT", "3101")
    assert load_settings(make_project(STACK)).components.loki.port == 3101


@pytest.mark.parametrize("value", ["true", "9090.5", "'x'", "70000"])
def test_a_component_port_must_be_a_port_number(make_project, value: str) -> None:
    """A component port that is a boolean, a fraction, text or above 65535 is one error naming the field."""
    with pytest.raises(ConfigError) as caught:
        load_settings(make_project(STACK + f"components:\n  grafana: {{port: {value}}}\n"))
    assert len(caught.value.lines()) == 1
    assert caught.value.lines()[0].startswith("components.grafana.port in ")


def test_small_yaml_aliases_are_accepted(make_project) -> None:
    """An anchor reused a few times (shared labels) loads like the values written out."""
    text = "services:\n  - {name: a, labels: &l {team: t}}\n  - {name: b, port: 8001, labels: *l}\n"
    assert load_settings(make_project(text)).services[1].labels == {"team": "t"}


def test_an_alias_bomb_is_refused_without_expanding_it(make_project) -> None:
    """Twelve levels of ten aliases (10**12 values) is refused as one line in well under a second."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 12)]
    config = make_project("\n".join(lines) + "\n" + STACK)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert time.perf_counter() - started < 1.0
    assert len(caught.value.lines()) == 1
    assert "expected at most 10000 values" in caught.value.lines()[0]
