"""The "no data" doctor and the golden-signal series for the verify report.

It checks what is deployed: the recording rules and dashboards written on disk by `obsstack generate`, not
a fresh build. Recording rules are checked with `present_over_time` over the whole run; dashboard queries
get Grafana's macros replaced by a window covering the run, so a panel passes if it had data at any time.
Each service's own dashboard is checked with `$service` set to it; the overview, shared by every service,
once, as it opens (every service): a panel of it that reads a metric only some services have (the in-flight
gauge) is not empty for the others, it is not theirs.
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from stack import conventions as c
from stack.dashlint import datasource_type, fill_template, iter_panels, panel_queries
from stack.errors import StackError
from stack.runtime import panels as panel_data
from stack.runtime.outcome import CheckLine, Endpoints, PanelData, Signal, Threshold, VerifyReport
from stack.runtime.presence import Presence
from stack.runtime.promapi import PromClient, Unavailable, wait_until
from stack.runtime.quiet import event_panels, quiet_reason
from stack.runtime.stores import log_api, trace_api
from stack.service_settings import Levels
from stack.settings import Service, StackSettings

SECTION = "no-data doctor"
ANY_VALUE = ".+"  # instance, route, handler, job: every value of a multi-value variable
ALL_SERVICES = "all services"  # how the doctor's lines name the overview's checks (a service is a-z0-9_-)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackError(f"{path}: cannot read ({exc.strerror}); run `obsstack generate` first") from None


def recording_queries(root: Path, settings: StackSettings, service: Service, seconds: int) -> list[tuple[str, str]]:
    """The service's deployed recording rules, each as "had a value during the run"."""
    data = yaml.safe_load(_read(root / settings.output.alerts_dir / c.rules_file(service.name))) or {}
    records = [r["record"] for g in data.get("groups", []) for r in g.get("rules", []) if "record" in r]
    return [
        (f"recording rule {record}", f'present_over_time({record}{{service="{service.name}"}}[{seconds}s])')
        for record in records
    ]


def deployed_boards(root: Path, settings: StackSettings, service: Service | None) -> list[dict[str, Any]]:
    """The service's own dashboard as written on disk; None: the overview."""
    folder = root / settings.output.dashboards_dir
    name = c.dashboard_name(service.name) if service is not None else c.OVERVIEW_DASHBOARD
    return [json.loads(_read(folder / c.dashboard_file(name)))]


def check_deployed(root: Path, settings: StackSettings, services: tuple[Service, ...]) -> None:
    """Fail at once, not at the end of a run, when a rule file or dashboard the doctor reads is missing."""
    for service in services:
        _read(root / settings.output.alerts_dir / c.rules_file(service.name))
        deployed_boards(root, settings, service)
    deployed_boards(root, settings, None)


def scope_name(service: Service | None) -> str:
    return service.name if service is not None else ALL_SERVICES


def scope_service(service: Service | None) -> str:
    """The service a panel's faults and alerts are marked for ("": the overview, every service)."""
    return service.name if service is not None else ""


def _variables(service: Service | None) -> dict[str, str]:
    """`$service` is the service; for the overview every service (ANY_VALUE), as it opens."""
    return {"service": service.name} if service is not None else {}


def dashboard_queries(
    root: Path, settings: StackSettings, service: Service | None, seconds: int, kind: str = "prometheus"
) -> list[tuple[str, str]]:
    """(panel title, query with macros filled) of the service's panels (None: the overview's) whose datasource
    is `kind`."""
    return [
        (f"panel {title}", fill_template(expr, f"{seconds}s", _variables(service), ANY_VALUE))
        for board in deployed_boards(root, settings, service)
        for title, expr in panel_queries(board, kind)
    ]


def over_the_run(expr: str, seconds: int, step: str) -> str:
    """The panel had data at some moment of the run: a subquery over the run, evaluated every `step`. An
    instant check at the end would fail panels that show a moment (the firing alerts) for a quiet end."""
    return f"present_over_time(({expr})[{seconds}s:{step}])"


