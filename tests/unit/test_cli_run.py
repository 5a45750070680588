"""cli.run, the `obsstack` console script: after generate the process ends without tearing down what the run
built (no atexit handler runs, no object is freed one by one), with its output complete and its exit code kept;
every other command exits the usual way. Each case is a real process started as the console script starts one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stack.config import load_settings
from stack.errors import ConfigError
from stack.render import render_all
from stack.write import compare, outputs
from stack.yaml_load import read_yaml
from tests.conftest import MINIMAL_STACK

# what the console script does, with an atexit handler that shows whether the interpreter's usual exit ran
SCRIPT = """
import atexit, sys
atexit.register(lambda: print("usual exit", flush=True))
sys.argv = ["obsstack", *sys.argv[1:]]
from stack.cli import run
sys.exit(run())
"""


def obsstack(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_generate_ends_without_teardown_and_keeps_its_output(tmp_path: Path) -> None:
    """generate: its summary line is printed, exit 0, and the usual exit (atexit) never runs."""
    (tmp_path / "stack.yaml").write_text(MINIMAL_STACK, encoding="utf-8")
    result = obsstack("generate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("generated ")
    assert "usual exit" not in result.stdout
    assert (tmp_path / "alerts").is_dir()


def test_stale_check_keeps_exit_code_and_the_whole_diff(tmp_path: Path) -> None:
    """generate --check on a hand-edited file: exit 1, and the diff on the pipe is complete to its last line
    (buffered output is flushed before the process ends)."""
    (tmp_path / "stack.yaml").write_text(MINIMAL_STACK, encoding="utf-8")
    assert obsstack("generate", cwd=tmp_path).returncode == 0
    dashboards = sorted((tmp_path / "dashboards").glob("*.json"))
    for dashboard in dashboards:  # every line changes: a diff larger than a pipe's or a stream's buffer
        dashboard.write_text(dashboard.read_text(encoding="utf-8").replace('"', "'"), encoding="utf-8")
    result = obsstack("generate", "--check", cwd=tmp_path)
    assert result.returncode == 1
    assert "stale:" in result.stderr
    config = tmp_path / "stack.yaml"
    settings = load_settings(config)
    expected = compare(tmp_path, render_all(settings), outputs(settings, config)).diff
    assert len(result.stdout) > 1 << 16  # more than a pipe holds: written while the test reads it
    assert result.stdout == expected  # the whole diff, and nothing after it (no usual exit)


def test_bad_input_keeps_exit_code_2_and_its_line(tmp_path: Path) -> None:
    """A refused stack.yaml: the one error line on stderr, exit 2."""
    (tmp_path / "stack.yaml").write_text("services: 3\n", encoding="utf-8")
    result = obsstack("generate", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("services: [\n", "malformed YAML"),  # refused while parsed, by the child that reads it aside
        ("a: 1\na: 2\n", "duplicate key 'a' at line 2"),
        ("- a\n", "top level is a list, expected a mapping of settings"),
    ],
)
def test_a_stack_yaml_refused_while_read_aside_gives_the_same_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    """generate reads stack.yaml in a forked child while it imports the rest: a text the reader refuses gives the
    line the reader's own error gives in process (the parent reads it again and raises), exit 2, files untouched."""
    (tmp_path / "stack.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # as the command names it: --config's default, stack.yaml
    with pytest.raises(ConfigError) as error:
        read_yaml(Path("stack.yaml"))
    result = obsstack("generate", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: {error.value}\n"
    assert expected in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.yaml"]


def test_other_commands_exit_the_usual_way(tmp_path: Path) -> None:
    """--help starts nothing that generate's exit applies to: the interpreter's usual exit runs (atexit)."""
    result = obsstack("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "generate" in result.stdout
    assert result.stdout.rstrip().endswith("usual exit")
