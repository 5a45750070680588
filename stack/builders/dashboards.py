"""settings -> Grafana dashboards: golden signals per service and one overview, one row per signal.

Panels are built with the named panels of stack.builders.panels (the one module that knows Grafana's
dashboard model) and the named queries of stack.builders.queries.
Service-level panels use the recording rules (the exact series the alerts compare with their
thresholds); breakdowns use raw metrics with `$__rate_interval`, filtered by `instance` and `route`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.annotations import percent_text, seconds_text
from stack.builders.backends import log_store, trace_store
from stack.builders.business import business_panels
from stack.builders.panels import (
    Json,
    alert_steps,
    dashboard,
    datasource_variable,
    heatmap,
    layout,
    link,
    logs,
    query_variable,
    stat,
    steps,
    table,
    timeseries,
)
from stack.builders.queries import RATE, buckets, le_matcher, rec, sel, status_class, window_text
from stack.builders.rules import burn_possible, enabled_tiers, error_budget
from stack.durations import Duration
from stack.models.grafana import PromTarget
from stack.settings import Service, StackSettings

ID = c.PANEL_IDS
ROW_IDS = {"traffic": 101, "errors": 102, "latency": 103, "saturation": 104, "slo": 105, "logs": 106, "business": 107}


# --- the golden-signals dashboard, one row per signal ----------------------------------------------


def traffic(service: Service) -> list[Json]:
    n = q.names(service)
    requests = f"rate({sel(n.requests, n.route)}{RATE})"
    by_class = f"sum by (status_class) ({status_class(requests, n.status)})"
    return [
        timeseries(
            ID["traffic"], "Requests/s by route", "reqps", [(f"sum by ({n.route}) ({requests})", f"{{{{{n.route}}}}}")]
        ),
        timeseries(ID["traffic_by_status"], "Requests/s by status class", "reqps", [(by_class, "{{status_class}}")]),
    ]


def errors(settings: StackSettings, service: Service) -> list[Json]:
    w, levels, n = settings.timing.rate_window, service.error_rate, q.names(service)
    failing = f"rate({sel(n.requests, n.route, **{n.status: c.ERROR_STATUS_REGEX})}{RATE})"
    top = f"topk(10, {rec(c.rec_error_ratio(w, by_handler=True), n.route)} > 0)"
    legend = f"{{{{{n.route}}}}}"
    note = f"Alert thresholds: warning {percent_text(levels.warning)}, critical {percent_text(levels.critical)}."
    return [
        timeseries(
            ID["errors"],
            f"5xx ratio ({w})",
            "percentunit",
            [(rec(c.rec_error_ratio(w)), "5xx ratio")],
            alert_steps(levels),
            note,
        ),
        timeseries(
            ID["errors_by_route"], "5xx errors/s by route", "reqps", [(f"sum by ({n.route}) ({failing})", legend)]
        ),
        table(
            ID["top_failing_routes"],
            f"Top failing routes (5xx ratio, {w})",
            "percentunit",
            [PromTarget(top, legend, instant=True, format="table")],
        ),
    ]


def latency(settings: StackSettings, service: Service) -> list[Json]:
    w, levels, n = settings.timing.rate_window, service.latency, q.names(service)
    quantiles = [(rec(c.rec_latency_quantile(p, w)), f"p{round(p * 100)} ({w})") for p in c.LATENCY_QUANTILES]
    histogram = buckets(n.duration, n.route)
    traced = PromTarget(f"histogram_quantile(0.95, {histogram})", "p95 (exemplars link to traces)", exemplar=True)
    heat = PromTarget(histogram, "{{le}}", exemplar=True, format="heatmap")
    by_route = rec(c.rec_latency_quantile(0.95, w, by_handler=True), n.route)
    warn, crit = seconds_text(levels.warning), seconds_text(levels.critical)
    note = f"p95 alert thresholds: warning {warn}, critical {crit}."
    return [
        timeseries(ID["latency"], "Latency p50 / p95 / p99", "s", [*quantiles, traced], alert_steps(levels), note),
        heatmap(ID["latency_heatmap"], "Latency distribution", heat),
        timeseries(
            ID["latency_by_route"],
            f"p95 latency by route ({w})",
            "s",
            [(by_route, f"{{{{{n.route}}}}}")],
            alert_steps(levels),
        ),
    ]


POOL_SERIES = (
    (c.DB_POOL_IN_USE, "in use"),
    (c.DB_POOL_IDLE, "idle"),
    (c.DB_POOL_MAX, "capacity"),
    (c.DB_POOL_WAITING, "waiting requests"),
)


def per_instance(settings: StackSettings, service: Service) -> list[Json]:
    """In-flight requests, CPU, memory and restarts per instance (the restarts panel is what alerts link to),
    each only when the service has its metric: an in-flight gauge, process_* (left out, not drawn empty)."""
    n, window = q.names(service), f"[{settings.timing.restart_window}]"
    specs = []  # id, title, unit, expr
    if n.inprogress is not None:
        specs.append((ID["in_flight"], "In-flight requests", "short", f"sum by (instance) ({sel(n.inprogress)})"))
    if service.has_process_metrics:
        specs += [
            (ID["process_cpu"], "Process CPU", "percentunit", f"sum by (instance) (rate({sel(c.PROCESS_CPU)}{RATE}))"),
            (ID["process_memory"], "Process memory (RSS)", "bytes", f"sum by (instance) ({sel(c.PROCESS_RSS)})"),
            (ID["restarts"], f"Restarts ({settings.timing.restart_window})", "short",
             f"sum by (instance) (changes({sel(c.PROCESS_START)}{window}))"),
        ]  # fmt: skip
    return [timeseries(pid, title, unit, [(expr, "{{instance}}")]) for pid, title, unit, expr in specs]


def saturation(settings: StackSettings, service: Service) -> list[list[Json]]:
    """The DB pool panels only for a service with a pool; the per-instance panels for every service that has
    some (none: no line)."""
    instances = [line for line in [per_instance(settings, service)] if line]
    if service.db_pool is None or not service.db_pool.enabled:
        return instances
    pool = [(f"sum({sel(metric)})", name) for metric, name in POOL_SERIES]
    wait = [(f"histogram_quantile({p}, {buckets(c.DB_POOL_WAIT)})", f"p{round(p * 100)}") for p in (0.5, 0.95)]
    utilisation = [(rec(c.REC_POOL_UTILIZATION), "in use / capacity")]
    return [
        [
            timeseries(
                ID["saturation"],
                "DB pool utilisation",
                "percentunit",
                utilisation,
                alert_steps(service.db_pool),
            ),
            timeseries(ID["pool_connections"], "DB pool connections", "short", pool),
            timeseries(ID["pool_wait"], "DB pool wait time", "s", wait),
        ],
        *instances,
    ]


Tiers = tuple[tuple[c.BurnTierSpec, tuple[Duration, Duration]], ...]


def scaled_tiers(settings: StackSettings) -> Tiers:
    """The enabled burn-rate tiers with their (long, short) windows for the SLO window: the same for every
    service, so worked out once per settings."""
    return tuple((t, t.scaled(settings.timing.slo_window)) for t in enabled_tiers(settings))


def burn_panel(settings: StackSettings, service: Service, scaled: Tiers) -> Json:
    budget, slo_window = q.number(error_budget(service)), settings.timing.slo_window
    tiers = [(t, pair) for t, pair in scaled if burn_possible(service, t)]
    windows = sorted({w for _, pair in tiers for w in pair})
    series = [(f"{rec(c.rec_slo_error_ratio(w))} / {budget}", f"burn rate {w}") for w in windows]
    colors = {"critical": "red", "warning": "orange"}
    levels = sorted({(t.factor, colors[t.severity]) for t, _ in tiers})
    tiers_text = ", ".join(f"{t.name} {t.factor:g}x over {'/'.join(map(str, pair))}" for t, pair in tiers)
    note = f"1x spends the budget exactly in {window_text(slo_window)}. Alert tiers: {tiers_text}."
    limits = steps(*((color, factor) for factor, color in levels))
    return timeseries(ID["slo"], "Error budget burn rate per alert window", "suffix:x", series, limits, note)


def slo(settings: StackSettings, service: Service, tiers: Tiers) -> list[list[Json]]:
    window, objective, fast = settings.timing.slo_window, service.slo.objective, service.latency.warning
    shown, goal = window_text(window), f"(objective {percent_text(objective)})"
    meets = steps(("green", objective), base="red")
    bucket = f'{q.names(service).duration}_bucket{{{c.SERVICE_LABEL}="$service",'
    good, total = (f"sum(rate({bucket}{le}}}[{window}]))" for le in (le_matcher(fast), 'le="+Inf"'))
    budget = f"Share of the {shown} error budget ({percent_text(error_budget(service))} of requests) left."
    return [
        [burn_panel(settings, service, tiers)],
        [
            stat(
                ID["availability"],
                f"Availability over {shown} {goal}",
                "percentunit",
                (f"1 - {rec(c.rec_slo_error_ratio(window))}", "availability"),
                meets,
            ),
            stat(
                ID["latency_sli"],
                f"Requests faster than {seconds_text(fast)} over {shown} {goal}",
                "percentunit",
                (f"{good} / {total}", "latency SLI"),
                meets,
            ),
            stat(
                ID["budget_remaining"],
                "Error budget remaining",
                "percentunit",
                (rec(c.REC_SLO_BUDGET_REMAINING), "remaining"),
                steps(("orange", 0.0), ("green", 0.25), base="red"),
                budget,
            ),
        ],
    ]


def logs_and_traces(settings: StackSettings, service: Service) -> list[Json]:
    """Error logs and slow traces, each in its store's own language (LogQL or LogsQL; TraceQL or a Jaeger
    search): the queries are the stores' catalogue entries."""
    slow = seconds_text(service.latency.warning)
    traces = trace_store(settings).slow_traces_target(service, slow)
    trace_source = traces.to_json_data()["datasource"]
    return [
        logs(ID["logs"], "Error logs", log_store(settings).logs_target()),
        table(ID["slow_traces"], f"Slow traces (> {slow})", "ms", [traces], datasource=trace_source),
    ]


