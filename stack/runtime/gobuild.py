"""Build the pinned Go components into a per-user cache, and find them (or PATH's) at the pinned version.

Cache: `$OBSSTACK_CACHE` or `$XDG_CACHE_HOME/obsstack` or `~/.cache/obsstack`, one directory per
`<name>-<version>` holding its binaries (prometheus and promtool, alertmanager and amtool, ...). A directory
there is complete by construction: the binaries are built and checked in a temporary sibling, which is
renamed into place. Present means reused, never rebuilt, with one exception: the collector's modules come
from obsstack's own manifest (the component types its configs use), not from the version alone, so its
directory records the manifest's digest (`.recipe`) and a build for another manifest replaces it. Go's own
module and build caches make a rebuild after a bump fast too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from stack.errors import StackError
from stack.models.distributions import BINARIES, OCB_MODULE, GoRecipe, OcbRecipe, Recipe, SourceRecipe
from stack.render import to_yaml
from stack.runtime import uibuild
from stack.tools import cache_root, cached_binary, reported_version, staged

Echo = Callable[[str], None]
STEP_TIMEOUT = 45 * 60.0  # one build step; a cold Prometheus compile takes ~10 minutes on 2 cores
PROGRESS_EVERY = 60.0
RECIPE_STAMP = ".recipe"  # the digest of the collector manifest a cached otelcol was built from
REPLACE_RE = re.compile(r"^(replace|exclude)\s+(\((?:.|\n)*?^\)|.*)$", re.M)
GO_LINE_RE = re.compile(r"^go (\d+(?:\.\d+)*)\s*$", re.M)


def go_directive(gomod: str) -> str:
    """The Go release a go.mod's `go` line names (1.21 when it names none)."""
    found = GO_LINE_RE.search(gomod)
    return found.group(1) if found else "1.21"


def cached(name: str, version: str) -> Path | None:
    """The cached binary of component `name` at `version` (its first binary), if all its binaries are built."""
    found = [cached_binary(name, version, binary) for binary in BINARIES[name]]
    return found[0] if all(found) else None


def build(recipe: Recipe, echo: Echo) -> Path:
    """The cached binary of `recipe` (its first one; the others beside it), built first when absent."""
    done = cached(recipe.name, recipe.version)
    if done is not None and _stamped(done.parent) == recipe_stamp(recipe):
        echo(f"{recipe.name} {recipe.version}: cached at {done}")
        return done
    go_version()  # a clear line when Go is missing, before anything is created
    started = time.monotonic()
    final = cache_root() / "components" / f"{recipe.name}-{recipe.version}"
    if done is not None:
        echo(f"{recipe.name} {recipe.version}: the cached build has other components than this manifest; rebuilding")
        _retire(final)
    work = cache_root() / "work" / f"{recipe.name}-{recipe.version}"
    work.mkdir(parents=True, exist_ok=True)
    with staged(final) as staging:
        built = _produce(recipe, work, echo)
        for binary in recipe.binaries:
            shutil.copy2(built / binary, staging / binary)
            _check_reports(recipe, staging / binary)
        if (stamp := recipe_stamp(recipe)) is not None:
            (staging / RECIPE_STAMP).write_text(stamp, encoding="utf-8")
    echo(f"{recipe.name} {recipe.version}: built in {time.monotonic() - started:.0f}s -> {final / recipe.binary}")
    return final / recipe.binary


def recipe_stamp(recipe: Recipe) -> str | None:
    """The digest of what decides a build beyond its version: the collector's manifest (None for the others)."""
    if not isinstance(recipe, OcbRecipe):
        return None
    manifest = f"ocb {recipe.builder_version}\n" + to_yaml(recipe.manifest.to_data(), header="")
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def _stamped(directory: Path) -> str | None:
    try:
        return (directory / RECIPE_STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _retire(final: Path) -> None:
    """Move a cached build out of the way (a running binary of it keeps running) and remove it."""
    retired = final.with_name(f".{final.name}.retired.{os.getpid()}")
    final.rename(retired)
    shutil.rmtree(retired, ignore_errors=True)


def _produce(recipe: Recipe, work: Path, echo: Echo) -> Path:
    """The directory where the recipe's build left its binaries."""
    if isinstance(recipe, GoRecipe):
        return _build_go(recipe, work, echo)
    if isinstance(recipe, SourceRecipe):
        return _build_source(recipe, work, echo)
    return _build_ocb(recipe, work, echo)


def _check_reports(recipe: Recipe, binary: Path) -> None:
    got = reported_version(str(binary), recipe.version_flag)
    if got != recipe.version:
        raise StackError(f"{recipe.name}: the built {binary.name} reports version {got}, expected {recipe.version}")


def go_env() -> dict[str, str]:
    """The go command's environment: no toolchain downloads, no VCS stamping (modules come from the proxy)."""
    flags = os.environ.get("GOFLAGS", "")
    if "-buildvcs" not in flags:
        flags = f"{flags} -buildvcs=false".strip()
    return os.environ | {"GOTOOLCHAIN": "local", "GOFLAGS": flags}


def go_version() -> tuple[int, ...]:
    go = shutil.which("go")
    if go is None:
        raise StackError("go not found on PATH; building components needs Go (https://go.dev/dl/, or Debian's "
                         "golang-go if new enough), or put the pinned release binaries on PATH instead")  # fmt: skip
    done = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60, env=go_env())
    found = re.match(r"go(\d+(?:\.\d+)*)", done.stdout.strip())
    if done.returncode != 0 or found is None:
        raise StackError(f"`go env GOVERSION` failed: {(done.stderr or done.stdout).strip()}; expected a Go install")
    return _parse(found.group(1))


