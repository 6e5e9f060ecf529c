"""ENI and IP state of a cluster at a glance, as pure views over one snapshot of facts.

The gatherer reads Kubernetes and EC2 once (bot/gather/cluster.py); everything here is arithmetic on what it
read: which ENI holds which address, whether that address is a pod's, part of a warm pool, an ENI's own
primary, a leaked ENI's or somebody else's; each node's IP capacity against its kubelet max-pods; the
subnets' free addresses and /28 blocks; headroom and what-if through bot.domain.capacity; and how far a
custom-networking migration has got. Nothing here imports an SDK.
"""

from __future__ import annotations

import difflib
import socket
import statistics
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from bot.domain import capacity
from bot.domain.capacity import (
    HOST_NETWORK_PODS,
    IPS_PER_PREFIX,
    Headroom,
    NodeCapacity,
    NodeUsage,
    PoolState,
    WhatIfResult,
)
from bot.domain.cni_settings import (
    KNOBS,
    EffectiveSettings,
    EnvChange,
    Problem,
    Severity,
    effective_settings,
    knob_env,
    startup_errors,
    value_error,
    warm_pool_problems,
)
from bot.domain.eks_cluster import EksClusterFact
from bot.domain.eni_rules import (
    discovery_order,
    eni_is_leaked,
    eni_unmanaged,
    leaked_eni_sweep_for,
    subnet_valid_for_new_eni,
)
from bot.domain.eniconfig import Resolution, check_eniconfig, resolve_eniconfig_name
from bot.domain.facts import (
    DaemonSetFact,
    EniConfigFact,
    EniFact,
    FargateProfileFact,
    NodeFact,
    PodFact,
    SubnetFact,
    Unchecked,
)
from bot.domain.fragmentation import BlockReport, analyse_prefix_blocks
from bot.domain.instance_limits import InstanceLimits
from bot.domain.ipamd_metrics import IpamdMetrics
from bot.domain.max_pods import max_pods_sources, setting_for_node
from bot.domain.shapes import NodeShape, aws_node_runs_on, node_shape

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
CNI_INSTANCE_TAG = "node.k8s.amazonaws.com/instance_id"
CNI_ROLE_TAG = "kubernetes.io/role/cni"
# ENI types whose secondary addresses ipamd hands to pods ("" = EC2 left the field out).
POOL_ENI_TYPES = frozenset({"interface", ""})
# max-pods below this share of what the node could address wastes most of its IP capacity.
FAR_BELOW_RATIO = 0.5

# Who holds a subnet address.
HOLDER_PODS = "pods"
HOLDER_WARM = "warm"
HOLDER_NODES = "nodes"  # node ENIs' own primaries, trunk ENIs, branch ENIs without a pod
HOLDER_LEAKED = "leaked"
HOLDER_OTHER = "other"
HOLDERS = (HOLDER_PODS, HOLDER_WARM, HOLDER_NODES, HOLDER_LEAKED, HOLDER_OTHER)

# Problem codes of the node view.
MAX_PODS_ABOVE_IPS = "MAX_PODS_ABOVE_IPS"
MAX_PODS_FAR_BELOW = "MAX_PODS_FAR_BELOW"
NODE_IPS_EXHAUSTED = "NODE_IPS_EXHAUSTED"
NODE_ON_PRIMARY_SUBNET = "NODE_ON_PRIMARY_SUBNET"
NODE_ENICONFIG_MISSING = "NODE_ENICONFIG_MISSING"
AWS_NODE_NOT_READY = "AWS_NODE_NOT_READY"
POOL_FROZEN_CORDONED = "POOL_FROZEN_CORDONED"
UNKNOWN_INSTANCE_TYPE = "UNKNOWN_INSTANCE_TYPE"
NOT_SERVED_BY_AWS_NODE = "NOT_SERVED_BY_AWS_NODE"

# Custom-networking migration status of a node.
MIGRATED = "migrated"
ON_PRIMARY_SUBNET = "primary-subnet"
NO_ENICONFIG = "no-eniconfig"
NOT_CHECKED = "unknown"


# --- facts the gatherer adds to bot.domain.facts ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodPlacement:
    """The little of a pod that cluster-wide views need (150k of these must stay small)."""

    namespace: str
    name: str
    node_name: str | None
    pod_ip: str | None
    host_network: bool
    phase: str
    branch_eni: bool = False  # requests vpc.amazonaws.com/pod-eni: its IP is a branch ENI's, not ipamd's

    @classmethod
    def of(cls, pod: PodFact) -> PodPlacement:
        return cls(
            pod.namespace, pod.name, pod.node_name, pod.pod_ip, pod.host_network, pod.phase, pod.requests_pod_eni
        )

    @property
    def active(self) -> bool:
        """Counted by kubelet against max-pods: not finished."""
        return self.phase not in TERMINAL_PHASES

    @property
    def holds_vpc_ip(self) -> bool:
        return self.active and not self.host_network and bool(self.pod_ip)


@dataclass(frozen=True)
class ManagedAddon:
    """The EKS managed add-on vpc-cni."""

    version: str
    status: str
    configuration_values: str = ""


@dataclass
class ClusterSnapshot:
    """Everything read for the state commands. A None field was not read or could not be checked."""

    cluster: str
    nodes: list[NodeFact] | None = None
    pods: list[PodPlacement] | None = None
    daemonset: DaemonSetFact | None = None
    eniconfigs: list[EniConfigFact] | None = None
    aws_node_pods: list[PodFact] | None = None
    ipamd: dict[str, IpamdMetrics] = field(default_factory=dict)  # node name -> its ipamd metrics
    addon: ManagedAddon | None = None
    addon_checked: bool = False  # True once EKS answered (addon None then means self-managed)
    vpc_id: str | None = None
    subnets: dict[str, SubnetFact] | None = None  # every subnet of the VPC, by id
    enis: list[EniFact] | None = None  # the VPC's ENIs (or one node's)
    limits: dict[str, InstanceLimits] = field(default_factory=dict)  # by instance type
    prefix_reservations: dict[str, list[str]] = field(default_factory=dict)  # subnet id -> CIDRs
    existing_security_groups: set[str] | None = None
    # Cluster shapes (bot/domain/shape_view.py): EKS's view of the cluster, and its Fargate profiles.
    eks: EksClusterFact | None = None
    fargate_profiles: list[FargateProfileFact] | None = None
    checked: list[str] = field(default_factory=list)
    could_not_check: list[Unchecked] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # how long each read took (logs and benchmarks)

    @property
    def settings(self) -> EffectiveSettings | None:
        return effective_settings(self.daemonset.env) if self.daemonset else None


# --- who holds which address ------------------------------------------------------------------------------


