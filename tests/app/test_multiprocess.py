"""Multi-worker mode: metrics add up across uvicorn workers; dead workers' live gauges are dropped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from obsstack_fastapi.processes import mark_dead_workers, prepare_directory, worker_pids
from support import free_port

REPO = Path(__file__).resolve().parents[2]  # sample_app runs from the repository root

REQUESTS = 40


def wait_ready(base: str, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(f"{base}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server not ready within {seconds} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def total(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


@pytest.mark.e2e
def test_two_workers_metrics_add_up(tmp_path: Path) -> None:
    """With APP_WORKERS=2, /metrics from either worker counts the requests served by both."""
    port = free_port()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "OBS_", "OTEL_"))},
        "APP_WORKERS": "2", "APP_PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}",
    }  # fmt: skip
    env.pop("SENTRY_DSN", None)
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample_app"], env=env, cwd=tmp_path, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_ready(base, proc)
        assert not (metrics_dir / "counter_999999.db").exists()
        for _ in range(REQUESTS):
            response = httpx.get(f"{base}/healthz", headers={"Connection": "close"}, timeout=5.0)
            assert response.status_code == 200
        for _ in range(6):
            text = httpx.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=5.0).text
            assert total(text, 'http_requests_total{handler="/healthz",method="GET",status="2xx"}') == REQUESTS
            assert total(text, "process_resident_memory_bytes") > 0
            assert "process_cpu_seconds_total" in text
        assert len(worker_pids(metrics_dir)) >= 2
    finally:
        stop(proc)


def test_directory_is_emptied_and_dead_workers_marked(tmp_path: Path) -> None:
    """Start-up removes old sample files; a dead worker's live gauges go, its counters stay."""
    (tmp_path / "counter_1.db").write_bytes(b"old")
    prepare_directory(tmp_path)
    assert list(tmp_path.iterdir()) == []
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    pid = int(dead.stdout)
    (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    assert mark_dead_workers(tmp_path) == [pid]
    assert not (tmp_path / f"gauge_livesum_{pid}.db").exists()
    assert (tmp_path / f"counter_{pid}.db").exists()
