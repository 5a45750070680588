"""settings -> the Grafana Mimir target (pure): mimirtool rule files, the tenant's Alertmanager config, and the
config of a local ring of Mimir processes.

- `rules/<service>.yaml`: one mimirtool namespace per service holding exactly that service's groups of
  `build_rule_files` (the groups promtool's generated tests prove), and `rules/obsstack-platform.yaml` with the
  stack-wide groups (watchdog, ...).
- `alertmanager.yaml`: the tenant's Alertmanager config, the same document as the plain Alertmanager's.
  Mimir refuses for a tenant what would read the server's files or reach through its proxy (`*_file` keys,
  TLS files, proxy settings); such a key is refused here, by name, before Mimir would.
- `mimir.yaml`: every process of the ring runs `-target=all,alertmanager` (at this commit `all` is
  query-frontend, query-scheduler, querier, ingester, distributor, store-gateway, ruler and compactor, not the
  Alertmanager) on 127.0.0.1 and joins one memberlist cluster, so any one process can stop: ingesters,
  store-gateways and Alertmanagers replicate 3 ways (or as many as there are processes), storage is one
  filesystem bucket under the data root, and heartbeats are short so a stopped process is noticed in
  seconds. Ingest storage (Kafka) stays off: the classic write path.
"""

from __future__ import annotations

from typing import Any

from stack import conventions as c
from stack.builders.alertmanager import build_alertmanager
from stack.builders.rules import build_rule_files
from stack.errors import StackError
from stack.models import ConfigModel
from stack.models.alertmanager import AlertmanagerConfig
from stack.models.mimir import (
    ActivityTracker,
    Alertmanager,
    Compactor,
    Distributor,
    Filesystem,
    Frontend,
    Ingester,
    IngesterRing,
    IngestStorage,
    Limits,
    Memberlist,
    MimirConfig,
    Querier,
    QueryScheduler,
    ReplicatedRing,
    Ring,
    RuleNamespace,
    Ruler,
    RulerAlertmanagerClient,
    Server,
    Storage,
    StoreGateway,
    UsageStats,
)
from stack.settings import StackSettings

LOOPBACK = "127.0.0.1"
TARGET = "all,alertmanager"
MAX_REPLICATION = 3
HEARTBEAT_PERIOD = "2s"  # every ring: a member heartbeats every 2s ...
HEARTBEAT_TIMEOUT = "10s"  # ... and is unhealthy after 10s without one (defaults: 15s and 1m)
MEMBERLIST_LEAVE_TIMEOUT = "5s"  # a stopping process waits this long for its leave to spread (default 20s)
RULER_POLL = "10s"  # the ruler re-reads rule groups from storage (API changes also notify it at once)
# what Mimir's Alertmanager refuses in a tenant's config (pkg/alertmanager/api.go validateAlertmanagerConfig)
REFUSED_KEYS = frozenset({"proxy_url", "proxy_from_environment"})
REFUSED_TLS_KEYS = frozenset({"ca", "cert", "key"})



def build_mimir(settings: StackSettings, placement: c.Placement) -> dict[str, ConfigModel]:
    """File name (relative to output.mimir_dir) -> its document."""
    files: dict[str, ConfigModel] = {
        f"{c.MIMIR_RULES_DIR}/{ns.namespace}.yaml": ns for ns in build_rule_namespaces(settings)
    }
    files[c.MIMIR_ALERTMANAGER_CONFIG] = build_tenant_alertmanager(settings)
    files[c.MIMIR_CONFIG] = build_mimir_config(settings, placement)
    return files


def build_rule_namespaces(settings: StackSettings) -> tuple[RuleNamespace, ...]:
    """One namespace per service with exactly its rule file's groups, then the platform namespace."""
    taken = [s.name for s in settings.services if s.name == c.MIMIR_PLATFORM_NAMESPACE]
    if taken:
        raise StackError(
            f"services: a service named {taken[0]!r} would share the Mimir namespace of the platform alerts; "
            "expected another name"
        )
    files = build_rule_files(settings)
    spaces = [RuleNamespace(namespace=s.name, groups=files[c.rules_file(s.name)].groups) for s in settings.services]
    spaces.append(RuleNamespace(namespace=c.MIMIR_PLATFORM_NAMESPACE, groups=files[c.PLATFORM_RULES_FILE].groups))
    return tuple(spaces)


