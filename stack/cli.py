"""typer CLI: parses, calls one function, maps errors to exit codes. No logic.

Each command imports what it needs when it runs, so `obsstack --help` loads typer and this module only.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stack.cli_guard import INTERNAL_ERROR, STATE, GuardedGroup
from stack.errors import StackError, shown

__all__ = ["INTERNAL_ERROR", "app", "run"]

if TYPE_CHECKING:  # for annotations only: the settings load when a command runs
    from stack.settings import StackSettings

app = typer.Typer(
    cls=GuardedGroup,
    help="Observability stack-as-code: generate, validate and run an LGTM stack.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,  # click's plain help: rendering it with rich imports rich, twice --help's own time
)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The stack.yaml to read.")]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="Timing profile: production or fast.")]


@app.callback()
def main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False) -> None:
    STATE["debug"] = debug


TARGETS = ("kubernetes", "mimir")
TargetOption = Annotated[
    list[str] | None,
    typer.Option("--target", help="Also write this target (kubernetes, mimir), as if stack.yaml enabled it."),
]


def _settings(
    config: Path,
    profile: str | None,
    targets: list[str] | None = None,
    running: dict[str, Any] | None = None,
    document: Callable[[], dict[str, Any]] | None = None,
) -> StackSettings:
    """Settings with the flags' overrides; `running`: what the running stack was started with (it wins);
    `document`: gives stack.yaml as read already (a job started aside)."""
    from stack.config import load_settings

    overrides: dict[str, Any] = {"profile": profile} if profile else {}
    overrides |= running or {}
    for target in targets or ():
        if target not in TARGETS:
            expected = ", ".join(TARGETS)
            raise StackError(f"--target in the command line: unknown target, expected {expected}, got {shown(target)}")
        overrides[target] = {"enabled": True}
    return load_settings(config, overrides, document() if document is not None else None)


@app.command()
def generate(
    config: ConfigOption = Path("stack.yaml"),
    check: Annotated[bool, typer.Option("--check", help="Write nothing; show a diff, exit 1 if stale.")] = False,
    profile: ProfileOption = None,
    target: TargetOption = None,
) -> None:
    """Generate rules, tests, dashboards and configs from stack.yaml (and the targets it enables)."""
    with _short_run():
        from stack.forked import aside
        from stack.yaml_load import read_yaml

        document = aside(lambda: read_yaml(config))  # parsed by a second core while this one imports the rest
        try:
            from stack.render import render_all
            from stack.write import compare, outputs, project_root, write_plan

            root = project_root(config)  # a stack.yaml symlinked from elsewhere is refused, not followed
            settings = _settings(config, profile, target, document=document)
        finally:
            document.cancel()
        artifacts, owned = render_all(settings, aside=aside), outputs(settings, config)
        if check:
            drift = compare(root, artifacts, owned)
            if not drift.clean:
                sys.stdout.write(drift.diff)
                typer.echo(
                    f"stale: {len(drift.changed)} changed, {len(drift.stale)} to remove; run `obsstack generate`",
                    err=True,
                )
                raise typer.Exit(1)
            typer.echo(f"up to date: {len(artifacts)} files")
            return
        drift = write_plan(root, artifacts, owned)
        typer.echo(
            f"generated {len(artifacts)} files: {len(drift.changed)} written "
            f"(counting the manifest), {len(drift.stale)} removed"
        )


PLUGINS_OFF = "PYDANTIC_DISABLE_PLUGINS"
# set by a command whose process may end without tearing down what it built (`run` reads it): generate's trees are
# some 10^5 objects, and freeing them one by one at exit took about 80 ms for 100 services
TEARDOWN = {"skip": False}


@contextmanager
def _short_run() -> Iterator[None]:
    """For a run that builds large trees, keeps them and starts no process (generate): no garbage collection
    (its passes over the trees made the run quadratic) and no pydantic plugins (pydantic reads this variable
    when it builds its first model, then scans every installed distribution's entry points for plugins); both
    as before once the block ends, so no process started later inherits the variable."""
    before = os.environ.get(PLUGINS_OFF)
    os.environ[PLUGINS_OFF] = "1"
    TEARDOWN["skip"] = True
    gc.disable()
    try:
        yield
    finally:
        # everything the run allocated is still in the youngest generation: enabling the collector alone would
        # make the next allocation walk all of it (tens of ms); freeze + unfreeze files it as old instead
        gc.freeze()
        gc.enable()
        gc.unfreeze()
        if before is None:
            os.environ.pop(PLUGINS_OFF, None)
        else:
            os.environ[PLUGINS_OFF] = before


def run() -> None:
    """The `obsstack` command (its console script): the app, then, after a command that started no process and
    holds nothing open (generate, once its files are renamed into place), the process ends at once, output flushed
    and exit code kept, as mypy's `hard_exit` does: the memory goes back to the system without each object being
    freed first. Any other command, or output that cannot be flushed, exits the usual way."""
    TEARDOWN["skip"] = False
    try:
        app()
    except SystemExit as done:
        if TEARDOWN["skip"] and (done.code is None or type(done.code) is int):
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):  # a closed pipe or stream: the usual exit reports it
                raise done from None
            os._exit(done.code or 0)
        raise


@app.command("validate")
def validate_command(
    config: ConfigOption = Path("stack.yaml"), profile: ProfileOption = None, target: TargetOption = None
) -> None:
    """Run the pinned promtool and amtool, compose config (and the enabled targets' checks) on the generated
    files, printing each check as it finishes."""
    from stack.validate import validate

    checks = failed = 0
    for result in validate(config.resolve().parent, _settings(config, profile, target)):
        typer.echo(result.line())
        checks, failed = checks + 1, failed + result.failed
    if failed:
        typer.echo(f"{failed} of {checks} checks failed", err=True)
        raise typer.Exit(1)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="The project directory (created if missing).")] = Path("."),
    service: Annotated[
        str | None, typer.Option("--service", help="Name of the service (default: api, or OTLP's service.name).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="Port the service serves on (default: 8000, or the --probe URL's)."),
    ] = None,
    probe: Annotated[
        str | None, typer.Option("--probe", help="Read this running service's metrics URL and write its entry.")
    ] = None,
    probe_otlp: Annotated[
        bool, typer.Option("--probe-otlp", help="Listen for a service pushing OTLP metrics and write its entry.")
    ] = False,
    seconds: Annotated[
        float, typer.Option("--seconds", help="--probe-otlp: listen at most this long.", min=1, max=600)
    ] = 70.0,
    grpc_port: Annotated[
        int, typer.Option("--grpc-port", help="--probe-otlp: OTLP gRPC port.", min=1, max=65535)
    ] = 4317,
    http_port: Annotated[
        int, typer.Option("--http-port", help="--probe-otlp: OTLP HTTP port.", min=1, max=65535)
    ] = 4318,
) -> None:
    """Start a project: a commented stack.yaml and a .gitignore for what obsstack creates. With --probe or
    --probe-otlp: the entry of a running service, as its metrics show it (added to an existing stack.yaml)."""
    from stack.probe.receiver import Listen
    from stack.scaffold import Probe, init_project

    if probe is not None and probe_otlp:
        raise StackError("--probe and --probe-otlp exclude each other; pick one")
    listen = Listen(grpc_port, http_port, seconds) if probe_otlp else None
    chosen = Probe(url=probe, listen=listen) if probe is not None or probe_otlp else None
    for line in init_project(directory, service, port, chosen):
        typer.echo(line)


@app.command()
def up(
    config: ConfigOption = Path("stack.yaml"),
    profile: ProfileOption = None,
    local: Annotated[bool, typer.Option("--local", help="Local processes even with Docker.")] = False,
    compose: Annotated[bool, typer.Option("--compose", help="Compose; fail without an engine.")] = False,
    ephemeral: Annotated[
        bool, typer.Option("--ephemeral", help="Fresh data: tmpfs in compose, wiped in local mode.")
    ] = False,
    ring: Annotated[
        bool,
        typer.Option(
            "--ring",
            help="Local mode: a ring of 3 Cortex processes evaluates and alerts, loaded with the "
            "mimir target's files unchanged.",
        ),
    ] = False,
) -> None:
    """Start the stack: docker compose with an engine, else local processes on 127.0.0.1."""
    from stack.runtime import lifecycle as runtime

    if local and compose:
        raise StackError("--local and --compose exclude each other; pick one")
    if ring:
        from stack.runtime.ring import up_ring

        if compose:
            raise StackError("--ring runs local processes; use it with --local (or without --compose)")
        up_ring(config.resolve().parent, _settings(config, profile, ["mimir"]), ephemeral)
        return
    mode: runtime.Mode = "local" if local else "compose" if compose else "auto"
    runtime.up(config.resolve().parent, _settings(config, profile), mode, ephemeral)


@app.command()
def down(config: ConfigOption = Path("stack.yaml")) -> None:
    """Stop exactly what `obsstack up` started."""
    from stack.runtime import lifecycle as runtime

    runtime.down(config.resolve().parent)


@app.command()
def status(config: ConfigOption = Path("stack.yaml")) -> None:
    """Show what runs: component, pid, URL and health."""
    from stack.runtime import lifecycle as runtime

    runtime.status(config.resolve().parent)


@app.command()
def verify(
    config: ConfigOption = Path("stack.yaml"),
    profile: ProfileOption = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Service to verify (repeatable; default: all).")
    ] = None,
    token_file: Annotated[
        Path | None, typer.Option("--faults-token-file", help="Default: secrets/faults-token.")
    ] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Default: the project root.")] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Fail, not skip, when a component of the stack (collector, Loki, Tempo) is "
            "down; those `up` did not start (no binary) stay n/a.",
        ),
    ] = False,
    pipeline_faults: Annotated[
        bool, typer.Option("--pipeline-faults", help="Also stop and restart the collector, Loki and Tempo.")
    ] = False,
) -> None:
    """Prove on the running stack that telemetry arrives and every alert fires and resolves on its fault."""
    from stack.builders.catalogue import fault_alerts
    from stack.conventions import FAULTS_TOKEN_FILE
    from stack.runtime import verify as runner
    from stack.runtime.faults import read_token
    from stack.runtime.lifecycle import (
        absent_components,
        component_switch,
        deployed_root,
        running_stores,
        verify_profile,
    )
    from stack.runtime.report import fault_table, write_reports
    from stack.runtime.ring import verify_clients
    from stack.runtime.scenarios import pick_services

    root = config.resolve().parent
    settings = _settings(config, verify_profile(root, profile), running=running_stores(root))
    targets = pick_services(settings, service)
    with_faults = any(s.faults for s in targets)
    token = read_token(token_file or root / FAULTS_TOKEN_FILE) if with_faults else None
    typer.echo(f"verify {', '.join(s.name for s in targets)} with the {settings.profile} profile")
    switch = component_switch(root, settings) if pipeline_faults else None
    deployed = deployed_root(root)  # the rule files and dashboards the running stack loaded
    expected = {s.name: fault_alerts(settings, s) for s in targets}  # from the generator's alert catalogue
    verifier = runner.Verifier(
        settings,
        targets,
        token,
        typer.echo,
        strict=strict,
        switch=switch,
        root=deployed,
        expected=expected,
        absent=absent_components(root),  # not started for want of a binary: their checks are n/a
        ring=verify_clients(root, settings),  # a ring run: its ruler and Alertmanager, with the tenant header
    )
    report = verifier.run()
    json_path, html_path = write_reports(report, report_dir or root)
    for row in fault_table(report):
        typer.echo(row)
    typer.echo(f"report: {json_path} and {html_path}")
    typer.echo(f"checks: {report.summary()}")
    if not report.ok:
        for line in report.failures():
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(1)
    typer.echo("verify passed")


@app.command()
def report(
    config: ConfigOption = Path("stack.yaml"),
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Where verify wrote it (default: the project root).")
    ] = None,
    screenshot: Annotated[
        bool, typer.Option("--screenshot", help="Also write verify-report.png with headless Chromium, 1300 px wide.")
    ] = False,
) -> None:
    """Write verify-report.html again from the recorded run (verify-report.json); --screenshot: and its PNG."""
    from stack.runtime.report import rewrite_html
    from stack.runtime.screenshot import screenshot as take_screenshot

    directory = report_dir or config.resolve().parent
    html = rewrite_html(directory)
    typer.echo(f"report: {html}")
    if screenshot:
        typer.echo(f"screenshot: {take_screenshot(html, directory / 'verify-report.png')}")


components_app = typer.Typer(
    help="Build or list the components (Prometheus and promtool, Alertmanager and amtool, the collector, kubectl,"
    " cortextool) at the pinned versions, and obsstack's checkers (dashcheck, lezer).",
    rich_markup_mode=None,
)
app.add_typer(components_app, name="components")
NamesArgument = Annotated[list[str] | None, typer.Argument(help="Components (default: all that obsstack builds).")]


@components_app.command("build")
def components_build(names: NamesArgument = None, config: ConfigOption = Path("stack.yaml")) -> None:
    """Build each component from its Go module at the version stack.yaml pins, into the per-user cache
    (Prometheus with its web UI, built with npm from the module's sources)."""
    from stack.builders.distributions import recipes
    from stack.runtime import binaries

    components, checkers = binaries.split_names(names or [])
    to_build = recipes(_settings(config, None), components) if components or not names else ()
    for line in binaries.build_all(to_build, checkers, typer.echo):
        typer.echo(line)


@components_app.command("list")
def components_list(config: ConfigOption = Path("stack.yaml")) -> None:
    """Show each built component's pinned version and its cached binaries (what `up --local` starts)."""
    from stack.runtime import binaries

    for line in binaries.describe(_settings(config, None)):
        typer.echo(line)