def _parse(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def need_go(name: str, required: str) -> None:
    have = go_version()
    if have < _parse(required):
        have_s = ".".join(map(str, have))
        raise StackError(f"{name}: needs Go >= {required} (its go.mod says so), found go{have_s}; install a newer Go")


def run_go(args: list[str], cwd: Path, what: str, echo: Echo, env: dict[str, str] | None = None) -> str:
    """Run one go command, echoing progress, bounded by STEP_TIMEOUT; its output, or one clear error line.
    `go mod download -json` reports its error in the JSON it prints: that output is returned to the caller."""
    echo(f"{what}: go {' '.join(args[:3])}{' ...' if len(args) > 3 else ''}")
    return _run(["go", *args], cwd, what, echo, env or go_env(), reported=lambda out: '"Error"' in out)


def _run(argv: list[str], cwd: Path, what: str, echo: Echo, env: dict[str, str],
         reported: Callable[[str], bool] = lambda out: False, log: Path | None = None) -> str:  # fmt: skip
    """stdout of one build step, its stderr appended to cwd/build.log. A failure is one error line naming the
    command and the last lines it wrote, unless `reported(stdout)` says the output carries the error. With
    `log` (a directory), stdout goes to its build.log too (tools that print their errors there: pnpm)."""
    log_file = (log or cwd) / "build.log"
    with log_file.open("a") as out, open(log_file, "rb") as tail:
        tail.seek(0, 2)
        stdout_to = out if log else subprocess.PIPE
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout_to, stderr=out, start_new_session=True)
        stdout = _wait(proc, time.monotonic(), what, echo)
        errors = tail.read().decode(errors="replace")
    if proc.returncode != 0 and not reported(stdout):
        lines = [ln for ln in errors.splitlines() if ln.strip() and not ln.startswith("go: downloading")]
        command = " ".join([Path(argv[0]).name, *argv[1:]])
        raise StackError(f"{what}: `{command}` failed: {' | '.join(lines[-3:]) or 'no output'} (full log {log_file})")
    return stdout


def _wait(proc: subprocess.Popen[bytes], start: float, what: str, echo: Echo) -> str:
    chunks: list[bytes] = []
    if proc.stdout is not None:
        os.set_blocking(proc.stdout.fileno(), False)
    next_note = start + PROGRESS_EVERY
    while proc.poll() is None:
        chunks.append(proc.stdout.read() or b"" if proc.stdout else b"")
        now = time.monotonic()
        if now - start > STEP_TIMEOUT:
            os.killpg(proc.pid, 9)
            proc.wait()
            raise StackError(f"{what}: stopped after {STEP_TIMEOUT / 60:.0f} minutes; expected the step to end")
        if now >= next_note:
            echo(f"{what}: still running ({now - start:.0f}s)")
            next_note += PROGRESS_EVERY
        time.sleep(0.5)
    chunks.append(proc.stdout.read() or b"" if proc.stdout else b"")
    return b"".join(chunks).decode(errors="replace")


def _build_go(recipe: GoRecipe, work: Path, echo: Echo) -> Path:
    what = f"{recipe.name} {recipe.version}"
    info = fetch_module(recipe.module, recipe.module_version, work, what, echo)
    upstream = Path(info["GoMod"]).read_text()
    go = go_directive(upstream)
    need_go(what, go)
    (work / "go.mod").write_text(wrapper_gomod(recipe, upstream, go, echo))
    for stale in ("tools.go", "main.go"):
        (work / stale).unlink(missing_ok=True)
    if recipe.main:
        (work / "main.go").write_text(recipe.main)
    else:
        (work / "tools.go").write_text(f'//go:build tools\n\npackage tools\n\nimport _ "{recipe.package}"\n')
    shutil.copyfile(Path(info["Dir"]) / "go.sum", work / "go.sum")
    (work / "go.sum").chmod(0o644)
    run_go(["mod", "tidy"], work, what, echo)
    out = work / "bin" / recipe.binary
    ldflags = " ".join(("-s", "-w", *recipe.ldflags))
    tags = ["-tags", ",".join(recipe.tags)] if recipe.tags else []
    run_go(["build", "-trimpath", *tags, "-ldflags", ldflags, "-o", str(out), recipe.target], work, what, echo)
    return out.parent


