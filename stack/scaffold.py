"""I/O: `obsstack init`: a commented stack.yaml for one service and a .gitignore for what obsstack creates.

Without a probe it refuses to overwrite an existing stack.yaml. With one (`--probe URL`, `--probe-otlp`) it
reads what the running service exposes and writes its entry: the whole stack.yaml when there is none, else
the entry added at the end of `services:` (checked by the real loader first). An existing .gitignore gets
only the lines it lacks.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from stack.config import load_settings
from stack.errors import ConfigError, StackError, shown
from stack.probe.append import append_service
from stack.probe.entry import Target, scrape_target, service_entry
from stack.probe.infer import Inference, infer
from stack.probe.observed import Observed, ProbeError
from stack.probe.receiver import Listen, receive
from stack.probe.scrape import scrape
from stack.render import render_template
from stack.service_settings import Service
from stack.settings import URL_RE
from stack.value_checks import check_url_parts
from stack.write import write_files
from stack.yaml_load import read_yaml

CONFIG = "stack.yaml"
GITIGNORE = ".gitignore"
DEFAULT_SERVICE, DEFAULT_PORT, MAX_PORT = "api", 8000, 65535
IGNORED = (  # created by `obsstack up` / `verify`; never committed
    ("secrets/", "tokens obsstack creates (mode 0600)"),
    ("compose/.env", "the compose stack's passwords"),
    (".obsstack/", "state, data and logs of `obsstack up`"),
    ("verify-report.json", "`obsstack verify` reports"),
    ("verify-report.html", None),
)


@dataclass(frozen=True)
class Probe:
    """What to probe: a metrics URL to scrape, or OTLP ports to listen on (exactly one)."""

    url: str | None = None
    listen: Listen | None = None


def init_project(directory: Path, service: str | None, port: int | None, probe: Probe | None = None) -> list[str]:
    """Write stack.yaml (and .gitignore) into `directory`, from a probe when given; returns what was done."""
    if port is not None and not 1 <= port <= MAX_PORT:
        raise StackError(f"--port in the command line: must be a port of 1 to {MAX_PORT}, got {port}")
    if probe is not None:
        return _init_probed(directory, service, port, probe)
    service, port = service or DEFAULT_SERVICE, port or DEFAULT_PORT
    _check_name(service, "--service")
    if (directory / CONFIG).exists():
        raise StackError(f"{directory / CONFIG}: already exists; obsstack init never overwrites it")
    text = render_template("stack.yaml.j2", service=service, port=port, entry=None)
    _check_loads(directory / CONFIG, text)
    return _write_new(directory, text)


def _init_probed(directory: Path, service: str | None, port: int | None, probe: Probe) -> list[str]:
    if probe.url is not None:
        _check_probe_url(probe.url)
    config = directory / CONFIG
    existing = _read(config) if config.is_file() else None
    if service is not None:
        _check_name(service, "--service")
        _refuse_taken(config, service, existing)
    observed = scrape(probe.url) if probe.url is not None else receive(probe.listen or Listen(), service)
    name = _service_name(observed, service)
    inference = infer(observed)
    if existing is None:
        entry = service_entry(inference, _target(probe, observed, name, port))
        text = render_template("stack.yaml.j2", service=name, port=port or DEFAULT_PORT, entry=entry)
        _check_loads(config, text)
        return [_summary(observed, inference, name), *_write_new(directory, text)]
    _refuse_taken(config, name, existing)
    text = append_service(existing, service_entry(inference, _target(probe, observed, name, port)), str(config))
    _check_loads(config, text)
    _write(directory, {CONFIG: text})
    return [_summary(observed, inference, name), f"added service {name} to {config}",
            "next: `obsstack generate`, then `obsstack up`"]  # fmt: skip


def _check_probe_url(url: str) -> None:
    try:
        if not URL_RE.fullmatch(url):
            raise ValueError(f"must be an http(s) URL without spaces or quotes, got {shown(url)}")
        check_url_parts(url)
    except ValueError as exc:
        raise StackError(f"--probe in the command line: {exc}") from None


def _read(config: Path) -> str:
    try:
        return config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StackError(f"{config}: cannot read: {exc}") from None


def _target(probe: Probe, observed: Observed, name: str, port: int | None) -> Target:
    if probe.url is not None:
        return scrape_target(probe.url, name, port)
    return Target(service=name, port=port or DEFAULT_PORT, source="otlp", where=observed.where)


def _service_name(observed: Observed, service: str | None) -> str:
    """--service, else the OTLP resource's service.name, else the default; refused when they disagree (the
    pushed metrics are labelled with service.name, so the rules must use that name)."""
    pushed = observed.service_names[0] if observed.service_names else None
    if service is not None and pushed and pushed != service:
        raise ProbeError(
            f"{observed.where}: the export's service.name is {pushed!r}, expected {service!r} (--service): its metrics "
            f"arrive labelled service={pushed!r}; run it with OTEL_SERVICE_NAME={service} or pass --service {pushed}"
        )
    name = service or pushed or DEFAULT_SERVICE
    if service is None and pushed:
        _check_name(name, f"service.name {pushed!r} of the export (pass --service NAME):")
    return name


def _check_name(service: str, where: str) -> None:
    try:
        Service(name=service)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        place = where.removesuffix(":") if where.endswith(":") else f"{where} in the command line"
        raise StackError(f"{place}: {message}") from None


def _refuse_taken(config: Path, name: str, existing: str | None) -> None:
    if existing is None:
        return
    services = read_yaml(config).get("services") or []
    taken = [s.get("name") for s in services if isinstance(s, dict)] if isinstance(services, list) else []
    if name in taken:
        raise StackError(
            f"{config}: services already has a service named {name!r}, expected a new name "
            "(pass --service NAME, or remove the old entry first); nothing was written"
        )


def _check_loads(config: Path, text: str) -> None:
    """The text loads with the real loader and StackSettings, or a ConfigError naming `config`."""
    with tempfile.TemporaryDirectory(prefix="obsstack-init-") as scratch:
        candidate = Path(scratch) / CONFIG
        candidate.write_text(text, encoding="utf-8")
        try:
            load_settings(candidate)
        except ConfigError as exc:
            lines = [f"{m.replace(str(candidate), str(config))} (with the probed entry; nothing was written)"
                     for m in exc.messages]  # fmt: skip
            raise ConfigError(lines) from None


def _summary(observed: Observed, inference: Inference, name: str) -> str:
    names = inference.names
    return (
        f"probed {observed.where}: {name} has the {inference.convention} convention "
        f"({names.requests}, {names.duration}; route {names.route}, method {names.method}, status {names.status})"
    )


def _write_new(directory: Path, text: str) -> list[str]:
    files = {CONFIG: text}
    ignore, existed = _gitignore(directory / GITIGNORE), (directory / GITIGNORE).exists()
    if ignore is not None:
        files[GITIGNORE] = ignore
    _write(directory, files)
    done = [f"wrote {directory / CONFIG}"]
    done += [f"{'updated' if existed else 'wrote'} {directory / GITIGNORE}"] if ignore else []
    return [*done, "next: edit stack.yaml, then run `obsstack generate` and `obsstack up`"]


def _write(directory: Path, files: dict[str, str]) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_files(directory, files)
    except OSError as exc:
        raise StackError(f"{directory}: cannot write the project there: {exc.strerror or exc}") from None


def _gitignore(path: Path) -> str | None:
    """The .gitignore with obsstack's lines added, or None if it has them all."""
    current = _read(path) if path.exists() else ""
    present = {line.strip() for line in current.splitlines()}
    missing = [(entry, why) for entry, why in IGNORED if entry not in present]
    if not missing:
        return None
    lines = [current.rstrip("\n")] if current.strip() else []
    lines.append("# obsstack: what `obsstack up` and `obsstack verify` create")
    lines += [entry for entry, _ in missing]
    return "\n".join(lines) + "\n"
