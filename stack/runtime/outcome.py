"""What a verify run found: its checks, fault outcomes, signals and outages, and where it looked."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from stack.runtime.outages import Outage
from stack.runtime.presence import STATUSES, Status
from stack.runtime.stores import base_url
from stack.settings import Service, StackSettings


@dataclass
class CheckLine:
    """One check of a run. "skipped": the check does not apply to this service's settings (faults: false,
    otlp: false); "n/a": it needs a component that is not part of the running stack. Neither is a failure."""

    section: str
    name: str
    ok: bool
    detail: str = ""
    seconds: float | None = None
    skipped: bool = False
    applicable: bool = True

    @property
    def status(self) -> Status:
        if not self.applicable:
            return "n/a"
        if self.skipped:
            return "skipped"
        return "ok" if self.ok else "failed"

    @classmethod
    def of(cls, section: str, name: str, status: Status, detail: str = "") -> CheckLine:
        return cls(section, name, status != "failed", detail, skipped=status == "skipped", applicable=status != "n/a")


@dataclass
class FaultOutcome:
    name: str
    setting: dict[str, float]
    required: list[str]
    seen: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    detected_s: float | None = None
    notified_s: float | None = None
    resolved_s: float | None = None
    started: float = 0.0
    ended: float = 0.0
    ok: bool = False
    detail: str = ""


@dataclass
class Threshold:
    """An alert threshold drawn on a plot: its level (warning, critical) and value, in the plot's unit."""

    level: str
    value: float


@dataclass
class Signal:
    """A golden signal of one service during the run: its points, unit (a Grafana unit id) and thresholds."""

    service: str
    points: list[tuple[float, float]] = field(default_factory=list)
    unit: str = ""
    thresholds: list[Threshold] = field(default_factory=list)


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class PanelData:
    """What one dashboard panel showed during the run, as the doctor fetched it with the panel's own queries:
    series (timeseries, stat, table, heatmap of Prometheus) or rows (log and trace panels)."""

    board: str
    title: str
    kind: str  # the panel type: row, timeseries, stat, table, heatmap, logs...
    x: int = 0
    y: int = 0
    w: int = 24
    unit: str = ""
    service: str = ""  # the service whose faults and alerts are marked on it ("": every service)
    series: list[Series] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    thresholds: list[Threshold] = field(default_factory=list)
    note: str = ""  # why nothing is drawn (not part of the stack, a store error), or series left out


@dataclass
class VerifyReport:
    profile: str
    service: str
    started: float
    finished: float = 0.0
    checks: list[CheckLine] = field(default_factory=list)
    faults: list[FaultOutcome] = field(default_factory=list)
    signals: dict[str, Signal] = field(default_factory=dict)
    outages: list[Outage] = field(default_factory=list)
    panels: list[PanelData] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and all(f.ok for f in self.faults) and bool(self.checks)

    def failures(self) -> list[str]:
        lines = [f"{c.section}: {c.name}: {c.detail}" for c in self.checks if not c.ok]
        return lines + [f"fault {f.name}: {f.detail}" for f in self.faults if not f.ok]

    def counts(self) -> dict[str, int]:
        """How many checks ended in each status (every status listed, in a fixed order)."""
        found = Counter(line.status for line in self.checks)
        return {status: found[status] for status in STATUSES}

    def summary(self) -> str:
        """One line: the checks by status and the faults that passed, e.g. `40 ok, 0 failed, 1 skipped, 9 n/a;
        faults 3/3 ok`."""
        checks = ", ".join(f"{n} {status}" for status, n in self.counts().items())
        return f"{checks}; faults {sum(f.ok for f in self.faults)}/{len(self.faults)} ok"


@dataclass(frozen=True)
class Endpoints:
    prometheus: str
    alertmanager: str
    apps: dict[str, str]
    logs: str = ""  # the chosen log store
    traces: str = ""  # the chosen trace store
    collector_metrics: str = ""  # the collector's own metrics (its Prometheus endpoint), read directly

    @classmethod
    def from_settings(cls, settings: StackSettings, services: tuple[Service, ...]) -> Endpoints:
        comp = settings.components
        return cls(
            prometheus=f"http://127.0.0.1:{comp.prometheus.port}",
            alertmanager=f"http://127.0.0.1:{comp.alertmanager.port}",
            apps={s.name: f"http://{s.local_address}:{s.port}" for s in services},
            logs=base_url(settings, settings.backends.logs),
            traces=base_url(settings, settings.backends.traces),
            collector_metrics=f"http://127.0.0.1:{comp.otelcol.port}/metrics",
        )