def ip_to_int(text: str) -> int | None:
    try:
        return int(struct.unpack("!I", socket.inet_aton(text))[0])
    except (OSError, TypeError):
        return None  # IPv6 or garbage: not an IPv4 pod address


def _block_of(cidr: str) -> int | None:
    return ip_to_int(cidr.split("/", 1)[0])


@dataclass(frozen=True, slots=True)
class EniUse:
    """One ENI and what its addresses are used for."""

    eni: EniFact
    holder: str  # HOLDER_NODES (a cluster node's), HOLDER_LEAKED or HOLDER_OTHER
    node_name: str | None
    pod_addresses: int  # secondary IPs + 16 per /28 prefix: what ipamd can hand to pods
    used_by_pods: int  # its addresses (primary included, for branch ENIs) that pods hold
    in_pool: bool  # a pod-serving ENI of a node's ipamd pool (default card, managed, type interface)
    unused: int  # warm pool: pod addresses attached and not used (cooldown IPs included)


def _in_pool(eni: EniFact, holder: str) -> bool:
    return (
        holder == HOLDER_NODES
        and eni.interface_type in POOL_ENI_TYPES
        and eni.network_card == 0
        and not eni_unmanaged(eni.tags, is_primary=eni.device_index == 0, instance_id=eni.instance_id)
    )


class IpLedger:
    """Every ENI's addresses matched with the pods' IPs, grouped by node and by subnet. Built once: O(IPs)."""

    def __init__(self, enis: Iterable[EniFact], pods: Iterable[PodPlacement], nodes: Iterable[NodeFact]) -> None:
        nodes = list(nodes)
        node_by_instance = {n.instance_id: n.name for n in nodes if n.instance_id}
        # Only nodes aws-node runs on have an ipamd pool; the others' ENI addresses are never "warm".
        served = {n.name for n in nodes if aws_node_runs_on(n.labels)}
        # Plain attribute tests, not PodPlacement.holds_vpc_ip: this runs over every pod of the cluster.
        pod_ips = {p.pod_ip for p in pods if p.pod_ip and not p.host_network and p.phase not in TERMINAL_PHASES}
        enis = list(enis)
        pods_per_block: Counter[int] = Counter()
        if any(eni.prefixes for eni in enis):  # prefix delegation: count pod IPs per /28
            pods_per_block.update(address >> 4 for address in map(ip_to_int, pod_ips) if address is not None)
        self.uses: list[EniUse] = []
        self.by_node: dict[str, list[EniUse]] = defaultdict(list)
        self.by_subnet: dict[str, list[EniUse]] = defaultdict(list)
        for eni in enis:
            # Branch ENIs (security groups for pods) are not attached: their node is in a tag.
            instance = eni.instance_id or (eni.tags.get(CNI_INSTANCE_TAG) if eni.interface_type == "branch" else None)
            node_name = node_by_instance.get(instance or "")
            if node_name is not None:
                holder = HOLDER_NODES
            elif eni.status == "available" and eni.cni_managed:
                holder = HOLDER_LEAKED
            else:
                holder = HOLDER_OTHER
            used = len(pod_ips.intersection(eni.secondary_ips)) + (1 if eni.primary_ip in pod_ips else 0)
            for prefix in eni.prefixes:
                block = _block_of(prefix)
                used += pods_per_block.get(block >> 4, 0) if block is not None else 0
            pod_addresses = len(eni.secondary_ips) + IPS_PER_PREFIX * len(eni.prefixes)
            in_pool = _in_pool(eni, holder) and node_name in served
            unused = max(pod_addresses - used, 0) if in_pool else 0
            use = EniUse(eni, holder, node_name, pod_addresses, used, in_pool, unused)
            self.uses.append(use)
            self.by_subnet[eni.subnet_id].append(use)
            if node_name is not None:
                self.by_node[node_name].append(use)

    def holders(self, subnet_id: str) -> dict[str, int]:
        """Addresses of the subnet's ENIs by holder (HOLDERS)."""
        counts = dict.fromkeys(HOLDERS, 0)
        for use in self.by_subnet.get(subnet_id, ()):
            counts[HOLDER_PODS] += use.used_by_pods
            rest = use.eni.address_count - use.used_by_pods
            if use.holder == HOLDER_NODES:
                counts[HOLDER_WARM] += use.unused
                counts[HOLDER_NODES] += max(rest - use.unused, 0)
            else:
                counts[use.holder] += max(rest, 0)
        return counts


# --- one node ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EniRow:
    eni_id: str
    device_index: int | None
    network_card: int
    kind: str  # primary | secondary | trunk | branch | efa ...
    subnet_id: str
    secondary_ips: int
    prefixes: int
    pod_addresses: int
    used_by_pods: int
    unused: int


@dataclass(frozen=True)
class NodeState:
    """One node's IPs against its limits."""

    node: NodeFact
    limits: InstanceLimits | None
    enis: tuple[EniRow, ...]
    enis_read: bool  # False when the ENIs could not be read (the EC2 figures below are then 0)
    pods: int  # not finished: what kubelet counts against max-pods
    host_network_pods: int
    pods_with_ip: int  # VPC IPs from ipamd (not hostNetwork, not branch ENI)
    branch_pods: int  # pods with their own branch ENI (security groups for pods)
    waiting_for_ip: int  # scheduled here, not hostNetwork, no IP yet
    attached_ips: int  # pod addresses on the node's pool ENIs
    unused_ips: int  # of those, held by no pod: the warm pool
    subnet_addresses: int  # every address the node's ENIs take from subnets
    unmanaged_enis: int
    max_pods: int | None  # node.status.capacity.pods
    ip_capacity: int | None  # pod IPs the node can really address
    recommended_max_pods: int | None  # the EKS formula for its type in this CNI mode
    allocation_subnet: str | None  # where its next pod addresses come from
    eniconfig: Resolution | None  # custom networking only
    ipv6_prefixes: tuple[str, ...] = ()  # IPv6 clusters: the /80 on its primary ENI

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def addressable_pods(self) -> int | None:
        """Pods the node can run with an IP: pod IPs plus the host-network pods of the formula's +2."""
        return None if self.ip_capacity is None else self.ip_capacity + HOST_NETWORK_PODS

    def measured_pool(self) -> PoolState:
        """The pool as EC2 shows it, in the shape the capacity model uses."""
        tracked = sum(1 for row in self.enis if row.network_card == 0 and row.kind != "branch")
        return PoolState(
            enis=max(tracked, 1),
            total_ips=self.attached_ips,
            prefixes=sum(row.prefixes for row in self.enis if row.kind in ("primary", "secondary")),
            unused_ips=self.unused_ips,
            subnet_ips=self.subnet_addresses,
        )


