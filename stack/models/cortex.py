"""Cortex 1.21 (github.com/cortexproject/cortex, Apache-2.0): the config file of one process of obsstack's
local ring (pkg/cortex/cortex.go's Config and the structs it embeds, read at v1.21.1; the keys are the yaml
tags there, as schemas/cortex-config-schema.json lists them, plus the hidden instance keys of each ring).

Only the keys obsstack sets are modelled; Cortex parses its config file strictly (an unknown key fails at
start), and so do these models. Durations are Go duration strings ("2s"). Every process of the ring gets its
own file: ports, instance ids and local directories differ, the rest is the same.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from stack import conventions as c
from stack.models import ConfigModel

REPLICAS = c.RING_REPLICAS
TENANT_HEADER = "X-Scope-OrgID"
# Prometheus' rulefmt.RuleGroup at the version Cortex 1.21.1 builds with (prometheus v0.308.1): the keys its
# ruler API reads (yaml.Unmarshal, not strict); any other key of a posted group is dropped without a word
CORTEX_GROUP_KEYS = ("name", "interval", "query_offset", "limit", "labels", "rules")
# keys of a Mimir rule group (mimirtool's format) that Cortex does not have, and what each does in Mimir
MIMIR_ONLY_GROUP_KEYS = {
    "source_tenants": "federated rule groups query these tenants",
    "evaluation_delay": "Mimir's older name of query_offset",
    "align_evaluation_time_on_interval": "aligns evaluations on the interval",
    "remote_write": "mimirtool's per-group remote write",
}


@dataclass(frozen=True)
class Member:
    """One process of the ring: its index and ports (HTTP, gRPC, memberlist)."""

    index: int
    http: int
    grpc: int
    gossip: int

    @property
    def name(self) -> str:
        return f"cortex-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"


def ring_members(base_port: int) -> tuple[Member, ...]:
    """The ring's processes: HTTP base+i, gRPC base+RING_GRPC_OFFSET+i, memberlist base+RING_GOSSIP_OFFSET+i."""
    return tuple(
        Member(i, base_port + i, base_port + c.RING_GRPC_OFFSET + i, base_port + c.RING_GOSSIP_OFFSET + i)
        for i in range(REPLICAS)
    )


def mimir_only_keys(document: Mapping[str, Any], where: str) -> list[str]:
    """One line per key of a namespace's groups that Cortex's ruler would drop silently (a Mimir-only key, or
    any other its rule-group format does not have), naming the file, group and key."""
    problems = []
    for index, group in enumerate(document.get("groups") or ()):
        keys = group if isinstance(group, Mapping) else {}
        name = keys.get("name", f"#{index}")
        for key in (k for k in keys if k not in CORTEX_GROUP_KEYS):
            what = f"Mimir-only ({MIMIR_ONLY_GROUP_KEYS[key]})" if key in MIMIR_ONLY_GROUP_KEYS else "unknown to Cortex"
            problems.append(f"{where}: group {name}: key {key} is {what}; Cortex's ruler would drop it silently, "
                            f"expected only {', '.join(CORTEX_GROUP_KEYS)}")  # fmt: skip
    return problems


class KVStore(ConfigModel):
    store: Literal["memberlist"] = "memberlist"


class Server(ConfigModel):
    """server.Config (weaveworks common): the process' HTTP and gRPC listeners."""

    http_listen_address: str
    http_listen_port: int
    grpc_listen_address: str
    grpc_listen_port: int
    log_level: Literal["debug", "info", "warn", "error"] = "warn"


class InstanceRing(ConfigModel):
    """The ring fields of the distributor, ruler, store-gateway, compactor and Alertmanager rings: how this
    instance registers (the hidden instance_* keys) and how fast a silent member counts as unhealthy."""

    kvstore: KVStore = KVStore()
    heartbeat_period: str
    heartbeat_timeout: str
    instance_id: str
    instance_addr: str
    instance_port: int


class ReplicatedRing(InstanceRing):
    replication_factor: int


