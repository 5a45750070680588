"""verify's webhook receiver: where it listens and whom it hears, in local mode and in compose mode.

In compose, Alertmanager posts to host.docker.internal, which `extra_hosts: host-gateway` resolves to the
docker bridge's gateway address, not 127.0.0.1; the request comes from Alertmanager's own address.
"""

from __future__ import annotations

import http.client
import io
import json
import tarfile
from ipaddress import ip_network
from typing import Any
from urllib.parse import urlsplit

import pytest
from support import free_port

from stack import conventions as c
from stack.builders.compose import build_alertmanager_compose
from stack.errors import StackError
from stack.runtime import receiver as receiver_module
from stack.runtime.receiver import ComposeAlertmanager, WebhookReceiver, reach
from stack.settings import StackSettings

ALERT = json.dumps({"alerts": [{"status": "firing", "labels": {"alertname": "Watchdog"}}]}).encode()


def post(port: int, host: str = "127.0.0.1", source: str = "127.0.0.1") -> int | None:
    """POST one notification from `source`; the status, or None when the receiver hung up."""
    conn = http.client.HTTPConnection(host, port, timeout=5, source_address=(source, 0))
    try:
        conn.request("POST", "/alerts", ALERT, {"Content-Type": "application/json"})
        return conn.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        return None
    finally:
        conn.close()


class FakeContainer:
    """Alertmanager's container as the docker SDK shows it: its networks and its /etc/hosts."""

    def __init__(self, hosts: str, networks: dict[str, tuple[str, int]]) -> None:
        self.hosts = hosts
        self.attrs = {
            "NetworkSettings": {
                "Networks": {name: {"IPAddress": ip, "IPPrefixLen": bits} for name, (ip, bits) in networks.items()}
            }
        }

    def get_archive(self, path: str) -> tuple[Any, dict[str, Any]]:
        assert path == "/etc/hosts"
        data, buffer = self.hosts.encode(), io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo("hosts")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return iter([buffer.getvalue()]), {"name": "hosts"}


class FakeEngine:
    def __init__(self, containers: list[FakeContainer]) -> None:
        self.containers = self
        self.found = containers
        self.filters: dict[str, Any] = {}

    def list(self, filters: dict[str, Any]) -> list[FakeContainer]:
        self.filters = filters
        return self.found


HOSTS = f"127.0.0.1\tlocalhost\n172.18.0.5\t0123abcd\n172.17.0.1\t{c.HOST_GATEWAY}\n"


def test_local_mode_listens_on_loopback_only(settings: StackSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a compose Alertmanager (no engine, or no such container) the receiver binds 127.0.0.1 only."""
    monkeypatch.setattr(receiver_module, "engine", lambda: None)
    assert WebhookReceiver.for_stack(settings).listen == ("127.0.0.1",)
    monkeypatch.setattr(receiver_module, "engine", lambda: FakeEngine([]))
    assert WebhookReceiver.for_stack(settings).listen == ("127.0.0.1",)


def test_compose_mode_listens_on_the_gateway_alertmanager_resolves(
    settings: StackSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the project's Alertmanager in compose, the receiver also binds the address host.docker.internal
    has in that container (where alertmanager.compose.yml sends, on the receiver's port), and hears only
    loopback and Alertmanager's own networks."""
    engine = FakeEngine([FakeContainer(HOSTS, {f"{settings.project}_default": ("172.18.0.5", 16)})])
    monkeypatch.setattr(receiver_module, "engine", lambda: engine)
    receiver = WebhookReceiver.for_stack(settings)
    assert receiver.listen == ("127.0.0.1", "172.17.0.1")
    assert set(receiver.peers) == {ip_network("127.0.0.0/8"), ip_network("::1/128"), ip_network("172.18.0.0/16")}
    hooks = [urlsplit(h.url) for r in build_alertmanager_compose(settings).receivers for h in r.webhook_configs or ()]
    assert {(u.hostname, u.port) for u in hooks} == {(c.HOST_GATEWAY, urlsplit(receiver.url).port)}
    labels = engine.filters["label"]
    assert f"com.docker.compose.project={settings.project}" in labels
    assert "com.docker.compose.service=alertmanager" in labels


@pytest.mark.parametrize("gateway", ["0.0.0.0", "8.8.8.8", "::"])
def test_gateway_beyond_a_private_bridge_is_refused(gateway: str) -> None:
    """An unspecified or public address for host.docker.internal is never listened on."""
    with pytest.raises(StackError, match="private bridge address"):
        reach(ComposeAlertmanager(gateway, (ip_network("172.18.0.0/16"),)))


def test_receiver_refuses_peers_outside_its_networks() -> None:
    """A request from an address outside the allowed networks is dropped unread; an allowed one is recorded."""
    port = free_port()
    receiver = WebhookReceiver(f"http://127.0.0.1:{port}/alerts", peers=(ip_network("127.0.0.3/32"),))
    receiver.start()
    try:
        assert post(port, source="127.0.0.1") is None
        assert not receiver.seen("Watchdog", "firing", 0)
        assert post(port, source="127.0.0.3") == 200
        assert receiver.seen("Watchdog", "firing", 0)
    finally:
        receiver.stop()


def test_receiver_listens_on_every_address_and_skips_one_not_on_this_host() -> None:
    """Each listen address gets a socket; a gateway that is not an address of this host (Docker Desktop's
    engine runs in a VM and reaches the host's loopback) is skipped, not an error."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/alerts"
    receiver = WebhookReceiver(url, listen=("127.0.0.1", "127.0.0.2", "192.0.2.1"))
    receiver.start()
    try:
        assert receiver.bound == ("127.0.0.1", "127.0.0.2")
        assert post(port, host="127.0.0.2") == 200
    finally:
        receiver.stop()