def _eni_kind(eni: EniFact) -> str:
    if eni.interface_type not in POOL_ENI_TYPES:
        return eni.interface_type
    return "primary" if eni.device_index == 0 else "secondary"


def _eni_sort_key(use: EniUse) -> tuple[int, int, str]:
    eni = use.eni
    return (eni.network_card, eni.device_index if eni.device_index is not None else 1 << 16, eni.eni_id)


@dataclass(slots=True)
class PodCounts:
    """A node's active pods, counted in one pass over the cluster's pods."""

    total: int = 0
    host_network: int = 0
    with_ip: int = 0  # a VPC IP from ipamd
    branch_eni: int = 0  # an IP of its own branch ENI (security groups for pods)
    waiting_for_ip: int = 0

    def add(self, pod: PodPlacement) -> None:
        self.total += 1
        if pod.host_network:
            self.host_network += 1
        elif not pod.pod_ip:
            self.waiting_for_ip += 1
        elif pod.branch_eni:
            self.branch_eni += 1
        else:
            self.with_ip += 1


class StateModel:
    """Per-node and per-subnet views of one snapshot. Derived values are computed once and shared."""

    def __init__(self, snapshot: ClusterSnapshot) -> None:
        self.snapshot = snapshot
        self.settings = snapshot.settings or effective_settings({})
        self.settings_known = snapshot.settings is not None
        self.ledger = IpLedger(snapshot.enis or [], snapshot.pods or [], snapshot.nodes or [])
        self.eniconfigs = {c.name: c for c in snapshot.eniconfigs or []}
        self._blocks: dict[str, BlockReport | None] = {}
        self.pod_counts: dict[str, PodCounts] = defaultdict(PodCounts)
        for pod in snapshot.pods or []:
            if pod.node_name and pod.phase not in TERMINAL_PHASES:
                self.pod_counts[pod.node_name].add(pod)

    def prefix_blocks(self, subnet_id: str) -> BlockReport | None:
        """The subnet's aligned /28 blocks (what prefix delegation can still get); None without the ENI sweep."""
        if subnet_id not in self._blocks:
            subnet = (self.snapshot.subnets or {}).get(subnet_id)
            self._blocks[subnet_id] = None if subnet is None or self.snapshot.enis is None else self._analyse(subnet)
        return self._blocks[subnet_id]

    def _analyse(self, subnet: SubnetFact) -> BlockReport | None:
        uses = self.ledger.by_subnet.get(subnet.subnet_id, [])
        used_ips = [ip for u in uses for ip in (u.eni.primary_ip, *u.eni.secondary_ips) if ip]
        prefixes = [p for u in uses for p in u.eni.prefixes]
        reservations = self.snapshot.prefix_reservations.get(subnet.subnet_id, [])
        try:
            return analyse_prefix_blocks(subnet.cidr, used_ips, prefixes, reservations)
        except ValueError:
            return None  # smaller than a /28: no prefix can come from it

    @cached_property
    def nodes(self) -> dict[str, NodeState]:
        return {n.name: self.node_state(n) for n in self.snapshot.nodes or []}

    def node_state(self, node: NodeFact) -> NodeState:
        settings = self.settings
        limits = self.snapshot.limits.get(node.instance_type or "")
        uses = sorted(self.ledger.by_node.get(node.name, []), key=_eni_sort_key)
        rows = tuple(
            EniRow(
                eni_id=u.eni.eni_id,
                device_index=u.eni.device_index,
                network_card=u.eni.network_card,
                kind=_eni_kind(u.eni),
                subnet_id=u.eni.subnet_id,
                secondary_ips=len(u.eni.secondary_ips),
                prefixes=len(u.eni.prefixes),
                pod_addresses=u.pod_addresses,
                used_by_pods=u.used_by_pods,
                unused=u.unused,
            )
            for u in uses
        )
        pods = self.pod_counts.get(node.name) or PodCounts()
        unmanaged = sum(
            1
            for u in uses
            if u.eni.interface_type == "efa-only"
            or eni_unmanaged(
                u.eni.tags,
                is_primary=u.eni.device_index == 0,
                instance_id=node.instance_id,
                manage_untagged=settings.flag("MANAGE_UNTAGGED_ENI"),
            )
        )
        ip_capacity = recommended = None
        if limits is not None:
            ip_capacity = capacity.pod_ip_capacity(
                limits,
                custom_networking=settings.custom_networking,
                prefix_delegation=settings.prefix_delegation,
                max_eni=settings.max_eni,
                sgp_trunk=settings.pod_eni,
                unmanaged_enis=unmanaged,
            )
            recommended = capacity.max_pods(
                limits,
                custom_networking=settings.custom_networking,
                prefix_delegation=settings.prefix_delegation,
                max_eni=settings.max_eni,
            )
        resolution = None
        if settings.custom_networking:
            resolution = resolve_eniconfig_name(node.labels, node.annotations, settings)
        pool = [u for u in uses if u.in_pool]
        return NodeState(
            node=node,
            limits=limits,
            enis=rows,
            enis_read=self.snapshot.enis is not None,
            pods=pods.total,
            host_network_pods=pods.host_network,
            pods_with_ip=pods.with_ip,
            branch_pods=pods.branch_eni,
            waiting_for_ip=pods.waiting_for_ip,
            attached_ips=sum(u.pod_addresses for u in pool),
            unused_ips=sum(u.unused for u in pool),
            subnet_addresses=sum(u.eni.address_count for u in uses),
            unmanaged_enis=unmanaged,
            max_pods=node.capacity_pods,
            ip_capacity=ip_capacity,
            recommended_max_pods=recommended,
            allocation_subnet=self._allocation_subnet(node, uses, resolution),
            eniconfig=resolution,
            ipv6_prefixes=tuple(p for u in uses if u.eni.device_index == 0 for p in u.eni.ipv6_prefixes),
        )

    def _allocation_subnet(self, node: NodeFact, uses: Sequence[EniUse], resolution: Resolution | None) -> str | None:
        """The subnet ipamd takes the node's next addresses from: the ENIConfig's with custom networking, else the
        primary ENI's, or with subnet discovery the valid subnet of its AZ with most free addresses (createENI)."""
        if resolution is not None:
            eniconfig = self.eniconfigs.get(resolution.name)
            return eniconfig.subnet if eniconfig and eniconfig.subnet else None
        primary = next((u.eni.subnet_id for u in uses if u.eni.device_index == 0 and u.eni.network_card == 0), None)
        subnets = self.snapshot.subnets or {}
        if not self.settings.flag("ENABLE_SUBNET_DISCOVERY") or not subnets:
            return primary
        cluster = self.settings.values.get("CLUSTER_NAME")
        cluster_name = cluster if isinstance(cluster, str) else ""
        vpc = subnets[primary].vpc_id if primary in subnets else None
        valid = [
            s
            for s in subnets.values()
            if s.az == node.az
            and (vpc is None or s.vpc_id == vpc)
            and subnet_valid_for_new_eni(s.tags, is_primary_subnet=s.subnet_id == primary, cluster_name=cluster_name)
        ]
        ordered = discovery_order(valid, lambda s: s.available_ips)
        return ordered[0].subnet_id if ordered else primary

    # --- node problems --------------------------------------------------------------------------------------

    def node_problems(self, state: NodeState, aws_node_pods: Sequence[PodFact] | None = None) -> list[Problem]:
        """What is wrong or worth knowing about one node. ``aws_node_pods``: the node's aws-node pods (None = not
        read, so not judged)."""
        problems: list[Problem] = []
        node, settings = state.node, self.settings
        if not aws_node_runs_on(node.labels):
            # Fargate, Auto Mode, Hybrid or Windows: ipamd's numbers and aws-node's health do not apply.
            return [
                Problem(
                    NOT_SERVED_BY_AWS_NODE,
                    Severity.INFO,
                    f"aws-node does not run on this {node_shape(node.labels).value} node (the DaemonSet's "
                    "nodeAffinity), so its pod addresses do not come from ipamd; ENI and warm-pool figures do not "
                    "apply.",
                )
            ]
        if state.limits is None:
            problems.append(
                Problem(
                    UNKNOWN_INSTANCE_TYPE,
                    Severity.INFO,
                    f"The limits of instance type {node.instance_type or '(unlabelled)'} are unknown, so IP capacity "
                    "was not checked.",
                )
            )
        problems += _max_pods_problems(state, settings)
        if state.ip_capacity and state.pods_with_ip >= state.ip_capacity:
            problems.append(
                Problem(
                    NODE_IPS_EXHAUSTED,
                    Severity.WARNING,
                    f"Every pod IP the node can address is in use ({state.pods_with_ip:,} of {state.ip_capacity:,}): "
                    "new pods here get no IP.",
                    "Spread the pods (topology spread, more nodes), or use a larger instance type.",
                )
            )
        if state.eniconfig is not None:
            problems += self._eniconfig_problems(state)
        if aws_node_pods is not None:
            problems += _aws_node_problems(node.name, aws_node_pods[0] if aws_node_pods else None)
        if node.cordoned and self.settings_known and not settings.flag("AWS_MANAGE_ENIS_NON_SCHEDULABLE"):
            problems.append(
                Problem(
                    POOL_FROZEN_CORDONED,
                    Severity.INFO,
                    "The node is cordoned, so ipamd neither grows nor shrinks its pool "
                    "(AWS_MANAGE_ENIS_NON_SCHEDULABLE=false): DaemonSet pods beyond the warm pool get no IP.",
                )
            )
        return problems

    def _eniconfig_problems(self, state: NodeState) -> list[Problem]:
        assert state.eniconfig is not None
        name = state.eniconfig.name
        if name not in self.eniconfigs:
            if self.snapshot.eniconfigs is None:
                return []
            return [
                Problem(
                    NODE_ENICONFIG_MISSING,
                    Severity.ERROR,
                    f"Custom networking is on but ENIConfig {name!r} (from {state.eniconfig.source}) does not exist: "
                    "ipamd cannot create pod ENIs on this node.",
                    f"Create ENIConfig {name} with a subnet in {state.node.az}, or fix the node's label.",
                )
            ]
        migration = self.migration(state)
        if migration.status != ON_PRIMARY_SUBNET:
            return []
        subnet = self.eniconfigs[name].subnet
        return [
            Problem(
                NODE_ON_PRIMARY_SUBNET,
                Severity.WARNING,
                f"{migration.addresses_outside:,} pod addresses ({migration.pods_outside:,} in use) sit outside "
                f"ENIConfig {name}'s subnet {subnet}: the node predates custom networking.",
                "Replace the node (cordon, drain, terminate) so its pods get addresses from the ENIConfig subnet.",
            )
        ]

    # --- custom networking migration -----------------------------------------------------------------------

    def migration(self, state: NodeState) -> NodeMigration:
        """Does the node take pod addresses from its ENIConfig subnet yet?"""
        resolution = state.eniconfig or resolve_eniconfig_name(state.node.labels, state.node.annotations, self.settings)
        eniconfig = self.eniconfigs.get(resolution.name)
        if eniconfig is None or not eniconfig.subnet:
            status = NO_ENICONFIG
        elif not state.enis_read:
            status = NOT_CHECKED
        else:
            status = MIGRATED
        outside = [
            row
            for row in state.enis
            if eniconfig is not None
            and row.kind in ("primary", "secondary")
            and row.subnet_id != eniconfig.subnet
            and (row.pod_addresses or row.used_by_pods)
        ]
        if status == MIGRATED and outside:
            status = ON_PRIMARY_SUBNET
        return NodeMigration(
            node=state.name,
            eniconfig=resolution.name,
            status=status,
            created_at=state.node.created_at,
            addresses_outside=sum(row.pod_addresses for row in outside),
            pods_outside=sum(row.used_by_pods for row in outside),
            subnets_outside=tuple(sorted({row.subnet_id for row in outside})),
        )


