"""VPC CNI capacity math: max pods, node IP capacity, the warm-pool model, what-if and headroom.

This is the one place these formulas live (cni-reference section 4). The warm-pool model replays ipamd's
growth loop (``isDatastorePoolTooLow`` -> ``tryAssignCidrs`` / ``tryAllocateENI``) on a freshly started node
that already runs ``assigned_ips`` pods, which is the state ipamd converges to for that pod count.

Over 500 lines on purpose: the formulas depend on each other (max pods -> node capacity -> warm pool ->
headroom), and keeping them in one module keeps them in the one place the reference names.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.instance_limits import InstanceLimits

IPS_PER_PREFIX = 16  # an IPv4 /28
HOST_NETWORK_PODS = 2  # aws-node and kube-proxy: the "+2" of eni-max-pods.txt
PD_MAX_PODS_LOW_CPU = 110
PD_MAX_PODS_HIGH_CPU = 250
PD_HIGH_CPU_ABOVE = 30  # vCPUs

# Names of the limits that stop pod growth; used across headroom and PoolState.
LIMIT_SUBNET = "subnet"
LIMIT_ENIS = "eni-limits"
LIMIT_MAX_PODS = "max-pods"
LIMIT_IPV6_PREFIX = "ipv6-prefix"  # IPv6: a node without its /80 gives no pod an address


def attachable_enis(limits: InstanceLimits, max_eni: int | None) -> int:
    """ENIs ipamd may attach: the instance limit, lowered by MAX_ENI when that is >= 1 (``getMaxENI``)."""
    if max_eni is not None and max_eni >= 1:
        return min(max_eni, limits.max_enis)
    return limits.max_enis


def prefix_delegation_active(limits: InstanceLimits, prefix_delegation: bool) -> bool:
    """PD requested and possible: on other types ipamd silently falls back to secondary IPs."""
    return prefix_delegation and limits.supports_prefix_delegation


def pd_max_pods_cap(vcpus: int) -> int:
    """EKS's recommended ceiling for prefix-delegation max-pods (max-pods-calculator.sh)."""
    return PD_MAX_PODS_HIGH_CPU if vcpus > PD_HIGH_CPU_ABOVE else PD_MAX_PODS_LOW_CPU


def max_pods(
    limits: InstanceLimits,
    *,
    custom_networking: bool = False,
    prefix_delegation: bool = False,
    max_eni: int | None = None,
    cap: bool = True,
) -> int:
    """The kubelet max-pods value the EKS tooling derives for this type and CNI mode.

    Secondary-IP values are those of ``eni-max-pods.txt`` (uncapped, as the AMIs ship them); with prefix
    delegation the 110/250 vCPU ceiling applies unless ``cap`` is False (calculator ``--show-max-allowed``).
    """
    enis = attachable_enis(limits, max_eni) - (1 if custom_networking else 0)
    slots = max(enis, 0) * limits.secondary_ips_per_eni
    if prefix_delegation_active(limits, prefix_delegation):
        pods = slots * IPS_PER_PREFIX + HOST_NETWORK_PODS
        return min(pods, pd_max_pods_cap(limits.vcpus)) if cap else pods
    return slots + HOST_NETWORK_PODS


def trunk_slot_reserved(limits: InstanceLimits, sgp_trunk: bool) -> bool:
    """With ENABLE_POD_ENI a trunk ENI takes one slot on trunking types (unknown types count as trunking,
    as ipamd's ``IsTrunkingCompatible`` does)."""
    return sgp_trunk and limits.branch_enis != 0


def pod_eni_slots(
    limits: InstanceLimits,
    *,
    custom_networking: bool,
    max_eni: int | None,
    sgp_trunk: bool,
    unmanaged_enis: int = 0,
) -> int:
    """ENIs whose secondary addresses can go to pods."""
    enis = attachable_enis(limits, max_eni) - unmanaged_enis
    enis -= 1 if custom_networking else 0  # the primary ENI never serves pods with custom networking
    enis -= 1 if trunk_slot_reserved(limits, sgp_trunk) else 0
    return max(enis, 0)


