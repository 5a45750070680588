"""Stand-in images for the compose stack on an engine with no image registry: one entry per component, each
mirroring its official image's user, paths, entrypoint, default command and ports (the Dockerfiles named on
each entry), with obsstack's pinned builds of the binaries in it. `dockerfile` renders the build file.

Every image is FROM scratch. Those whose official image has a shell (busybox or alpine) get busybox-static
as /bin/busybox with its applets (sh, wget for compose's health checks, id); the collector's official image
is FROM scratch with no shell, and so is its stand-in.
"""

import json
from dataclasses import dataclass

STANDIN_REPOSITORY = "obsstack-standin"
TMP = "/tmp"  # noqa: S108 - a directory inside the image, as its base has it
INPUTS_LABEL = "org.obsstack.standin.inputs"  # the digest of everything an image was built from
NOBODY = 65534


@dataclass(frozen=True)
class StandIn:
    """A component's image: `binaries` maps each cached binary to its path in the image; `owned` directories
    belong to the image's user (mode 0775, as the official images' `chmod g+w`); `files` are small text files
    the official image carries (its default configuration), by path."""

    component: str
    binaries: tuple[tuple[str, str], ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...] = ()
    uid: int | None = NOBODY  # USER; None: the official image sets none (root)
    workdir: str | None = None
    owned: tuple[str, ...] = ()
    expose: tuple[int, ...] = ()
    volume: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    shell: bool = True  # busybox with its applets (the official base has a shell)
    sticky: tuple[str, ...] = (TMP,)  # world-writable, sticky directories (/tmp of busybox and alpine)
    source: str = ""  # the official Dockerfile this entry mirrors

    @property
    def binary(self) -> str:
        """The component's own binary in the image (the entrypoint)."""
        return self.entrypoint[0]


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
"""
ALERTMANAGER_CONFIG = """\
route:
  receiver: default
receivers:
  - name: default
"""

STANDINS: dict[str, StandIn] = {
    "prometheus": StandIn(
        "prometheus", (("prometheus", "/bin/prometheus"), ("promtool", "/bin/promtool")),
        entrypoint=("/bin/prometheus",),
        cmd=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"),
        workdir="/prometheus", owned=("/etc/prometheus", "/prometheus"), expose=(9090,), volume="/prometheus",
        files=(("/etc/prometheus/prometheus.yml", PROMETHEUS_CONFIG),),
        source="prometheus/prometheus Dockerfile (busybox base, USER nobody)",
    ),
    "alertmanager": StandIn(
        "alertmanager", (("alertmanager", "/bin/alertmanager"), ("amtool", "/bin/amtool")),
        entrypoint=("/bin/alertmanager",),
        cmd=("--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"),
        workdir="/alertmanager", owned=("/etc/alertmanager", "/alertmanager"), expose=(9093,),
        volume="/alertmanager", files=(("/etc/alertmanager/alertmanager.yml", ALERTMANAGER_CONFIG),),
        source="prometheus/alertmanager Dockerfile (busybox base, USER nobody)",
    ),
    "otelcol": StandIn(
        "otelcol", (("otelcol-obsstack", "/otelcol-contrib"),), entrypoint=("/otelcol-contrib",),
        cmd=("--config", "/etc/otelcol-contrib/config.yaml"), uid=10001, expose=(4317, 4318, 55678, 55679),
        shell=False, sticky=(),
        source="open-telemetry/opentelemetry-collector-releases distributions/otelcol-contrib Dockerfile "
        "(FROM scratch, USER 10001)",
    ),
    "jaeger": StandIn(
        "jaeger", (("jaeger", "/cmd/jaeger/jaeger-linux"),), entrypoint=("/cmd/jaeger/jaeger-linux",),
        uid=10001, expose=(5778, 5779, 4317, 4318, 14268, 14250, 9411, 16686, 13132, 13133), volume=TMP,
        env=(("JAEGER_LISTEN_HOST", "0.0.0.0"),),
        source="jaegertracing/jaeger cmd/jaeger/Dockerfile (alpine base, USER 10001)",
    ),
    "victorialogs": StandIn(
        "victorialogs", (("victoria-logs", "/victoria-logs-prod"),), entrypoint=("/victoria-logs-prod",),
        uid=None, expose=(9428,),
        source="VictoriaMetrics app/victoria-logs/deployment/Dockerfile (alpine base, no USER: root)",
    ),
}  # fmt: skip


def image_name(component: str, version: str) -> str:
    """The stand-in's tag: `obsstack-standin/prometheus:3.16.0`, never an official image's name."""
    return f"{STANDIN_REPOSITORY}/{component}:{version}"


def passwd(entry: StandIn) -> str:
    """/etc/passwd: root, nobody and the image's user (alpine and busybox bases have root and nobody)."""
    users = {0: "root:x:0:0:root:/root:/bin/sh", NOBODY: f"nobody:x:{NOBODY}:{NOBODY}:nobody:/home:/bin/false"}
    if entry.uid is not None and entry.uid not in users:
        users[entry.uid] = f"{entry.component}:x:{entry.uid}:{entry.uid}:{entry.component}:/:/bin/false"
    return "".join(f"{line}\n" for _, line in sorted(users.items()))


def group(entry: StandIn) -> str:
    groups = {0: "root:x:0:", NOBODY: f"nobody:x:{NOBODY}:"}
    if entry.uid is not None and entry.uid not in groups:
        groups[entry.uid] = f"{entry.component}:x:{entry.uid}:"
    return "".join(f"{line}\n" for _, line in sorted(groups.items()))


def _setup(entry: StandIn) -> str:
    """The one shell command a shell image runs at build time: applets, owned and sticky directories."""
    steps = ["/bin/busybox --install -s /bin"]
    if entry.owned:
        owner = entry.uid if entry.uid is not None else 0
        dirs = " ".join(entry.owned)
        steps += [f"mkdir -p {dirs}", f"chown -R {owner}:{owner} {dirs}", f"chmod 775 {dirs}"]
    if entry.sticky:
        dirs = " ".join(entry.sticky)
        steps += [f"mkdir -p {dirs}", f"chmod 1777 {dirs}"]
    return " && ".join(steps)


def dockerfile(entry: StandIn) -> str:
    """The build file; the context holds `rootfs/` (binaries, libraries, passwd, certificates, files)."""
    lines = ["FROM scratch", "COPY rootfs/ /"]
    if entry.shell:
        lines.append(f"RUN {json.dumps(['/bin/busybox', 'sh', '-c', _setup(entry)])}")
    lines += [f"ENV {name}={value}" for name, value in entry.env]
    lines += [f"EXPOSE {port}" for port in entry.expose]
    lines += [f"VOLUME {json.dumps([entry.volume])}"] if entry.volume else []
    lines += [f"WORKDIR {entry.workdir}"] if entry.workdir else []
    lines += [f"USER {entry.uid}"] if entry.uid is not None else []
    lines.append(f"ENTRYPOINT {json.dumps(list(entry.entrypoint))}")
    lines += [f"CMD {json.dumps(list(entry.cmd))}"] if entry.cmd else []
    return "".join(f"{line}\n" for line in lines)
