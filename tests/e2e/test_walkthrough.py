"""The README's walkthrough, done as a new user would: in an empty directory outside this repository, with
two small FastAPI services of the user's own (not sample_app) and the installed `obsstack` command.

- "catalog" uses our one-call `obsstack_fastapi.instrument()` and a SQLAlchemy pool of its own (SQLite)
  given to `obs.instrument_engine`; it is started by obsstack (`command`) with `faults: true` and a
  `db_pool`, so it gets obsstack_fastapi's fault toggles;
- "search" uses prometheus-fastapi-instrumentator directly with raw status codes (`503`, not `5xx`) and
  the instrumentator's default buckets (0.1, 0.5, 1); it runs by itself (`external`);
- "billing" runs from an image the user names, so validate runs `docker compose config` over it.

generate, validate, `up --local`, status, then `obsstack verify --profile fast --service catalog` must pass
the fault contract against catalog (latency, pool and error faults each fire their alerts and resolve),
an error burst on each service must fire HighErrorRate for that service (grouped and raw status labels
alike), and `down` stops what `up` started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import answers, free_port

from stack.runtime.promapi import wait_until

pytestmark = pytest.mark.e2e
OBSSTACK = str(Path(sys.executable).parent / "obsstack")

CATALOG = '''\
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from obsstack_fastapi import instrument

POOL_SIZE = 10
engine = create_async_engine(os.environ["DATABASE_URL"], pool_size=POOL_SIZE, max_overflow=0, pool_timeout=5)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS products (sku TEXT PRIMARY KEY)"))
        await conn.execute(text("INSERT OR IGNORE INTO products VALUES ('SKU-1')"))
    yield
    await obs.reset_faults()
    await engine.dispose()
    obs.shutdown()


app = FastAPI(lifespan=lifespan)
obs = instrument(app)  # fault toggles too, when obsstack passes OBS_FAULTS_ENABLED and OBS_FAULTS_TOKEN_FILE
obs.instrument_engine(engine, capacity=POOL_SIZE)  # pool metrics; the fault holds this pool's connections


@app.get("/products")
async def products() -> list[dict[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT sku FROM products"))
        return [{"sku": sku} for (sku,) in rows]


@app.get("/boom")
async def boom() -> JSONResponse:
    return JSONResponse({"detail": "down for a bit"}, status_code=503)
'''

SEARCH = '''\
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()
Instrumentator(should_group_status_codes=False).instrument(app).expose(app)


@app.get("/search")
async def search(q: str = "") -> dict[str, str]:
    return {"q": q}


@app.get("/boom")
async def boom() -> JSONResponse:
    return JSONResponse({"detail": "index unavailable"}, status_code=503)
'''


def stack_yaml(ports: dict[str, int]) -> str:
    return f"""\
project: shop
profile: fast
services:
  - name: catalog
    command: [python, -m, uvicorn, "catalog:app", --host, 127.0.0.1, --port, "{ports['catalog']}"]
    port: {ports['catalog']}
    env: {{DATABASE_URL: "sqlite+aiosqlite:///catalog.db"}}
    health_path: /healthz
    faults: true
    db_pool: {{warning: 0.8, critical: 0.95}}
    traffic: [GET /products]
  - name: search
    external: true
    otlp: false
    port: {ports['search']}
    latency_buckets: [0.1, 0.5, 1]
    latency: {{warning: 0.1, critical: 0.5}}
    traffic: ["GET /search?q=shoes"]
  - name: billing
    image: ghcr.io/example/billing:1.4.2
    port: {ports['billing']}
    env: {{LOG_LEVEL: info}}
alerting:
  webhook_url: http://127.0.0.1:{ports['webhook']}/alerts
components:
  prometheus: {{image: "prom/prometheus:v3.16.0", port: {ports['prometheus']}}}
  alertmanager: {{image: "prom/alertmanager:v0.35.0", port: {ports['alertmanager']}}}
