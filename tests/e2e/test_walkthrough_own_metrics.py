"""The walkthrough with services as users really have them, done as a new user in an empty directory outside
this repository, with two small FastAPI services of the user's own and the installed `obsstack` command:

- "inventory" is a plain FastAPI app (no obsstack_fastapi, no /metrics) run under `opentelemetry-instrument`,
  which pushes its traces, logs and metrics by OTLP;
- "payments" counts and times its requests with prometheus_client as the textbook recipe does, under names
  and labels of its own (`ledger_requests_total{method,path,code}`, `ledger_request_duration_seconds` with
  its own buckets, no in-flight gauge), served by `start_http_server` on a port of their own.

Each is run by hand once and `obsstack init --probe` / `--probe-otlp` writes its stack.yaml entry from what it
really exposes (inventory's first probe, on the SDK's old HTTP semantic conventions, is refused with what to
set); the user adds only how obsstack starts it and the stack's ports, then generate, validate,
`up --local --profile fast`. The test's own slow requests and 5xx answers fire HighLatencyP95 and
HighErrorRate for each service and nothing else; `verify` passes with every dashboard query filled; `down`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from support import free_port

from stack import conventions as c
from stack.runtime.promapi import wait_until
from stack.settings import FastProfile

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
OBSSTACK = str(BIN / "obsstack")
OTEL_INSTRUMENT = str(BIN / "opentelemetry-instrument")

INVENTORY = '''\
import asyncio
import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse

log = logging.getLogger("inventory")
log.setLevel(logging.INFO)
app = FastAPI(title="inventory")
STOCK = {"apple": 12, "pear": 0}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/stock/{item}")
async def stock(item: str, wait: float = 0.0) -> dict[str, object]:
    """`wait` seconds (at most 3) before answering: the warehouse system being slow."""
    await asyncio.sleep(min(max(wait, 0.0), 3.0))
    log.info("stock lookup for %s", item)
    return {"item": item, "count": STOCK.get(item, 0)}


@app.post("/reorder")
async def reorder() -> JSONResponse:
    log.error("supplier unreachable, reorder failed")
    return JSONResponse({"detail": "supplier unreachable"}, status_code=502)
'''

PAYMENTS = '''\
import asyncio
import os
import time

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter, Histogram, start_http_server

REQUESTS = Counter("ledger_requests", "HTTP requests answered", ["method", "path", "code"])
DURATION = Histogram(
    "ledger_request_duration_seconds", "Time to answer an HTTP request", ["method", "path"],
    buckets=(0.025, 0.05, 0.1, 0.3, 0.6, 1.2, 3.0),
)
start_http_server(int(os.environ["METRICS_PORT"]), addr="127.0.0.1")
app = FastAPI(title="payments")


@app.middleware("http")
async def measure(request: Request, call_next) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    REQUESTS.labels(request.method, path, str(response.status_code)).inc()
    DURATION.labels(request.method, path).observe(time.perf_counter() - started)
    return response


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/balance")
async def balance() -> dict[str, int]:
    return {"cents": 4200}


@app.get("/charges/{charge_id}")
async def charge(charge_id: str, delay: float = 0.0) -> dict[str, str]:
    """`delay` seconds (at most 3) before answering: the card network being slow."""
    await asyncio.sleep(min(max(delay, 0.0), 3.0))
    return {"charge": charge_id, "state": "captured"}


@app.post("/settlements")
async def settle() -> JSONResponse:
    return JSONResponse({"detail": "bank gateway unavailable"}, status_code=503)
'''

PAYMENTS_BUCKETS = [0.025, 0.05, 0.1, 0.3, 0.6, 1.2, 3.0]
# OpenTelemetry's semantic-convention boundaries for http.server.request.duration (what the SDK really uses)
OTEL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
# The catalogue (stack/builders/catalogue.py) gives ErrorBudgetBurn the same fault as HighErrorRate (errors): a
# 5xx burst may fire it too, and it lingers (the budget it used stays used for the SLO windows)
ERRORS_MAY_FIRE = {c.ALERT_ERRORS, c.ALERT_BURN}
VERIFY_TIMEOUT = 900.0


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the machine's own service settings, plus `extra`."""
    prefixes = ("APP_", "OBS_", "OTEL_", "OBSSTACK_", "METRICS_PORT")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(prefixes)}, **extra}


