"""Consistency between EC2, ipamd and Kubernetes, checked on every scenario and on a generated fleet."""

from __future__ import annotations

import ipaddress

import pytest

from simulator.addresses import PREFIX_SIZE, ip_to_int
from simulator.cluster import SimCluster
from simulator.generator import generate
from simulator.scenarios import list_scenarios, load_scenario


def clusters() -> list[tuple[str, SimCluster]]:
    out = []
    for name in list_scenarios():
        cluster = SimCluster(load_scenario(name))
        cluster.build()
        out.append((name, cluster))
    generated = SimCluster(generate(60, 15, seed=7))
    generated.build()
    out.append(("generated-60", generated))
    return out


@pytest.fixture(scope="module")
def all_clusters() -> list[tuple[str, SimCluster]]:
    return clusters()


def test_subnet_accounting_matches_the_enis(all_clusters: list[tuple[str, SimCluster]]) -> None:
    for name, cluster in all_clusters:
        for subnet in cluster.model.subnets.values():
            enis = [e for e in cluster.model.enis.values() if e.subnet is subnet]
            used = sum(len(e.private_ips) + PREFIX_SIZE * len(e.prefixes) for e in enis)
            assert subnet.space.used_count == used, name
            assert subnet.available_ip_count == subnet.space.size - 5 - used >= 0, name


def test_addresses_are_unique_and_prefixes_aligned(all_clusters: list[tuple[str, SimCluster]]) -> None:
    for name, cluster in all_clusters:
        seen: set[int] = set()
        for eni in cluster.model.enis.values():
            blocks = [range(p, p + PREFIX_SIZE) for p in eni.prefixes]
            assert all(p % PREFIX_SIZE == 0 for p in eni.prefixes), name
            for address in [*eni.private_ips, *(a for block in blocks for a in block)]:
                assert address not in seen, (name, eni.id)
                assert eni.subnet.space.contains(address)
                seen.add(address)


def test_pod_addresses_come_from_their_node(all_clusters: list[tuple[str, SimCluster]]) -> None:
    for name, cluster in all_clusters:
        pod_ips = [p.ip for p in cluster.pods.values() if p.ip and not p.spec.host_network]
        assert len(pod_ips) == len(set(pod_ips)), name
        for pod in cluster.pods.values():
            if pod.phase != "running" or pod.spec.host_network:
                continue
            assert pod.node and pod.ip
            node = cluster.nodes[pod.node]
            if ":" in pod.ip:  # IPv6 cluster: the address comes from the node's /80
                assert node.ipamd.ipv6_prefix is not None and node.ipamd.ipv6_pods.get(pod.key) == pod.ip, (
                    name,
                    pod.key,
                )
                assert ipaddress.IPv6Address(pod.ip) in ipaddress.IPv6Network(node.ipamd.ipv6_prefix), (name, pod.key)
                continue
            address = ip_to_int(pod.ip)
            if pod.branch_eni:
                branch = cluster.model.eni(pod.branch_eni)
                assert branch.interface_type == "branch" and branch.primary_ip == address
                assert branch.tags["node.k8s.amazonaws.com/instance_id"] == node.instance.id
                continue
            if not node.runs_aws_node:
                # Fargate/Hybrid pods use the node's address; Auto Mode and Windows a secondary IP of its ENI.
                on_node = {a for e in cluster.model.enis_of_instance(node.instance.id) for a in e.private_ips}
                assert address in on_node, (name, pod.key)
                continue
            assert node.ipamd.assigned.get(address) == pod.key, (name, pod.key)
            owners = [e for e in cluster.model.enis_of_instance(node.instance.id) if address in e.secondary_ips]
            owners += [
                e
                for e in cluster.model.enis_of_instance(node.instance.id)
                if any(p <= address < p + PREFIX_SIZE for p in e.prefixes)
            ]
            assert len(owners) == 1, (name, pod.key)


def test_limits_hold_everywhere(all_clusters: list[tuple[str, SimCluster]]) -> None:
    for name, cluster in all_clusters:
        for node in cluster.nodes.values():
            itype = node.instance.type
            enis = cluster.model.enis_of_instance(node.instance.id)
            assert len(enis) <= itype.max_enis, name
            for eni in enis:
                assert eni.slots_used <= itype.ipv4_per_eni, (name, eni.id)
            scheduled = sum(1 for p in cluster.pods.values() if p.node == node.name) + 2
            assert scheduled <= node.max_pods or any(
                p.spec.node for p in cluster.pods.values() if p.node == node.name
            ), name
