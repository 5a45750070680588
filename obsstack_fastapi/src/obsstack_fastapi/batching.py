"""Exports off the request path: a bounded deque drained by one daemon thread, a batch at a time.

The request path pays one ``deque.append``. Every ``interval`` seconds (and on `drain`) the thread turns
the queued items into what the exporter takes (``convert``) and exports ``batch_size`` at a time. A full
deque drops its oldest items silently (counted in `dropped`): a slow or dead collector blocks only this
thread, for at most the exporter's timeout per batch, and never logs or waits on the request path.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

T = TypeVar("T")


class Batcher(Generic[T]):
    """``put`` on the request path; ``convert`` + ``export`` in the thread."""

    def __init__(  # what to export, how, and the bounds
        self, name: str, convert: Callable[[T], Any], export: Callable[[Sequence[Any]], Any], *,
        interval: float = 0.2, limit: int = 8192, batch_size: int = 512,
    ) -> None:  # fmt: skip
        self._convert = convert
        self._export = export
        self._pending: deque[T] = deque(maxlen=limit)
        self._limit = limit
        self._batch_size = batch_size
        self._interval = interval
        self._wake = threading.Event()
        self._lock = threading.Lock()  # one drain at a time (the thread, or a flush)
        self._closed = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: T) -> None:
        """Queue ``item`` (the oldest queued item is dropped when full)."""
        if len(self._pending) == self._limit:
            self.dropped += 1
        self._pending.append(item)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.drain()

    def drain(self) -> None:
        """Export everything queued now, in batches; an exporter failure drops that batch only."""
        with self._lock:
            while self._pending:
                count = min(len(self._pending), self._batch_size)
                batch = [self._convert(self._pending.popleft()) for _ in range(count)]
                try:
                    self._export(batch)
                except Exception:  # noqa: S112 - nothing may stop the export thread
                    continue

    def close(self) -> None:
        """Export what is queued and stop the thread."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=2)
        self.drain()


class QueuedSpanProcessor(SpanProcessor):
    """The tracer provider's processor: finished spans go to a `Batcher`, then to the exporter.

    Unlike the SDK's batch processor it never logs per dropped span (which, with a dead collector, puts
    a warning on the request path for every span). The middleware's server spans join the same queue
    unconverted (`put_raw`), so even building their ``ReadableSpan`` happens in the thread.
    """

    def __init__(
        self, exporter: SpanExporter, to_readable: Callable[[Any], ReadableSpan], resource: Resource | None = None
    ) -> None:
        self._exporter = exporter
        self._to_readable = to_readable
        # an exporter that encodes the server spans' queued data itself (obsstack_fastapi's OTLP/gRPC exporter)
        # gets them as they are, told their resource; any other gets ReadableSpans
        takes_raw = getattr(exporter, "server_spans", None)
        self._raw = bool(resource is not None and takes_raw is not None and takes_raw(resource))
        self.batcher: Batcher[Any] = Batcher("obs-export-spans", self._convert, exporter.export)

    def _convert(self, item: Any) -> Any:
        return item if self._raw or isinstance(item, ReadableSpan) else self._to_readable(item)

    def on_end(self, span: ReadableSpan) -> None:
        self.batcher.put(span)

    def put_raw(self, item: Any) -> None:
        """A server span's data, converted by ``to_readable`` off the request path."""
        self.batcher.put(item)

    def shutdown(self) -> None:
        self.batcher.close()
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.batcher.drain()
        return True