def obsstack(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OBSSTACK, *args], cwd=project, env=clean_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


@contextlib.contextmanager
def running(argv: list[str], cwd: Path, env: dict[str, str], health: str) -> Iterator[subprocess.Popen[bytes]]:
    """A service started by hand, until `health` answers 200; always stopped."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        up = wait_until(lambda: (_status(health) == 200, f"{health} does not answer"), 30, 0.2)
        assert up.ok, up.last
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # an SDK still retrying its last export to a probe that is gone
            proc.kill()
            proc.wait(timeout=10)


def _status(url: str, method: str = "GET") -> int:
    try:
        return httpx.request(method, url, timeout=5).status_code
    except httpx.HTTPError:
        return 0


def _listening(port: int) -> tuple[bool, str]:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0, f"nothing listens on {port}"


def uvicorn(module: str, port: int) -> list[str]:
    return ["python", "-m", "uvicorn", f"{module}:app", "--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    assert not str(root).startswith(str(Path(__file__).resolve().parents[2]))
    (root / "inventory.py").write_text(INVENTORY, encoding="utf-8")
    (root / "payments.py").write_text(PAYMENTS, encoding="utf-8")
    return root


def probe_payments(project: Path, port: int, metrics_port: int) -> subprocess.CompletedProcess[str]:
    """payments run by hand, a few requests of each kind, then `obsstack init --probe` on its metrics port."""
    env = clean_env(METRICS_PORT=str(metrics_port))
    base = f"http://127.0.0.1:{port}"
    argv = [sys.executable, *uvicorn("payments", port)[1:]]
    with running(argv, project, env, f"{base}/healthz"):
        for path in ("/balance", "/balance", "/charges/ch_1"):
            assert _status(base + path) == 200
        assert _status(base + "/settlements", "POST") == 503
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        return obsstack(project, "init", "--probe", url, "--service", "payments", "--port", str(port))


def probe_inventory(project: Path, port: int, stable_semconv: bool) -> subprocess.CompletedProcess[str]:
    """`obsstack init --probe-otlp` listening while inventory runs under opentelemetry-instrument, pushing to it
    every second, and answers a few requests of each kind; `stable_semconv`: with the instrumentations' stable
    HTTP semantic conventions (OTEL_SEMCONV_STABILITY_OPT_IN=http), else their old default."""
    grpc, http = free_port(), free_port()
    args = ["init", "--probe-otlp", "--service", "inventory", "--port", str(port), "--grpc-port", str(grpc),
            "--http-port", str(http), "--seconds", "20"]  # fmt: skip
    probe = subprocess.Popen(
        [OBSSTACK, *args], cwd=project, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        listening = wait_until(lambda: _listening(grpc), 30, 0.2)
        assert listening.ok, listening.last
        env = clean_env(
            OTEL_SERVICE_NAME="inventory", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{grpc}",
            OTEL_METRIC_EXPORT_INTERVAL="1000", OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED="true",
        )  # fmt: skip
        if stable_semconv:
            env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http"
        base = f"http://127.0.0.1:{port}"
        argv = [OTEL_INSTRUMENT, sys.executable, *uvicorn("inventory", port)[1:]]
        with running(argv, project, env, f"{base}/healthz"):
            for _ in range(60):  # until the probe has listened its time (bounded: about 30 s)
                if probe.poll() is not None:
                    break
                assert _status(f"{base}/stock/apple") == 200
                assert _status(f"{base}/reorder", "POST") == 502
                with contextlib.suppress(subprocess.TimeoutExpired):
                    probe.wait(timeout=0.5)
        out, err = probe.communicate(timeout=60)
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait(timeout=15)
    return subprocess.CompletedProcess(probe.args, probe.returncode, out, err)


def entries(project: Path) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((project / "stack.yaml").read_text(encoding="utf-8"))
    return {str(s["name"]): s for s in config["services"]}


def assert_thresholds_on_edges(entry: dict[str, Any], buckets: list[float]) -> None:
    """The probe's latency thresholds are edges of the service's real buckets (not the last), warning first."""
    latency = entry["latency"]
    assert latency["warning"] in buckets[:-1], entry
    assert latency["critical"] in buckets[:-1], entry
    assert latency["warning"] < latency["critical"], entry


def assert_payments_entry(entry: dict[str, Any], port: int, metrics_port: int) -> None:
    """The probe read payments' own names, labels (raw status codes in `code`), buckets and metrics port."""
    assert entry["port"] == port, entry
    assert entry["metrics_port"] == metrics_port, entry
    assert entry.get("metrics_source", "scrape") == "scrape", entry
    assert entry["metrics_convention"] == "custom", entry
    names = entry["metric_names"]
    assert names["requests"] == "ledger_requests_total", entry
    assert names["duration"] == "ledger_request_duration_seconds", entry
    assert names.get("inprogress") is None, entry  # it has no in-flight gauge
    assert entry["metric_labels"] == {"route": "path", "method": "method", "status": "code"}, entry
    assert entry["latency_buckets"] == PAYMENTS_BUCKETS, entry
    assert_thresholds_on_edges(entry, PAYMENTS_BUCKETS)
    assert entry.get("process_metrics", True) is True, entry  # prometheus_client's default registry has process_*


