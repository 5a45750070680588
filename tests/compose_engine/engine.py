"""Helpers of the tests that run a real Docker engine: `docker` commands, throw-away containers (always
removed), bounded waits, and the compose command whose exit status can be trusted."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from stack.errors import ToolMissingError
from stack.runtime import compose as runtime_compose
from tests.support import absent

REPO = Path(__file__).resolve().parents[2]
CONTAINER_PREFIX = "obsstack-standin-test"
DOCKER_TIMEOUT = 60


def docker(*args: str, timeout: float = DOCKER_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`docker ARGS`, output captured; a failure fails the test with docker's output."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        pytest.fail(f"docker {' '.join(args)}: exit {done.returncode}: {done.stderr.strip() or done.stdout.strip()}")
    return done


@contextmanager
def container(image: str, *args: str, options: Sequence[str] = ()) -> Iterator[str]:
    """A detached container of `image` (its name), removed with its anonymous volumes afterwards."""
    name = f"{CONTAINER_PREFIX}-{uuid.uuid4().hex[:12]}"
    try:  # a run that fails may still have created the container: it is removed too
        docker("run", "-d", "--name", name, *options, image, *args)
        yield name
    finally:
        docker("rm", "-f", "-v", name, check=False)


def wait_for(name: str, probe: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Runs `probe` (a `docker` argument list) until it exits 0 or `timeout` passes; the container must keep
    running meanwhile. Returns the last attempt."""
    deadline = time.monotonic() + timeout
    while True:
        done = docker(*probe, check=False)
        if done.returncode == 0 or time.monotonic() > deadline:
            return done
        state = docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
        if state != "true":
            logs = docker("logs", "--tail", "20", name, check=False)
            pytest.fail(f"{name} stopped: {logs.stdout[-2000:]}{logs.stderr[-2000:]}")
        time.sleep(0.5)


def compose_command() -> list[str]:
    """obsstack's own choice of compose (stack.runtime.compose.compose_command); none found is absent()."""
    try:
        return runtime_compose.compose_command()
    except ToolMissingError as error:
        absent(str(error))
