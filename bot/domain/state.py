"""One node's ENI and IP state, and the cluster's state model: pure views over one snapshot of facts.

The gatherer reads Kubernetes and EC2 once (bot/gather/cluster.py); everything here is arithmetic on what it
read: each node's IP capacity against its kubelet max-pods, its problems, and how far a custom-networking
migration has got. The views built on the model live beside it: node_report.py, subnet_view.py,
capacity_view.py, config_view.py. Nothing here imports an SDK.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from bot.domain import capacity
from bot.domain.capacity import HOST_NETWORK_PODS, PoolState
from bot.domain.cni_settings import EffectiveSettings, Problem, effective_settings
from bot.domain.eni_rules import discovery_order, eni_unmanaged, subnet_valid_for_new_eni
from bot.domain.eniconfig import Resolution, resolve_eniconfig_name
from bot.domain.facts import EniFact, NodeFact, PodFact, SubnetFact
from bot.domain.fragmentation import BlockReport, analyse_prefix_blocks
from bot.domain.instance_limits import InstanceLimits
from bot.domain.ip_ledger import POOL_ENI_TYPES, EniUse, IpLedger
from bot.domain.knobs import Severity
from bot.domain.max_pods import max_pods_sources, setting_for_node
from bot.domain.shapes import aws_node_runs_on, node_shape
from bot.domain.snapshot import TERMINAL_PHASES, ClusterSnapshot, PodPlacement

CNI_ROLE_TAG = "kubernetes.io/role/cni"
# max-pods below this share of what the node could address wastes most of its IP capacity.
FAR_BELOW_RATIO = 0.5


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
                f"Raise kubelet max-pods towards {recommended:,} if CPU and memory allow: "
                + setting_for_node(
                    state.node.os_image,
                    state.node.labels,
                    recommended,
                    custom_networking=settings.custom_networking,
                    prefix_delegation=settings.prefix_delegation,
                    limits=state.limits,
                )
                + ".",
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
    return named + ": " + setting_for_node(state.node.os_image, state.node.labels, value, limits=state.limits, **mode)


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
