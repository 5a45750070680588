"""I/O: what the writer may touch. It owns only what it wrote, inside the project, through no symlink.

- The project root is the directory holding stack.yaml as named: a stack.yaml that is a symlink to a file in
  another directory is refused (generate would otherwise write beside the link's target).
- Each output directory (`output.*_dir`) is refused when it is the project root (its own .gitignore and
  stack.yaml would become generated files), git's directory, a directory holding a stack.yaml, or when it or a
  directory above it is a symlink.
- Every generated path is one line of the manifest: a path with a control character in it is refused.
- The manifest's entries are checked: a relative path, one per line, no control character, no `..`; only those
  inside an output directory may be pruned (others are left where they are).
- A file in the way that the manifest does not list, and that differs from the plan, is the user's: refused.

Every refusal is `<field> in <source>: <what>, got <value>` (a StackError: exit 2, nothing written).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from stack.errors import StackError, shown
from stack.settings import StackSettings
from stack.sources import Sources

MANIFEST = ".obsstack-generated"
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
GIT_DIR = ".git"


def refusal(field: str, source: object, what: str, value: object) -> StackError:
    return StackError(f"{field} in {source}: {what}, got {shown(value)}")


def project_root(config: Path) -> Path:
    """The directory holding the config file as named; refused when the file is a symlink out of it."""
    path = Path(os.path.abspath(config))
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(path.parent.resolve()):
            what = (
                f"{path.name} is a symlink to a file outside its directory {path.parent}, where generate would "
                "write; expected the file itself (copy it, or run obsstack in the target's directory)"
            )
            raise refusal("--config", "the command line", what, str(target))
    return path.parent


@dataclass(frozen=True)
class Outputs:
    """The output directories by field (`output.alerts_dir` -> `alerts`) and where each value came from."""

    dirs: Mapping[str, str]
    sources: Mapping[str, str]
    config_name: str = "stack.yaml"

    def field_of(self, path: str) -> str:
        """The field of the output directory holding `path` (the deepest one), or "" if none does."""
        holding = [(len(d), f) for f, d in self.dirs.items() if path.startswith(d.rstrip("/") + "/")]
        return max(holding)[1] if holding else ""

    def refuse(self, path: str, what: str, value: object) -> StackError:
        field = self.field_of(path)
        return refusal(field, self.sources[field], what, value) if field else refusal(path, "the plan", what, value)


def outputs(settings: StackSettings, config: Path) -> Outputs:
    """Every output directory of the settings (the disabled targets' too: their old files are pruned)."""
    sources = Sources(config, {})
    dirs = {f"output.{name}": str(value) for name, value in settings.output.model_dump().items()}
    return Outputs(dirs, {field: sources.of(tuple(field.split("."))) for field in dirs}, config.name)


def check_outputs(root: Path, owned: Outputs) -> None:
    """Refuse an output directory that overlaps the project's own files or leads through a symlink."""
    real_root = root.resolve()
    for field, value in owned.dirs.items():
        source, parts = owned.sources[field], PurePosixPath(value).parts
        if not parts or parts == (".",):
            what = "is the project root, whose own files (.gitignore, stack.yaml) would become generated ones"
            raise refusal(field, source, what + "; expected a directory of its own", value)
        if parts[0] == GIT_DIR:
            raise refusal(field, source, "is inside git's own directory; expected a directory of its own", value)
        linked = _symlink_in(root, parts)
        if linked is not None:
            through = "is a symlink" if linked == value else f"leads through the symlink {shown(linked)}"
            raise refusal(field, source, f"{through} (obsstack writes only real directories in the project)", value)
        if not (root / value).resolve().is_relative_to(real_root):
            raise refusal(field, source, "is outside the project; expected a directory inside it", value)
        if any((root / value / name).exists() for name in {"stack.yaml", owned.config_name}):
            what = "holds a stack.yaml (a project of its own); expected a directory for generated files only"
            raise refusal(field, source, what, value)


def _symlink_in(root: Path, parts: Iterable[str]) -> str | None:
    """The first of root/parts[0], root/parts[0]/parts[1], ... that is a symlink, as a relative path."""
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current.relative_to(root).as_posix()
        if not current.exists():
            return None
    return None


def check_planned(root: Path, paths: Iterable[str], owned: Outputs | None) -> None:
    """Each generated path is one clean manifest line and is reached through no symlink."""
    seen: set[str] = set()
    for path in paths:
        if CONTROL.search(path):
            what = "a generated file name holds a control character (a newline would split the manifest's lines)"
            raise (owned.refuse(path, what, path) if owned else refusal(path, "the plan", what, path))
        parent = path.rpartition("/")[0]
        if parent and parent not in seen:
            seen.add(parent)
            linked = _symlink_in(root, parent.split("/"))
            if linked is not None:
                what = f"a generated file would be written through the symlink {shown(linked)}"
                raise (owned.refuse(path, what, path) if owned else refusal(path, "the plan", what, path))


@dataclass(frozen=True)
class Manifest:
    """The paths the previous generate wrote: `owned` may be pruned, `elsewhere` (outside today's output
    directories, e.g. after output.compose_dir changed) are left where they are."""

    owned: frozenset[str]
    elsewhere: frozenset[str]


def read_manifest(root: Path, owned: Outputs | None = None) -> Manifest:
    path = root / MANIFEST
    if path.is_symlink():
        raise refusal(MANIFEST, root, "is a symlink, not the manifest obsstack writes; remove it", os.readlink(path))
    if not path.exists():
        return Manifest(frozenset(), frozenset())
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation: a \r in a line is refused
    except (OSError, UnicodeDecodeError) as exc:
        raise refusal(MANIFEST, root, f"cannot be read ({exc}); remove it and run generate again", MANIFEST) from None
    entries: set[str] = set()
    for number, line in enumerate(text.split("\n"), 1):
        if line and not line.startswith("#"):
            entries.add(_entry(root, number, line))
    inside = {e for e in entries if owned is None or owned.field_of(e)}
    return Manifest(frozenset(inside), frozenset(entries - inside))


def _entry(root: Path, number: int, line: str) -> str:
    """One manifest line, which must be a normal relative path of a file inside the project."""
    pure = PurePosixPath(line)
    if (
        CONTROL.search(line)
        or "\\" in line
        or pure.is_absolute()
        or ".." in pure.parts
        or pure.as_posix() != line
        or line in (MANIFEST, ".")
    ):
        what = f"line {number} is not a relative path of a generated file (one path a line, no '..'); remove the file"
        raise refusal(MANIFEST, root, what, line)
    return line
