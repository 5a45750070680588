"""verify takes the running stack's profile: a different --profile is refused at once, not after minutes."""

from __future__ import annotations

from typer.testing import CliRunner

from stack.cli import app
from stack.config import load_settings
from stack.runtime.lifecycle import running_stores, verify_profile
from stack.runtime.state import State, read_state, write_state


def test_a_profile_other_than_the_running_stacks_is_refused_at_once(make_project) -> None:
    """`make up` (production) then `verify --profile fast` says what to do, exit 2, before any traffic."""
    config = make_project()
    write_state(config.parent, State("local", "production"))
    result = CliRunner().invoke(app, ["verify", "--config", str(config), "--profile", "fast"])
    assert result.exit_code == 2
    assert "the running stack was started with the production profile" in result.output
    assert "obsstack down && obsstack up --profile fast" in result.output


def test_without_a_profile_verify_uses_the_running_stacks(make_project) -> None:
    config = make_project()
    write_state(config.parent, State("local", "fast"))
    assert verify_profile(config.parent, None) == "fast"
    assert verify_profile(config.parent, "fast") == "fast"


def test_with_no_stack_the_requested_profile_stands(make_project) -> None:
    assert verify_profile(make_project().parent, "production") == "production"


def test_verify_asks_the_stores_the_running_stack_was_started_with(make_project, monkeypatch) -> None:
    """`up` under OBSSTACK_BACKENDS__* records the stores it runs; verify reads them from the state, whatever
    stack.yaml or the shell says later."""
    config = make_project()
    stores = {"traces": "jaeger", "logs": "victorialogs"}
    write_state(config.parent, State("local", "fast", backends=stores))
    assert read_state(config.parent) == State("local", "fast", backends=stores)
    monkeypatch.setenv("OBSSTACK_BACKENDS__TRACES", "tempo")
    settings = load_settings(config, running_stores(config.parent))
    assert (settings.backends.traces, settings.backends.logs) == ("jaeger", "victorialogs")


def test_with_no_stack_the_configured_stores_stand(make_project) -> None:
    """Nothing runs: verify's settings are stack.yaml's (defaults here), not an empty override."""
    config = make_project()
    assert running_stores(config.parent) == {}
    assert load_settings(config, running_stores(config.parent)).backends.traces == "tempo"