def build_tenant_alertmanager(settings: StackSettings) -> AlertmanagerConfig:
    """The plain Alertmanager's config, checked against what Mimir refuses in a tenant's config."""
    config = build_alertmanager(settings)
    refused = sorted(refused_keys(config.to_data()))
    if refused:
        raise StackError(
            f"alertmanager config: Mimir's Alertmanager refuses {', '.join(refused)} in a tenant's config "
            "(no server files or proxies); expected the secret inline or the mimir target disabled"
        )
    return config


def refused_keys(data: Any, path: str = "") -> set[str]:
    """Paths of the keys in an Alertmanager config Mimir refuses for a tenant: `*_file`, proxies, TLS files."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            tls = path.endswith("tls_config") and key in REFUSED_TLS_KEYS
            if str(key).endswith("_file") or key in REFUSED_KEYS or tls:
                found.add(where)
            found |= refused_keys(value, where)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found |= refused_keys(item, f"{path}[{index}]")
    return found


def build_mimir_config(settings: StackSettings, placement: c.Placement) -> MimirConfig:
    """The config all processes of the local ring share (their differences are conventions.mimir_replica_flags)."""
    replicas = settings.mimir.replicas
    copies = min(MAX_REPLICATION, replicas)
    ports = c.mimir_ports(settings.components, replicas)
    names = [c.mimir_instance(i) for i in range(replicas)]
    shared = placement.data("mimir", "/data/mimir")  # locally c.mimir_data(data_root), beside the replicas' own
    return MimirConfig(
        target=TARGET,
        # one tenant, the project (c.mimir_tenant), without relying on the X-Scope-OrgID header: Debian's
        # Prometheus 2.42 drops remote_write `headers` (seen on the wire), so the ring names the tenant itself
        multitenancy_enabled=False,
        no_auth_tenant=c.mimir_tenant(settings),
        server=Server(http_listen_address=LOOPBACK, grpc_listen_address=LOOPBACK),
        distributor=Distributor(ring=_ring()),
        querier=Querier(ring=_ring()),
        ingester=Ingester(
            ring=IngesterRing(**_ring_fields(), replication_factor=copies, min_ready_duration="0s", final_sleep="0s")
        ),
        ingest_storage=IngestStorage(enabled=False),
        frontend=Frontend(address=LOOPBACK),
        blocks_storage=_bucket(f"{shared}/blocks"),
        compactor=Compactor(sharding_ring=_ring()),
        store_gateway=StoreGateway(sharding_ring=ReplicatedRing(**_ring_fields(), replication_factor=copies)),
        ruler=Ruler(
            evaluation_interval=str(settings.timing.evaluation_interval), poll_interval=RULER_POLL, ring=_ring()
        ),
        ruler_storage=_bucket(f"{shared}/rules"),
        alertmanager=Alertmanager(sharding_ring=ReplicatedRing(**_ring_fields(), replication_factor=copies)),
        alertmanager_storage=_bucket(f"{shared}/alertmanager"),
        memberlist=Memberlist(
            bind_addr=(LOOPBACK,),
            advertise_addr=LOOPBACK,
            cluster_label=c.mimir_tenant(settings),
            join_members=tuple(f"{LOOPBACK}:{ports[f'{name} memberlist']}" for name in names),
            leave_timeout=MEMBERLIST_LEAVE_TIMEOUT,
        ),
        query_scheduler=QueryScheduler(ring=_ring()),
        limits=Limits(
            ruler_evaluation_delay_duration="0s",  # evaluate at "now", as Prometheus does (default: 1m behind)
            ruler_max_rules_per_rule_group=0,  # 0: no cap; the generator decides the groups (default caps: 20
            ruler_max_rule_groups_per_tenant=0,  # rules per group, 70 groups)
            ruler_alertmanager_client_config=RulerAlertmanagerClient(
                alertmanager_url=",".join(f"http://{LOOPBACK}:{ports[f'{name} http']}/alertmanager" for name in names)
            ),
        ),
        activity_tracker=ActivityTracker(filepath=""),  # off: its file would be one more per-process path
        usage_stats=UsageStats(enabled=False),  # no reports to grafana.com
    )


def _ring_fields() -> dict[str, Any]:
    return {"heartbeat_period": HEARTBEAT_PERIOD, "heartbeat_timeout": HEARTBEAT_TIMEOUT, "instance_addr": LOOPBACK}


def _ring() -> Ring:
    return Ring(**_ring_fields())


def _bucket(directory: str) -> Storage:
    return Storage(filesystem=Filesystem(dir=directory))
