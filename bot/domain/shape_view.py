"""Per-shape sections of a mixed cluster for `/cni capacity` and `/cni subnets`.

Each node shape gets its pod addresses from somewhere else (bot/domain/shapes.py): ipamd's pools on EC2 nodes,
EKS itself on Auto Mode nodes, one ENI per pod in the Fargate profile's subnets, the VPC resource controller's
vpc.amazonaws.com/PrivateIPv4Address on Windows, the node's own CNI on Hybrid nodes. So every shape has its own
figures, its own binding limit and its own list of what cnibot cannot see, and IPv4 and IPv6 numbers are never
added together (an IPv6 cluster's pods take no IPv4 address; only their nodes and ENIs do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.eks_cluster import managed_by_eks
from bot.domain.facts import FargateProfileFact, SubnetFact
from bot.domain.shapes import WINDOWS_IP_RESOURCE, NodeShape, aws_node_runs_on, node_shape
from bot.domain.state import NodeState, StateModel

IPV4, IPV6 = "ipv4", "ipv6"

_ORDER = (NodeShape.EC2, NodeShape.AUTO, NodeShape.FARGATE, NodeShape.WINDOWS, NodeShape.HYBRID)


@dataclass(frozen=True)
class ShapeSection:
    shape: NodeShape
    label: str  # e.g. "EC2 (aws-node, IPv4)"
    family: str  # the family of the pods' addresses: IPV4 | IPV6 ("" = not from the VPC: Hybrid nodes)
    nodes: int
    pods: int  # not finished, on these nodes
    source: str  # where the pods' addresses come from
    subnets: tuple[str, ...]  # the subnets those addresses (or the nodes' ENIs) come from
    free_ipv4: int | None  # free IPv4 addresses pods can take there; None when pods take no IPv4 or unknown
    fits: int | None  # more pods before the first limit; None when cnibot cannot tell
    limit: str  # what binds first, in words
    cannot_see: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShapesView:
    sections: tuple[ShapeSection, ...]
    ip_family: str
    managed_by_eks: bool  # Auto Mode cluster without an aws-node DaemonSet
    subnet_shapes: Mapping[str, tuple[str, ...]]  # subnet id -> labels of the shapes drawing on it

    @property
    def mixed(self) -> bool:
        return len(self.sections) > 1

    @property
    def shared_subnets(self) -> dict[str, tuple[str, ...]]:
        """Subnets more than one shape draws on: their free addresses appear in each of those rows."""
        return {k: v for k, v in self.subnet_shapes.items() if len(v) > 1}

    def section(self, shape: NodeShape) -> ShapeSection | None:
        return next((s for s in self.sections if s.shape is shape), None)


@dataclass(frozen=True)
class Ec2Room:
    """What `/cni capacity` computed for aws-node's own nodes (capacity_view), reused as the EC2 section."""

    fits: int
    limit: str
    subnet_free: int | None


def cluster_ip_family(model: StateModel) -> str:
    """aws-node's ENABLE_IPv6 when its DaemonSet was read, else EKS's kubernetesNetworkConfig.ipFamily."""
    if model.settings_known:
        return IPV6 if model.settings.ipv6 else IPV4
    eks = model.snapshot.eks
    return IPV6 if eks is not None and eks.ipv6 else IPV4


def cluster_managed_by_eks(model: StateModel) -> bool:
    snapshot = model.snapshot
    ds_unread = any(u.what == "aws-node DaemonSet" for u in snapshot.could_not_check)
    return managed_by_eks(snapshot.eks, snapshot.daemonset is not None or ds_unread)


