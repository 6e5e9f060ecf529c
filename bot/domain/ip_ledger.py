"""Who holds which address: every ENI's addresses matched with the pods' IPs (pods, warm pool, nodes, leaked, other)."""

from __future__ import annotations

import socket
import struct
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.capacity import IPS_PER_PREFIX
from bot.domain.eni_rules import eni_unmanaged
from bot.domain.facts import EniFact, NodeFact
from bot.domain.shapes import aws_node_runs_on
from bot.domain.snapshot import TERMINAL_PHASES, PodPlacement

CNI_INSTANCE_TAG = "node.k8s.amazonaws.com/instance_id"
# ENI types whose secondary addresses ipamd hands to pods ("" = EC2 left the field out).
POOL_ENI_TYPES = frozenset({"interface", ""})
# Who holds a subnet address.
HOLDER_PODS = "pods"
HOLDER_WARM = "warm"
HOLDER_NODES = "nodes"  # node ENIs' own primaries, trunk ENIs, branch ENIs without a pod
HOLDER_LEAKED = "leaked"
HOLDER_OTHER = "other"
HOLDERS = (HOLDER_PODS, HOLDER_WARM, HOLDER_NODES, HOLDER_LEAKED, HOLDER_OTHER)
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