def assert_inventory_entry(entry: dict[str, Any], port: int) -> None:
    """The probe saw OTLP-pushed semantic-convention metrics: otel convention, pushed, its real buckets."""
    assert entry["port"] == port, entry
    assert entry["metrics_source"] == "otlp", entry
    assert entry["metrics_convention"] == "otel", entry
    assert not {"metrics_port", "metrics_path", "metric_names", "metric_labels"} & set(entry), entry
    assert entry.get("latency_buckets", OTEL_BUCKETS) == OTEL_BUCKETS, entry
    assert_thresholds_on_edges(entry, OTEL_BUCKETS)
    assert entry.get("process_metrics", False) is False, entry  # the OpenTelemetry SDK has no process_*
    assert entry.get("otlp", True) is True, entry


def complete(project: Path, apps: dict[str, int], ports: dict[str, int]) -> None:
    """What the user adds to what the probes wrote: the fast profile, how obsstack starts each service, the
    routes verify requests, and the stack's own ports."""
    path = project / "stack.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["profile"] = "fast"
    additions = {
        "payments": {
            "command": uvicorn("payments", apps["payments"]),
            "env": {"METRICS_PORT": str(apps["payments_metrics"])},
            "traffic": ["GET /balance"],
            "otlp": False,  # it sends no traces or logs
        },
        "inventory": {
            "command": ["opentelemetry-instrument", *uvicorn("inventory", apps["inventory"])],
            "traffic": ["GET /stock/apple"],
        },
    }
    for service in config["services"]:
        for kind in ("external", "command", "image", "build"):
            service.pop(kind, None)
        service.update(additions[service["name"]])
    config["alerting"] = {**config.get("alerting", {}), "webhook_url": f"http://127.0.0.1:{ports['webhook']}/alerts"}
    config["components"] = {
        **config.get("components", {}),
        "prometheus": {"image": "prom/prometheus:v3.16.0", "port": ports["prometheus"]},
        "alertmanager": {"image": "prom/alertmanager:v0.35.0", "port": ports["alertmanager"]},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


class Load:
    """Requests from the test to one URL in `workers` threads, each pausing `pause` s between requests, until
    stopped (bounded: at most 10 000 requests a worker)."""

    def __init__(self, method: str, url: str, workers: int = 1, pause: float = 0.2) -> None:
        self.method, self.url, self.pause, self.stop = method, url, pause, threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            for _ in range(10_000):
                if self.stop.is_set():
                    return
                with contextlib.suppress(httpx.HTTPError):
                    client.request(self.method, self.url)
                self.stop.wait(self.pause)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


class Alerts:
    """The firing alerts of the running Prometheus, as (alertname, service), the Watchdog aside."""

    def __init__(self, prometheus: str) -> None:
        self.prometheus = prometheus

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=5)
        answer.raise_for_status()
        return list(answer.json()["data"]["result"])

    def firing(self) -> set[tuple[str, str]]:
        rows = self.query('ALERTS{alertstate="firing"}')
        found = {(str(r["metric"]["alertname"]), str(r["metric"].get("service", ""))) for r in rows}
        return {(name, service) for name, service in found if name != c.ALERT_WATCHDOG}