def shapes_view(model: StateModel, ec2_room: Ec2Room | None = None) -> ShapesView:
    family = cluster_ip_family(model)
    by_shape: dict[NodeShape, list[NodeState]] = defaultdict(list)
    for state in model.nodes.values():
        shape = node_shape(state.node.labels)
        if shape is NodeShape.EC2 and not aws_node_runs_on(state.node.labels):
            continue  # an architecture aws-node does not run on: nothing cnibot can say
        by_shape[shape].append(state)
    profiles = model.snapshot.fargate_profiles
    if profiles and NodeShape.FARGATE not in by_shape:
        by_shape[NodeShape.FARGATE] = []  # profiles and no pod on Fargate yet: its subnets still matter
    subnets = model.snapshot.subnets or {}
    sections = []
    for shape in _ORDER:
        if shape not in by_shape:
            continue
        nodes = by_shape[shape]
        ids = _subnet_ids(nodes, profiles if shape is NodeShape.FARGATE else None)
        builder = _BUILDERS[shape]
        sections.append(builder(nodes, ids, subnets, family, ec2_room, profiles))
    subnet_shapes: dict[str, list[str]] = defaultdict(list)
    for section in sections:
        for subnet_id in section.subnets:
            subnet_shapes[subnet_id].append(section.label)
    return ShapesView(
        sections=tuple(sections),
        ip_family=family,
        managed_by_eks=cluster_managed_by_eks(model),
        subnet_shapes={k: tuple(v) for k, v in subnet_shapes.items()},
    )


def fargate_subnet_ids(profiles: Sequence[FargateProfileFact] | None) -> list[str]:
    return sorted({s for p in profiles or [] for s in p.subnets})


# --- one builder per shape --------------------------------------------------------------------------------


def _ec2(
    nodes: Sequence[NodeState],
    ids: tuple[str, ...],
    subnets: Mapping[str, SubnetFact],
    family: str,
    room: Ec2Room | None,
    profiles: Sequence[FargateProfileFact] | None,
) -> ShapeSection:
    ipv6 = family == IPV6
    return ShapeSection(
        shape=NodeShape.EC2,
        label=f"EC2 (aws-node, {'IPv6' if ipv6 else 'IPv4'})",
        family=family,
        nodes=len(nodes),
        pods=sum(n.pods for n in nodes),
        source="each node's /80 prefix (ipamd)" if ipv6 else "ipamd's warm pools on the nodes' ENIs",
        subnets=ids,
        free_ipv4=None if ipv6 else (room.subnet_free if room else _free(ids, subnets)),
        fits=room.fits if room else None,
        limit=room.limit if room else "not computed",
    )


def _auto(
    nodes: Sequence[NodeState],
    ids: tuple[str, ...],
    subnets: Mapping[str, SubnetFact],
    family: str,
    room: Ec2Room | None,
    profiles: Sequence[FargateProfileFact] | None,
) -> ShapeSection:
    by_max_pods = _max_pods_room(nodes)
    free = None if family == IPV6 else _free(ids, subnets)
    fits, limit = by_max_pods, "max-pods"
    if by_max_pods is None:
        fits, limit = None, "unknown (a node reports no pod capacity)"
    elif free is not None and free < by_max_pods:
        fits, limit = free, "free IPs in the nodes' subnets"
    return ShapeSection(
        shape=NodeShape.AUTO,
        label="EKS Auto Mode",
        family=family,
        nodes=len(nodes),
        pods=sum(n.pods for n in nodes),
        source="EKS (Auto Mode runs the VPC CNI itself; no aws-node)",
        subnets=ids,
        free_ipv4=free,
        fits=fits,
        limit=limit,
        cannot_see=(
            "Auto Mode's own IP pool and warm settings (EKS manages them; no ipamd metrics)",
            "the NodeClass's pod subnets until a node uses them",
        ),
    )


