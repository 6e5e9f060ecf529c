"""Subnet questions the rules ask: who holds a subnet's addresses (nodes' pools, leaked ENIs, other
services), and which subnet could serve pods in a zone instead."""

from __future__ import annotations

import ipaddress
import statistics
from collections import Counter
from dataclasses import dataclass, field

from bot.domain.capacity import IPS_PER_PREFIX
from bot.domain.diagnosis.view import View
from bot.domain.eni_rules import eni_is_leaked, subnet_belongs_to_cluster
from bot.domain.facts import EniConfigFact, EniFact, SubnetFact


@dataclass(frozen=True)
class NodeHolding:
    instance_id: str
    held: int  # pod addresses on the instance's ENIs in the subnet (secondary IPs, 16 per prefix)
    assigned: int | None  # of those, held by running pods (None when the cluster's pods were not read)


@dataclass(frozen=True)
class SubnetHolders:
    subnet: SubnetFact
    nodes: tuple[NodeHolding, ...]
    node_enis: int
    leaked: tuple[EniFact, ...]  # detached ENIs the CNI made (status available, its tag or its description)
    other_enis: int  # ENIs of load balancers, Lambda, endpoints, branch ENIs...
    other_addresses: int
    primaries: int = field(default=0)  # each node ENI's own primary address

    @property
    def held(self) -> int:
        return sum(n.held for n in self.nodes)

    @property
    def assigned(self) -> int | None:
        if any(n.assigned is None for n in self.nodes):
            return None
        return sum(n.assigned or 0 for n in self.nodes)

    @property
    def unused(self) -> int | None:
        assigned = self.assigned
        return None if assigned is None else max(self.held - assigned, 0)

    swept: tuple[EniFact, ...] = field(default=())  # of those, the ones ipamd's sweep would delete

    @property
    def leaked_addresses(self) -> int:
        return sum(e.address_count for e in self.leaked)

    def typical_pods(self) -> int | None:
        """Median pods per node in the subnet (what MINIMUM_IP_TARGET should cover)."""
        counts = [n.assigned for n in self.nodes if n.assigned]
        return round(statistics.median(counts)) if counts else None


def holders(v: View, subnet_id: str) -> SubnetHolders | None:
    """Who holds the subnet's addresses, from the gatherer's sweep of it (None when it was not swept)."""
    subnet = v.subnets.get(subnet_id)
    enis = v.ev.subnet_enis.get(subnet_id)
    if subnet is None or enis is None:
        return None
    pod_ips = _pod_addresses(v) if v.ev.all_pods is not None else None
    held: Counter[str] = Counter()
    assigned: Counter[str] = Counter()
    node_enis = primaries = other_enis = other_addresses = 0
    leaked: list[EniFact] = []
    for eni in enis:
        if eni.status == "available" and eni.cni_managed:
            leaked.append(eni)
        elif eni.instance_id and eni.interface_type in ("interface", "") and (eni.cni_managed or eni.device_index == 0):
            node_enis += 1
            primaries += 1
            held[eni.instance_id] += len(eni.secondary_ips) + IPS_PER_PREFIX * len(eni.prefixes)
            if pod_ips is not None:
                assigned[eni.instance_id] += _pods_on(eni, pod_ips)
        else:
            other_enis += 1
            other_addresses += eni.address_count
    nodes = tuple(
        NodeHolding(iid, count, assigned[iid] if pod_ips is not None else None) for iid, count in held.items()
    )
    swept = tuple(
        e
        for e in leaked
        if eni_is_leaked(status=e.status, description=e.description, tags=e.tags, cluster_name=v.cluster_name)
    )
    return SubnetHolders(subnet, nodes, node_enis, tuple(leaked), other_enis, other_addresses, primaries, swept)


def _pod_addresses(v: View) -> set[int]:
    out: set[int] = set()
    for pod in v.ev.all_pods or []:
        if pod.pod_ip and not pod.host_network and pod.phase not in ("Succeeded", "Failed"):
            try:
                out.add(int(ipaddress.IPv4Address(pod.pod_ip)))
            except ValueError:
                continue
    return out


def _pods_on(eni: EniFact, pod_ips: set[int]) -> int:
    count = 0
    for ip in eni.secondary_ips:
        try:
            count += int(ipaddress.IPv4Address(ip)) in pod_ips
        except ValueError:
            continue
    for prefix in eni.prefixes:
        try:
            network = ipaddress.IPv4Network(prefix, strict=False)
        except ValueError:
            continue
        base = int(network.network_address)
        count += sum(1 for a in range(base, base + network.num_addresses) if a in pod_ips)
    return count


def pod_subnet_for(v: View, az: str | None, *, better_than: SubnetFact | None = None) -> SubnetFact | None:
    """A subnet in ``az`` that looks like the ENIConfigs' pod subnets (same /16, else 100.64.x), most free first."""
    vpc = v.ev.vpc_id or (v.primary_eni.vpc_id if v.primary_eni else None)
    node_subnets = {e.subnet_id for e in v.card0_enis if e.device_index == 0}
    siblings = [v.subnets[c.subnet] for c in v.ev.eniconfigs or [] if c.subnet and c.subnet in v.subnets]
    supernets = {_supernet16(s.cidr) for s in siblings}
    candidates = [
        s
        for s in v.subnets.values()
        if s.az == az
        and (vpc is None or s.vpc_id == vpc)
        and s.subnet_id not in node_subnets
        and s.cni_role != "0"
        and (_supernet16(s.cidr) in supernets if supernets else s.cidr.startswith("100.64."))
        and (
            better_than is None
            or (s.subnet_id != better_than.subnet_id and s.available_ips > better_than.available_ips)
        )
    ]
    return max(candidates, key=lambda s: s.available_ips, default=None)


def discovery_candidate(v: View, az: str | None) -> SubnetFact | None:
    """The subnet in ``az`` to tag kubernetes.io/role/cni=1: most free IPs, not excluded, not already used, and one
    that the tag would make valid (its cluster tags, if any, name this cluster)."""
    used = {s.subnet_id for s in v.new_eni_subnets}
    vpc = v.ev.vpc_id or (v.primary_eni.vpc_id if v.primary_eni else None)
    candidates = [
        s
        for s in v.subnets.values()
        if s.az == az
        and (vpc is None or s.vpc_id == vpc)
        and s.subnet_id not in used
        and s.cni_role != "0"
        and subnet_belongs_to_cluster(s.tags, v.cluster_name)
    ]
    best = max(candidates, key=lambda s: s.available_ips, default=None)
    return best if best is not None and best.available_ips > 0 else None


def common_security_groups(eniconfigs: list[EniConfigFact]) -> tuple[str, ...]:
    counts = Counter(c.security_groups for c in eniconfigs if c.security_groups)
    return counts.most_common(1)[0][0] if counts else ()


def _supernet16(cidr: str) -> str:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return cidr
    return str(network.supernet(new_prefix=16)) if network.prefixlen > 16 else str(network)


def subnet_to_sweep(v: View) -> tuple[str, bool] | None:
    """The one subnet worth a DescribeNetworkInterfaces sweep (the API budget allows one), and whether the
    question there is /28 fragmentation (prefix delegation) rather than who holds its addresses."""
    if v.pool is not None and v.pool.free > 0:
        return None  # the node has addresses: no subnet question
    for growth in v.growth_subnets:
        subnet = growth.subnet
        if v.pd_active and subnet.available_ips >= IPS_PER_PREFIX:
            return subnet.subnet_id, True
        if growth.short:
            return subnet.subnet_id, False
    return None