def _build_source(recipe: SourceRecipe, work: Path, echo: Echo) -> Path:
    """`go build` of the recipe's commands inside a writable copy of the module's source (upstream's go.mod and
    go.sum as they are; no go.work: the module's lists directories the module zip leaves out), statically
    linked as upstream's release builds are, after the recipe's assets were put into the copy."""
    what = f"{recipe.name} {recipe.version}"
    info = fetch_module(recipe.module, recipe.module_version, work, what, echo)
    need_go(what, go_directive(Path(info["GoMod"]).read_text()))
    source = uibuild.copy_tree(Path(info["Dir"]), work / "src")

    def step(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
        echo(f"{what}: {' '.join([Path(argv[0]).name, *argv[1:3]])}{' ...' if len(argv) > 3 else ''} (in {cwd.name})")
        return _run(argv, cwd, what, echo, env, log=work)

    uibuild.place(recipe.assets, source, work, step)
    out = work / "bin"
    ldflags = " ".join(("-s", "-w", *recipe.ldflags))
    build = ["build", "-trimpath", "-tags", ",".join(recipe.tags), "-ldflags", ldflags, "-o", f"{out}/"]
    env = go_env() | {"GOWORK": "off", "CGO_ENABLED": "0"}
    echo(f"{what}: go build {' '.join(recipe.commands)} (in a copy of {recipe.module}@{recipe.module_version})")
    _run(["go", *build, *recipe.commands], source, what, echo, env, log=work)
    return out


def fetch_module(module: str, version: str, work: Path, what: str, echo: Echo) -> dict[str, str]:
    """`go mod download -json`: the module's directory and go.mod, or one line naming module, version and
    the go command's own message."""
    try:
        info: dict[str, str] = json.loads(run_go(["mod", "download", "-json", f"{module}@{version}"], work, what, echo))
    except StackError as error:
        raise StackError(f"{what}: cannot fetch {module}@{version}: {error}") from None
    except ValueError:
        info = {"Error": "go mod download printed no JSON"}
    if info.get("Error"):
        raise StackError(f"{what}: cannot fetch {module}@{version}: {info['Error']}")
    return info


def wrapper_gomod(recipe: GoRecipe, upstream: str, go: str, echo: Echo) -> str:
    """A module requiring the upstream one, with its replace and exclude directives, then the recipe's own.
    A replace by a local directory (a nested module of the upstream repository) cannot be carried: the
    upstream requirement of that module stands instead, and the build says so."""
    lines = [f"module obsstack.build/{recipe.name}", "", f"go {go}", ""]
    lines += [f"require {recipe.module} {recipe.module_version}", ""]
    for found in REPLACE_RE.finditer(upstream):
        directive = found.group(0)
        kept = [ln for ln in directive.splitlines() if "=> ./" not in ln and "=> ../" not in ln]
        for dropped in set(directive.splitlines()) - set(kept):
            echo(f"{recipe.name}: not carried (a directory of the upstream repository): {dropped.strip()}")
        if any(ln.strip() not in {"replace (", "exclude (", ")"} for ln in kept):
            lines.append("\n".join(kept))
    lines += [f"replace {directive}" for directive in recipe.replaces]
    return "\n".join(lines) + "\n"


def _build_ocb(recipe: OcbRecipe, work: Path, echo: Echo) -> Path:
    what = f"{recipe.name} {recipe.version}"
    tools = cache_root() / "tools" / f"ocb-{recipe.builder_version}"
    builder = tools / "builder"
    if not builder.is_file():
        need_go(what, "1.23")
        tools.mkdir(parents=True, exist_ok=True)
        install = ["install", f"{OCB_MODULE}@{recipe.builder_version}"]
        run_go(install, work, what, echo, go_env() | {"GOBIN": str(tools)})
    header = "# The collector's ocb manifest, written by `obsstack components build` from stack.yaml.\n"
    (work / "manifest.yaml").write_text(to_yaml(recipe.manifest.to_data(), header=header))
    shutil.rmtree(work / "dist", ignore_errors=True)
    echo(f"{what}: ocb --config manifest.yaml (generates the distribution, then compiles it)")
    _run([str(builder), "--config", "manifest.yaml"], work, what, echo, go_env())
    return work / "dist"