def _max_pods_problems(state: NodeState, settings: EffectiveSettings) -> list[Problem]:
    max_pods, addressable, recommended = state.max_pods, state.addressable_pods, state.recommended_max_pods
    if max_pods is None or addressable is None or recommended is None:
        return []
    itype = state.node.instance_type
    # With security groups for pods, branch-ENI pods take no ipamd IP but count against max-pods.
    branches = (state.node.allocatable_pod_eni or 0) if settings.pod_eni else 0
    if max_pods > addressable + branches:
        suggested = min(recommended, addressable + branches)
        return [
            Problem(
                MAX_PODS_ABOVE_IPS,
                Severity.WARNING,
                f"max-pods is {max_pods:,} but the node can address {addressable:,} pods ({state.ip_capacity:,} pod "
                f"IPs + {HOST_NETWORK_PODS} host-network{f' + {branches:,} branch ENIs' if branches else ''}): "
                f"{max_pods - addressable - branches:,} pods could be scheduled here and never get an IP.",
                f"Set kubelet max-pods to {suggested:,} for {itype} in this CNI mode"
                + _max_pods_source_note(state, settings, suggested)
                + ", then replace the nodes.",
            )
        ]
    if max_pods > addressable:
        return [
            Problem(
                MAX_PODS_ABOVE_IPS,
                Severity.INFO,
                f"ipamd can address {addressable:,} of the {max_pods:,} pods max-pods allows (the trunk ENI takes a "
                f"slot): the other {max_pods - addressable:,} fit only pods with security groups (branch ENIs).",
            )
        ]
    if max_pods < FAR_BELOW_RATIO * recommended:
        return [
            Problem(
                MAX_PODS_FAR_BELOW,
                Severity.INFO,
                f"max-pods is {max_pods:,}, far below the {recommended:,} that {itype} can address in this CNI mode.",
                f"Raise kubelet max-pods towards {recommended:,} if CPU and memory allow.",
            )
        ]
    return []


