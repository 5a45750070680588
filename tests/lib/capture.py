"""Sentry events kept in memory (a test transport), for the library's and the demo's tests."""

from __future__ import annotations

from typing import Any

from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport


class CapturingTransport(Transport):
    """Keeps Sentry events in memory instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event" and item.payload.json is not None:
                self.events.append(item.payload.json)
