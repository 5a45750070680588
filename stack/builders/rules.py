"""settings -> rule files: recording rules and alerts per service, plus platform alerts."""

from __future__ import annotations

from stack import conventions as c
from stack.builders import health
from stack.builders import promql as q
from stack.builders.annotations import Texts, links, percent_text, seconds_text
from stack.builders.business import business_alerts
from stack.durations import Duration
from stack.models.rules import AlertingRule, RecordingRule, RuleFile, RuleGroup
from stack.settings import DBPoolAlert, Service, StackSettings

BY_SERVICE = (c.SERVICE_LABEL,)


def by_route(service: Service) -> tuple[str, str]:
    return (c.SERVICE_LABEL, q.names(service).route)


def build_rule_files(settings: StackSettings) -> dict[str, RuleFile]:
    """File name -> rule file, one per service and one for the platform alerts."""
    files = {c.rules_file(s.name): build_service_rules(settings, s) for s in settings.services}
    files[c.PLATFORM_RULES_FILE] = build_platform_rules(settings)
    return files


def build_service_rules(settings: StackSettings, service: Service) -> RuleFile:
    recording, slo, alerts = c.rule_groups(service.name)
    return RuleFile(
        groups=(
            RuleGroup(name=recording, rules=recording_rules(settings, service)),
            RuleGroup(name=slo, rules=slo_rules(settings, service)),
            RuleGroup(name=alerts, rules=alert_rules(settings, service)),
        )
    )


def recording_rules(settings: StackSettings, service: Service) -> tuple[RecordingRule, ...]:
    w, name, n, route = settings.timing.rate_window, service.name, q.names(service), by_route(service)
    requests = q.rate(q.svc(n.requests, name), w)
    buckets = q.rate(q.svc(f"{n.duration}_bucket", name), w)
    rules = [
        RecordingRule(record=c.rec_request_rate(w), expr=q.sum_by(BY_SERVICE, requests)),
        RecordingRule(record=c.rec_request_rate(w, by_handler=True), expr=q.sum_by(route, requests)),
        RecordingRule(record=c.rec_error_ratio(w), expr=q.error_ratio(service, w, BY_SERVICE)),
        RecordingRule(record=c.rec_error_ratio(w, by_handler=True), expr=q.error_ratio(service, w, route)),
        RecordingRule(record=c.rec_latency_buckets(w), expr=q.sum_by((c.SERVICE_LABEL, "le"), buckets)),
    ]
    for quantile in c.LATENCY_QUANTILES:
        for by, by_handler in ((BY_SERVICE, False), (route, True)):
            expr = f"histogram_quantile({quantile}, {q.sum_by((*by, 'le'), buckets)})"
            rules.append(RecordingRule(record=c.rec_latency_quantile(quantile, w, by_handler), expr=expr))
    if service.has_db_pool:
        in_use = q.sum_by(BY_SERVICE, q.svc(c.DB_POOL_IN_USE, name))
        capacity = q.sum_by(BY_SERVICE, q.svc(c.DB_POOL_MAX, name))
        rules.append(RecordingRule(record=c.REC_POOL_UTILIZATION, expr=f"{in_use} / {capacity}"))
    return tuple(rules)


def slo_windows(settings: StackSettings) -> tuple[Duration, ...]:
    """Every window an enabled burn-rate tier needs, plus the SLO window itself."""
    windows = {settings.timing.slo_window}
    for tier in enabled_tiers(settings):
        windows.update(tier.scaled(settings.timing.slo_window))
    return tuple(sorted(windows))


def enabled_tiers(settings: StackSettings) -> tuple[c.BurnTierSpec, ...]:
    return tuple(t for t in c.BURN_TIERS if getattr(settings.burn_rate_tiers, t.name).enabled)


def error_budget(service: Service) -> float:
    return round(1 - service.slo.objective, 10)


def slo_rules(settings: StackSettings, service: Service) -> tuple[RecordingRule, ...]:
    rules = [
        RecordingRule(record=c.rec_slo_error_ratio(w), expr=q.error_ratio(service, w, BY_SERVICE))
        for w in slo_windows(settings)
    ]
    whole = q.svc(c.rec_slo_error_ratio(settings.timing.slo_window), service.name)
    budget = q.number(error_budget(service))
    rules.append(RecordingRule(record=c.REC_SLO_BUDGET_REMAINING, expr=f"1 - ({whole} / {budget})"))
    return tuple(rules)


