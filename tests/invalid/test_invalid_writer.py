"""The writer owns only what it wrote (issue 28): output directories that overlap the project's own files, a
symlink out of the project (output directory, generated file, stack.yaml itself) and a tampered manifest are
refused with one line `error: <field> in <source>: <what>, got <value>`, exit 2, nothing written or removed,
inside the project or outside it; a file the writer did not write is never deleted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stack.cli import app
from stack.errors import StackError
from stack.render import Artifact
from stack.write import MANIFEST, compare

VALID = "project: demo\nservices:\n  - name: orders\n    port: 8000\n"


def tree(top: Path) -> dict[str, str | bytes]:
    """Every entry under `top`, symlinks as their target (never followed), files as their bytes."""
    found: dict[str, str | bytes] = {}
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(directory) / name
            key = str(path.relative_to(top))
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                found[key] = path.read_bytes()
    return found


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, Path]:
    """(a generated project holding its own .gitignore, a sentinel directory outside it)."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("outside\n")
    (project / ".gitignore").write_text("mine\n")
    (project / "stack.yaml").write_text(VALID)
    assert generate(project / "stack.yaml").exit_code == 0
    return project, outside


def generate(config: Path, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["generate", "--config", str(config), *args], env=env)


def refused(top: Path, config: Path, fragments: list[str], env: dict[str, str] | None = None) -> str:
    """generate and generate --check both exit 2 with one error line holding every fragment; nothing changes."""
    before = tree(top)
    for args in ((), ("--check",)):
        result = generate(config, *args, env=env)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.exit_code == 2, result.output
        assert len(lines) == 1, lines
        assert lines[0].startswith("error: "), lines
        assert "Traceback" not in result.output
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        assert tree(top) == before, "a refusal must not write or remove any file"
    return lines[0]


def test_compose_dir_at_the_project_root_is_refused(place, tmp_path) -> None:
    """output.compose_dir: . would overwrite the project's .gitignore: refused, naming the field, file and value."""
    project, _ = place
    (project / "stack.yaml").write_text(VALID + "output: {compose_dir: .}\n")
    line = refused(tmp_path, project / "stack.yaml", ["output.compose_dir in", "stack.yaml", "project root", "got '.'"])
    assert line.count("got") == 1
    assert (project / ".gitignore").read_text() == "mine\n"


def test_a_refusal_names_the_variable_that_set_the_value(place, tmp_path) -> None:
    """The same directory from OBSSTACK_OUTPUT__ALERTS_DIR names that variable as the source."""
    project, _ = place
    env = {"OBSSTACK_OUTPUT__ALERTS_DIR": "."}
    refused(tmp_path, project / "stack.yaml", ["output.alerts_dir in OBSSTACK_OUTPUT__ALERTS_DIR", "got '.'"], env)


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        ("dashboards_dir", ".git/dashboards", "git's own directory"),
        ("mimir_dir", "sub", "holds a stack.yaml"),
    ],
)
def test_output_dirs_overlapping_the_projects_own_files_are_refused(place, tmp_path, field, value, what) -> None:
    """An output directory inside .git, or one holding a stack.yaml of its own, is refused."""
    project, _ = place
    (project / ".git").mkdir()
    (project / "sub").mkdir()
    (project / "sub" / "stack.yaml").write_text(VALID)
    (project / "stack.yaml").write_text(VALID + f"output: {{{field}: {value}}}\n")
    refused(tmp_path, project / "stack.yaml", [f"output.{field} in", what, f"got '{value}'"])


@pytest.mark.parametrize("inside", [False, True])
def test_a_symlinked_output_dir_is_refused(place, tmp_path, inside) -> None:
    """An output directory that is a symlink (out of the project or to another directory in it) is refused,
    naming output.<field> and its value; nothing is written where it points."""
    project, outside = place
    target = project / "elsewhere" if inside else outside / "boards"
    target.mkdir()
    (project / "boards").symlink_to(target)
    (project / "stack.yaml").write_text(VALID + "output: {dashboards_dir: boards}\n")
    refused(tmp_path, project / "stack.yaml", ["output.dashboards_dir in", "symlink", "got 'boards'"])
    assert list(target.iterdir()) == []


def test_a_symlink_below_an_output_dir_is_refused(place, tmp_path) -> None:
    """alerts/tests as a symlink out of the project: refused; the directory it points to is left alone."""
    project, outside = place
    tests = project / "alerts" / "tests"
    for child in tests.iterdir():
        child.unlink()
    tests.rmdir()
    tests.symlink_to(outside)
    refused(tmp_path, project / "stack.yaml", ["output.alerts_dir in", "symlink 'alerts/tests'"])