def queries(root: Path, settings: StackSettings, service: Service | None, seconds: int) -> list[tuple[str, str]]:
    """The service's recording rules and own panels; None: the overview's panels."""
    step = str(settings.timing.scrape_interval)
    panels = dashboard_queries(root, settings, service, seconds)
    records = recording_queries(root, settings, service, seconds) if service is not None else []
    return records + [(name, over_the_run(expr, seconds, step)) for name, expr in panels]


def run_doctor(
    root: Path, settings: StackSettings, services: tuple[Service, ...], ends: Endpoints, report: VerifyReport,
    presence: Presence,
) -> list[CheckLine]:  # fmt: skip
    """Every recording rule and PromQL panel through Prometheus (the log and trace panels: run_store_panels);
    the checks are appended to `report` and the failed ones of the doctor's section (both parts) returned."""
    seconds = max(60, int(time.time() - report.started) + 30)
    prom = PromClient(ends.prometheus)
    for service in (*services, None):
        events = event_panels(deployed_boards(root, settings, service)) if service is not None else {}
        for name, expr in queries(root, settings, service, seconds):
            try:
                ok = bool(prom.query(expr))
                detail = "" if ok else f"no data for {expr}"
            except Unavailable as exc:
                ok, detail = False, str(exc)
            line = CheckLine(SECTION, f"{scope_name(service)}: {name}", ok, detail)
            report.checks.append(_judged(line, prom, settings, service, events.get(name), seconds))
    _panel_data(root, settings, services, prom, report)
    return [line for line in report.checks if line.section == SECTION and not line.ok]


def _panel_data(
    root: Path, settings: StackSettings, services: tuple[Service, ...], prom: PromClient, report: VerifyReport
) -> None:
    """What each Prometheus panel (and row) of the deployed dashboards showed during the run, for the report."""
    span = panel_data.RunRange.of(report.started, time.time(), settings.timing.scrape_interval.seconds)
    for service in (*services, None):
        for board in deployed_boards(root, settings, service):
            variables = (_variables(service), ANY_VALUE)
            report.panels += panel_data.prometheus_panels(prom, board, variables, span, scope_service(service))


def run_store_panels(
    root: Path, settings: StackSettings, services: tuple[Service, ...], ends: Endpoints, report: VerifyReport,
    presence: Presence,
) -> None:  # fmt: skip
    """The log and trace panels of the doctor, over the run so far. verify runs them before its pipeline
    faults: a store that keeps data in memory (Jaeger) forgets at its restart the slow traces and error
    records the alert contract's faults produced, which is what those panels show."""
    seconds = max(60, int(time.time() - report.started) + 30)
    _logs_and_traces(root, settings, services, ends, report, presence, seconds)


def _logs_and_traces(
    root: Path, settings: StackSettings, services: tuple[Service, ...], ends: Endpoints, report: VerifyReport,
    presence: Presence, seconds: int,
) -> None:  # fmt: skip
    """Every log and trace panel, in the chosen stores' own language (LogQL or LogsQL; TraceQL or a Jaeger
    search), executed against the store over the run."""
    start, end = time.time() - seconds, time.time() + 60
    chosen = ((log_api(settings), ends.logs), (trace_api(settings), ends.traces))
    prom = PromClient(ends.prometheus)
    panels = {s.name: event_panels(deployed_boards(root, settings, s)) for s in services}  # once, not per store
    for store, url in chosen:
        gate = presence.gate((store.name,))
        for service in (*services, None):
            events = panels[service.name] if service is not None else {}
            for name, target, data in store_panel_targets(root, settings, service, seconds, store.panel_type):
                title = f"{scope_name(service)}: {name}"
                if gate is not None:
                    report.checks.append(CheckLine.of(SECTION, title, *gate))
                    report.panels.append(data)
                    continue
                waited = wait_until(partial(store.panel, url, target, start, end), 20, 2.0)
                line = CheckLine(SECTION, title, waited.ok, "" if waited.ok else waited.last)
                report.checks.append(_judged(line, prom, settings, service, events.get(name), seconds))
                report.panels.append(panel_data.store_panel(data, store.panel_type, url, target, start, end))