def alert_rules(settings: StackSettings, service: Service) -> tuple[AlertingRule, ...]:
    rules: list[AlertingRule] = []
    if service.latency.enabled:
        rules += [latency_alert(settings, service, level) for level in c.SEVERITIES[::-1]]
    if service.error_rate.enabled:
        rules += [error_alert(settings, service, level) for level in c.SEVERITIES[::-1]]
    if service.db_pool is not None and service.db_pool.enabled:
        rules += [pool_alert(settings, service, service.db_pool, level) for level in c.SEVERITIES[::-1]]
        rules.append(pool_waiting_alert(settings, service, service.db_pool))
    rules += [burn_alert(settings, service, tier) for tier in enabled_tiers(settings) if burn_possible(service, tier)]
    if service.absent_alert:
        rules.append(absent_alert(settings, service))
    if service.traffic_drop.enabled:
        rules.append(traffic_drop_alert(settings, service))
    if service.restarts.enabled:
        rules.append(restart_alert(settings, service))
    rules += business_alerts(settings, service)
    return tuple(rules)


def burn_possible(service: Service, tier: c.BurnTierSpec) -> bool:
    """A tier whose threshold is 100 % errors or more can never fire, so it is not generated."""
    return tier.factor * error_budget(service) < 1


def traffic_drop_alert(settings: StackSettings, service: Service) -> AlertingRule:
    texts, expr = health.traffic_drop_texts(settings, service), health.traffic_drop_expr(settings, service)
    for_ = settings.timing.traffic_drop_for
    return _alert(settings, c.ALERT_TRAFFIC_DROP, service, "warning", expr, for_, texts, "traffic")


def restart_alert(settings: StackSettings, service: Service) -> AlertingRule:
    texts, expr = health.restart_texts(settings, service), health.restart_expr(settings, service)
    return _alert(settings, c.ALERT_RESTARTS, service, "warning", expr, None, texts, "restarts")


def _alert(
    settings: StackSettings,
    name: str,
    service: Service,
    severity: str,
    expr: str,
    for_: Duration | None,
    texts: Texts,
    panel: str,
    extra: dict[str, str] | None = None,
) -> AlertingRule:
    runbook, dashboard = links(settings, name, service.name, panel)
    return AlertingRule(
        alert=name,
        expr=expr,
        for_=str(for_) if for_ is not None else None,
        labels={"severity": severity, c.SERVICE_LABEL: service.name, **(extra or {})},
        annotations=texts.for_rule(runbook, dashboard),
    )


def latency_texts(settings: StackSettings, service: Service, level: str) -> Texts:
    threshold = seconds_text(getattr(service.latency, level))
    return Texts(
        summary=f"p95 latency of {service.name} is above {threshold}",
        description=f"p95 latency of {service.name} over {settings.timing.rate_window} is {{value}}, "
        f"above the {level} threshold of {threshold}.",
        value_format="duration",
    )


def latency_alert(settings: StackSettings, service: Service, level: str) -> AlertingRule:
    p95 = q.svc(c.rec_latency_quantile(0.95, settings.timing.rate_window), service.name)
    expr = f"{p95} > {q.number(getattr(service.latency, level))}"
    texts = latency_texts(settings, service, level)
    return _alert(settings, c.ALERT_LATENCY, service, level, expr, settings.timing.latency_for, texts, "latency")


def error_texts(settings: StackSettings, service: Service, level: str) -> Texts:
    threshold = percent_text(getattr(service.error_rate, level))
    return Texts(
        summary=f"5xx error ratio of {service.name} is above {threshold}",
        description=f"{{value}} of requests to {service.name} failed with 5xx over "
        f"{settings.timing.rate_window}, above the {level} threshold of {threshold} "
        f"(alerting only above {service.error_rate.min_request_rate:g} requests/s).",
        value_format="percentage",
    )


def error_alert(settings: StackSettings, service: Service, level: str) -> AlertingRule:
    w, name = settings.timing.rate_window, service.name
    ratio = q.svc(c.rec_error_ratio(w), name)
    traffic = q.svc(c.rec_request_rate(w), name)
    guard = q.number(service.error_rate.min_request_rate)
    expr = f"{ratio} > {q.number(getattr(service.error_rate, level))} and on (service) {traffic} > {guard}"
    texts = error_texts(settings, service, level)
    return _alert(settings, c.ALERT_ERRORS, service, level, expr, settings.timing.error_rate_for, texts, "errors")


def pool_texts(service: Service, pool: DBPoolAlert, level: str) -> Texts:
    threshold = percent_text(getattr(pool, level))
    return Texts(
        summary=f"DB connection pool of {service.name} is {threshold} used or more",
        description=f"{{value}} of the DB connection pool of {service.name} is in use, above the {level} "
        f"threshold of {threshold}.",
        value_format="percentage",
    )


