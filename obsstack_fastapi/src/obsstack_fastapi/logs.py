"""Logging: structlog processors usable in any chain, and (optionally) one chain for structlog and stdlib.

The processors `add_request_context`, `add_trace_ids` and `redact_event` read only the request
context the middleware sets; put them in your own ``structlog.configure(processors=[...])`` and call
``instrument(app, logs=False)`` so your configuration is left alone.

`configure_logging` (what ``instrument`` does with ``logs=True``) installs the chain: level -> request
context (request_id, method, route, user fields) -> trace ids -> exception text -> redaction ->
timestamp -> OpenTelemetry log bridge -> renderer (JSON or console), for structlog and stdlib alike.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from . import context
from .redact import is_clean, redact_mapping

try:  # orjson is optional: used when installed, else the standard library
    import orjson

    def _dumps(event: EventDict) -> str:
        text: str = orjson.dumps(event, default=str).decode()
        return text

except ImportError:  # pragma: no cover - depends on the environment
    _json_encoder = json.JSONEncoder(default=str, separators=(",", ":"))

    def _dumps(event: EventDict) -> str:
        return _json_encoder.encode(event)


_HANDLER_MARK = "_obs_handler"
_META_KEYS = ("_record", "_from_structlog")


def add_request_context(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Copy the current request's fields (request_id, method, route, bound fields) into the event."""
    ctx = context.current()
    if ctx:
        for key, value in ctx.items():
            event.setdefault(key, value)
    return event


def add_trace_ids(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """``trace_id`` / ``span_id`` of the current sampled span, unless the event has them already."""
    if "trace_id" in event:
        return event
    ids = context.trace_ids()
    if ids is not None:
        event["trace_id"] = ids[0]
        event.setdefault("span_id", ids[1])
    return event


def redact_event(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Blank secret-looking fields and scrub emails/tokens out of every value."""
    return redact_mapping(event)


class Timestamper:
    """ISO-8601 UTC timestamps with milliseconds; the second-level prefix is cached."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _: WrappedLogger, __: str, event: EventDict) -> EventDict:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        event["timestamp"] = f"{self._prefix}.{int((now - second) * 1000):03d}Z"
        return event


def render_json(_: WrappedLogger, __: str, event: EventDict) -> str:
    """One JSON object per line (orjson when installed)."""
    for key in _META_KEYS:
        event.pop(key, None)
    return _dumps(event)


def shared_processors(bridge: Processor | None) -> list[Processor]:
    """The chain both structlog and stdlib records go through, up to (not including) rendering."""
    chain: list[Processor] = [
        structlog.processors.add_log_level,
        add_request_context,
        add_trace_ids,
        structlog.processors.format_exc_info,
        redact_event,
        Timestamper(),
    ]
    if bridge is not None:
        chain.append(bridge)
    return chain


def _renderer(json_logs: bool) -> Processor:
    if json_logs:
        return render_json
    return structlog.dev.ConsoleRenderer(colors=False)


class AccessLog:
    """The access logger of the middleware: ``info`` writes the one line per request.

    With the JSON renderer the line is built directly – the same steps as the chain (level, request
    context, trace ids, redaction, timestamp, OTLP bridge, JSON) without structlog's generic dispatch,
    which costs about three times as much; a test proves both lines equal. Anything else (``error``,
    console rendering) goes through the chain.
    """

    def __init__(self, logger: Any, out: TextIO, level: str, json_logs: bool, bridge: Processor | None) -> None:
        self._logger = logger
        self._fast = json_logs and logging.getLevelName(level) <= logging.INFO
        self._skip = logging.getLevelName(level) > logging.INFO
        self._stamp = Timestamper()
        self._bridge = bridge
        self._write = out.write
        self._flush = out.flush

    def info(self, event: str, **fields: Any) -> None:
        """One line at INFO (dropped below the configured level)."""
        if not self._fast:
            if not self._skip:
                self._logger.info(event, **fields)
            return
        fields["event"] = event
        fields["level"] = "info"
        add_request_context(None, "info", fields)
        add_trace_ids(None, "info", fields)
        if not is_clean(fields):
            fields = redact_mapping(fields)
        self._stamp(None, "info", fields)
        if self._bridge is not None:
            self._bridge(None, "info", fields)
        self._write(render_json(None, "info", fields) + "\n")
        self._flush()

    def error(self, event: str, **fields: Any) -> None:
        self._logger.error(event, **fields)


def configure_logging(
    *, level: str, json_logs: bool, stream: TextIO | None = None, bridge: Processor | None = None
) -> AccessLog:
    """Configure structlog and the stdlib root logger; returns the access logger.

    Replaces structlog's configuration and the handler it added before (marked); other root handlers stay.
    """
    out = stream if stream is not None else sys.stdout
    chain = shared_processors(bridge)
    renderer = _renderer(json_logs)
    structlog.configure(
        processors=[*chain, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _configure_stdlib(level, out, chain, renderer)
    return AccessLog(structlog.get_logger("access").bind(), out, level, json_logs, bridge)


def _configure_stdlib(level: str, out: TextIO, chain: list[Processor], renderer: Processor) -> None:
    """Route stdlib logging (uvicorn, SQLAlchemy, libraries) through the same chain."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *chain, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)  # our middleware logs access


def get_logger(name: str | None = None) -> Any:
    """A structlog logger that goes through the configured chain (whoever configured it)."""
    return structlog.get_logger(name)
