"""settings -> the local Cortex ring that proves the Mimir target (pure).

Three Cortex processes on 127.0.0.1 form one memberlist ring (every module of `target: all`: distributor,
ingester, querier, ruler, Alertmanager, ...), replication factor 3, with filesystem buckets they share. Ports
follow `components.mimir.port` (HTTP port+i, gRPC port+100+i, memberlist port+200+i), so the whole ring moves
with one setting. Prometheus scrapes as usual, evaluates nothing and remote-writes to every process with the
tenant header; the ring's ruler evaluates the Mimir target's rule namespaces and sends to the ring's
Alertmanager, which delivers to the usual receivers.
"""

from __future__ import annotations

import posixpath
from typing import Any

from stack.models import cortex as m
from stack.models.cortex import REPLICAS, TENANT_HEADER, Member, ring_members
from stack.models.prometheus import PrometheusConfig, RemoteWriteConfig
from stack.settings import StackSettings

HEARTBEAT, HEARTBEAT_TIMEOUT = "1s", "10s"  # a SIGKILLed member counts as unhealthy after 10s


def members(settings: StackSettings) -> tuple[Member, ...]:
    return ring_members(settings.components.mimir.port)


def tenant(settings: StackSettings) -> str:
    """The one tenant the ring serves: the project."""
    return settings.project


def tenant_headers(settings: StackSettings) -> dict[str, str]:
    return {TENANT_HEADER: tenant(settings)}


def _instance(member: Member) -> dict[str, Any]:
    return {"heartbeat_period": HEARTBEAT, "heartbeat_timeout": HEARTBEAT_TIMEOUT, "instance_id": member.name,
            "instance_addr": "127.0.0.1", "instance_port": member.grpc}  # fmt: skip


def _ring(member: Member) -> m.InstanceRing:
    return m.InstanceRing(**_instance(member))


def _replicated(member: Member) -> m.ReplicatedRing:
    return m.ReplicatedRing(**_instance(member), replication_factor=REPLICAS)


def _shared(data_root: str, name: str) -> m.Storage:
    return m.Storage(filesystem=m.Filesystem(dir=posixpath.join(data_root, "cortex-shared", name)))


def build_cortex(settings: StackSettings, member: Member, data_root: str) -> m.CortexConfig:
    """The config file of ring member `member`; `data_root` holds the shared buckets and its own directories."""
    ring = members(settings)
    own = posixpath.join(data_root, member.name)
    am_urls = ",".join(f"{peer.url}/alertmanager" for peer in ring)
    lifecycler = m.Lifecycler(
        ring=m.IngesterRingSettings(heartbeat_timeout=HEARTBEAT_TIMEOUT, replication_factor=REPLICAS),
        heartbeat_period=HEARTBEAT, join_after="0s", observe_period="0s", min_ready_duration="0s", final_sleep="0s",
        readiness_check_ring_health=False, address="127.0.0.1", port=member.grpc, id=member.name,
    )  # fmt: skip
    return m.CortexConfig(
        target="all",
        auth_enabled=True,
        server=m.Server(
            http_listen_address="127.0.0.1",
            http_listen_port=member.http,
            grpc_listen_address="127.0.0.1",
            grpc_listen_port=member.grpc,
        ),
        distributor=m.Distributor(ring=_ring(member)),
        ingester=m.Ingester(lifecycler=lifecycler),
        querier=m.Querier(active_query_tracker_dir=posixpath.join(own, "active-query-tracker")),
        blocks_storage=m.BlocksStorage(
            filesystem=_shared(data_root, "blocks").filesystem,
            tsdb=m.Tsdb(dir=posixpath.join(own, "tsdb")),
            bucket_store=m.BucketStore(sync_dir=posixpath.join(own, "tsdb-sync")),
        ),
        compactor=m.Compactor(data_dir=posixpath.join(own, "compactor"), sharding_ring=_ring(member)),
        store_gateway=m.StoreGateway(sharding_ring=_replicated(member)),
        ruler=_ruler(settings, member, own, am_urls),
        ruler_storage=_shared(data_root, "rules"),
        alertmanager=m.Alertmanager(
            enable_api=True,
            data_dir=posixpath.join(own, "alertmanager"),
            external_url=f"{member.url}/alertmanager",
            poll_interval="5s",
            sharding_enabled=True,
            sharding_ring=_replicated(member),
            cluster=m.AlertmanagerCluster(listen_address=""),
        ),
        alertmanager_storage=_shared(data_root, "alertmanager"),
        memberlist=_memberlist(member, ring),
        limits=m.Limits(
            ruler_evaluation_delay_duration="0s", ruler_max_rules_per_rule_group=0, ruler_max_rule_groups_per_tenant=0
        ),
    )


def _ruler(settings: StackSettings, member: Member, own: str, am_urls: str) -> m.Ruler:
    """Groups sharded over the ruler ring, evaluated at the profile's interval, re-synced every 5s."""
    return m.Ruler(
        enable_api=True, enable_sharding=True, evaluation_interval=str(settings.timing.evaluation_interval),
        poll_interval="5s", rule_path=posixpath.join(own, "rules"), alertmanager_url=am_urls,
        external_url=settings.alerting.grafana_url, ring=_ring(member),
    )  # fmt: skip


def _memberlist(member: Member, ring: tuple[Member, ...]) -> m.Memberlist:
    return m.Memberlist(
        node_name=member.name, randomize_node_name=False, bind_addr=("127.0.0.1",), bind_port=member.gossip,
        advertise_addr="127.0.0.1", advertise_port=member.gossip,
        join_members=tuple(f"127.0.0.1:{peer.gossip}" for peer in ring if peer != member),
        abort_if_cluster_join_fails=False, dead_node_reclaim_time="1s", gossip_interval="200ms",
        left_ingesters_timeout="30s",
    )  # fmt: skip


def ring_prometheus(settings: StackSettings, config: PrometheusConfig) -> PrometheusConfig:
    """The local Prometheus of a ring run: the same scrapes, no rules and no Alertmanager (the ring evaluates
    and alerts), every sample remote-written to each member with the tenant header."""
    writes = tuple(
        RemoteWriteConfig(url=f"{member.url}/api/v1/push", name=member.name, headers=tenant_headers(settings))
        for member in members(settings)
    )
    return config.model_copy(update={"rule_files": (), "alerting": None, "remote_write": writes})