def pod_ip_capacity(
    limits: InstanceLimits,
    *,
    custom_networking: bool,
    prefix_delegation: bool,
    max_eni: int | None,
    sgp_trunk: bool,
    unmanaged_enis: int = 0,
) -> int:
    """IPs the node can really give to non-hostNetwork pods (branch-ENI pods of SGP not included)."""
    enis = pod_eni_slots(
        limits,
        custom_networking=custom_networking,
        max_eni=max_eni,
        sgp_trunk=sgp_trunk,
        unmanaged_enis=unmanaged_enis,
    )
    per_slot = IPS_PER_PREFIX if prefix_delegation_active(limits, prefix_delegation) else 1
    return enis * limits.secondary_ips_per_eni * per_slot


# --- warm pool model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmSettings:
    """The aws-node knobs that shape a node's IP pool. Targets use ipamd's convention: 0 = unset.

    Defaults are the shipped manifest's (WARM_ENI_TARGET=1, WARM_PREFIX_TARGET=1).
    """

    warm_eni_target: int = 1
    warm_ip_target: int = 0
    minimum_ip_target: int = 0
    warm_prefix_target: int = 1
    prefix_delegation: bool = False
    custom_networking: bool = False
    max_eni: int | None = None
    sgp_trunk: bool = False

    @property
    def ip_targets_defined(self) -> bool:
        """WARM_IP_TARGET or MINIMUM_IP_TARGET set: they override WARM_ENI_TARGET / WARM_PREFIX_TARGET."""
        return self.warm_ip_target > 0 or self.minimum_ip_target > 0


@dataclass(frozen=True)
class PoolState:
    """What one node holds once ipamd has converged."""

    enis: int  # attached ENIs ipamd tracks: primary, trunk (SGP) and secondaries
    total_ips: int  # pod addresses in the pool (prefixes x 16 with PD)
    prefixes: int  # /28 prefixes (0 in secondary-IP mode)
    unused_ips: int  # held but not assigned to a pod (includes cooldown IPs)
    subnet_ips: int  # subnet addresses consumed: one primary per ENI + secondary IPs or 16 x prefixes
    limited_by: str | None = None  # LIMIT_ENIS / LIMIT_MAX_PODS when growth stopped short of the targets


@dataclass
class _Pool:
    """Mutable replay state: per pod-serving ENI, the slots (IPs or prefixes) it holds."""

    slots_per_eni: int
    max_pod_enis: int
    fills: list[int] = field(default_factory=list)

    @property
    def slots(self) -> int:
        return sum(self.fills)

    def add(self, wanted: int) -> bool:
        """ipamd's order: top up an ENI with room first, else attach a new ENI. False if neither is possible."""
        for index, held in enumerate(self.fills):
            if held < self.slots_per_eni:
                self.fills[index] += min(self.slots_per_eni - held, wanted)
                return True
        if len(self.fills) < self.max_pod_enis:
            self.fills.append(min(self.slots_per_eni, wanted))
            return True
        return False


def steady_state_pool(limits: InstanceLimits, settings: WarmSettings, assigned_ips: int, max_pods: int) -> PoolState:
    """The pool ipamd converges to on a node (card 0) with ``assigned_ips`` pod IPs and kubelet ``max_pods``."""
    pd = prefix_delegation_active(limits, settings.prefix_delegation)
    per_slot = IPS_PER_PREFIX if pd else 1
    slots_per_eni = limits.secondary_ips_per_eni
    pod_enis = pod_eni_slots(
        limits, custom_networking=settings.custom_networking, max_eni=settings.max_eni, sgp_trunk=settings.sgp_trunk
    )
    pool = _Pool(slots_per_eni=slots_per_eni, max_pod_enis=pod_enis)
    if slots_per_eni == 0 or pod_enis == 0:
        return _pool_state(limits, settings, pool, per_slot, assigned_ips, LIMIT_ENIS)

    # Pods already running hold addresses; pack them densely (ipamd fills ENIs in order).
    needed = math.ceil(assigned_ips / per_slot)
    while needed > 0 and pool.add(needed):
        needed = math.ceil(assigned_ips / per_slot) - pool.slots

    wanted = _growth_rule(settings, pd, slots_per_eni, assigned_ips)
    limited_by: str | None = LIMIT_ENIS if needed > 0 else None
    # Each pass adds at least one slot and the pool is bounded, so this terminates.
    while limited_by is None:
        total = pool.slots * per_slot
        if total >= max_pods:
            limited_by = LIMIT_MAX_PODS if wanted(pool.slots) > 0 else None
            break
        to_add = wanted(pool.slots)
        if to_add == 0:
            break
        if not pool.add(to_add):
            limited_by = LIMIT_ENIS
    return _pool_state(limits, settings, pool, per_slot, assigned_ips, limited_by)


