"""I/O: `obsstack init`: a commented stack.yaml for one service and a .gitignore for what obsstack creates.

Refuses to overwrite an existing stack.yaml; an existing .gitignore gets only the lines it lacks.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from stack.errors import StackError
from stack.render import render_template
from stack.service_settings import Service
from stack.write import write_files

CONFIG = "stack.yaml"
GITIGNORE = ".gitignore"
IGNORED = (  # created by `obsstack up` / `verify`; never committed
    ("secrets/", "tokens obsstack creates (mode 0600)"),
    ("compose/.env", "the compose stack's passwords"),
    (".obsstack/", "state, data and logs of `obsstack up`"),
    ("verify-report.json", "`obsstack verify` reports"),
    ("verify-report.html", None),
)


def init_project(directory: Path, service: str, port: int) -> list[str]:
    """Write stack.yaml and .gitignore into `directory`; returns what was done, one line each."""
    try:
        Service(name=service, port=port, command=("uvicorn", "app:app"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "service"
        message = first["msg"].removeprefix("Value error, ")
        raise StackError(f"--{where.replace('name', 'service')}: {message}") from None
    if (directory / CONFIG).exists():
        raise StackError(f"{directory / CONFIG}: already exists; obsstack init never overwrites it")
    files = {CONFIG: render_template("stack.yaml.j2", service=service, port=port)}
    ignore, existed = _gitignore(directory / GITIGNORE), (directory / GITIGNORE).exists()
    if ignore is not None:
        files[GITIGNORE] = ignore
    directory.mkdir(parents=True, exist_ok=True)
    write_files(directory, files)
    done = [f"wrote {directory / CONFIG}"]
    done += [f"{'updated' if existed else 'wrote'} {directory / GITIGNORE}"] if ignore else []
    return [*done, "next: edit stack.yaml, then run `obsstack generate` and `obsstack up`"]


def _gitignore(path: Path) -> str | None:
    """The .gitignore with obsstack's lines added, or None if it has them all."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip() for line in current.splitlines()}
    missing = [(entry, why) for entry, why in IGNORED if entry not in present]
    if not missing:
        return None
    lines = [current.rstrip("\n")] if current.strip() else []
    lines.append("# obsstack: what `obsstack up` and `obsstack verify` create")
    lines += [entry for entry, _ in missing]
    return "\n".join(lines) + "\n"