class IngesterRingSettings(ConfigModel):
    """ring.Config (the ingesters' ring as the distributors and queriers read it)."""

    kvstore: KVStore = KVStore()
    heartbeat_timeout: str
    replication_factor: int


class Lifecycler(ConfigModel):
    """ring.LifecyclerConfig: an ingester's registration (`address`, `port`, `id` are its hidden keys)."""

    ring: IngesterRingSettings
    heartbeat_period: str
    join_after: str
    observe_period: str
    min_ready_duration: str
    final_sleep: str
    readiness_check_ring_health: bool
    address: str
    port: int
    id: str


class Ingester(ConfigModel):
    lifecycler: Lifecycler


class Querier(ConfigModel):
    """querier.Config: the active query tracker's mmap-ed file is per process (its default is ./ of the cwd)."""

    active_query_tracker_dir: str


class Distributor(ConfigModel):
    ring: InstanceRing


class Filesystem(ConfigModel):
    dir: str


class Tsdb(ConfigModel):
    dir: str


class BucketStore(ConfigModel):
    sync_dir: str


class BlocksStorage(ConfigModel):
    """tsdb.BlocksStorageConfig: a filesystem bucket shared by the ring, the TSDB and sync dirs its own."""

    backend: Literal["filesystem"] = "filesystem"
    filesystem: Filesystem
    tsdb: Tsdb
    bucket_store: BucketStore


class Storage(ConfigModel):
    """An object-storage client (bucket.Config) on the filesystem backend: one directory the ring shares."""

    backend: Literal["filesystem"] = "filesystem"
    filesystem: Filesystem


class Compactor(ConfigModel):
    data_dir: str
    sharding_ring: InstanceRing


class StoreGateway(ConfigModel):
    sharding_ring: ReplicatedRing


class Ruler(ConfigModel):
    """ruler.Config: groups sharded over the ruler ring, alerts sent to every Alertmanager of the ring."""

    enable_api: bool
    enable_sharding: bool
    evaluation_interval: str
    poll_interval: str
    rule_path: str
    alertmanager_url: str  # comma-separated: each URL is a group the ruler sends every alert to
    external_url: str
    ring: InstanceRing


class AlertmanagerCluster(ConfigModel):
    """The legacy gossip cluster, off ("") when the Alertmanagers are sharded over their ring."""

    listen_address: str


class Alertmanager(ConfigModel):
    """alertmanager.MultitenantAlertmanagerConfig: tenants' Alertmanagers replicated over their ring."""

    enable_api: bool
    data_dir: str
    external_url: str
    poll_interval: str
    sharding_enabled: bool
    sharding_ring: ReplicatedRing
    cluster: AlertmanagerCluster


class Memberlist(ConfigModel):
    """memberlist.KVConfig: the gossip that carries every ring."""

    node_name: str
    randomize_node_name: bool
    bind_addr: tuple[str, ...]
    bind_port: int
    advertise_addr: str
    advertise_port: int
    join_members: tuple[str, ...]
    abort_if_cluster_join_fails: bool
    dead_node_reclaim_time: str
    gossip_interval: str
    left_ingesters_timeout: str


class Limits(ConfigModel):
    """validation.Limits: the defaults of every tenant."""

    ruler_evaluation_delay_duration: str
    ruler_max_rules_per_rule_group: int
    ruler_max_rule_groups_per_tenant: int


class CortexConfig(ConfigModel):
    target: str  # flagext.StringSliceCSV: "all" (distributor, ingester, querier, ruler, alertmanager, ...)
    auth_enabled: bool  # true: every request names its tenant (X-Scope-OrgID)
    server: Server
    distributor: Distributor
    ingester: Ingester
    querier: Querier
    blocks_storage: BlocksStorage
    compactor: Compactor
    store_gateway: StoreGateway
    ruler: Ruler
    ruler_storage: Storage
    alertmanager: Alertmanager
    alertmanager_storage: Storage
    memberlist: Memberlist
    limits: Limits
