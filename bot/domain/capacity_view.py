"""/cni capacity: per-zone pod headroom over the state model, branch ENIs, and the warm-pool what-if."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain import capacity
from bot.domain.capacity import IPS_PER_PREFIX, Headroom, NodeCapacity, NodeUsage, WhatIfResult
from bot.domain.cni_settings import effective_settings
from bot.domain.knob_catalogue import KNOBS, knobs_in
from bot.domain.knobs import KnobGroup
from bot.domain.settings_change import value_error
from bot.domain.shapes import NodeShape, aws_node_runs_on, node_shape
from bot.domain.state import NodeState, StateModel


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


WARM_KNOBS = knobs_in(KnobGroup.WARM_POOL)
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