"""


def obsstack(project: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "OBS_", "OTEL_", "OBSSTACK_"))}
    return subprocess.run(
        [OBSSTACK, *args], cwd=project, env=clean, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    assert not str(root).startswith(str(Path(__file__).resolve().parents[2]))
    (root / "catalog.py").write_text(CATALOG, encoding="utf-8")
    (root / "search.py").write_text(SEARCH, encoding="utf-8")
    return root


@pytest.fixture
def search_service(project: Path) -> Iterator[int]:
    """The user's own "search", started by the user (not by obsstack)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "search:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        up = wait_until(lambda: (answers(f"http://127.0.0.1:{port}/search"), "search not up"), 30, 0.2)
        assert up.ok, up.last
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _query(prometheus: str, expr: str) -> list[dict[str, object]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as answer:
        return list(json.load(answer)["data"]["result"])


def _burst(urls: list[str], stop: threading.Event) -> None:
    """About 20 requests/s, one in ten a 503, until stopped (bounded by the test's own deadline)."""
    with httpx.Client(timeout=2) as client:
        count = 0
        while not stop.is_set() and count < 20_000:
            for base in urls:
                path = "/boom" if count % 10 == 0 else "/products" if "catalog" in base else "/search"
                with contextlib.suppress(httpx.HTTPError):
                    client.get(base.split("#")[0] + path)
            count += 1
            stop.wait(0.05)


# Each fault of the contract and the alerts it must fire (then resolve) for catalog.
CONTRACT = {
    "latency": {"HighLatencyP95"},
    "db_pool": {"DBPoolSaturation"},
    "errors": {"HighErrorRate", "ErrorBudgetBurn"},
}
VERIFY_TIMEOUT = 900.0  # every wait of verify is bounded; a fast-profile run takes a few minutes


def _verify_catalog(project: Path, prometheus: str) -> None:
    """`obsstack verify --profile fast --service catalog` passes, and its report shows every fault's alerts
    firing for catalog and resolving. Holding 9 of 10 connections is a warning, never critical: the pool
    gauges of a plain `engine.connect()` user count each connection given back."""
    verified = obsstack(project, "verify", "--profile", "fast", "--service", "catalog", timeout=VERIFY_TIMEOUT)
    output = verified.stdout + verified.stderr
    assert verified.returncode == 0, output
    assert "verify catalog with the fast profile" in output
    assert "verify passed" in output
    report = json.loads((project / "verify-report.json").read_text(encoding="utf-8"))
    faults = {f["name"]: f for f in report["faults"]}
    assert set(faults) == set(CONTRACT), output
    for name, alerts in CONTRACT.items():
        fault = faults[name]
        assert f"ok   fault {name}: detected" in output, output
        assert alerts <= set(fault["required"]), fault
        assert {f"{alert}{{service=catalog}}" for alert in alerts} <= set(fault["seen"]), fault
        assert fault["ok"], fault
        assert fault["resolved_s"] is not None, fault
    _not_applicable_without_loki_and_tempo(report)
    critical = 'ALERTS{alertname="DBPoolSaturation",service="catalog",severity="critical",alertstate="firing"}'
    assert not _query(prometheus, f"max_over_time({critical}[15m])"), "the pool fault went critical"


def _not_applicable_without_loki_and_tempo(report: dict[str, Any]) -> None:
    """Loki and Tempo are never built by obsstack: with none on PATH, every check that needs one is n/a, by name
    and with the reason, never ok; the report counts them apart."""
    for backend in ("loki", "tempo"):
        if shutil.which(backend):
            continue  # the user brought one: its checks run
        needing = [c for c in report["checks"] if backend.capitalize() in c["name"] or f"{backend} not" in c["detail"]]
        assert needing, report["checks"]
        for check in needing:
            assert check["status"] == "n/a", check
            assert f"{backend} not running: not part of this stack" in check["detail"], check
    assert report["counts"]["n/a"] > 0
    assert report["counts"]["failed"] == 0


def test_walkthrough_with_services_of_ones_own(project: Path, search_service: int) -> None:
    """init, generate, validate, up --local (one command, one external service), status healthy, verify's
    fault contract passes for catalog, an error burst fires HighErrorRate for the grouped (5xx) and the raw
    (503) service; down stops it all."""
    init = obsstack(project, "init", "--service", "catalog", "--port", "8000")
    assert init.returncode == 0, init.stderr
    ignored = (project / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"secrets/", "compose/.env", ".obsstack/"} <= set(ignored)
    ports = {n: free_port() for n in ("catalog", "billing", "prometheus", "alertmanager", "webhook")}
    ports["search"] = search_service
    (project / "stack.yaml").write_text(stack_yaml(ports), encoding="utf-8")

    generated = obsstack(project, "generate")
    assert generated.returncode == 0, generated.stderr
    compose = (project / "compose" / "compose.yaml").read_text(encoding="utf-8")
    assert "billing:\n    image: ghcr.io/example/billing:1.4.2" in compose
    assert "sample_app" not in compose
    assert "postgres" not in compose
    validated = obsstack(project, "validate")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "ok   docker compose config" in validated.stdout

    started = obsstack(project, "up", "--local")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "not started: billing" in started.stdout
        status = obsstack(project, "status").stdout
        for name in ("catalog", "search"):
            line = next(row for row in status.splitlines() if f" {name} " in row)
            assert "healthy" in line, status
        prometheus = f"http://127.0.0.1:{ports['prometheus']}"
        scraped = wait_until(
            lambda: (len(_query(prometheus, 'up{job=~"catalog|search"} == 1')) == 2, "catalog and search not both up"),
            60,
        )
        assert scraped.ok, scraped.last
        _verify_catalog(project, prometheus)
        stop = threading.Event()
        urls = [f"http://127.0.0.1:{ports['catalog']}#catalog", f"http://127.0.0.1:{ports['search']}#search"]
        burst = threading.Thread(target=_burst, args=(urls, stop), daemon=True)
        burst.start()
        try:
            firing = 'ALERTS{alertname="HighErrorRate",alertstate="firing",severity="warning"}'

            def both_fire() -> tuple[bool, str]:
                services = {str(r["metric"]["service"]) for r in _query(prometheus, firing)}  # type: ignore[index]
                return {"catalog", "search"} <= services, f"HighErrorRate firing for {sorted(services)}"

            fired = wait_until(both_fire, 120, 2)
            assert fired.ok, fired.last
        finally:
            stop.set()
            burst.join(timeout=10)
    finally:
        down = obsstack(project, "down")
    assert down.returncode == 0, down.stderr
    assert "stopped: catalog" in down.stdout
    assert answers(f"http://127.0.0.1:{search_service}/search"), "down must never stop an external service"
    assert not answers(f"http://127.0.0.1:{ports['catalog']}/products")