def fault(alerts: Alerts, load: Load, service: str, alert: str, allowed: set[tuple[str, str]]) -> None:
    """Under the test's own `load` against `service`, `alert` fires for it within 120 s; nothing outside
    `allowed` (and the alert itself) fires meanwhile."""
    seen: set[tuple[str, str]] = set()

    def fired() -> tuple[bool, str]:
        try:
            now = alerts.firing()
        except httpx.HTTPError as exc:
            return False, str(exc)
        seen.update(now)
        return (alert, service) in now, f"firing: {sorted(now)}"

    with load:
        waited = wait_until(fired, 120, 1.0)
    assert waited.ok, f"{alert} did not fire for {service}: {waited.last}"
    unexpected = seen - allowed - {(alert, service)}
    assert not unexpected, f"{service}'s fault fired more than {alert}: {sorted(unexpected)}"


def quiet(alerts: Alerts, lingering: set[tuple[str, str]]) -> None:
    """Everything but the Watchdog and `lingering` stops firing within 120 s."""

    def calm() -> tuple[bool, str]:
        try:
            still = alerts.firing() - lingering
        except httpx.HTTPError as exc:
            return False, str(exc)
        return not still, f"still firing: {sorted(still)}"

    waited = wait_until(calm, 120, 1.0)
    assert waited.ok, waited.last


def slow_delay(entry: dict[str, Any], buckets: list[float]) -> float:
    """A delay inside the bucket just above the critical threshold: p95 lands above the critical edge."""
    critical = entry["latency"]["critical"]
    above = next(b for b in buckets if b > critical)
    return round((critical + above) / 2, 3)


def not_applicable_without_loki_and_tempo(report: dict[str, Any]) -> None:
    """Loki and Tempo are never built by obsstack: with none on PATH, every check that needs one is n/a, by name
    and with the reason, never ok."""
    for backend in ("loki", "tempo"):
        if shutil.which(backend):
            continue
        needing = [x for x in report["checks"] if backend.capitalize() in x["name"] or f"{backend} not" in x["detail"]]
        assert needing, report["checks"]
        for check in needing:
            assert check["status"] == "n/a", check
            assert f"{backend} not running: not part of this stack" in check["detail"], check


def assert_verified(project: Path) -> None:
    """`obsstack verify --profile fast` passes; in its report every dashboard query of both services had data
    (the doctor's section has no failed and no skipped line; n/a only for the stores that are not installed)."""
    verified = obsstack(project, "verify", "--profile", "fast", timeout=VERIFY_TIMEOUT)
    output = verified.stdout + verified.stderr
    assert verified.returncode == 0, output
    assert "verify passed" in output, output
    report = json.loads((project / "verify-report.json").read_text(encoding="utf-8"))
    assert report["counts"]["failed"] == 0, output
    doctor = [x for x in report["checks"] if x["section"] == "no-data doctor"]
    for service in ("payments", "inventory"):
        panels = [x for x in doctor if x["name"].startswith(f"{service}: panel")]
        assert panels, doctor
        empty = [x for x in panels if x["status"] not in ("ok", "n/a")]
        assert not empty, f"{service}: dashboard queries without data: {empty}"
        prometheus_panels = [x for x in panels if x["status"] == "ok"]
        assert prometheus_panels, panels
    not_applicable_without_loki_and_tempo(report)


def wait_for_data(alerts: Alerts) -> None:
    """Both services' request rate (the recording rule the alerts read) has data."""
    rate = c.rec_request_rate(FastProfile().rate_window)

    def both() -> tuple[bool, str]:
        try:
            have = {str(r["metric"]["service"]) for r in alerts.query(f'{rate}{{service=~"payments|inventory"}}')}
        except httpx.HTTPError as exc:
            return False, str(exc)
        return have == {"payments", "inventory"}, f"{rate} has data for {sorted(have)}"

    waited = wait_until(both, 90, 1.0)
    assert waited.ok, waited.last