def _fargate(
    nodes: Sequence[NodeState],
    ids: tuple[str, ...],
    subnets: Mapping[str, SubnetFact],
    family: str,
    room: Ec2Room | None,
    profiles: Sequence[FargateProfileFact] | None,
) -> ShapeSection:
    cannot_see = ["Fargate's own capacity in each zone (it answers on the pod, as events)"]
    if profiles is None:
        cannot_see.insert(0, "the Fargate profiles (not read): their subnets are left out")
    free = None if family == IPV6 else _free(ids, subnets)
    return ShapeSection(
        shape=NodeShape.FARGATE,
        label="Fargate",
        family=family,
        nodes=len(nodes),
        pods=sum(n.pods for n in nodes),
        source="one ENI per pod in its Fargate profile's subnets",
        subnets=ids,
        free_ipv4=free,
        # One address per pod: the profile subnets' free IPv4 addresses bound how many more fit.
        fits=free,
        limit="free IPs in the profiles' subnets" if free is not None else "not known (IPv6 from the subnets' /64)",
        cannot_see=tuple(cannot_see),
    )


def _windows(
    nodes: Sequence[NodeState],
    ids: tuple[str, ...],
    subnets: Mapping[str, SubnetFact],
    family: str,
    room: Ec2Room | None,
    profiles: Sequence[FargateProfileFact] | None,
) -> ShapeSection:
    allocatable = sum(n.node.allocatable_windows_ips or 0 for n in nodes)
    used = sum(n.pods_with_ip for n in nodes)
    by_resource = max(allocatable - used, 0)
    by_max_pods = _max_pods_room(nodes)
    fits, limit = by_resource, WINDOWS_IP_RESOURCE
    if by_max_pods is not None and by_max_pods < by_resource:
        fits, limit = by_max_pods, "max-pods"
    return ShapeSection(
        shape=NodeShape.WINDOWS,
        label="Windows",
        family=IPV4,  # EKS Windows nodes are IPv4 only
        nodes=len(nodes),
        pods=sum(n.pods for n in nodes),
        source=f"the VPC resource controller ({WINDOWS_IP_RESOURCE}: {used:,} of {allocatable:,} in use)",
        subnets=ids,
        free_ipv4=_free(ids, subnets),
        fits=fits,
        limit=limit,
        cannot_see=("the VPC resource controller's warm settings (ConfigMap kube-system/amazon-vpc-cni)",),
    )


def _hybrid(
    nodes: Sequence[NodeState],
    ids: tuple[str, ...],
    subnets: Mapping[str, SubnetFact],
    family: str,
    room: Ec2Room | None,
    profiles: Sequence[FargateProfileFact] | None,
) -> ShapeSection:
    return ShapeSection(
        shape=NodeShape.HYBRID,
        label="EKS Hybrid",
        family="",
        nodes=len(nodes),
        pods=sum(n.pods for n in nodes),
        source="the node's own CNI (on premises, not the VPC)",
        subnets=(),
        free_ipv4=None,
        fits=None,
        limit="not known",
        cannot_see=("the pod addresses of the hybrid nodes' own CNI (Cilium, Calico...)",),
    )


_BUILDERS = {
    NodeShape.EC2: _ec2,
    NodeShape.AUTO: _auto,
    NodeShape.FARGATE: _fargate,
    NodeShape.WINDOWS: _windows,
    NodeShape.HYBRID: _hybrid,
}


def _subnet_ids(nodes: Sequence[NodeState], profiles: Sequence[FargateProfileFact] | None) -> tuple[str, ...]:
    ids = {row.subnet_id for n in nodes for row in n.enis if row.subnet_id}
    ids |= {n.allocation_subnet for n in nodes if n.allocation_subnet}
    ids |= set(fargate_subnet_ids(profiles))
    return tuple(sorted(ids))


def _free(ids: Sequence[str], subnets: Mapping[str, SubnetFact]) -> int | None:
    if not ids or any(i not in subnets for i in ids):
        return None
    return sum(subnets[i].available_ips for i in ids)


def _max_pods_room(nodes: Sequence[NodeState]) -> int | None:
    if any(n.max_pods is None for n in nodes):
        return None
    return sum(max((n.max_pods or 0) - n.pods, 0) for n in nodes)