def _max_pods_source_note(state: NodeState, settings: EffectiveSettings, value: int) -> str:
    """Which tool gives ``value`` and the setting for the node's OS (the tools disagree; see bot/domain/max_pods)."""
    if state.limits is None:
        return ""
    mode = {"custom_networking": settings.custom_networking, "prefix_delegation": settings.prefix_delegation}
    calculator = max_pods_sources(state.limits, max_eni=settings.max_eni, **mode)[0]
    named = f" ({calculator.source} gives {calculator.value:,}: {calculator.detail})"
    return named + ": " + setting_for_node(state.node.os_image, state.node.labels, value, **mode)


def _aws_node_problems(node_name: str, pod: PodFact | None) -> list[Problem]:
    if pod is None:
        return [
            Problem(
                AWS_NODE_NOT_READY,
                Severity.ERROR,
                f"No aws-node pod runs on {node_name}: pods here get no IP.",
                "Check the aws-node DaemonSet's node selector, tolerations and events.",
            )
        ]
    main = next((c for c in pod.containers if c.name == "aws-node"), None)
    if pod.phase == "Running" and (main is None or main.ready):
        return []
    reason = (main.waiting_reason or main.last_terminated_reason) if main else ""
    detail = f" ({reason})" if reason else ""
    restarts = f", {main.restarts} restarts" if main and main.restarts else ""
    return [
        Problem(
            AWS_NODE_NOT_READY,
            Severity.ERROR,
            f"aws-node pod {pod.name} is not ready{detail}{restarts}: new pods on this node get no IP.",
            f"kubectl logs -n kube-system {pod.name} -c aws-node",
        )
    ]


# --- the node report ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeReport:
    state: NodeState
    problems: tuple[Problem, ...]
    aws_node: PodFact | None
    aws_node_checked: bool
    cni_version: str | None  # what ipamd on the node reports, else the DaemonSet image's
    ipamd: IpamdMetrics | None
    eniconfig: EniConfigFact | None  # the one it resolves to (custom networking)
    migration: NodeMigration | None  # custom networking only
    subnets: Mapping[str, SubnetFact]  # of its ENIs and its ENIConfig
    capacity_notes: tuple[str, ...] = ()  # what shaped the IP capacity (custom networking, PD, trunk, MAX_ENI)


def capacity_notes(state: NodeState, settings: EffectiveSettings) -> tuple[str, ...]:
    """Why the node's pod IP capacity is what it is, in a few words each."""
    limits = state.limits
    if limits is None:
        return ()
    notes = []
    if settings.max_eni is not None and settings.max_eni < limits.max_enis:
        notes.append(f"MAX_ENI={settings.max_eni}")
    if settings.custom_networking:
        notes.append("custom networking: the primary ENI serves no pods")
    if capacity.trunk_slot_reserved(limits, settings.pod_eni):
        notes.append("security groups for pods: the trunk ENI takes a slot")
    if settings.prefix_delegation:
        supported = capacity.prefix_delegation_active(limits, True)
        notes.append("prefix delegation: 16 IPs per slot" if supported else "not Nitro: no prefix delegation")
    if state.unmanaged_enis:
        notes.append(f"{state.unmanaged_enis} unmanaged ENIs")
    return tuple(notes)


def node_report(model: StateModel, name: str) -> NodeReport:
    snapshot = model.snapshot
    state = model.nodes[name]
    aws_node_pods = None
    if snapshot.aws_node_pods is not None:
        aws_node_pods = [p for p in snapshot.aws_node_pods if p.node_name == name]
    metrics = snapshot.ipamd.get(name)
    ds_version = snapshot.daemonset.cni_version if snapshot.daemonset else None
    eniconfig = model.eniconfigs.get(state.eniconfig.name) if state.eniconfig else None
    wanted = {row.subnet_id for row in state.enis} | ({eniconfig.subnet} if eniconfig and eniconfig.subnet else set())
    subnets = snapshot.subnets or {}
    return NodeReport(
        state=state,
        problems=tuple(model.node_problems(state, aws_node_pods)),
        aws_node=aws_node_pods[0] if aws_node_pods else None,
        aws_node_checked=aws_node_pods is not None,
        cni_version=(metrics.version.lstrip("v") if metrics and metrics.version else None) or ds_version,
        ipamd=metrics,
        eniconfig=eniconfig,
        migration=model.migration(state) if state.eniconfig else None,
        subnets={i: subnets[i] for i in sorted(wanted) if i in subnets},
        capacity_notes=capacity_notes(state, model.settings),
    )


@dataclass(frozen=True)
class NodeMatch:
    node: NodeFact | None
    candidates: tuple[str, ...]  # close or ambiguous names when there is no single match


def match_node(nodes: Sequence[NodeFact], query: str) -> NodeMatch:
    """A node by name, EC2 instance id, or a prefix of its name that only one node has."""
    query = query.strip()
    for node in nodes:
        if query in (node.name, node.instance_id):
            return NodeMatch(node, ())
    by_prefix = [n for n in nodes if n.name.startswith(query)]
    if len(by_prefix) == 1:
        return NodeMatch(by_prefix[0], ())
    if by_prefix:
        return NodeMatch(None, tuple(sorted(n.name for n in by_prefix)))
    # Compare with the short names too: "ip-10-0-1-5" is close to "ip-10-0-1-6", not to the full DNS name.
    names = {n.name: n.name for n in nodes} | {n.name.split(".", 1)[0]: n.name for n in nodes}
    if query.startswith("i-"):
        names |= {n.instance_id: n.name for n in nodes if n.instance_id}
    close = list(dict.fromkeys(names[c] for c in difflib.get_close_matches(query, list(names), n=3, cutoff=0.6)))
    return NodeMatch(None, tuple(close))


# --- custom networking migration --------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeMigration:
    node: str
    eniconfig: str  # the name the node resolves to
    status: str  # MIGRATED, ON_PRIMARY_SUBNET, NO_ENICONFIG or NOT_CHECKED
    created_at: datetime | None = None
    addresses_outside: int = 0  # pod addresses on ENIs outside the ENIConfig subnet
    pods_outside: int = 0
    subnets_outside: tuple[str, ...] = ()


# --- subnets ----------------------------------------------------------------------------------------------

