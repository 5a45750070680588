"""The sample app's fault toggles, as verify drives them. A refused toggle is a clear error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from stack.errors import StackError


class FaultRefused(StackError):
    """The app answered but refused the toggle (wrong token, or faults disabled): never retried."""


@dataclass(frozen=True)
class FaultClient:
    base_url: str
    token: str
    timeout: float = 10.0

    def _call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/admin/faults"
        try:
            response = httpx.request(
                method,
                url,
                json=body,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as exc:
            raise StackError(f"fault toggle {method} {url}: app unreachable: {exc}") from exc
        if response.status_code in {401, 403}:
            raise FaultRefused(
                f"fault toggle {method} {url}: refused by the app (HTTP {response.status_code}); "
                "the faults token does not match the app's OBS_FAULTS_TOKEN"
            )
        if response.status_code == 404:
            raise FaultRefused(
                f"fault toggle {method} {url}: not found (HTTP 404); "
                "start the service with OBS_FAULTS_ENABLED=true (faults: true in stack.yaml)"
            )
        if response.status_code >= 300:
            raise StackError(f"fault toggle {method} {url}: HTTP {response.status_code}: {response.text[:200]}")
        result: dict[str, Any] = response.json()
        return result

    def state(self) -> dict[str, Any]:
        return self._call("GET")

    def set(self, **faults: float) -> dict[str, Any]:
        return self._call("PUT", dict(faults))

    def clear(self) -> dict[str, Any]:
        return self._call("DELETE")


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StackError(f"faults token file {path}: cannot read ({exc.strerror}); run `obsstack up` first") from None
    if not token:
        raise StackError(f"faults token file {path}: empty, expected the app's OBS_FAULTS_TOKEN")
    return token
