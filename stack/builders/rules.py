"""settings -> rule files: recording rules and alerts per service, plus platform alerts.

The alerts come from the catalogue (builders/catalogue.py); their runbook and dashboard links are added
by one pass over the built files (annotations.add_links). burn_possible, enabled_tiers and error_budget
live with the burn-rate alert (alerts_slo.py) and are re-exported here for the dashboards.
"""

from __future__ import annotations

from functools import lru_cache

from stack import conventions as c
from stack.builders import promql as q
from stack.builders.alerts_slo import burn_possible as burn_possible
from stack.builders.alerts_slo import enabled_tiers as enabled_tiers
from stack.builders.alerts_slo import error_budget as error_budget
from stack.builders.alerts_slo import tier_windows
from stack.builders.annotations import Linker, add_links
from stack.builders.catalogue import STACK_ALERTS, panels, service_kinds
from stack.durations import Duration
from stack.models.rules import AlertingRule, RecordingRule, RuleFile, RuleGroup
from stack.settings import Service, StackSettings

BY_SERVICE = (c.SERVICE_LABEL,)


def by_route(service: Service) -> tuple[str, str]:
    return (c.SERVICE_LABEL, q.names(service).route)


def build_rule_files(settings: StackSettings) -> dict[str, RuleFile]:
    """File name -> rule file, one per service and one for the platform alerts, with their links (each file
    linked as soon as it is built, so the unlinked copy is dropped at once)."""
    links = Linker(settings, panels(settings))
    files = {c.rules_file(s.name): add_links(links, build_service_rules(settings, s)) for s in settings.services}
    files[c.PLATFORM_RULES_FILE] = add_links(links, build_platform_rules(settings))
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
    ratio = q.ErrorRatio(service)
    rules = [
        RecordingRule(record=c.rec_request_rate(w), expr=q.sum_by(BY_SERVICE, requests)),
        RecordingRule(record=c.rec_request_rate(w, by_handler=True), expr=q.sum_by(route, requests)),
        RecordingRule(record=c.rec_error_ratio(w), expr=ratio(w, BY_SERVICE)),
        RecordingRule(record=c.rec_error_ratio(w, by_handler=True), expr=ratio(w, route)),
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
    return _slo_windows(settings.timing.slo_window, enabled_tiers(settings))


@lru_cache(maxsize=64)
def _slo_windows(slo_window: Duration, tiers: tuple[c.BurnTierSpec, ...]) -> tuple[Duration, ...]:
    windows = {slo_window}
    for tier in tiers:
        windows.update(tier_windows(tier, slo_window))
    return tuple(sorted(windows))


def slo_rules(settings: StackSettings, service: Service) -> tuple[RecordingRule, ...]:
    ratio = q.ErrorRatio(service)
    rules = [RecordingRule(record=c.rec_slo_error_ratio(w), expr=ratio(w, BY_SERVICE)) for w in slo_windows(settings)]
    whole = q.svc(c.rec_slo_error_ratio(settings.timing.slo_window), service.name)
    budget = q.number(error_budget(service))
    rules.append(RecordingRule(record=c.REC_SLO_BUDGET_REMAINING, expr=f"1 - ({whole} / {budget})"))
    return tuple(rules)


def alert_rules(settings: StackSettings, service: Service) -> tuple[AlertingRule, ...]:
    return tuple(rule for kind in service_kinds(settings, service) for rule in kind.rules(settings, service))


def build_platform_rules(settings: StackSettings) -> RuleFile:
    rules = tuple(alert.rule(settings) for alert in STACK_ALERTS)
    return RuleFile(groups=(RuleGroup(name="platform.alerts", rules=rules),))