ROLE_NODES = "nodes"
ROLE_ENICONFIG = "eniconfig"
ROLE_DISCOVERY = "discovery"
ROLE_EXCLUDED = "excluded"  # tagged kubernetes.io/role/cni=0
ROLE_FARGATE = "fargate"  # a Fargate profile's subnet: one ENI per Fargate pod


@dataclass(frozen=True)
class SubnetView:
    subnet: SubnetFact
    roles: tuple[str, ...]
    eniconfigs: tuple[str, ...]
    holders: Mapping[str, int]  # HOLDERS -> addresses
    unattributed: int  # used per DescribeSubnets but on no ENI of the sweep (e.g. stopped instances)
    blocks: BlockReport | None  # /28 analysis, with prefix delegation
    leaked_kept: int = 0  # addresses on leaked ENIs that ipamd's sweep will not delete (see eni_rules)
    sweep_stopped_by: str = ""  # the setting that stops the sweep altogether, if any

    @property
    def percent_used(self) -> float:
        usable = self.subnet.usable
        return 100.0 * self.subnet.used / usable if usable else 100.0


def subnet_views(model: StateModel, az: str | None = None) -> list[SubnetView]:
    """Every subnet the cluster uses: its nodes' ENI subnets, ENIConfig subnets, discovery-tagged subnets."""
    snapshot = model.snapshot
    subnets = snapshot.subnets or {}
    roles: dict[str, set[str]] = defaultdict(set)
    for use in model.ledger.uses:
        if use.holder == HOLDER_NODES:
            roles[use.eni.subnet_id].add(ROLE_NODES)
    eniconfig_names: dict[str, list[str]] = defaultdict(list)
    for config in snapshot.eniconfigs or []:
        if config.subnet:
            roles[config.subnet].add(ROLE_ENICONFIG)
            eniconfig_names[config.subnet].append(config.name)
    for tagged in subnets.values():
        if tagged.cni_role is not None:
            roles[tagged.subnet_id].add(ROLE_EXCLUDED if tagged.cni_role == "0" else ROLE_DISCOVERY)
    for profile in snapshot.fargate_profiles or []:
        for subnet_id in profile.subnets:
            roles[subnet_id].add(ROLE_FARGATE)
    s = model.settings
    pd = s.prefix_delegation and not (model.settings_known and s.ipv6)  # IPv6 pods take no IPv4 /28s
    sweeps, stopped_by = leaked_eni_sweep_for(s)
    cluster = s.values.get("CLUSTER_NAME")
    cluster_name = cluster if isinstance(cluster, str) else ""
    views = []
    for subnet_id, subnet_roles in roles.items():
        subnet = subnets.get(subnet_id)
        if subnet is None or (az and subnet.az != az):
            continue
        holders = model.ledger.holders(subnet_id)
        views.append(
            SubnetView(
                subnet=subnet,
                roles=tuple(
                    r
                    for r in (ROLE_NODES, ROLE_ENICONFIG, ROLE_DISCOVERY, ROLE_EXCLUDED, ROLE_FARGATE)
                    if r in subnet_roles
                ),
                eniconfigs=tuple(sorted(eniconfig_names.get(subnet_id, []))),
                holders=holders,
                unattributed=max(subnet.used - sum(holders.values()), 0) if snapshot.enis is not None else 0,
                blocks=model.prefix_blocks(subnet_id) if pd else None,
                leaked_kept=sum(
                    u.eni.address_count
                    for u in model.ledger.by_subnet.get(subnet_id, [])
                    if u.holder == HOLDER_LEAKED
                    and not (
                        sweeps
                        and eni_is_leaked(
                            status=u.eni.status,
                            description=u.eni.description,
                            tags=u.eni.tags,
                            cluster_name=cluster_name,
                        )
                    )
                ),
                sweep_stopped_by=stopped_by,
            )
        )
    return sorted(views, key=lambda v: (v.subnet.az, v.subnet.available_ips, v.subnet.subnet_id))


def cluster_azs(model: StateModel) -> list[str]:
    azs = {n.az for n in model.snapshot.nodes or [] if n.az}
    azs |= {s.az for s in (model.snapshot.subnets or {}).values() if s.az}
    return sorted(azs)


# --- capacity ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityRow:
    az: str  # "" = the whole cluster
    nodes: int
    pods: int
    ips_assigned: int  # pods holding a VPC IP from ipamd
    ips_unused: int  # held by warm pools
    subnet_free: int | None  # addresses new pods can take in the subnets its nodes allocate from
    fits: int  # more pods before the first limit
    binding: str  # capacity.LIMIT_*


@dataclass(frozen=True)
class WhatIf:
    settings: tuple[tuple[str, str], ...]  # the proposed warm knobs, as env
    result: WhatIfResult
    chosen_by_bot: bool  # a suggestion, not what the user asked


@dataclass(frozen=True)
class BranchUse:
    """Security groups for pods: branch ENIs (vpc.amazonaws.com/pod-eni) in use, offered, and wanted."""

    used: int
    allocatable: int
    pods_waiting: int  # pods asking for a branch ENI that have no IP yet (scheduled or not)


@dataclass(frozen=True)
class CapacityView:
    total: CapacityRow
    by_az: tuple[CapacityRow, ...]
    headroom: Headroom
    what_if: WhatIf | None
    nodes_without_limits: tuple[str, ...]  # left out of headroom (instance type unknown)
    nodes_at_max_pods: int
    nodes_at_ip_capacity: int
    room_in_prefixes: bool  # prefix delegation: subnet room counts whole free /28 blocks only
    branch_enis: BranchUse | None  # security groups for pods only
    # Nodes aws-node does not serve (Fargate, Auto Mode, Hybrid, Windows), by shape: left out of every ipamd figure.
    nodes_not_served: tuple[tuple[str, int], ...] = ()
    ipv6: bool = False  # IPv6 cluster: pods take IPv6 addresses from each node's /80; IPv4 figures are nodes'
    # Windows nodes: the VPC resource controller's vpc.amazonaws.com/PrivateIPv4Address, allocatable and in use.
    windows_ips: tuple[int, int] | None = None


WARM_KNOBS = ("WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET", "WARM_PREFIX_TARGET")
SUGGESTED_WARM_IP_TARGET = 2


