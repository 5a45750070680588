"""The Alertmanager webhook receiver verify listens with (loopback only, bounded body size)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from stack.errors import StackError

MAX_BODY = 1_000_000


@dataclass
class Notification:
    received: float
    status: str
    alertname: str
    labels: dict[str, str]


@dataclass
class WebhookReceiver:
    """Records every alert of every webhook notification it is sent."""

    url: str
    notifications: list[Notification] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        parsed = urlparse(self.url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise StackError(f"alerting.webhook_url {self.url}: verify listens on loopback only, got host {host}")
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                if length > MAX_BODY:
                    self.send_response(413)
                    self.end_headers()
                    return
                receiver.record(self.rfile.read(length))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise StackError(f"alerting.webhook_url {self.url}: cannot listen on {host}:{port}: {exc}") from exc
        threading.Thread(target=self._server.serve_forever, name="webhook", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def record(self, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            return
        now = time.monotonic()
        with self._lock:
            for alert in payload.get("alerts", []):
                labels = alert.get("labels", {})
                self.notifications.append(
                    Notification(now, alert.get("status", ""), labels.get("alertname", ""), labels)
                )

    def seen(self, alertname: str, status: str, since: float) -> bool:
        with self._lock:
            return any(
                n.alertname == alertname and n.status == status and n.received >= since for n in self.notifications
            )
