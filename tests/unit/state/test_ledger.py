"""Who holds each address: pods, warm pools, node ENIs, leaked ENIs, others."""

from __future__ import annotations

from bot.domain.state import StateModel
from tests.factories import ips, placement, snapshot, snapshot_eni, snapshot_node, snapshot_subnet

SUBNET = "subnet-a"


def _cluster() -> StateModel:
    enis = [
        snapshot_eni("eni-1", SUBNET, instance="i-1", device=0, primary="10.0.0.10", secondary=ips("10.0.0", 11, 9)),
        snapshot_eni(
            "eni-2", SUBNET, instance="i-1", device=1, primary="10.0.0.20", secondary=ips("10.0.0", 21, 9), cni=True
        ),
        snapshot_eni("eni-leak", SUBNET, primary="10.0.0.30", secondary=ips("10.0.0", 31, 2), cni=True),
        snapshot_eni("eni-elb", SUBNET, primary="10.0.0.40", description="ELB app/web/1"),
        snapshot_eni(
            "eni-other-node", SUBNET, instance="i-not-ours", device=0, primary="10.0.0.50", secondary=("10.0.0.51",)
        ),
    ]
    pods = [placement(f"web-{i}", "n1", f"10.0.0.{11 + i}") for i in range(5)]
    pods += [
        placement("kube-proxy", "n1", "10.0.0.10", host=True),
        placement("pending", "n1", None),
        placement("done", "n1", "10.0.0.16", phase="Succeeded"),  # finished: its IP went back to the pool
    ]
    return StateModel(
        snapshot(
            nodes=[snapshot_node("n1", "i-1")],
            pods=pods,
            enis=enis,
            subnets={SUBNET: snapshot_subnet(SUBNET, "10.0.0.0/24", free=251 - 27)},
        )
    )


def test_subnet_addresses_are_split_by_holder() -> None:
    holders = _cluster().ledger.holders(SUBNET)
    # 5 pod IPs; 4 + 9 unused secondaries; 2 node ENI primaries; a leaked CNI ENI; an ELB and a foreign node.
    assert holders == {"pods": 5, "warm": 13, "nodes": 2, "leaked": 3, "other": 3}


def test_node_counts_pods_and_its_warm_pool() -> None:
    state = _cluster().nodes["n1"]
    assert (state.pods, state.pods_with_ip, state.host_network_pods, state.waiting_for_ip) == (7, 5, 1, 1)
    assert (state.attached_ips, state.unused_ips) == (18, 13)
    assert [(r.eni_id, r.kind, r.used_by_pods, r.unused) for r in state.enis] == [
        ("eni-1", "primary", 5, 4),
        ("eni-2", "secondary", 0, 9),
    ]
    assert state.ip_capacity == 27 and state.recommended_max_pods == 29


def test_prefix_addresses_count_per_pod_and_the_rest_is_warm() -> None:
    enis = [
        snapshot_eni(
            "eni-1", SUBNET, instance="i-1", device=0, primary="10.0.0.4", prefixes=("10.0.0.16/28", "10.0.0.32/28")
        )
    ]
    pods = [placement(f"p{i}", "n1", f"10.0.0.{16 + i}") for i in range(3)] + [placement("q", "n1", "10.0.0.40")]
    model = StateModel(snapshot(nodes=[snapshot_node("n1", "i-1")], pods=pods, enis=enis))
    assert model.ledger.holders(SUBNET) == {"pods": 4, "warm": 28, "nodes": 1, "leaked": 0, "other": 0}
    assert model.nodes["n1"].enis[0].prefixes == 2


def test_branch_enis_belong_to_their_node_by_tag_and_hold_pod_ips() -> None:
    tag = {"node.k8s.amazonaws.com/instance_id": "i-1"}
    enis = [
        snapshot_eni("eni-1", SUBNET, instance="i-1", device=0, primary="10.0.0.4"),
        snapshot_eni("eni-trunk", SUBNET, instance="i-1", device=1, primary="10.0.0.5", kind="trunk"),
        snapshot_eni("eni-br1", SUBNET, primary="10.0.0.6", kind="branch", tags=tag),
        snapshot_eni("eni-br2", SUBNET, primary="10.0.0.7", kind="branch", tags=tag),
    ]
    pods = [placement("sg-pod", "n1", "10.0.0.6", branch=True)]
    model = StateModel(snapshot(nodes=[snapshot_node("n1", "i-1", pod_eni=9)], pods=pods, enis=enis))
    # One branch ENI serves a pod; the other (pod gone) and the trunk are the node's own.
    assert model.ledger.holders(SUBNET) == {"pods": 1, "warm": 0, "nodes": 3, "leaked": 0, "other": 0}
    state = model.nodes["n1"]
    assert state.branch_pods == 1 and state.pods_with_ip == 0
    assert [r.kind for r in state.enis] == ["primary", "trunk", "branch", "branch"]


def test_nodes_aws_node_does_not_run_on_have_no_warm_pool() -> None:
    """aws-node's nodeAffinity keeps it off Windows (and Fargate, Auto Mode, Hybrid) nodes: their unused ENI
    addresses belong to another IPAM (the VPC resource controller, EKS), not to an ipamd warm pool."""
    enis = [
        snapshot_eni("eni-w", SUBNET, instance="i-w", device=0, primary="10.0.0.60", secondary=ips("10.0.0", 61, 9))
    ]
    windows = snapshot_node("win", "i-w", labels={"kubernetes.io/os": "windows"})
    model = StateModel(snapshot(nodes=[windows], pods=[placement("iis", "win", "10.0.0.61")], enis=enis))
    assert model.ledger.holders(SUBNET)["warm"] == 0
    assert model.nodes["win"].unused_ips == 0
