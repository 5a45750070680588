"""Builds the stand-in images (stack.models.standin) on the local Docker engine from the cached builds of
`obsstack components build`: no registry is asked for anything, and only `obsstack-standin/*` names are
tagged. A build is skipped when the tag exists with the digest of the same inputs on its label."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from stack.errors import StackError
from stack.models.standin import INPUTS_LABEL, STANDINS, StandIn, dockerfile, group, image_name, passwd
from stack.runtime import gobuild
from stack.runtime.binaries import pinned
from stack.settings import StackSettings

__all__ = ["BUILD_TIMEOUT", "build_image", "build_images", "image_name", "inputs_digest"]

Echo = Callable[[str], None]
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static
CA_CERTS = Path("/etc/ssl/certs/ca-certificates.crt")
BUILD_TIMEOUT = 300
LDD_LINE = re.compile(r"^\s*(?:\S+ => )?(/\S+) \(0x[0-9a-f]+\)$")


@dataclass(frozen=True)
class Inputs:
    """Everything an image is built from: files copied from this machine (image path -> host path) and
    generated text (image path -> text), and the build file."""

    copied: tuple[tuple[str, Path], ...]
    written: tuple[tuple[str, str], ...]
    dockerfile: str


def build_images(settings: StackSettings, components: Iterable[str], echo: Echo) -> dict[str, str]:
    """Builds (or finds, unchanged) the stand-in of each component; returns each component's official image
    (settings.components.<c>.image, what the compose file names) -> its stand-in's tag."""
    swaps: dict[str, str] = {}
    for name in components:
        if name not in STANDINS:
            raise StackError(f"stand-in image {name!r}: no such stand-in, expected one of {', '.join(STANDINS)}")
        tag = build_image(STANDINS[name], pinned(settings, name), echo)
        swaps[getattr(settings.components, name).image] = tag
    return swaps


def build_image(entry: StandIn, version: str, echo: Echo) -> str:
    """The stand-in of `entry` at `version` on the engine: built unless the tag carries these inputs."""
    tag = image_name(entry.component, version)
    inputs = _inputs(entry, version)
    digest = inputs_digest(inputs)
    previous, label = _image(tag)
    if label == digest:
        echo(f"{tag}: up to date")
        return tag
    echo(f"{tag}: building")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="obsstack-standin-") as work:
        context = Path(work)
        _assemble(inputs, context)
        _docker(["build", "-q", "-t", tag, "--label", f"{INPUTS_LABEL}={digest}", str(context)], BUILD_TIMEOUT)
    if previous:  # the image the tag named before, now untagged: not left behind
        _docker(["image", "rm", previous], 30, check=False)
    echo(f"{tag}: built in {time.monotonic() - start:.1f}s")
    return tag


def _inputs(entry: StandIn, version: str) -> Inputs:
    built = gobuild.cached(entry.component, version)
    if built is None:
        raise StackError(
            f"stand-in image {image_name(entry.component, version)}: no cached build of {entry.component} "
            f"{version}, expected one; run `obsstack components build {entry.component}`"
        )
    copied = [(path, built.with_name(binary)) for binary, path in entry.binaries]
    copied += [(str(BUSYBOX), _busybox())] if entry.shell else []
    for _, host in list(copied):  # a cgo build (Jaeger, VictoriaLogs) needs its libc and loader
        copied += [(str(lib), lib.resolve()) for lib in _libraries(host)]
    copied += [(str(CA_CERTS), CA_CERTS)] if CA_CERTS.is_file() else []
    written = (("/etc/passwd", passwd(entry)), ("/etc/group", group(entry)), *entry.files)
    unique = tuple(sorted(dict(copied).items()))
    return Inputs(unique, tuple(written), dockerfile(entry))


def _busybox() -> Path:
    if not (BUSYBOX.is_file() and os.access(BUSYBOX, os.X_OK)):
        raise StackError(
            f"stand-in images: {BUSYBOX} missing, expected Debian's busybox-static; "
            "run `sudo apt-get install busybox-static` (scripts/install-system-deps.sh)"
        )
    return BUSYBOX


def _libraries(binary: Path) -> list[Path]:
    """The shared libraries (and loader) a dynamically linked binary needs, as their paths on this host."""
    done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:  # "not a dynamic executable"
        return []
    return [Path(m.group(1)) for line in done.stdout.splitlines() if (m := LDD_LINE.match(line))]


def inputs_digest(inputs: Inputs) -> str:
    """sha256 over the build file, each written file and each copied file's path, mode and bytes."""
    digest = hashlib.sha256(inputs.dockerfile.encode())
    for path, text in inputs.written:
        digest.update(f"\0{path}\0{text}".encode())
    for path, host in inputs.copied:
        digest.update(f"\0{path}\0{host.stat().st_mode & 0o7777:o}\0".encode())
        for chunk in _chunks(host):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            yield chunk


def _assemble(inputs: Inputs, context: Path) -> None:
    rootfs = context / "rootfs"
    for path, host in inputs.copied:
        target = rootfs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:  # the context is read once by the build: a hard link saves copying the binaries
            os.link(host, target)
        except OSError:
            shutil.copy2(host, target)
    for path, text in inputs.written:
        target = rootfs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        target.chmod(0o644)
    (context / "Dockerfile").write_text(inputs.dockerfile, encoding="utf-8")


def _image(tag: str) -> tuple[str | None, str | None]:
    """The id of the image `tag` and the inputs digest on it; (None, None) when the engine has no such image."""
    template = f'{{{{.Id}}}} {{{{index .Config.Labels "{INPUTS_LABEL}"}}}}'
    done = _docker(["image", "inspect", "--format", template, tag], 30, check=False)
    if done.returncode != 0:
        return None, None
    image, _, label = done.stdout.strip().partition(" ")
    return image or None, label.strip() or None


def _docker(args: list[str], timeout: int, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`docker ARGS` with the classic builder (no buildx here), output captured; a failure is a StackError."""
    docker = shutil.which("docker")
    if docker is None:
        raise StackError(
            "stand-in images: docker not found on PATH, expected the Docker CLI; run scripts/install-system-deps.sh"
        )
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    try:
        done = subprocess.run([docker, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise StackError(f"docker {args[0]}: no answer within {timeout}s, expected a running engine") from None
    if check and done.returncode != 0:
        detail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise StackError(f"docker {' '.join(args[:2])} ... {args[-1]}: exit {done.returncode}: {detail[0]}")
    return done