def run_faults(alerts: Alerts, apps: dict[str, int], services: dict[str, dict[str, Any]]) -> None:
    """Each service's latency fault fires HighLatencyP95 for it alone and clears; then each one's 5xx burst fires
    HighErrorRate for it (a burn-rate alert may join, as the catalogue says); verify follows right after, so
    the 5xx of both are within the rate windows of its run."""
    pay, inv = f"http://127.0.0.1:{apps['payments']}", f"http://127.0.0.1:{apps['inventory']}"
    slow: dict[str, Callable[[], Load]] = {
        "payments": lambda: Load("GET", f"{pay}/charges/ch_9?delay={delay('payments', PAYMENTS_BUCKETS)}", 8, 0.0),
        "inventory": lambda: Load("GET", f"{inv}/stock/pear?wait={delay('inventory', OTEL_BUCKETS)}", 8, 0.0),
    }

    def delay(service: str, buckets: list[float]) -> float:
        return slow_delay(services[service], buckets)

    for service, load in slow.items():
        fault(alerts, load(), service, c.ALERT_LATENCY, set())
        quiet(alerts, set())
    lingering: set[tuple[str, str]] = set()
    for service, url in (("payments", f"{pay}/settlements"), ("inventory", f"{inv}/reorder")):
        fault(alerts, Load("POST", url, pause=0.2), service, c.ALERT_ERRORS, lingering | {(c.ALERT_BURN, service)})
        lingering |= {(name, service) for name in ERRORS_MAY_FIRE}


def probe_both(project: Path, apps: dict[str, int]) -> dict[str, dict[str, Any]]:
    """payments' entry from its metrics port; inventory's probe first refused (the SDK's old semantic conventions,
    saying how to switch), then its entry appended, payments' left alone."""
    probed = probe_payments(project, apps["payments"], apps["payments_metrics"])
    assert probed.returncode == 0, probed.stdout + probed.stderr
    payments = entries(project)["payments"]
    assert_payments_entry(payments, apps["payments"], apps["payments_metrics"])
    before = (project / "stack.yaml").read_text(encoding="utf-8")
    refused = probe_inventory(project, apps["inventory"], stable_semconv=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "OTEL_SEMCONV_STABILITY_OPT_IN=http" in refused.stderr, refused.stderr  # what to do, in one line
    assert (project / "stack.yaml").read_text(encoding="utf-8") == before
    probed = probe_inventory(project, apps["inventory"], stable_semconv=True)
    assert probed.returncode == 0, probed.stdout + probed.stderr
    written = entries(project)
    assert list(written) == ["payments", "inventory"], written
    assert written["payments"] == payments, "the second init must leave the first service's entry alone"
    assert_inventory_entry(written["inventory"], apps["inventory"])
    return written


def test_walkthrough_with_services_as_users_have_them(project: Path) -> None:
    """init --probe / --probe-otlp write each service's entry from what it really exposes; generate, validate,
    up --local --profile fast; the test's slow requests and 5xx answers fire HighLatencyP95 and HighErrorRate
    for each service and nothing else; verify passes with every dashboard query filled; down stops it all."""
    apps = {name: free_port() for name in ("payments", "payments_metrics", "inventory")}
    written = probe_both(project, apps)
    ports = {name: free_port() for name in ("prometheus", "alertmanager", "webhook")}
    complete(project, apps, ports)
    generated = obsstack(project, "generate")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    validated = obsstack(project, "validate", timeout=600)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    pay, inv = f"http://127.0.0.1:{apps['payments']}", f"http://127.0.0.1:{apps['inventory']}"
    started = obsstack(project, "up", "--local", "--profile", "fast")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        alerts = Alerts(f"http://127.0.0.1:{ports['prometheus']}")
        with Load("GET", f"{pay}/balance"), Load("GET", f"{inv}/stock/apple"):  # steady traffic all along
            wait_for_data(alerts)
            run_faults(alerts, apps, written)
            assert_verified(project)
    finally:
        down = obsstack(project, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    for name, url in (("payments", f"{pay}/balance"), ("inventory", f"{inv}/stock/apple")):
        assert f"stopped: {name}" in down.stdout, down.stdout
        assert _status(url) == 0, f"{name} still answers after down"