def business(service: Service) -> list[list[Json]]:
    """The declared business metrics, three panels a line; the first has the id alerts link to."""
    specs = business_panels(service)
    panels = [timeseries(ID["business"] + i, spec.title, spec.unit, spec.queries) for i, spec in enumerate(specs)]
    return [panels[i : i + 3] for i in range(0, len(panels), 3)]


# --- assembly --------------------------------------------------------------------------------------


def variables(settings: StackSettings, service: Service | None) -> list[Json]:
    """Data source and service; for a service's dashboard its instances and routes. Services are listed from
    `up` (scraped ones and the stack's components) and the request-rate recording rule (pushed ones, which
    have no `up`)."""
    datasource = datasource_variable("datasource", "Data source", "prometheus", c.DATASOURCE_UIDS["prometheus"])
    services = f'label_values({{__name__=~"up|{c.rec_request_rate(settings.timing.rate_window)}"}}, {c.SERVICE_LABEL})'
    if service is None:
        return [datasource, query_variable("service", "Service", services)]
    n = q.names(service)
    scoped = f'{n.requests}{{{c.SERVICE_LABEL}="$service"}}'
    return [
        datasource,
        query_variable("service", "Service", services, default=service.name),
        query_variable("instance", "Instance", f"label_values({scoped}, instance)"),
        query_variable("route", "Route", f"label_values({scoped}, {n.route})"),
    ]


