"""verify takes the running stack's profile: a different --profile is refused at once, not after minutes."""

from __future__ import annotations

from typer.testing import CliRunner

from stack.cli import app
from stack.runtime.lifecycle import verify_profile
from stack.runtime.state import State, write_state


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