def _growth_rule(settings: WarmSettings, pd: bool, slots_per_eni: int, assigned: int) -> Callable[[int], int]:
    """Slots ipamd wants to add given the slots it holds (0 = pool not too low)."""

    def by_ip_targets(slots: int) -> int:
        total = slots * (IPS_PER_PREFIX if pd else 1)
        short = max(settings.warm_ip_target - (total - assigned), settings.minimum_ip_target - total, 0)
        return math.ceil(short / IPS_PER_PREFIX) if pd else short

    def by_prefix_target(slots: int) -> int:
        available = slots * IPS_PER_PREFIX - assigned
        target = settings.warm_prefix_target
        if available >= IPS_PER_PREFIX * target and not (target == 0 and available == 0):
            return 0
        free_prefixes = slots - math.ceil(assigned / IPS_PER_PREFIX)
        return max(1, target - free_prefixes)

    def by_eni_target(slots: int) -> int:
        available = slots - assigned
        target = settings.warm_eni_target
        if available >= slots_per_eni * target and not (target == 0 and available == 0):
            return 0
        return slots_per_eni  # tryAssignIPs fills the ENI; a new ENI comes with all its IPs

    if settings.ip_targets_defined:
        return by_ip_targets
    return by_prefix_target if pd else by_eni_target


def _pool_state(
    limits: InstanceLimits,
    settings: WarmSettings,
    pool: _Pool,
    per_slot: int,
    assigned: int,
    limited_by: str | None,
) -> PoolState:
    # The primary ENI is always attached; with custom networking pod ENIs come on top of it.
    enis = len(pool.fills) + 1 if settings.custom_networking else max(len(pool.fills), 1)
    if trunk_slot_reserved(limits, settings.sgp_trunk):
        enis += 1
    total = pool.slots * per_slot
    return PoolState(
        enis=enis,
        total_ips=total,
        prefixes=pool.slots if per_slot > 1 else 0,
        unused_ips=max(total - assigned, 0),
        subnet_ips=enis + total,
        limited_by=limited_by,
    )


# --- what-if -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeUsage:
    name: str
    instance_type: str
    subnet_id: str  # the subnet the node's pod addresses come from
    assigned_ips: int
    max_pods: int


@dataclass(frozen=True)
class NodeWhatIf:
    name: str
    subnet_id: str
    now: PoolState
    proposed: PoolState

    @property
    def delta(self) -> int:
        """Subnet addresses the change needs (> 0) or frees (< 0) on this node."""
        return self.proposed.subnet_ips - self.now.subnet_ips


@dataclass(frozen=True)
class SubnetWhatIf:
    subnet_id: str
    nodes: int
    held_now: int
    held_proposed: int
    unused_now: int
    unused_proposed: int

    @property
    def delta(self) -> int:
        return self.held_proposed - self.held_now

    @property
    def freed(self) -> int:
        return max(-self.delta, 0)

    @property
    def needed(self) -> int:
        return max(self.delta, 0)


@dataclass(frozen=True)
class WhatIfResult:
    nodes: tuple[NodeWhatIf, ...]
    subnets: tuple[SubnetWhatIf, ...]
    total: SubnetWhatIf  # subnet_id "" = all subnets
    unknown_instance_types: tuple[str, ...] = ()  # nodes of these types were left out


def what_if(
    nodes: Sequence[NodeUsage],
    current: WarmSettings,
    proposed: WarmSettings,
    limits_by_type: Mapping[str, InstanceLimits],
) -> WhatIfResult:
    """Subnet addresses held under the current and the proposed settings, per node, per subnet and in total."""
    results: list[NodeWhatIf] = []
    unknown: set[str] = set()
    for node in nodes:
        limits = limits_by_type.get(node.instance_type)
        if limits is None:
            unknown.add(node.instance_type)
            continue
        now = steady_state_pool(limits, current, node.assigned_ips, node.max_pods)
        then = steady_state_pool(limits, proposed, node.assigned_ips, node.max_pods)
        results.append(NodeWhatIf(node.name, node.subnet_id, now, then))

    by_subnet: dict[str, list[NodeWhatIf]] = defaultdict(list)
    for result in results:
        by_subnet[result.subnet_id].append(result)
    subnets = tuple(_sum_what_if(subnet_id, group) for subnet_id, group in sorted(by_subnet.items()))
    return WhatIfResult(
        nodes=tuple(results),
        subnets=subnets,
        total=_sum_what_if("", results),
        unknown_instance_types=tuple(sorted(unknown)),
    )


