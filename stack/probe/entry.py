"""PURE: an inference and where the service runs -> its stack.yaml entry, one comment line per decision.

The entry is a block sequence item indented as the template's (`  - name: ...`); `reindent` fits it to
another file's indentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from stack import conventions as c
from stack.probe.infer import Inference
from stack.probe.observed import ProbeError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_METRICS_PATH = "/metrics"
RAW_PATH_LABELS = frozenset({"path", "url", "uri"})  # route labels whose name does not promise a template
ITEM, BODY = "  - ", "    "  # the template's indentation of a service


@dataclass(frozen=True)
class Target:
    """Where the probed service runs and how its metrics were reached."""

    service: str
    port: int  # the traffic port
    source: Literal["scrape", "otlp"]
    where: str  # the URL scraped, or the OTLP ports listened on
    host: str | None = None  # None: 127.0.0.1
    metrics_port: int | None = None  # the scrape port when it differs from `port`
    metrics_path: str = DEFAULT_METRICS_PATH


def scrape_target(url: str, service: str, port: int | None) -> Target:
    """The target of `--probe URL [--port N]`: the traffic port defaults to the URL's."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ProbeError(f"--probe {url}: expected an http:// URL of the service's metrics, such as "
                         "http://127.0.0.1:8000/metrics")  # fmt: skip
    try:
        url_port = parts.port or 80
    except ValueError:
        raise ProbeError(f"--probe {url}: the port is not a number between 1 and 65535") from None
    host = None if parts.hostname in LOOPBACK_HOSTS else parts.hostname
    traffic = port if port is not None else url_port
    return Target(
        service=service, port=traffic, source="scrape", where=url, host=host,
        metrics_port=url_port if url_port != traffic else None, metrics_path=parts.path or DEFAULT_METRICS_PATH,
    )  # fmt: skip


def service_entry(inference: Inference, target: Target) -> str:
    """The entry's text: `  - name: ...` then its keys, each decision with its comment."""
    lines = [f"{ITEM}name: {target.service}", *_where(target), *_convention(inference), *_statuses(inference)]
    lines += [*_process(inference), *_buckets(inference), *_latency(inference)]
    return "\n".join(line if line.startswith(ITEM) else BODY + line for line in lines) + "\n"


def reindent(entry: str, indent: str) -> str:
    """The entry with its dash after `indent` (the target file's item indentation) instead of two spaces."""
    shift = len(indent) - (len(ITEM) - 2)
    lines = entry.splitlines()
    if shift >= 0:
        return "\n".join(" " * shift + line for line in lines) + "\n"
    return "\n".join(line[-shift:] for line in lines) + "\n"


def _where(target: Target) -> list[str]:
    lines = [f"# probed {target.where}"]
    if target.source == "otlp":
        pushes = "# it pushes its metrics by OTLP (through the collector, never scraped); already running (external)"
        return [*lines, pushes, "metrics_source: otlp", f"port: {target.port}                    # its traffic port"]
    lines += ["# already running (external): obsstack scrapes it, never starts it"]
    lines += [f"host: {target.host}"] if target.host else []
    lines.append(f"port: {target.port}")
    if target.metrics_port is not None:
        lines += [f"metrics_port: {target.metrics_port}            # its metrics' own port (the URL's)"]
    if target.metrics_path != DEFAULT_METRICS_PATH:
        lines += [f"metrics_path: {target.metrics_path}"]
    return lines


def _convention(inference: Inference) -> list[str]:
    names = inference.names
    gauge = f", in-progress gauge {names.inprogress}" if names.inprogress else " (no in-progress gauge)"
    requests = names.requests
    if requests != f"{names.duration}_count":
        requests = f"{requests}{{{','.join(sorted(inference.requests_labels))}}}"
    duration = f"{names.duration}{{{','.join(sorted(inference.duration_labels))}}}"
    lines = [f"# convention {inference.convention}: {requests} and {duration}{gauge}"]
    lines += [f"# ({like})"] if (like := _like(names)) and inference.convention == "custom" else []
    if names.route in RAW_PATH_LABELS:
        lines.append(f"# route label {names.route}: it must hold route templates (/items/{{id}}), never raw paths")
    lines.append(f"metrics_convention: {inference.convention}")
    if inference.convention != "custom":
        return lines
    metric_names = f"{{requests: {names.requests}, duration: {names.duration}"
    metric_names += f", inprogress: {names.inprogress}}}" if names.inprogress else "}"
    return [
        *lines,
        f"metric_names: {metric_names}",
        f"metric_labels: {{route: {names.route}, method: {names.method}, status: {names.status}}}",
    ]


def _like(names: c.HttpNames) -> str | None:
    """Which built-in convention a custom one is, but for its missing in-progress gauge."""
    for convention, known in c.CONVENTIONS.items():
        if known.inprogress and names == c.HttpNames(known.requests, known.duration, None, known.route,
                                                    known.method, known.status):  # fmt: skip
            return f"the {convention} convention's names without its in-progress gauge {known.inprogress}"
    return None


def _statuses(inference: Inference) -> list[str]:
    shown = ", ".join(inference.statuses[:8]) + (", ..." if len(inference.statuses) > 8 else "")
    style = {"grouped": "grouped", "raw": "raw", "mixed": "neither grouped nor raw"}[inference.status_style]
    return [f"# status codes {style} ({shown}): the error rate counts {c.ERROR_STATUS_REGEX} either way"]


def _process(inference: Inference) -> list[str]:
    default = c.CONVENTION_PROCESS_METRICS[inference.convention]
    said = "process_* metrics present" if inference.process else "no process_* metrics"
    if inference.process == default:
        return [f"# {said}, as the {inference.convention} convention expects"]
    return [f"# {said} (the {inference.convention} convention's default says otherwise)",
            f"process_metrics: {'true' if inference.process else 'false'}"]  # fmt: skip


def _buckets(inference: Inference) -> list[str]:
    edges = ", ".join(number(b) for b in inference.buckets)
    if inference.default_buckets:
        return [f"# buckets as exposed: {edges} (the {inference.convention} convention's default)"]
    return [f"# buckets as exposed: {edges}", f"latency_buckets: [{edges}]"]


def _latency(inference: Inference) -> list[str]:
    warning, critical = (number(t) for t in inference.latency)
    why = (
        "none >= 0.2 s and >= 0.5 s below the last, so the two highest below it"
        if inference.latency_fallback
        else "the smallest edges >= 0.2 s and >= 0.5 s (never the last)"
    )
    return [f"# latency thresholds (p95 seconds) on the buckets' edges: {why}",
            f"latency: {{warning: {warning}, critical: {critical}}}"]  # fmt: skip


def number(value: float) -> str:
    """A float as YAML reads it back exactly (no exponent, which YAML 1.1 reads as a string)."""
    text = repr(float(value))
    if "e" in text:
        text = f"{value:.15f}".rstrip("0")
    return text
