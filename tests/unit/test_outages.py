"""What verify's pipeline faults call a pass: no failed request, no p95 rise beyond noise, telemetry resumed."""

from __future__ import annotations

import time

from stack.runtime.outages import Outage, _kept, _verdict
from stack.runtime.pipeline import Backends
from stack.runtime.presence import Presence
from stack.runtime.stores import LOG_APIS, TRACE_APIS
from stack.runtime.traffic import Traffic, Window

BASE = Window(requests=300, errors=0, p95_s=0.050, max_s=0.09)


def outage(during: Window, resumed: float | None = 1.5) -> Outage:
    return Outage("loki", baseline=BASE, during=during, resumed_s=resumed)


def test_an_outage_the_app_does_not_notice_passes() -> None:
    assert _verdict(outage(Window(450, 0, 0.060, 0.1)), "") == ""


def test_failed_requests_during_an_outage_fail_it() -> None:
    assert _verdict(outage(Window(450, 3, 0.050, 0.1)), "") == "3 requests failed during the outage"


def test_added_latency_during_an_outage_fails_it() -> None:
    assert _verdict(outage(Window(450, 0, 0.300, 0.5)), "") == "p95 rose from 50 ms to 300 ms"


def test_telemetry_that_never_resumes_fails_it() -> None:
    verdict = _verdict(outage(Window(450, 0, 0.050, 0.1), resumed=None), "Loki: 0 log lines")
    assert verdict == "telemetry did not resume within 120s: Loki: 0 log lines"


def test_traffic_window_counts_requests_errors_and_p95() -> None:
    """Samples are (time answered, status, seconds); a window picks requests by when they started."""
    traffic = Traffic("http://127.0.0.1:9")
    now = time.time()
    for i in range(100):
        traffic.samples.append((now + i * 0.01 + 0.01, "2xx", 0.01))
    traffic.samples.append((now + 0.5, "5xx", 0.2))
    traffic.samples.append((now + 0.6, "ConnectError", 0.05))
    traffic.samples.append((now + 50, "2xx", 0.01))  # after the window
    window = traffic.window(now, now + 10)
    assert (window.requests, window.errors) == (102, 2)
    assert window.p95_s == 0.01
    assert window.max_s == 0.2


def test_a_store_outage_that_loses_records_fails() -> None:
    """A store's outage must lose nothing (the collector queues and retries): 59 traces of 437 requests missing
    fail it, 4 access lines straddling the window's edges (1 %) do not; records outside `kept` (the collector's
    own outage may lose traces: the app's exporters drop what they cannot send) are reported, not failed."""
    during = Window(437, 0, 0.050, 0.1)
    lossy = outage(during)
    lossy.stored = {"access log lines in VictoriaLogs": 433, "traces in Jaeger": 378}
    assert _verdict(lossy, "", kept=tuple(lossy.stored)) == "the loki outage lost 59 of 437 traces in Jaeger"
    assert _verdict(lossy, "", kept=()) == ""


def test_a_collector_outage_must_keep_the_log_lines_read_from_file() -> None:
    """The collector's outage keeps the access lines of a service whose log file it reads (it reads on from its
    checkpoint): 37 missing fail it, its traces (dropped by the app's exporter) do not; a service sending its logs by
    OTLP may lose both; a store's outage keeps everything."""
    ends = Backends("", "", "", Presence(), log_store=LOG_APIS["victorialogs"], trace_store=TRACE_APIS["jaeger"],
                    file_logs=frozenset({"orders"}))  # fmt: skip
    down = Outage("otelcol", baseline=BASE, during=Window(437, 0, 0.050, 0.1), resumed_s=2.0)
    down.stored = {"access log lines in VictoriaLogs": 400, "traces in Jaeger": 12}
    kept = _kept("otelcol", "orders", ends, down)
    assert kept == ("access log lines in VictoriaLogs",)
    assert _verdict(down, "", kept) == "the otelcol outage lost 37 of 437 access log lines in VictoriaLogs"
    assert _kept("otelcol", "payments", ends, down) == ()
    assert _kept("jaeger", "payments", ends, down) == tuple(down.stored)