def _sum_what_if(subnet_id: str, nodes: Sequence[NodeWhatIf]) -> SubnetWhatIf:
    return SubnetWhatIf(
        subnet_id=subnet_id,
        nodes=len(nodes),
        held_now=sum(n.now.subnet_ips for n in nodes),
        held_proposed=sum(n.proposed.subnet_ips for n in nodes),
        unused_now=sum(n.now.unused_ips for n in nodes),
        unused_proposed=sum(n.proposed.unused_ips for n in nodes),
    )


# --- headroom ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeCapacity:
    """One node's facts for headroom."""

    name: str
    availability_zone: str
    subnet_id: str  # where its new pod addresses come from (the ENIConfig subnet with custom networking)
    limits: InstanceLimits
    pods: int  # pods kubelet counts against max-pods (hostNetwork included)
    assigned_ips: int  # pods holding a VPC IP from ipamd
    max_pods: int  # node.status.capacity.pods
    pool: PoolState | None = None  # measured pool (ipamd metrics); None = use the warm-pool model
    unmanaged_enis: int = 0


@dataclass(frozen=True)
class NodeHeadroom:
    name: str
    availability_zone: str
    subnet_id: str
    max_pods_room: int  # more pods before kubelet's max-pods
    ip_room: int  # more pod IPs before the ENI x IP limits
    fits: int  # more pods once the subnet's free addresses are shared out
    binding: str  # LIMIT_SUBNET, LIMIT_ENIS or LIMIT_MAX_PODS


@dataclass(frozen=True)
class AzHeadroom:
    availability_zone: str
    fits: int
    node_room: int  # what the nodes alone allow (subnets ignored)
    subnet_free_ips: int | None  # None when a subnet's free count was unknown
    binding: str


@dataclass(frozen=True)
class Headroom:
    fits: int
    binding: str
    by_az: tuple[AzHeadroom, ...]
    nodes: tuple[NodeHeadroom, ...]
    unknown_subnets: tuple[str, ...] = ()  # treated as unconstrained


@dataclass(frozen=True)
class _Run:
    """Pods a node can add in one step of ipamd's allocation order, and the subnet addresses they cost."""

    pods: int
    slots: int  # IPs or /28 prefixes taken from the subnet
    unit: int  # addresses per slot: 1, or 16 for a prefix (charged whole even for one pod)
    new_primaries: int = 0  # a new ENI's own primary address
    min_slots: int = 1  # the fewest slots EC2 can hand over at once for this run

    @property
    def cost(self) -> int:
        return self.slots * self.unit + self.new_primaries

    @property
    def cost_per_pod(self) -> float:
        return self.cost / self.pods

    def pods_within(self, budget: int) -> int:
        """Pods of this run that ``budget`` addresses pay for. An ENI with room takes one slot at a time (ipamd's
        "Try to just get one more IP"); a new ENI comes whole from CreateNetworkInterface, with no retry."""
        affordable_slots = (budget - self.new_primaries) // self.unit
        if affordable_slots < self.min_slots:
            return 0
        return max(min(self.pods, affordable_slots * self.unit), 0)