def _judged(
    line: CheckLine, prom: PromClient, settings: StackSettings, service: Service | None, event: str | None,
    seconds: int,
) -> CheckLine:  # fmt: skip
    """An empty panel of events (quiet.EVENT_PANELS) is skipped, with the reason, when the service had none of
    its event during the run; any other empty panel stays failed."""
    if line.ok or service is None or event is None:
        return line
    reason = quiet_reason(prom, settings, service, event, seconds)
    return CheckLine.of(line.section, line.name, "skipped", reason) if reason else line


def store_targets(
    root: Path, settings: StackSettings, service: Service | None, seconds: int, kind: str
) -> list[tuple[str, dict[str, Any]]]:
    """(panel title, target with macros and variables filled in every text field) of the service's panels (None:
    the overview's) whose datasource type is `kind`: a LogQL/LogsQL/TraceQL query, or a Jaeger search form."""
    return [(name, target) for name, target, _ in store_panel_targets(root, settings, service, seconds, kind)]


def store_panel_targets(
    root: Path, settings: StackSettings, service: Service | None, seconds: int, kind: str
) -> list[tuple[str, dict[str, Any], PanelData]]:
    """store_targets, each with its panel's place, title and unit for the report."""
    variables = _variables(service)

    def filled(value: Any) -> Any:
        return fill_template(value, f"{seconds}s", variables, ANY_VALUE) if isinstance(value, str) else value

    return [
        (f"panel {board.get('title', '')} / {panel.get('title', '')}", {k: filled(v) for k, v in target.items()},
         panel_data.blank(board, panel, scope_service(service)))
        for board in deployed_boards(root, settings, service)
        for panel in iter_panels(board)
        for target in panel.get("targets", [])
        if datasource_type(panel, target) == kind
    ]  # fmt: skip


def signal_exprs(settings: StackSettings, service: Service) -> dict[str, tuple[str, str, list[Threshold]]]:
    """The golden signals of the report: (expression, unit, alert thresholds) by title."""
    w, name = settings.timing.rate_window, service.name

    def levels(alert: Levels | None) -> list[Threshold]:
        return [Threshold("warning", alert.warning), Threshold("critical", alert.critical)] if alert else []

    exprs = {
        "traffic": (f'{c.rec_request_rate(w)}{{service="{name}"}}', "reqps", []),
        "errors (5xx ratio)": (
            f'{c.rec_error_ratio(w)}{{service="{name}"}}',
            "percentunit",
            levels(service.error_rate),
        ),
        "latency p95": (f'{c.rec_latency_quantile(0.95, w)}{{service="{name}"}}', "s", levels(service.latency)),
    }
    if service.has_db_pool:
        exprs["saturation (DB pool used)"] = (
            f'{c.REC_POOL_UTILIZATION}{{service="{name}"}}',
            "percentunit",
            levels(service.db_pool),
        )
    return exprs


def signals(prom: PromClient, settings: StackSettings, service: Service, report: VerifyReport) -> dict[str, Signal]:
    end = report.finished or time.time()
    step = max(settings.timing.scrape_interval.seconds, (end - report.started) / 300)
    result: dict[str, Signal] = {}
    for title, (expr, unit, levels) in signal_exprs(settings, service).items():
        try:
            series = prom.query_range(expr, report.started, end, step)
        except Unavailable:
            series = []
        points = _points(series[0]["values"]) if series else []
        result[title] = Signal(service.name, points, unit, levels)
    return result


def _points(values: list[Any]) -> list[tuple[float, float]]:
    points = []
    for stamp, value in values:
        number = float(value)
        if number == number and abs(number) != float("inf"):
            points.append((float(stamp), number))
    return points
