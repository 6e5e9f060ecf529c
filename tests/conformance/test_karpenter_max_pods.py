"""Conformance: the max-pods Karpenter gives the nodes it launches, run against the bot and the simulator.

aws/karpenter-provider-aws at 1d92708: pkg/providers/instancetype/types.go `pods` and `ENILimitedPods`;
pkg/providers/amifamily FeatureFlags (Bottlerocket: PodsPerCoreEnabled false; Windows: SupportsENILimitedPodDensity
false); pkg/operator/options/options.go ReservedENIs (the controller's --reserved-enis, default 0).
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from bot.domain.instance_limits import InstanceLimits
from bot.domain.karpenter import eni_limited_pods, karpenter_fix, karpenter_max_pods, reserved_enis_for
from simulator import karpenter as sim
from simulator.instance_types import get_instance_type


class Row(NamedTuple):
    instance_type: str
    ami_family: str
    max_pods: int | None  # EC2NodeClass spec.kubelet.maxPods
    pods_per_core: int | None  # spec.kubelet.podsPerCore
    reserved_enis: int
    expected: int


ROWS = [
    Row("m5.large", "al2023", None, None, 0, 29),  # ENILimitedPods: 3 x (10 - 1) + 2
    Row("m5.large", "al2023", None, None, 1, 20),  # (3 - 1) x 9 + 2: custom networking's primary ENI left out
    Row("m5.large", "bottlerocket", 110, None, 0, 110),  # maxPods wins, whatever the ENIs
    Row("m5.large", "al2023", None, 10, 0, 20),  # min(10 x 2 vCPUs, 29)
    Row("m5.large", "bottlerocket", None, 10, 0, 29),  # Bottlerocket: podsPerCore not applied
    Row("m5.large", "al2023", 110, 10, 0, 20),  # podsPerCore caps maxPods too
    Row("m5.large", "windows2022", None, None, 0, 110),  # no ENI-limited density on Windows
    Row("t3.nano", "al2", None, None, 2, 0),  # no usable ENI left
    Row("c5.4xlarge", "al2023", None, None, 1, 205),  # (8 - 1) x (30 - 1) + 2
]


def _limits(name: str) -> InstanceLimits:
    itype = get_instance_type(name)
    return InstanceLimits(name, itype.default_card_enis, itype.ipv4_per_eni, itype.hypervisor, vcpus=itype.vcpus)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.instance_type}-{r.ami_family}-{r.max_pods}-{r.pods_per_core}")
def test_bot(row: Row) -> None:
    got = karpenter_max_pods(
        _limits(row.instance_type),
        ami_family=row.ami_family,
        max_pods=row.max_pods,
        pods_per_core=row.pods_per_core,
        reserved_enis=row.reserved_enis,
    )
    assert got == row.expected


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.instance_type}-{r.ami_family}-{r.max_pods}-{r.pods_per_core}")
def test_simulator(row: Row) -> None:
    nodeclass = sim.Ec2NodeClassSpec("c", row.ami_family, row.max_pods, row.pods_per_core)
    assert sim.karpenter_max_pods(get_instance_type(row.instance_type), nodeclass, row.reserved_enis) == row.expected


def test_reserved_enis_remedy_gives_what_custom_networking_can_address() -> None:
    """With custom networking one reserved ENI makes Karpenter's formula the node's real capacity + 2."""
    limits = _limits("m5.large")
    assert reserved_enis_for(custom_networking=True) == 1 and reserved_enis_for(custom_networking=False) == 0
    assert eni_limited_pods(limits, 1) == (3 - 1) * (10 - 1) + 2
    labels = {"karpenter.sh/nodepool": "general", "karpenter.k8s.aws/ec2nodeclass": "bottlerocket-cn"}
    fix = karpenter_fix(labels, 20, limits, custom_networking=True)
    assert "EC2NodeClass bottlerocket-cn `spec.kubelet.maxPods: 20` (NodePool general)" in fix
    assert "`--reserved-enis`" in fix and "RESERVED_ENIS" in fix and "(3 - 1) x (10 - 1) + 2 = 20" in fix
    # Without custom networking reservedENIs would not give the right number: only the maxPods field is named.
    assert "--reserved-enis" not in karpenter_fix(labels, 29, limits, custom_networking=False)


def test_simulated_nodes_take_karpenters_max_pods_and_serve_its_objects() -> None:
    from simulator.cluster import SimCluster
    from simulator.scenarios import load_scenario

    cluster = SimCluster(load_scenario("karpenter-max-pods"))
    cluster.build()
    by_pool = {n.labels.get("karpenter.sh/nodepool"): n.max_pods for n in cluster.nodes.values()}
    assert by_pool["general"] == 110  # EC2NodeClass bottlerocket-cn sets maxPods 110
    assert by_pool["spot"] == 29  # no maxPods, reservedENIs 0: 3 x 9 + 2 on m5.large
    classes = cluster.store.list("karpenter.k8s.aws/v1", "EC2NodeClass")
    assert {c["metadata"]["name"]: c["spec"].get("kubelet") for c in classes} == {
        "bottlerocket-cn": {"maxPods": 110},
        "al2023-default": None,
    }
    pools = cluster.store.list("karpenter.sh/v1", "NodePool")
    assert {p["spec"]["template"]["spec"]["nodeClassRef"]["name"] for p in pools} == {
        "bottlerocket-cn",
        "al2023-default",
    }