def service_dashboard(settings: StackSettings, service: Service, tiers: Tiers) -> Json:
    sections: list[tuple[str, int | None, list[list[Json]]]] = [
        ("Traffic", ROW_IDS["traffic"], [traffic(service)]),
        ("Errors", ROW_IDS["errors"], [errors(settings, service)]),
        ("Latency", ROW_IDS["latency"], [latency(settings, service)]),
        ("Saturation", ROW_IDS["saturation"], saturation(settings, service)),
        ("SLO", ROW_IDS["slo"], slo(settings, service, tiers)),
        ("Logs and traces", ROW_IDS["logs"], [logs_and_traces(settings, service)]),
    ]
    if service.business.metrics:
        sections.insert(5, ("Business", ROW_IDS["business"], business(service)))
    sections = [section for section in sections if section[2]]  # a row with no panels (saturation) is left out
    title, overview = f"{service.name}: golden signals", link(c.OVERVIEW_DASHBOARD, "Overview")
    templates = variables(settings, service)
    return dashboard(c.dashboard_name(service.name), title, layout(sections), templates, [overview])


def overview_dashboard(settings: StackSettings) -> Json:
    w, matcher = settings.timing.rate_window, f'{c.SERVICE_LABEL}=~"$service"'
    scope = f"{{{matcher}}}"
    gauges = sorted({n for n in (s.http_names.inprogress for s in settings.services) if n is not None})
    inflight = f'sum by (service) ({{__name__=~"{"|".join(gauges)}",{matcher}}})'
    specs = [  # id, title, unit, expr
        (ID["traffic"], f"Requests/s ({w})", "reqps", c.rec_request_rate(w) + scope),
        (ID["errors"], f"5xx ratio ({w})", "percentunit", c.rec_error_ratio(w) + scope),
        (ID["latency"], f"p95 latency ({w})", "s", c.rec_latency_quantile(0.95, w) + scope),
        *([(ID["in_flight"], "In-flight requests", "short", inflight)] if gauges else []),
    ]
    if any(s.has_db_pool for s in settings.services):
        specs.insert(3, (ID["saturation"], "DB pool utilisation", "percentunit", c.REC_POOL_UTILIZATION + scope))
    panels = [timeseries(pid, title, unit, [(expr, "{{service}}")]) for pid, title, unit, expr in specs]
    firing = f'sum by (service, alertname, severity) (ALERTS{{alertstate="firing",{matcher}}})'
    firing_table = [PromTarget(firing, "", instant=True, format="table")]
    panels.append(table(ID["firing_alerts"], "Firing alerts", "short", firing_table))
    links = [link(c.dashboard_name(s.name), f"{s.name}: golden signals") for s in settings.services]
    placed = layout([("Services", None, [panels[:3], panels[3:]])])
    return dashboard(c.OVERVIEW_DASHBOARD, "Overview: all services", placed, variables(settings, None), links)


def build_dashboards(settings: StackSettings) -> dict[str, Json]:
    """Dashboard name (file stem, UID source) -> dashboard JSON data; one per service plus the overview."""
    return dict(iter_dashboards(settings))


def iter_dashboards(settings: StackSettings) -> Iterator[tuple[str, Json]]:
    """(name, dashboard JSON data) one at a time, in build_dashboards' order: a caller that serialises each
    holds one dashboard's data at a time, not thousands."""
    tiers = scaled_tiers(settings)
    for service in settings.services:
        yield c.dashboard_name(service.name), service_dashboard(settings, service, tiers)
    yield c.OVERVIEW_DASHBOARD, overview_dashboard(settings)


def dashboard_queries(settings: StackSettings) -> list[tuple[str, str]]:
    """(dashboard / panel title, PromQL expression) of every Prometheus query in every dashboard."""
    from stack.dashlint import promql_queries  # the tests' and the contract check's: generate never loads it

    return [pair for board in build_dashboards(settings).values() for pair in promql_queries(board)]
