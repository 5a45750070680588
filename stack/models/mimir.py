"""Grafana Mimir: the config file of a local ring (pkg/mimir/mimir.go's Config and the structs it embeds at the
pinned commit, as cmd/mimir/config-descriptor.json lists them) and mimirtool's rule file (pkg/mimirtool/rules:
RuleNamespace, whose groups are Prometheus' rulefmt groups).

Only the keys obsstack sets are modelled; Mimir rejects unknown keys (`-config.file`), and so do these models.
Durations are Go duration strings ("2s"). What differs between the processes of the ring is not here: those
are flags (conventions.mimir_replica_flags).
"""

from __future__ import annotations

from typing import Literal

from stack.models import ConfigModel
from stack.models.rules import RuleGroup

# --- mimirtool rule file -------------------------------------------------------------------------------


class RuleNamespace(ConfigModel):
    """One file of `mimirtool rules sync/load`: a namespace of the tenant's ruler and its groups."""

    namespace: str
    groups: tuple[RuleGroup, ...]


# --- mimir -config.file --------------------------------------------------------------------------------


class KVStore(ConfigModel):
    store: Literal["memberlist", "consul", "etcd", "inmemory", "multi"] = "memberlist"


class Ring(ConfigModel):
    """The lifecycler fields every ring shares (dskit ring's BasicLifecyclerConfig as Mimir exposes it)."""

    kvstore: KVStore = KVStore()
    heartbeat_period: str
    heartbeat_timeout: str
    instance_addr: str


class ReplicatedRing(Ring):
    """A ring whose members hold copies (store-gateway blocks, Alertmanager tenants)."""

    replication_factor: int


class IngesterRing(ReplicatedRing):
    """pkg/ingester's RingConfig."""

    min_ready_duration: str
    final_sleep: str


class Server(ConfigModel):
    """dskit server.Config; the ports are per process (flags)."""

    http_listen_address: str
    grpc_listen_address: str
    log_level: Literal["debug", "info", "warn", "error"] = "warn"


class Distributor(ConfigModel):
    ring: Ring


class Querier(ConfigModel):
    ring: Ring


class Ingester(ConfigModel):
    ring: IngesterRing


class IngestStorage(ConfigModel):
    """Mimir 3's Kafka-based ingest storage: kept off (the classic write path: distributors -> ingesters)."""

    enabled: bool


class Frontend(ConfigModel):
    """The query-frontend's own address, which the queriers of `all` connect back to."""

    address: str


class Filesystem(ConfigModel):
    dir: str


class Storage(ConfigModel):
    """An object-storage client (bucket.Config); obsstack's local ring uses the filesystem backend."""

    backend: Literal["filesystem"] = "filesystem"
    filesystem: Filesystem


class Compactor(ConfigModel):
    sharding_ring: Ring


class StoreGateway(ConfigModel):
    sharding_ring: ReplicatedRing


class Ruler(ConfigModel):
    evaluation_interval: str
    poll_interval: str
    ring: Ring


class Alertmanager(ConfigModel):
    sharding_ring: ReplicatedRing


class Memberlist(ConfigModel):
    """dskit memberlist.KVConfig; bind and advertise ports and the node name are per process (flags)."""

    bind_addr: tuple[str, ...]
    advertise_addr: str
    join_members: tuple[str, ...]
    cluster_label: str
    leave_timeout: str


class QueryScheduler(ConfigModel):
    ring: Ring


class RulerAlertmanagerClient(ConfigModel):
    alertmanager_url: str  # comma-separated: each URL is a group the ruler sends every alert to


class Limits(ConfigModel):
    """pkg/util/validation.Limits (the defaults of every tenant)."""

    ruler_evaluation_delay_duration: str
    ruler_max_rules_per_rule_group: int
    ruler_max_rule_groups_per_tenant: int
    ruler_alertmanager_client_config: RulerAlertmanagerClient


class ActivityTracker(ConfigModel):
    filepath: str  # "": off


class UsageStats(ConfigModel):
    enabled: bool


class MimirConfig(ConfigModel):
    target: str  # flagext.StringSliceCSV: "all,alertmanager"
    multitenancy_enabled: bool
    no_auth_tenant: str | None = None  # the tenant of every request when multitenancy is off
    server: Server
    distributor: Distributor
    querier: Querier
    ingester: Ingester
    ingest_storage: IngestStorage
    frontend: Frontend
    blocks_storage: Storage
    compactor: Compactor
    store_gateway: StoreGateway
    ruler: Ruler
    ruler_storage: Storage
    alertmanager: Alertmanager
    alertmanager_storage: Storage
    memberlist: Memberlist
    query_scheduler: QueryScheduler
    limits: Limits
    activity_tracker: ActivityTracker
    usage_stats: UsageStats
