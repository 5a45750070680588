"""Settings: defaults, precedence and profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.config import load_settings
from stack.durations import Duration
from stack.errors import ConfigError
from stack.settings import DBPoolAlert


def test_defaults_match_the_documented_thresholds(make_project) -> None:
    """A stack.yaml naming only a service gets 200 ms p95, 1 % errors, 80 % pool, 99.9 % SLO, 15s scrapes."""
    settings = load_settings(make_project())
    service = settings.services[0]
    assert (service.latency.warning, service.error_rate.warning) == (0.2, 0.01)
    assert service.db_pool is None
    assert DBPoolAlert().warning == 0.8
    assert service.kind == "external"
    assert service.health_path is None
    assert not service.faults
    assert service.slo.objective == 0.999
    assert settings.timing.scrape_interval == Duration.parse("15s")
    assert settings.timing.slo_window == Duration.parse("30d")
    assert 0.2 in settings.metrics.latency_buckets


def test_precedence_is_flags_then_environment_then_file(make_project, monkeypatch) -> None:
    """A flag beats OBSSTACK_* environment, which beats stack.yaml, which beats the default."""
    config = make_project("project: fromfile\nprofile: production\nservices: [{name: api}]\n")
    assert load_settings(config).project == "fromfile"
    monkeypatch.setenv("OBSSTACK_PROJECT", "fromenv")
    monkeypatch.setenv("OBSSTACK_PROFILE", "fast")
    assert load_settings(config).project == "fromenv"
    assert load_settings(config).profile == "fast"
    assert load_settings(config, {"profile": "production"}).profile == "production"


def test_nested_environment_override(make_project, monkeypatch) -> None:
    """OBSSTACK_ALERTING__GRAFANA_URL overrides a nested setting."""
    monkeypatch.setenv("OBSSTACK_ALERTING__GRAFANA_URL", "http://grafana.internal:3000")
    assert load_settings(make_project()).alerting.grafana_url == "http://grafana.internal:3000"


def test_fast_profile_changes_windows_not_thresholds(make_project) -> None:
    """The fast profile has second-scale timings and the same thresholds."""
    prod = load_settings(make_project(), {"profile": "production"})
    fast = load_settings(make_project(), {"profile": "fast"})
    assert fast.timing.scrape_interval == Duration.parse("1s")
    assert fast.timing.rate_window < prod.timing.rate_window
    assert fast.services == prod.services


def test_partial_profile_override_keeps_that_profiles_defaults(make_project) -> None:
    """Overriding one fast-profile key keeps the other fast defaults (not the production ones)."""
    config = make_project("services: [{name: api}]\nprofiles:\n  fast: {rate_window: 40s}\n")
    fast = load_settings(config, {"profile": "fast"}).timing
    assert fast.rate_window == Duration.parse("40s")
    assert fast.scrape_interval == Duration.parse("1s")


def test_settings_are_frozen(make_project) -> None:
    """Settings cannot be mutated after loading."""
    settings = load_settings(make_project())
    with pytest.raises(Exception, match="frozen"):
        settings.services[0].port = 1  # type: ignore[misc]


def test_duration_round_trip() -> None:
    """Durations parse compound forms and print canonically."""
    assert str(Duration.parse("90s")) == "1m30s"
    assert Duration.parse("1h30m").seconds == 5400
    assert str(Duration.parse("30d") * (5 / 43200)) == "5m"
    with pytest.raises(ValueError, match="5 minutes"):
        Duration.parse("5 minutes")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A missing stack.yaml is a one-line error naming the path."""
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")
