"""The Alertmanager webhook receiver verify listens with (bounded body size, known peers only).

Local mode: Alertmanager runs on the host and posts to the loopback webhook URL, so the receiver binds
127.0.0.1 only. Compose mode: Alertmanager's webhook URL names host.docker.internal, which `extra_hosts:
host-gateway` resolves to the docker bridge's gateway address (alertmanager.compose.yml). On a Linux engine
that address is the host's own, on the bridge, and nothing listening on 127.0.0.1 answers there; so the
receiver also binds that one address (read from Alertmanager's /etc/hosts, exactly what it resolves) and
hears only loopback and Alertmanager's own networks, which are the source of its requests. Docker Desktop's
bridge lives in a VM and host.docker.internal reaches the host's loopback: the gateway is not an address of
this host, so it is skipped and 127.0.0.1 does.
"""

from __future__ import annotations

import errno
import io
import json
import socket
import tarfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any
from urllib.parse import urlparse

from stack import conventions as c
from stack.errors import StackError
from stack.runtime.compose import engine
from stack.settings import StackSettings

MAX_BODY = 1_000_000
LOOPBACK = "127.0.0.1"
Network = IPv4Network | IPv6Network
LOOPBACK_PEERS: tuple[Network, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))


@dataclass
class Notification:
    received: float
    status: str
    alertname: str
    labels: dict[str, str]


@dataclass
class WebhookReceiver:
    """Records every alert of every webhook notification it is sent, on the port of `url`.

    `listen`: the addresses to bind besides the URL's own host (an address that is not this host's is
    skipped); `peers`: the networks a request may come from. Any other peer is dropped before it is read."""

    url: str
    listen: tuple[str, ...] = (LOOPBACK,)
    peers: tuple[Network, ...] = LOOPBACK_PEERS
    notifications: list[Notification] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)

    @classmethod
    def for_stack(cls, settings: StackSettings) -> WebhookReceiver:
        """The receiver for the running stack: loopback only, plus the bridge gateway when the project's
        Alertmanager runs in compose."""
        listen, peers = reach(compose_alertmanager(settings.project))
        return cls(settings.alerting.webhook_url, listen, peers)

    @property
    def bound(self) -> tuple[str, ...]:
        return tuple(str(server.server_address[0]) for server in self._servers)

    def start(self) -> None:
        parsed = urlparse(self.url)
        host, port = parsed.hostname or LOOPBACK, parsed.port or 80
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise StackError(f"alerting.webhook_url {self.url}: verify listens on loopback only, got host {host}")
        handler = self._handler()
        for address in dict.fromkeys((LOOPBACK if host == "localhost" else host, *self.listen)):
            try:
                self._servers.append(self._server_class(address)((address, port), handler))
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL and address != LOOPBACK:
                    continue  # not an address of this host (Docker Desktop's bridge is in its VM)
                self.stop()
                raise StackError(f"alerting.webhook_url {self.url}: cannot listen on {address}:{port}: {exc}") from exc
        for server in self._servers:
            threading.Thread(target=server.serve_forever, name="webhook", daemon=True).start()

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def allowed(self, peer: str) -> bool:
        address = ip_address(peer.split("%", 1)[0])
        return any(address in network for network in self.peers)

    def _server_class(self, address: str) -> type[ThreadingHTTPServer]:
        receiver = self

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                return receiver.allowed(str(client_address[0]))

        return Server

    def _handler(self) -> type[BaseHTTPRequestHandler]:
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

        return Handler

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


@dataclass(frozen=True)
class ComposeAlertmanager:
    """What the receiver needs to know of Alertmanager's container."""

    gateway: str | None  # the address host.docker.internal has in it
    networks: tuple[Network, ...]  # the networks its requests come from


def reach(alertmanager: ComposeAlertmanager | None) -> tuple[tuple[str, ...], tuple[Network, ...]]:
    """(addresses to listen on, peer networks): loopback, and in compose the gateway and Alertmanager's networks."""
    if alertmanager is None or alertmanager.gateway is None:
        return (LOOPBACK,), LOOPBACK_PEERS
    gateway = ip_address(alertmanager.gateway)
    if gateway.is_unspecified or not gateway.is_private:
        raise StackError(
            f"{c.HOST_GATEWAY} is {gateway} in Alertmanager's container: verify listens only on loopback and a"
            " private bridge address (see the daemon's host-gateway-ip)"
        )
    return (LOOPBACK, str(gateway)), (*LOOPBACK_PEERS, *alertmanager.networks)


def compose_alertmanager(project: str) -> ComposeAlertmanager | None:
    """The project's running Alertmanager container, asked of the Docker engine; None without one."""
    client = engine()
    if client is None:
        return None
    labels = [f"com.docker.compose.project={project}", "com.docker.compose.service=alertmanager"]
    try:
        found = client.containers.list(filters={"label": labels})
        if not found:
            return None
        container = found[0]
        bits, _ = container.get_archive("/etc/hosts")
        hosts = _read_single_file(b"".join(bits))
    except Exception as exc:  # the docker SDK's errors, or a container that went away meanwhile
        raise StackError(f"compose Alertmanager of project {project}: cannot inspect it: {exc}") from exc
    networks = container.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    return ComposeAlertmanager(host_address(hosts, c.HOST_GATEWAY), tuple(_subnets(networks.values())))


def host_address(hosts: str, name: str) -> str | None:
    """The first address /etc/hosts gives `name`."""
    for line in hosts.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and name in fields[1:]:
            return str(ip_address(fields[0]))
    return None


def _subnets(endpoints: Iterable[dict[str, Any]]) -> Iterable[Network]:
    for endpoint in endpoints:
        for address, bits in (("IPAddress", "IPPrefixLen"), ("GlobalIPv6Address", "GlobalIPv6PrefixLen")):
            if endpoint.get(address):
                host = ip_address(endpoint[address])
                yield ip_network(f"{host}/{endpoint.get(bits) or host.max_prefixlen}", strict=False)


def _read_single_file(archive: bytes) -> str:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = next(m for m in tar.getmembers() if m.isfile())
        handle = tar.extractfile(member)
        return handle.read().decode("utf-8", "replace") if handle else ""