def capacity_view(model: StateModel, proposed_env: Mapping[str, str] | None = None) -> CapacityView:
    """Totals and per-AZ figures, headroom before the first limit, and what-if for warm-pool settings.

    ``proposed_env``: warm knobs to evaluate; None = the bot suggests WARM_IP_TARGET/MINIMUM_IP_TARGET when the
    cluster uses whole-ENI or whole-prefix warm pools.
    """
    every_node = list(model.nodes.values())
    nodes = [n for n in every_node if aws_node_runs_on(n.node.labels)]
    not_served = Counter(node_shape(n.node.labels).value for n in every_node if not aws_node_runs_on(n.node.labels))
    modelled = [n for n in nodes if n.limits is not None]
    warm = model.settings.warm()
    subnet_free = _subnet_room(model, nodes)
    ipv6 = model.settings_known and model.settings.ipv6
    if ipv6:
        has_prefix = {n.name: bool(n.ipv6_prefixes) for n in modelled}
        room = capacity.headroom_ipv6([_node_capacity(n) for n in modelled], has_prefix)
    else:
        room = capacity.headroom([_node_capacity(n) for n in modelled], subnet_free, warm)

    by_az_nodes: dict[str, list[NodeState]] = defaultdict(list)
    for node in nodes:
        by_az_nodes[node.node.az or "?"].append(node)
    az_room = {az.availability_zone: az for az in room.by_az}
    rows = []
    for az, members in sorted(by_az_nodes.items()):
        headroom_az = az_room.get(az)
        rows.append(
            _capacity_row(
                az,
                members,
                _subnets_free(members, subnet_free),
                headroom_az.fits if headroom_az else 0,
                headroom_az.binding if headroom_az else capacity.LIMIT_ENIS,
            )
        )
    total = _capacity_row("", nodes, _subnets_free(nodes, subnet_free), room.fits, room.binding)
    return CapacityView(
        total=total,
        by_az=tuple(rows),
        headroom=room,
        what_if=None if ipv6 else _what_if(model, modelled, proposed_env),
        nodes_without_limits=tuple(sorted(n.name for n in nodes if n.limits is None)),
        nodes_at_max_pods=sum(1 for n in nodes if n.max_pods is not None and n.pods >= n.max_pods),
        nodes_at_ip_capacity=sum(1 for n in nodes if n.ip_capacity is not None and n.pods_with_ip >= n.ip_capacity),
        room_in_prefixes=model.settings.prefix_delegation and not ipv6,
        ipv6=ipv6,
        branch_enis=_branch_use(model, nodes) if model.settings.pod_eni else None,
        nodes_not_served=tuple(sorted(not_served.items())),
        windows_ips=_windows_ips(every_node),
    )


def _windows_ips(nodes: Sequence[NodeState]) -> tuple[int, int] | None:
    windows = [n for n in nodes if node_shape(n.node.labels) is NodeShape.WINDOWS]
    if not windows:
        return None
    return sum(n.node.allocatable_windows_ips or 0 for n in windows), sum(n.pods_with_ip for n in windows)


def _branch_use(model: StateModel, nodes: Sequence[NodeState]) -> BranchUse:
    waiting = sum(1 for p in model.snapshot.pods or [] if p.branch_eni and p.active and not p.pod_ip)
    return BranchUse(
        used=sum(n.branch_pods for n in nodes),
        allocatable=sum(n.node.allocatable_pod_eni or 0 for n in nodes),
        pods_waiting=waiting,
    )


def _node_capacity(state: NodeState) -> NodeCapacity:
    assert state.limits is not None
    return NodeCapacity(
        name=state.name,
        availability_zone=state.node.az or "?",
        subnet_id=state.allocation_subnet or "",
        limits=state.limits,
        pods=state.pods,
        assigned_ips=state.pods_with_ip,
        max_pods=state.max_pods if state.max_pods is not None else state.recommended_max_pods or 0,
        # Measured from EC2 when the ENIs were read; else the warm-pool model stands in.
        pool=state.measured_pool() if state.enis_read else None,
        unmanaged_enis=state.unmanaged_enis,
    )


def _subnet_room(model: StateModel, nodes: Sequence[NodeState]) -> dict[str, int]:
    """Addresses new pods can still take per subnet. With prefix delegation only whole free /28 blocks count
    (free ones and unused reservation blocks): a fragmented subnet has free IPs but no room."""
    room = {s.subnet_id: s.available_ips for s in (model.snapshot.subnets or {}).values()}
    if model.settings.prefix_delegation and not model.settings.ipv6:
        for subnet_id in {n.allocation_subnet for n in nodes if n.allocation_subnet}:
            blocks = model.prefix_blocks(subnet_id)
            if blocks is not None and subnet_id in room:
                room[subnet_id] = min(room[subnet_id], IPS_PER_PREFIX * (blocks.free + blocks.reserved_free))
    return room


def _subnets_free(nodes: Sequence[NodeState], subnet_free: Mapping[str, int]) -> int | None:
    ids = {n.allocation_subnet for n in nodes if n.allocation_subnet}
    if not ids or any(i not in subnet_free for i in ids):
        return None
    return sum(subnet_free[i] for i in ids)


def _capacity_row(az: str, nodes: Sequence[NodeState], free: int | None, fits: int, binding: str) -> CapacityRow:
    return CapacityRow(
        az=az,
        nodes=len(nodes),
        pods=sum(n.pods for n in nodes),
        ips_assigned=sum(n.pods_with_ip for n in nodes),
        ips_unused=sum(n.unused_ips for n in nodes),
        subnet_free=free,
        fits=fits,
        binding=binding,
    )


def suggested_warm_env(model: StateModel) -> dict[str, str] | None:
    """WARM_IP_TARGET=2 with MINIMUM_IP_TARGET at the typical pods per node (the README's pairing), when the
    cluster keeps whole ENIs or prefixes warm; None when IP targets are already in use."""
    if model.settings.warm().ip_targets_defined:
        return None
    per_node = [n.pods_with_ip for n in model.nodes.values()]
    typical = round(statistics.median(per_node)) if per_node else 0
    return {"WARM_IP_TARGET": str(SUGGESTED_WARM_IP_TARGET), "MINIMUM_IP_TARGET": str(max(typical, 1))}


def _what_if(model: StateModel, nodes: Sequence[NodeState], proposed_env: Mapping[str, str] | None) -> WhatIf | None:
    chosen_by_bot = proposed_env is None
    env = suggested_warm_env(model) if proposed_env is None else dict(proposed_env)
    if not env or not model.settings_known:
        return None
    current_env = dict(model.snapshot.daemonset.env) if model.snapshot.daemonset else {}
    proposed = effective_settings({**current_env, **env}).warm()
    usage = [
        NodeUsage(
            name=n.name,
            instance_type=n.node.instance_type or "",
            subnet_id=n.allocation_subnet or "",
            assigned_ips=n.pods_with_ip,
            max_pods=n.max_pods if n.max_pods is not None else n.recommended_max_pods or 0,
        )
        for n in nodes
    ]
    result = capacity.what_if(usage, model.settings.warm(), proposed, model.snapshot.limits)
    ordered = sorted(env.items(), key=lambda kv: WARM_KNOBS.index(kv[0]) if kv[0] in WARM_KNOBS else len(WARM_KNOBS))
    return WhatIf(tuple(ordered), result, chosen_by_bot)


