"""I/O: one bounded HTTP GET of a service's metrics endpoint, then the pure parsing (`exposition`)."""

from __future__ import annotations

import httpx

from stack.probe.exposition import parse_exposition
from stack.probe.observed import Observed, ProbeError

TIMEOUT = 5.0  # seconds: a metrics endpoint answers at once or is not the one to probe
MAX_BYTES = 20_000_000  # an exposition larger than this is not one service's HTTP metrics
ACCEPT = "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"


def scrape(url: str) -> Observed:
    """The families `url` exposes; a ProbeError in one line when it cannot be read."""
    try:
        response = httpx.get(url, timeout=TIMEOUT, headers={"Accept": ACCEPT}, follow_redirects=False)
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProbeError(f"--probe {url}: cannot read it ({reason}), expected the running service's metrics") from None
    if response.status_code != 200:
        raise ProbeError(
            f"--probe {url}: answered HTTP {response.status_code}, expected 200 with the Prometheus text format"
        )
    if len(response.content) > MAX_BYTES:
        raise ProbeError(f"--probe {url}: {len(response.content)} bytes, expected at most {MAX_BYTES}")
    return parse_exposition(response.text, response.headers.get("content-type", ""), url)