def pool_alert(settings: StackSettings, service: Service, pool: DBPoolAlert, level: str) -> AlertingRule:
    expr = f"{q.svc(c.REC_POOL_UTILIZATION, service.name)} > {q.number(getattr(pool, level))}"
    texts = pool_texts(service, pool, level)
    return _alert(settings, c.ALERT_POOL, service, level, expr, settings.timing.db_pool_for, texts, "saturation")


def pool_waiting_texts(service: Service, pool: DBPoolAlert) -> Texts:
    return Texts(
        summary=f"Requests of {service.name} are waiting for a DB connection",
        description=f"{{value}} requests of {service.name} are waiting for a DB connection "
        f"(threshold {pool.waiting_threshold}).",
        value_format="count",
    )


def pool_waiting_alert(settings: StackSettings, service: Service, pool: DBPoolAlert) -> AlertingRule:
    waiting = q.sum_by(BY_SERVICE, q.svc(c.DB_POOL_WAITING, service.name))
    expr = f"{waiting} > {pool.waiting_threshold}"
    texts = pool_waiting_texts(service, pool)
    return _alert(
        settings,
        c.ALERT_POOL_WAITING,
        service,
        "warning",
        expr,
        settings.timing.db_pool_for,
        texts,
        "saturation",
    )


def burn_texts(settings: StackSettings, service: Service, tier: c.BurnTierSpec) -> Texts:
    long_w, short_w = tier.scaled(settings.timing.slo_window)
    return Texts(
        summary=f"{service.name} is burning its error budget {tier.factor:g}x too fast ({tier.name})",
        description=f"{service.name} burns its {percent_text(service.slo.objective)} availability "
        f"error budget at {{value}}x over {long_w} (and above {tier.factor:g}x over {short_w}); "
        f"at this rate the {settings.timing.slo_window} budget is gone early.",
        value_format="burn",
    )


def burn_alert(settings: StackSettings, service: Service, tier: c.BurnTierSpec) -> AlertingRule:
    long_w, short_w = tier.scaled(settings.timing.slo_window)
    budget, factor = q.number(error_budget(service)), q.number(tier.factor)
    long_ratio = q.svc(c.rec_slo_error_ratio(long_w), service.name)
    short_ratio = q.svc(c.rec_slo_error_ratio(short_w), service.name)
    expr = f"({long_ratio} / {budget}) > {factor} and ({short_ratio} / {budget}) > {factor}"
    texts = burn_texts(settings, service, tier)
    extra = {"burnrate_tier": tier.name}
    return _alert(settings, c.ALERT_BURN, service, tier.severity, expr, None, texts, "slo", extra)


def absent_texts(service: Service) -> Texts:
    return Texts(
        summary=f"{service.name} exposes no request metrics",
        description=f"No {q.names(service).requests} series of {service.name}: the service is not scraped, "
        f"not instrumented, or has no traffic.",
    )


def absent_alert(settings: StackSettings, service: Service) -> AlertingRule:
    expr = f"absent({q.svc(q.names(service).requests, service.name)})"
    texts = absent_texts(service)
    return _alert(settings, c.ALERT_ABSENT, service, "warning", expr, settings.timing.absent_for, texts, "traffic")


def target_down_texts(settings: StackSettings) -> Texts:
    return Texts(
        summary="{job} target {instance} is down",
        description=f"Prometheus could not scrape {{job}} at {{instance}} for {settings.timing.target_down_for}.",
    )


WATCHDOG_TEXTS = Texts(
    summary="Watchdog: the alerting pipeline is alive",
    description="Always firing. If this alert stops arriving at the dead-man's-switch receiver, "
    "Prometheus or Alertmanager is broken.",
)


def build_platform_rules(settings: StackSettings) -> RuleFile:
    down_for = settings.timing.target_down_for
    runbook, dashboard = links(settings, c.ALERT_TARGET_DOWN, None, None)
    target_down = AlertingRule(
        alert=c.ALERT_TARGET_DOWN,
        expr="up == 0",
        for_=str(down_for),
        labels={"severity": "critical"},
        annotations=target_down_texts(settings).for_rule(runbook, dashboard),
    )
    runbook, dashboard = links(settings, c.ALERT_WATCHDOG, None, None)
    watchdog = AlertingRule(
        alert=c.ALERT_WATCHDOG,
        expr="vector(1)",
        labels={"severity": "none", c.SERVICE_LABEL: c.PLATFORM_SERVICE},
        annotations=WATCHDOG_TEXTS.for_rule(runbook, dashboard),
    )
    return RuleFile(groups=(RuleGroup(name="platform.alerts", rules=(target_down, watchdog)),))
