"""I/O: create the stack's missing secrets (never overwriting one), readable by the owner only.

- the metrics bearer token file of every service that names one in stack.yaml,
- the token of the fault toggles (secrets/faults-token) when a service declares `faults: true`,
- every file a service lists in `secret_files` (for example the demo's admin token),
- compose/.env with the Grafana admin (and, when a service requires it, PostgreSQL) passwords, and a
  copy of each secret file a container reads (compose secrets of `environment:` source, see
  stack.builders.compose), rewritten whenever the file changes.

`secrets/` carries its own `.gitignore` (`*`), and the generated compose/.gitignore covers `.env`, so
neither is committed in any project. Both stay the host user's alone (0700, 0600): containers get their
copies from docker compose, owned by the container's user. Call `ensure_secrets` before starting anything.
"""

from __future__ import annotations

import os
import posixpath
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from stack import conventions as c
from stack.errors import StackError
from stack.secret_names import compose_secret_files, secret_variable
from stack.settings import StackSettings

TOKEN_BYTES = 32
IGNORE_ALL = "# Created by obsstack: secrets are never committed.\n*\n"
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:/+=@-]*")  # written as is; anything else in single quotes


@dataclass(frozen=True)
class Secrets:
    """Where the secrets are, and which of them this call created."""

    token_files: tuple[Path, ...]
    faults_token: Path
    env_file: Path
    created: tuple[str, ...]


def metrics_token_paths(settings: StackSettings) -> tuple[str, ...]:
    return tuple(sorted({s.metrics_token_file for s in settings.services if s.metrics_token_file}))


def token_paths(settings: StackSettings) -> tuple[str, ...]:
    """Every secret file, relative to the project root."""
    faults = (c.FAULTS_TOKEN_FILE,) if any(s.faults for s in settings.services) else ()
    listed = sorted({path for s in settings.services for path in s.secret_files} - {c.FAULTS_TOKEN_FILE})
    return (*metrics_token_paths(settings), *faults, *listed)


def password_keys(settings: StackSettings) -> tuple[str, ...]:
    return (c.ENV_GRAFANA_PASSWORD, *((c.ENV_POSTGRES_PASSWORD,) if settings.needs_postgres else ()))


def env_keys(settings: StackSettings) -> tuple[str, ...]:
    """Every variable compose/.env must define: the passwords and the copies of the containers' secrets."""
    return (*password_keys(settings), *(secret_variable(p) for p in compose_secret_files(settings)))


def ensure_secrets(root: Path, settings: StackSettings) -> Secrets:
    created = [path for path in dict.fromkeys(token_paths(settings)) if _create_token(root / path)]
    _ignore_all(root / c.SECRETS_DIR)
    env_file = root / settings.output.compose_dir / c.COMPOSE_ENV_FILE
    added = _ensure_env(env_file, password_keys(settings))
    if added:
        created.append(f"{posixpath.join(settings.output.compose_dir, c.COMPOSE_ENV_FILE)} ({', '.join(added)})")
    _mirror_secrets(env_file, {secret_variable(p): _secret_value(root, p) for p in compose_secret_files(settings)})
    metrics = tuple(root / p for p in metrics_token_paths(settings))
    return Secrets(metrics, root / c.FAULTS_TOKEN_FILE, env_file, tuple(created))


def _ignore_all(directory: Path) -> None:
    """A `.gitignore` of `*` in secrets/, so no token is committed whatever the project's own .gitignore says."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker = directory / ".gitignore"
    if not marker.exists():
        marker.write_text(IGNORE_ALL, encoding="utf-8")


def _create_token(path: Path) -> bool:
    """Write a new random token unless the file exists; True if it was created."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise StackError(f"{path}: cannot create secret file: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(TOKEN_BYTES) + "\n")
    return True


def read_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments and blank lines skipped; a single-quoted value unquoted)."""
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            value = value.strip()
            quoted = len(value) >= 2 and value[0] == value[-1] == "'"
            pairs[key.strip()] = value[1:-1] if quoted else value
    return pairs


def _secret_value(root: Path, path: str) -> str:
    """A secret file's content without surrounding whitespace, as a one-line .env value."""
    value = (root / path).read_text(encoding="utf-8").strip()
    if "\n" in value or "'" in value:
        raise StackError(f"{path}: compose/.env carries it to its container, so it must be one line without a '")
    return value


def _env_line(key: str, value: str) -> str:
    """KEY=value, single-quoted unless plain: compose reads a single-quoted .env value literally."""
    return f"{key}={value}" if PLAIN_VALUE.fullmatch(value) else f"{key}='{value}'"


def _mirror_secrets(path: Path, values: dict[str, str]) -> None:
    """Set each key to its secret's current value (replacing a stale one); other lines are kept as they are."""
    if not values or all(read_env(path).get(k) == v for k, v in values.items()):
        return
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = [line for line in text.splitlines() if line.partition("=")[0].strip() not in values]
    lines += [_env_line(key, value) for key, value in values.items()]
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temp, path)


def _ensure_env(path: Path, keys: tuple[str, ...]) -> list[str]:
    """Append a random value for every missing key; existing keys are kept as they are."""
    missing = [key for key in keys if not read_env(path).get(key)]
    if not missing:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    unterminated = path.exists() and not path.read_bytes().endswith(b"\n") and path.stat().st_size > 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        if unterminated:
            handle.write("\n")
        if handle.tell() == 0:
            handle.write("# Secrets of the compose stack, created by obsstack up. Never commit this file.\n")
        for key in missing:
            handle.write(f"{key}={secrets.token_urlsafe(TOKEN_BYTES)}\n")
    os.chmod(path, 0o600)
    return missing