def headroom(
    nodes: Sequence[NodeCapacity],
    subnet_free_ips: Mapping[str, int],
    settings: WarmSettings,
) -> Headroom:
    """How many more pods fit before the first limit: kubelet max-pods, the node's ENI x IP capacity, or the
    free addresses of the subnets (shared by every node drawing from them, cheapest addresses first).

    Subnet fragmentation and SGP branch-ENI pods are not modelled.
    """
    rooms = [_node_room(node, settings) for node in nodes]
    runs_by_subnet: dict[str, dict[int, list[_Run]]] = defaultdict(dict)
    for index, node in enumerate(nodes):
        runs_by_subnet[node.subnet_id][index] = _runs(node, settings, min(rooms[index]))

    fits = [0] * len(nodes)
    unknown: list[str] = []
    for subnet_id, runs_by_node in runs_by_subnet.items():
        if subnet_id in subnet_free_ips:
            _share_subnet(runs_by_node, subnet_free_ips[subnet_id], fits)
            continue
        unknown.append(subnet_id)
        for index, runs in runs_by_node.items():
            fits[index] = sum(run.pods for run in runs)

    node_results = tuple(
        NodeHeadroom(
            name=node.name,
            availability_zone=node.availability_zone,
            subnet_id=node.subnet_id,
            max_pods_room=max_pods_room,
            ip_room=ip_room,
            fits=fits[index],
            binding=_node_binding(max_pods_room, ip_room, fits[index]),
        )
        for index, (node, (max_pods_room, ip_room)) in enumerate(zip(nodes, rooms, strict=True))
    )
    by_az = _group_by_az(node_results, subnet_free_ips)
    return Headroom(
        fits=sum(az.fits for az in by_az),
        binding=_majority_binding([az.binding for az in by_az]),
        by_az=by_az,
        nodes=node_results,
        unknown_subnets=tuple(sorted(unknown)),
    )


def headroom_ipv6(nodes: Sequence[NodeCapacity], has_prefix: Mapping[str, bool]) -> Headroom:
    """IPv6 clusters (ipamd.go isConfigValid: prefix delegation only): each node's pods take addresses from the one
    /80 on its primary ENI, so the first limit is kubelet max-pods, or nothing at all on a node without its /80.
    Subnet IPv4 addresses and ENI limits do not bound pods."""
    results = []
    for node in nodes:
        room = max(node.max_pods - node.pods, 0)
        prefix = has_prefix.get(node.name, False)
        results.append(
            NodeHeadroom(
                name=node.name,
                availability_zone=node.availability_zone,
                subnet_id=node.subnet_id,
                max_pods_room=room,
                ip_room=room if prefix else 0,
                fits=room if prefix else 0,
                binding=LIMIT_MAX_PODS if prefix else LIMIT_IPV6_PREFIX,
            )
        )
    groups: dict[str, list[NodeHeadroom]] = defaultdict(list)
    for result in results:
        groups[result.availability_zone].append(result)
    by_az = tuple(
        AzHeadroom(
            az,
            sum(n.fits for n in members),
            sum(n.max_pods_room for n in members),
            None,
            _majority_binding([n.binding for n in members]),
        )
        for az, members in sorted(groups.items())
    )
    return Headroom(
        fits=sum(a.fits for a in by_az),
        binding=_majority_binding([a.binding for a in by_az]),
        by_az=by_az,
        nodes=tuple(results),
    )


def _node_room(node: NodeCapacity, settings: WarmSettings) -> tuple[int, int]:
    """(room before max-pods, room before the node's pod IP capacity)."""
    capacity = pod_ip_capacity(
        node.limits,
        custom_networking=settings.custom_networking,
        prefix_delegation=settings.prefix_delegation,
        max_eni=settings.max_eni,
        sgp_trunk=settings.sgp_trunk,
        unmanaged_enis=node.unmanaged_enis,
    )
    return max(node.max_pods - node.pods, 0), max(capacity - node.assigned_ips, 0)