def test_a_generated_file_that_is_a_symlink_is_refused(place, tmp_path) -> None:
    """A generated file replaced by a symlink to a file outside: refused, the outside file neither read into a
    diff nor overwritten."""
    project, outside = place
    rules = project / "alerts" / "orders.rules.yml"
    rules.unlink()
    rules.symlink_to(outside / "keep.txt")
    refused(tmp_path, project / "stack.yaml", ["output.alerts_dir in", "is a symlink", "got 'alerts/orders.rules.yml'"])
    assert (outside / "keep.txt").read_text() == "outside\n"


def test_a_stack_yaml_symlinked_into_another_directory_is_refused(tmp_path) -> None:
    """stack.yaml as a symlink to a file in another directory: refused; nothing is written beside the link or
    beside its target."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (outside / "stack.yaml").write_text(VALID)
    (project / "stack.yaml").symlink_to(outside / "stack.yaml")
    refused(tmp_path, project / "stack.yaml", ["--config in the command line", "a symlink to a file outside"])


def test_a_stack_yaml_symlinked_inside_the_project_is_followed(tmp_path) -> None:
    """A stack.yaml linking to a file in the project's own tree is read; the files go beside the link."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "stack.yaml").write_text(VALID)
    (tmp_path / "stack.yaml").symlink_to(tmp_path / "conf" / "stack.yaml")
    assert generate(tmp_path / "stack.yaml").exit_code == 0
    assert (tmp_path / "alerts" / "orders.rules.yml").is_file()
    assert not (tmp_path / "conf" / "alerts").exists()


def test_a_users_file_in_the_way_is_refused_not_overwritten(tmp_path) -> None:
    """A file the manifest does not list, where a generated one goes, with other bytes: refused, kept."""
    (tmp_path / "stack.yaml").write_text(VALID)
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose" / ".gitignore").write_text("my own\n")
    refused(tmp_path, tmp_path / "stack.yaml", ["output.compose_dir in", "not a file obsstack wrote", ".gitignore"])


def test_a_file_with_the_generated_bytes_is_adopted(place) -> None:
    """Without the manifest, files already holding the generated bytes are taken as generated (no refusal)."""
    project, _ = place
    (project / MANIFEST).unlink()
    result = generate(project / "stack.yaml")
    assert result.exit_code == 0, result.output
    assert "1 written" in result.stdout  # the manifest only


def test_manifest_entries_outside_the_output_dirs_are_never_deleted(place) -> None:
    """A manifest listing the project's own files (README.md, stack.yaml's neighbour) deletes none of them."""
    project, _ = place
    (project / "README.md").write_text("readme\n")
    manifest = project / MANIFEST
    manifest.write_text(manifest.read_text() + "README.md\n.gitignore\n")
    assert generate(project / "stack.yaml").exit_code == 0
    assert (project / "README.md").read_text() == "readme\n"
    assert (project / ".gitignore").read_text() == "mine\n"
    assert "README.md" not in manifest.read_text()


@pytest.mark.parametrize("entry", ["../outside/keep.txt", "/etc/hostname", "alerts/a\rb", "alerts/./x", "a\\b"])
def test_a_malformed_manifest_entry_is_refused(place, tmp_path, entry) -> None:
    """A manifest line that is not a plain relative path is refused with its line number; nothing is pruned."""
    project, _ = place
    manifest = project / MANIFEST
    manifest.write_text(manifest.read_text() + entry + "\n")
    refused(tmp_path, project / "stack.yaml", [f"{MANIFEST} in {project}", "line", "not a relative path"])


def test_a_symlink_listed_in_the_manifest_is_not_followed_when_pruning(place, tmp_path) -> None:
    """A stale manifest entry that is now a symlink is left alone, and so is the file it points to."""
    project, outside = place
    link = project / "alerts" / "old.rules.yml"
    link.symlink_to(outside / "keep.txt")
    manifest = project / MANIFEST
    manifest.write_text(manifest.read_text() + "alerts/old.rules.yml\n")
    assert generate(project / "stack.yaml").exit_code == 0
    assert link.is_symlink()
    assert (outside / "keep.txt").read_text() == "outside\n"


def test_a_generated_path_with_a_newline_is_refused() -> None:
    """A generated file name holding a newline would split the manifest's lines: the writer refuses the plan."""
    with pytest.raises(StackError, match="control character"):
        compare(Path("/nonexistent-project"), [Artifact("alerts/orders\n.rules.yml", "x\n")])


def test_a_long_value_is_cut_in_the_refusal(place, tmp_path) -> None:
    """A symlinked output directory with a 200-character name is echoed cut to about 80 characters."""
    project, outside = place
    name = "d" * 200
    (project / name).symlink_to(outside)
    (project / "stack.yaml").write_text(VALID + f"output: {{alerts_dir: {name}}}\n")
    line = refused(tmp_path, project / "stack.yaml", ["output.alerts_dir in", "(202 characters)"])
    assert name not in line