def parse_warm_env(pairs: Sequence[str]) -> dict[str, str]:
    """KEY=VALUE words for --what-if; ValueError with a readable message on anything else."""
    env: dict[str, str] = {}
    for pair in pairs:
        for word in pair.replace(",", " ").split():
            key, sep, value = word.partition("=")
            key = key.strip().upper()
            if not sep or not key:
                raise ValueError(f"`{word}` is not KEY=VALUE")
            if key not in WARM_KNOBS:
                raise ValueError(f"{key} is not a warm-pool setting; use {', '.join(WARM_KNOBS)}")
            problem = value_error(KNOBS[key], value.strip())
            if problem:
                raise ValueError(problem)
            env[key] = value.strip()
    if not env:
        raise ValueError("give at least one KEY=VALUE")
    return env


# --- config -----------------------------------------------------------------------------------------------

IP_KNOBS = (
    "WARM_ENI_TARGET",
    "WARM_IP_TARGET",
    "MINIMUM_IP_TARGET",
    "WARM_PREFIX_TARGET",
    "MAX_ENI",
    "ENABLE_PREFIX_DELEGATION",
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG",
    "ENI_CONFIG_LABEL_DEF",
    "ENABLE_POD_ENI",
    "ENABLE_SUBNET_DISCOVERY",
    "IP_COOLDOWN_PERIOD",
    "AWS_MANAGE_ENIS_NON_SCHEDULABLE",
)


@dataclass(frozen=True)
class SettingRow:
    name: str
    value: str
    default: str
    non_default: bool
    set_in_env: bool
    description: str


@dataclass(frozen=True)
class EniConfigRow:
    name: str
    subnet_id: str | None
    az: str | None
    free_ips: int | None
    security_groups: tuple[str, ...]
    nodes: int  # nodes resolving to it
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Drift:
    """Differences between the running aws-node env and the last approved one."""

    approved_at: datetime | None
    changes: tuple[EnvChange, ...]


@dataclass(frozen=True)
class ConfigView:
    image: str | None
    cni_version: str | None
    rollout: tuple[int, int, int] | None  # (desired, updated, ready) aws-node pods
    addon: ManagedAddon | None
    addon_checked: bool
    settings: tuple[SettingRow, ...]
    notes: tuple[str, ...]  # unparsable values, as aws-node would log them
    unrecognised: tuple[str, ...]
    env_from_refs: tuple[str, ...]
    startup_errors: tuple[str, ...]
    problems: tuple[Problem, ...]  # warm-pool settings that starve or throttle
    custom_networking: bool
    eniconfigs: tuple[EniConfigRow, ...]
    migration: tuple[NodeMigration, ...]  # every node, custom networking only
    drift: Drift | None  # None = no approved baseline to compare with (yet)


def show_value(value: object) -> str:
    if value is None:
        return "unset"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    return str(value)


def config_view(
    model: StateModel,
    *,
    approved_env: Mapping[str, str] | None = None,
    approved_at: datetime | None = None,
) -> ConfigView:
    """The effective aws-node settings and the custom-networking picture.

    ``approved_env``: the env of the last approved change, once approvals exist (the drift seam); None = drift is
    not tracked.
    """
    snapshot = model.snapshot
    ds = snapshot.daemonset
    env = ds.env if ds else {}
    settings = model.settings
    rows = tuple(
        SettingRow(
            name=name,
            value=show_value(settings[name]),
            default=show_value(knob.default),
            non_default=name in settings.non_defaults,
            set_in_env=name in env,
            description=knob.description,
        )
        for name, knob in KNOBS.items()
    )
    migration: tuple[NodeMigration, ...] = ()
    if settings.custom_networking:
        migration = tuple(model.migration(state) for state in model.nodes.values())
    drift = None
    if approved_env is not None and ds is not None:
        # Compare like with like: approvals record the init container's knobs too.
        drift = Drift(approved_at, config_drift(knob_env(ds.env, ds.init_env), approved_env))
    pods_per_node = [n.pods_with_ip for n in model.nodes.values()]
    return ConfigView(
        image=ds.image if ds else None,
        cni_version=ds.cni_version if ds else None,
        rollout=(ds.desired, ds.updated, ds.ready) if ds else None,
        addon=snapshot.addon,
        addon_checked=snapshot.addon_checked,
        settings=rows,
        notes=settings.notes,
        unrecognised=settings.unrecognised,
        env_from_refs=ds.env_from_refs if ds else (),
        startup_errors=tuple(startup_errors(env)) if ds else (),
        problems=tuple(
            warm_pool_problems(
                settings, pods_per_node=round(statistics.median(pods_per_node)) if pods_per_node else None
            )
        )
        if ds
        else (),
        custom_networking=settings.custom_networking,
        eniconfigs=_eniconfig_rows(model),
        migration=migration,
        drift=drift,
    )


def config_drift(current_env: Mapping[str, str], approved_env: Mapping[str, str]) -> tuple[EnvChange, ...]:
    """Knobs whose running value differs from the approved one (old = approved, new = running)."""
    keys = sorted((set(current_env) | set(approved_env)) & set(KNOBS))
    return tuple(
        EnvChange(key, approved_env.get(key), current_env.get(key))
        for key in keys
        if current_env.get(key) != approved_env.get(key)
    )


def _eniconfig_rows(model: StateModel) -> tuple[EniConfigRow, ...]:
    snapshot = model.snapshot
    subnets = snapshot.subnets or {}
    users: dict[str, list[NodeFact]] = defaultdict(list)
    if model.settings.custom_networking:
        for state in model.nodes.values():
            if state.eniconfig is not None:
                users[state.eniconfig.name].append(state.node)
    rows = []
    for config in snapshot.eniconfigs or []:
        subnet = subnets.get(config.subnet or "")
        node_azs = Counter(n.az for n in users.get(config.name, []) if n.az)
        # The AZ its nodes are in; with no nodes yet, the name when it is a zone of the cluster, else the subnet's.
        if node_azs:
            az = node_azs.most_common(1)[0][0]
        elif config.name in cluster_azs(model):
            az = config.name
        else:
            az = subnet.az if subnet else ""
        problems: tuple[Problem, ...] = ()
        if snapshot.subnets is not None and snapshot.vpc_id:
            problems = tuple(check_eniconfig(config, subnets, az, snapshot.vpc_id, snapshot.existing_security_groups))
        rows.append(
            EniConfigRow(
                name=config.name,
                subnet_id=config.subnet,
                az=subnet.az if subnet else None,
                free_ips=subnet.available_ips if subnet else None,
                security_groups=config.security_groups,
                nodes=len(users.get(config.name, [])),
                problems=problems,
            )
        )
    return tuple(sorted(rows, key=lambda r: r.name))
