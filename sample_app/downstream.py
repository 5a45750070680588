"""The downstream call: reserve stock at the inventory service.

With ``APP_DOWNSTREAM_URL`` set, the call goes over HTTP to ``{url}/reserve``. Without it, it goes to an
in-process stand-in of the inventory service through httpx's ASGI transport: the same client code,
the same httpx span and trace propagation, no network and nothing to deploy.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STUB_BASE_URL = "http://inventory.internal"


class DownstreamError(Exception):
    """The inventory service failed or could not be reached."""


class DownstreamTimeout(DownstreamError, TimeoutError):
    """The inventory service did not answer in time (counted as outcome ``timeout``)."""


async def _reserve_stub(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"sku": body.get("sku"), "reserved": body.get("quantity", 0)})


def inventory_stub() -> Starlette:
    """A tiny inventory service: ``POST /reserve`` always succeeds."""
    return Starlette(routes=[Route("/reserve", _reserve_stub, methods=["POST"])])


def make_client(url: str | None, timeout: float) -> httpx.AsyncClient:
    """An httpx client for the configured downstream, or for the in-process stand-in."""
    if url:
        return httpx.AsyncClient(base_url=url, timeout=timeout)
    transport = httpx.ASGITransport(app=inventory_stub())
    return httpx.AsyncClient(transport=transport, base_url=STUB_BASE_URL, timeout=timeout)


async def reserve(client: httpx.AsyncClient, sku: str, quantity: int) -> dict[str, Any]:
    """Reserve stock; raises `DownstreamError` on a transport error or a non-2xx answer (a timeout:
    `DownstreamTimeout`)."""
    try:
        response = await client.post("/reserve", json={"sku": sku, "quantity": quantity})
        response.raise_for_status()
    except httpx.TimeoutException as exc:
        raise DownstreamTimeout(f"inventory: {type(exc).__name__}") from exc
    except httpx.HTTPError as exc:
        raise DownstreamError(f"inventory: {type(exc).__name__}") from exc
    result: dict[str, Any] = response.json()
    return result
