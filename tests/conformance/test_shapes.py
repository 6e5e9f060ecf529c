"""Conformance: which nodes aws-node serves (its DaemonSet's nodeAffinity in config/master/aws-k8s-cni.yaml:
kubernetes.io/os In [linux], kubernetes.io/arch In [amd64, arm64], eks.amazonaws.com/compute-type NotIn [fargate,
hybrid, auto]), run against BOTH the bot and the simulator; and what why-pending says on the other shapes."""

from __future__ import annotations

import pytest

from bot.domain.diagnosis.engine import diagnose
from bot.domain.diagnosis.model import CauseCode
from bot.domain.shapes import NodeShape, aws_node_runs_on, node_shape
from simulator.cluster import SimCluster
from simulator.scenarios import parse_scenario
from tests import factories as f

ROWS = [
    # (compute-type, os, aws-node runs, shape)
    ("", "linux", True, NodeShape.EC2),
    ("fargate", "linux", False, NodeShape.FARGATE),
    ("auto", "linux", False, NodeShape.AUTO),
    ("hybrid", "linux", False, NodeShape.HYBRID),
    ("", "windows", False, NodeShape.WINDOWS),
]


@pytest.mark.parametrize(("compute_type", "os", "runs", "shape"), ROWS)
def test_bot(compute_type: str, os: str, runs: bool, shape: NodeShape) -> None:
    labels = {"kubernetes.io/os": os, "kubernetes.io/arch": "amd64"}
    if compute_type:
        labels["eks.amazonaws.com/compute-type"] = compute_type
    assert aws_node_runs_on(labels) is runs
    assert node_shape(labels) is shape


@pytest.mark.parametrize(("compute_type", "os", "runs", "shape"), ROWS)
def test_simulator(compute_type: str, os: str, runs: bool, shape: NodeShape) -> None:
    group = {"name": "g", "instance_type": "m5.large", "subnet": "a", "compute_type": compute_type, "os": os}
    cluster = SimCluster(parse_scenario({"name": "shape-row", "subnets": [_SUBNET], "node_groups": [group]}))
    cluster.build()
    (node,) = cluster.nodes.values()
    assert node.runs_aws_node is runs
    aws_node_pods = [
        p for p in cluster.store.list("v1", "Pod", "kube-system") if p["metadata"]["name"].startswith("aws-node")
    ]
    assert bool(aws_node_pods) is runs
    assert node_shape(node.labels) is shape  # the labels the simulator writes read as the same shape


_SUBNET = {"name": "a", "cidr": "10.0.0.0/19", "az": "us-east-2a"}


def test_arm64_is_served_and_other_architectures_are_not() -> None:
    assert aws_node_runs_on({"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64"})
    assert not aws_node_runs_on({"kubernetes.io/os": "linux", "kubernetes.io/arch": "s390x"})


def test_ipv6_cluster_gets_no_ipv4_pool_verdict() -> None:
    """ipamd.go isConfigValid: IPv6 runs with prefix delegation, one /80 per node; the IPv4 pool, subnet and ENI
    rules do not apply."""
    env = {"ENABLE_IPv6": "true", "ENABLE_IPv4": "false", "ENABLE_PREFIX_DELEGATION": "true"}
    empty_subnet = [f.subnet("subnet-node", "10.0.32.0/20", free=0)]
    diagnosis = diagnose(f.evidence(env=env, subnets=empty_subnet), now=f.NOW)
    codes = {c.code for c in diagnosis.causes}
    assert not codes & {CauseCode.SUBNET_EXHAUSTED, CauseCode.NODE_IP_CAPACITY, CauseCode.WARM_TARGET_MISCONFIG}
    assert diagnosis.causes[0].code is CauseCode.IPV6_PREFIX_MISSING  # the factories' node has no /80 at all