def _runs(node: NodeCapacity, settings: WarmSettings, room: int) -> list[_Run]:
    """The node's next ``room`` pods: first the warm pool (free), then room on attached ENIs, then new ENIs
    (whose primary address costs one more)."""
    limits = node.limits
    pool = node.pool or steady_state_pool(limits, settings, node.assigned_ips, node.max_pods)
    pd = prefix_delegation_active(limits, settings.prefix_delegation)
    slots_per_eni = limits.secondary_ips_per_eni
    pod_enis = pod_eni_slots(
        limits,
        custom_networking=settings.custom_networking,
        max_eni=settings.max_eni,
        sgp_trunk=settings.sgp_trunk,
        unmanaged_enis=node.unmanaged_enis,
    )
    fixed_enis = (1 if settings.custom_networking else 0) + (
        1 if trunk_slot_reserved(limits, settings.sgp_trunk) else 0
    )
    attached = max(pool.enis - fixed_enis, 0)
    held_slots = pool.prefixes if pd else pool.total_ips
    # (slots, primaries to add) in allocation order; pod_ip_capacity already bounds ``room``.
    slot_runs = [(max(attached * slots_per_eni - held_slots, 0), 0)]
    slot_runs += [(slots_per_eni, 1)] * max(pod_enis - attached, 0)

    unit = IPS_PER_PREFIX if pd else 1
    # GetENIResourcesToAllocate: a new ENI asks for all its IPs (WARM_ENI_TARGET), for what the IP targets lack,
    # or for the prefixes needed (one at least).
    if pd:
        new_eni_chunk = 1
    elif settings.ip_targets_defined:
        new_eni_chunk = min(max(settings.warm_ip_target, 1), slots_per_eni)
    else:
        new_eni_chunk = slots_per_eni
    runs: list[_Run] = []
    remaining = room
    warm = min(pool.unused_ips, remaining)
    if warm > 0:
        runs.append(_Run(pods=warm, slots=0, unit=unit))
        remaining -= warm
    for slots, new_primaries in slot_runs:
        if remaining <= 0 or slots == 0:
            continue
        used_slots = min(slots, math.ceil(remaining / unit))
        pods = min(used_slots * unit, remaining)
        chunk = min(new_eni_chunk, used_slots) if new_primaries else 1
        runs.append(_Run(pods=pods, slots=used_slots, unit=unit, new_primaries=new_primaries, min_slots=chunk))
        remaining -= pods
    return runs


def _share_subnet(runs_by_node: Mapping[int, list[_Run]], free_ips: int, fits: list[int]) -> None:
    """Give the subnet's free addresses to the cheapest next run of any node, keeping each node's order."""
    budget = free_ips
    queue = [(runs[0].cost_per_pod, index, 0) for index, runs in runs_by_node.items() if runs]
    heapq.heapify(queue)
    while queue:
        _, index, position = heapq.heappop(queue)
        run = runs_by_node[index][position]
        if run.cost <= budget:
            fits[index] += run.pods
            budget -= run.cost
            if position + 1 < len(runs_by_node[index]):
                next_run = runs_by_node[index][position + 1]
                heapq.heappush(queue, (next_run.cost_per_pod, index, position + 1))
            continue
        # Not affordable whole: take the part the budget pays for; this node stops here.
        partial = run.pods_within(budget)
        if partial:
            fits[index] += partial
            budget -= _Run(partial, math.ceil(partial / run.unit), run.unit, run.new_primaries, run.min_slots).cost


def _node_binding(max_pods_room: int, ip_room: int, fits: int) -> str:
    if fits < min(max_pods_room, ip_room):
        return LIMIT_SUBNET
    return LIMIT_ENIS if ip_room < max_pods_room else LIMIT_MAX_PODS


_BINDING_PRIORITY = (LIMIT_IPV6_PREFIX, LIMIT_SUBNET, LIMIT_ENIS, LIMIT_MAX_PODS)


def _majority_binding(bindings: Sequence[str]) -> str:
    """The most common binding; ties go to the scarcer resource (subnet, then ENIs, then max-pods)."""
    if not bindings:
        return LIMIT_MAX_PODS
    return max(_BINDING_PRIORITY, key=lambda name: (bindings.count(name), -_BINDING_PRIORITY.index(name)))


def _group_by_az(nodes: Sequence[NodeHeadroom], subnet_free_ips: Mapping[str, int]) -> tuple[AzHeadroom, ...]:
    groups: dict[str, list[NodeHeadroom]] = defaultdict(list)
    for node in nodes:
        groups[node.availability_zone].append(node)
    result = []
    for az, members in sorted(groups.items()):
        subnets = {node.subnet_id for node in members}
        free: int | None = sum(subnet_free_ips[s] for s in subnets if s in subnet_free_ips)
        if any(s not in subnet_free_ips for s in subnets):
            free = None
        fits = sum(node.fits for node in members)
        node_room = sum(min(node.max_pods_room, node.ip_room) for node in members)
        binding = LIMIT_SUBNET if fits < node_room else _majority_binding([node.binding for node in members])
        result.append(AzHeadroom(az, fits, node_room, free, binding))
    return tuple(result)
