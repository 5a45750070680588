"""I/O: `obsstack verify` proves on a running stack that telemetry arrives and every alert fires on its fault.

Every wait is bounded; a Prometheus restart or a slow app is waited for and, past the timeout, reported
as the step that timed out. Faults are always switched off again, whatever happens.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import httpx

from stack import conventions as c
from stack.errors import StackError
from stack.runtime import doctor, telemetry
from stack.runtime.faults import FaultClient, FaultRefused
from stack.runtime.outages import Switch, Target, outage_table, run_outages
from stack.runtime.outcome import CheckLine, Endpoints, FaultOutcome, VerifyReport
from stack.runtime.pipeline import Backends, follow_request
from stack.runtime.presence import Presence, Status
from stack.runtime.promapi import PromClient, Unavailable, Waited, wait_until
from stack.runtime.receiver import WebhookReceiver
from stack.runtime.ring import RingClients
from stack.runtime.scenarios import (
    FaultScenario,
    detection_timeout,
    error_fault,
    latency_fault,
    notify_timeout,
    pool_fault,
    resolve_timeout,
)
from stack.runtime.stores import pipeline
from stack.runtime.traffic import BASELINE_RATE, Traffic
from stack.settings import Service, StackSettings

Progress = Callable[[str], None]
STARTUP_TIMEOUT = 90.0
RING_SKIP = "skipped: a Cortex ring run proves the alert contract; the rest is proven on the Prometheus stack"
PIPELINE_TIMEOUT = 90.0  # Tempo's service graph waits 10s for an edge, span metrics are pushed every 15s
PRE_FAULT = ("firing", "pending")  # what must have cleared before a fault starts


class Verifier:
    """Runs the checklist against services of a running stack: telemetry, rules and the no-data doctor for
    each; the fault contract for each service that declares `faults: true` (skipped for the others). A check
    that needs a component `up` did not start (`absent`: no binary, e.g. Loki or Tempo) is n/a."""

    def __init__(
        self,
        settings: StackSettings,
        services: tuple[Service, ...],
        token: str | None,
        progress: Progress,
        endpoints: Endpoints | None = None,
        strict: bool = False,
        switch: Switch | None = None,
        root: Path | None = None,
        expected: Mapping[str, Mapping[str, c.FaultAlerts]] | None = None,
        absent: frozenset[str] = frozenset(),
        ring: RingClients | None = None,
    ) -> None:
        self.settings, self.services, self.say, self.strict = settings, services, progress, strict
        self.root = root or Path.cwd()  # where `obsstack generate` wrote the deployed rules and dashboards
        self.expected = expected or {}  # service -> fault -> the alerts it must fire (the generator's catalogue)
        doctor.check_deployed(self.root, settings, services)
        self.switch = switch  # set: stop and start the collector and the chosen stores under traffic
        self.ends = endpoints or Endpoints.from_settings(settings, services)
        self.prom, self.am = PromClient(self.ends.prometheus), PromClient(self.ends.alertmanager)
        self.scraper, self.ring = self.prom, ring  # a Cortex ring run: queries, rules and alerts are the ring's
        if ring is not None:
            self.prom, self.am = ring.query, ring.alertmanager
        self.presence = Presence.from_settings(settings, absent, strict)
        urls = (self.ends.prometheus, self.ends.logs, self.ends.traces)
        self.backends = Backends.of(settings, urls, self.presence, self.ends.collector_metrics)
        self.faults = {s.name: FaultClient(self.ends.apps[s.name], token) for s in services if s.faults and token}
        self.receiver = WebhookReceiver.for_stack(settings)
        self.traffic = {s.name: Traffic(self.ends.apps[s.name], s.traffic) for s in services}
        self.report = VerifyReport(settings.profile, ", ".join(s.name for s in services), time.time())

    def run(self) -> VerifyReport:
        self.receiver.start()
        try:
            if self._startup():
                for traffic in self.traffic.values():
                    traffic.start()
                self._telemetry()
                for service in self.services:
                    self._alert_contract(service)
                if self.ring is None:
                    self._store_panels()
                    self._pipeline_faults()
                    self._doctor()
                else:
                    self._skip("ring", "panels, pipeline faults, no-data doctor", RING_SKIP)
                self._drain_notifications()
        finally:
            self._safe_clear()
            for traffic in self.traffic.values():
                traffic.stop()
            self.receiver.stop()
            self.report.finished = time.time()
            for service in self.services:
                signals = doctor.signals(self.prom, self.settings, service, self.report)
                self.report.signals |= {f"{service.name}: {name}": signal for name, signal in signals.items()}
        return self.report

    # --- helpers ------------------------------------------------------------------------------

    def _check(self, section: str, name: str, waited: Waited, detail_ok: str = "") -> bool:
        detail = detail_ok if waited.ok else f"timed out: {waited.last}"
        self._record(CheckLine(section, name, waited.ok, detail, round(waited.seconds, 1)))
        return waited.ok

    def _safe_clear(self) -> None:
        for client in self.faults.values():
            with contextlib.suppress(StackError):
                client.clear()

    def _skip(self, section: str, name: str, detail: str) -> None:
        self._record(CheckLine.of(section, name, "skipped", detail))

    def _record(self, line: CheckLine) -> None:
        self.report.checks.append(line)
        mark = {"ok": "ok  ", "failed": "FAIL", "skipped": "skip", "n/a": "n/a "}[line.status]
        self.say(f"{mark} {line.section}: {line.name}" + (f" ({line.detail})" if line.detail else ""))

    # --- 0. startup -----------------------------------------------------------------------------

    def _startup(self) -> bool:
        ok = True
        for service in self.services:
            ok &= self._check(
                "startup", f"{service.name} answers at {self.ends.apps[service.name]}",
                wait_until(lambda s=service: self._answers(s), STARTUP_TIMEOUT),  # type: ignore[misc]
            )  # fmt: skip
        ok &= self._check(
            "startup",
            "Prometheus ready",
            wait_until(lambda: (self.prom.ready(), "not ready"), STARTUP_TIMEOUT),
        )
        ready = wait_until(lambda: (self.am.ready(), "not ready"), STARTUP_TIMEOUT)
        return self._check("startup", "Alertmanager ready", ready) and ok

    def _answers(self, service: Service) -> tuple[bool, str]:
        """Its fault toggles answer (a refusal is an error, never retried), else its first traffic route."""
        client = self.faults.get(service.name)
        try:
            if client is not None:
                return True, f"faults {client.state()}"
            route = service.traffic[0]
            status = httpx.request(route.method, self.ends.apps[service.name] + route.path, timeout=5).status_code
        except FaultRefused:
            raise
        except (StackError, httpx.HTTPError) as exc:
            return False, str(exc)
        return status < 500, f"{route.method} {route.path}: HTTP {status}"

    # --- 1. telemetry ---------------------------------------------------------------------------

    def _telemetry(self) -> None:
        timing = self.settings.timing
        self._check("telemetry", "every scrape target is up", wait_until(self._targets_up, 60))
        rules = wait_until(lambda: telemetry.rules_healthy(self.prom), 60)
        self._check("telemetry", "rules loaded, zero evaluation failures", rules)
        warm = timing.rate_window.seconds + 3 * timing.scrape_interval.seconds
        self.say(f"...  warming up with traffic for {warm:.0f}s")
        time.sleep(warm)
        rate = c.rec_request_rate(timing.rate_window)
        for service in self.services:
            if not service.scraped:  # no scrape target: its pushed requests metric says it is there
                pushed = telemetry.pushed_selector(service)
                waited = wait_until(telemetry.pushed_arrives(self.prom, service), 60)
                self._check("telemetry", f"{service.name}: pushed by OTLP, {pushed} in Prometheus", waited)
            expr = f'{rate}{{service="{service.name}"}} > 0'
            waited = wait_until(lambda e=expr: self._has_data(e), 60)  # type: ignore[misc]
            self._check("telemetry", f"{service.name}: {rate} has data", waited)
            self._buckets(service)
        self._check(
            "telemetry",
            "Watchdog reaches the webhook receiver",
            wait_until(
                lambda: (self.receiver.seen(c.ALERT_WATCHDOG, "firing", 0), "no Watchdog notification"),
                notify_timeout(self.settings) + 30,
            ),
        )
        # an error-budget burn may go on from the errors an earlier run injected: the budget they used stays
        # used for the SLO windows, which is the alert doing its job; anything else firing is reported
        quiet = wait_until(lambda: self._quiet(frozenset({c.ALERT_BURN})), 90)
        if not quiet.ok:
            hint = " (left over from an earlier run? start the stack with `obsstack up --ephemeral`)"
            quiet = Waited(False, quiet.seconds, quiet.last + hint)
        self._check("telemetry", "no alert but the Watchdog (and a burn left by earlier runs) fires", quiet)
        self._correlation()

    def _buckets(self, service: Service) -> None:
        declared = self.settings.buckets(service)
        waited = telemetry.check_buckets(self.prom, service, declared, 30)
        name = f"{service.name}: latency buckets in Prometheus are the declared ones"
        self._record(CheckLine("telemetry", name, waited.ok, waited.last, round(waited.seconds, 1)))

    def _correlation(self) -> None:
        if self.ring is not None:
            self._skip("pipeline", "traced request, logs and exemplars", RING_SKIP)
            return
        for service in self.services:
            if not service.otlp:
                self._skip("pipeline", f"{service.name}: traced request", "skipped: otlp: false in stack.yaml")
                continue
            app, path = self.ends.apps[service.name], service.traffic[0].path
            histogram = service.http_names.duration + "_bucket"
            for lookup in follow_request(app, path, service.name, self.backends, histogram, PIPELINE_TIMEOUT):
                self._record(CheckLine.of("pipeline", f"{service.name}: {lookup.name}", lookup.status, lookup.detail))

    def _targets_up(self) -> tuple[bool, str]:
        return telemetry.targets_verdict(self.scraper.targets(), self.services, self._judged)

    def _has_data(self, expr: str) -> tuple[bool, str]:
        return bool(self.prom.query(expr)), f"no data for {expr}"

    def _firing(self, states: tuple[str, ...] = ("firing",)) -> set[tuple[str, str]]:
        """(alertname, service) of every firing alert (or one in `states`) but the Watchdog and those of services
        not verified."""
        return {(n, svc) for n, svc in self.prom.active(states) if n != c.ALERT_WATCHDOG and self._judged(svc)}

    def _judged(self, name: str) -> bool:
        """A scrape job or alert `service` this run judges: a component, or a service it verifies; not a
        service of stack.yaml that --service left out (it may be down, e.g. an image service in local mode), nor
        a component not part of this stack (compose's scrape job of a service an override left out)."""
        if name in self.presence.absent:
            return False
        return name in {s.name for s in self.services} or name not in {s.name for s in self.settings.services}

    def _quiet(self, lingering: frozenset[str], states: tuple[str, ...] = ("firing",)) -> tuple[bool, str]:
        active = {f"{name}{{service={svc}}}" for name, svc in self._firing(states) if name not in lingering}
        return not active, f"still {' or '.join(states)}: {sorted(active)}"

    # --- 2. alert contract ----------------------------------------------------------------------

    def _alert_contract(self, service: Service) -> None:
        if service.name not in self.faults:
            self._skip("faults", f"{service.name}: fault contract", "skipped: no fault toggles (faults: false)")
            return
        alerts = defaultdict(c.FaultAlerts, self.expected.get(service.name, {}))
        scenarios = [latency_fault(self.settings, service, alerts["latency"])]
        capacity = self._pool_capacity(service) if service.has_db_pool else 0
        if capacity:
            try:
                scenarios.append(pool_fault(self.settings, service, capacity, alerts["db_pool"]))
            except ValueError as exc:
                self._check("faults", f"{service.name}: pool fault possible", Waited(False, 0, str(exc)))
        elif not service.has_db_pool:
            self._skip("faults", f"{service.name}: pool fault", "skipped: no DB pool (db_pool not set)")
        scenarios.append(error_fault(self.settings, service, alerts["errors"]))
        for scenario in scenarios:
            if not scenario.required:  # no alert of this service watches what the fault breaks
                self._skip("faults", f"{service.name}: fault {scenario.name}", "skipped: no alert enabled for it")
                continue
            self.report.faults.append(self._run_fault(service, replace(scenario, service=service.name)))

    def _pool_capacity(self, service: Service) -> int:
        expr = f'sum({c.DB_POOL_MAX}{{service="{service.name}"}})'
        try:
            result, detail = self.prom.query(expr), f"no data for {expr}"
        except Unavailable as exc:
            result, detail = [], str(exc)
        if not result:
            self._check("faults", f"{service.name}: pool capacity known", Waited(False, 0, detail))
            return 0
        return int(float(result[0]["value"][1]))

    def _run_fault(self, service: Service, scenario: FaultScenario) -> FaultOutcome:
        name = f"{service.name}: {scenario.name}" if len(self.services) > 1 else scenario.name
        outcome = FaultOutcome(name, scenario.setting, sorted(scenario.required))
        self.say(f"...  fault {name}: {scenario.setting}")
        # pending ones too: an alert the previous fault set pending (a pool fault slows requests) would fire in this
        # fault's window and count as unexpected
        quiet = wait_until(lambda: self._quiet(frozenset({c.ALERT_BURN}), PRE_FAULT), resolve_timeout(self.settings))
        if not quiet.ok:
            outcome.detail = f"alerts did not clear before the fault: {quiet.last}"
            return self._done(outcome)
        traffic, toggles = self.traffic[service.name], self.faults[service.name]
        traffic.set_rate(scenario.traffic_rate)
        outcome.started = time.time()
        since = time.monotonic()
        toggles.set(**scenario.setting)
        try:
            self._detect(scenario, outcome, since)
        finally:
            toggles.clear()
            outcome.ended = time.time()
            traffic.set_rate(BASELINE_RATE)
        if outcome.detected_s is not None:
            self._resolve(scenario, outcome, since)
        return self._done(outcome)

    def _detect(self, scenario: FaultScenario, outcome: FaultOutcome, since: float) -> None:
        seen: set[str] = set()
        expected = {f"{n}{{service={scenario.service}}}" for n in scenario.required | scenario.allowed}
        # already firing when the fault began (only a lingering burn can be, after the quiet check): not caused by it
        expected |= {f"{n}{{service={svc}}}" for n, svc in self._firing()}

        def fired() -> tuple[bool, str]:
            firing = {n for n, svc in self._firing() if svc == scenario.service}
            seen.update(f"{n}{{service={svc}}}" for n, svc in self._firing())
            return (
                scenario.required <= firing,
                f"firing: {sorted(firing)}, expected {sorted(scenario.required)}",
            )

        detected = wait_until(fired, detection_timeout(self.settings, scenario))
        if not detected.ok:
            outcome.detail = f"expected alert did not fire: {detected.last}"
        else:
            outcome.detected_s = round(detected.seconds, 1)
            notified = wait_until(
                lambda: (
                    all(self.receiver.seen(n, "firing", since) for n in scenario.required),
                    "webhook has not received it",
                ),
                notify_timeout(self.settings),
            )
            outcome.notified_s = round(time.monotonic() - since, 1) if notified.ok else None
            if not notified.ok:
                outcome.detail = f"firing in Prometheus but not delivered to the webhook: {notified.last}"
        outcome.seen = sorted(seen)
        outcome.unexpected = sorted(seen - expected)

    def _resolve(self, scenario: FaultScenario, outcome: FaultOutcome, since: float) -> None:
        def resolved() -> tuple[bool, str]:
            still = {n for n, svc in self._firing() if svc == scenario.service} & scenario.must_resolve
            return not still, f"still firing: {sorted(still)}"

        waited = wait_until(resolved, resolve_timeout(self.settings))
        if waited.ok:
            outcome.resolved_s = round(waited.seconds, 1)
        elif not outcome.detail:
            outcome.detail = f"did not resolve after the fault was switched off: {waited.last}"

    def _done(self, outcome: FaultOutcome) -> FaultOutcome:
        if outcome.unexpected and not outcome.detail:
            outcome.detail = f"unexpected alerts fired: {outcome.unexpected}"
        outcome.ok = not outcome.detail and outcome.resolved_s is not None
        timing = (
            f"detected {outcome.detected_s}s, delivered {outcome.notified_s}s, resolved {outcome.resolved_s}s"
            if outcome.ok
            else outcome.detail
        )
        self.say(f"{'ok  ' if outcome.ok else 'FAIL'} fault {outcome.name}: {timing}")
        return outcome

    # --- 3. pipeline faults -------------------------------------------------------------------

    def _pipeline_faults(self) -> None:
        if self.switch is None:
            return
        service = next((s for s in self.services if s.otlp), None)
        if service is None:
            self._skip("pipeline faults", "collector and store outages", "skipped: no service sends OTLP")
            return
        for name in (n for n in pipeline(self.settings) if n not in self.switch.components):  # n/a, down, not ours
            not_ours: tuple[Status, str] = ("skipped", f"{name} runs, but `obsstack up` did not start it: not stopped")
            status, detail = self.presence.gate((name,)) or not_ours
            self._record(CheckLine.of("pipeline faults", f"{name} stopped and restarted", status, detail))
        target = Target(self.traffic[service.name], service.name, service.traffic[0].path)
        for outage in run_outages(self.switch, target, self.backends, self.say):
            self.report.outages.append(outage)
            detail = outage.lost_text() + (f"; {outage.detail}" if outage.detail else "")
            self.report.checks.append(CheckLine("pipeline faults", f"{outage.component} stopped and restarted",
                                                outage.ok, detail))  # fmt: skip
        for row in outage_table(self.report.outages):
            self.say(row)
        # the error budget burn of the error fault may linger, as between the faults
        quiet = wait_until(lambda: self._quiet(frozenset({c.ALERT_BURN})), resolve_timeout(self.settings) + 60)
        self._check("pipeline faults", "alerts clear after the outages", quiet)

    # --- 4. no-data doctor ----------------------------------------------------------------------

    def _store_panels(self) -> None:
        """The doctor's log and trace panels, before the pipeline faults restart the stores."""
        self.say("...  no-data doctor: the log and trace panels, before the pipeline faults")
        doctor.run_store_panels(self.root, self.settings, self.services, self.ends, self.report, self.presence)

    def _doctor(self) -> None:
        bad = doctor.run_doctor(self.root, self.settings, self.services, self.ends, self.report, self.presence)
        lines = [line for line in self.report.checks if line.section == doctor.SECTION]
        checked = [line for line in lines if line.status in ("ok", "failed")]
        self.say(f"{'ok  ' if not bad else 'FAIL'} no-data doctor: {len(checked) - len(bad)}/{len(checked)} "
                 f"queries have data")  # fmt: skip
        for line in lines:
            if line.status != "ok":
                self.say(f"{'FAIL' if line.status == 'failed' else line.status}   {line.name}: {line.detail}")

    def _drain_notifications(self) -> None:
        """Keep the receiver up until Alertmanager has sent the resolutions of what this run fired, so the next
        run on the same stack starts from a notification log in which every contract alert is resolved."""
        lingering = {c.ALERT_WATCHDOG, c.ALERT_BURN}

        def resolved() -> tuple[bool, str]:
            try:
                url, query = f"{self.am.base_url}/api/v2/alerts", {"active": "true"}
                alerts = httpx.get(url, params=query, headers=self.am.headers, timeout=5)
                labels = [a["labels"] for a in alerts.json()]
                active = {x.get("alertname", "") for x in labels if self._judged(x.get("service", ""))} - lingering
            except (httpx.HTTPError, ValueError) as exc:
                return False, str(exc)
            return not active, f"active in Alertmanager: {sorted(active)}"

        waited = wait_until(resolved, resolve_timeout(self.settings))
        if waited.ok:
            time.sleep(self.settings.timing.group_interval.seconds + 2)  # one more flush delivers them
        self.say(f"...  notifications drained: {waited.last}")
