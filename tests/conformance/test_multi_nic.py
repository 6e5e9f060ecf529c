"""Conformance: multi-NIC pods, run against BOTH the bot and the simulator.

cmd/routed-eni-cni-plugin/cni.go reads the pod annotation k8s.amazonaws.com/nicConfig and asks for an address on every
card only for the exact value multi-nic-attachment; pkg/ipamd/rpc_handler.go AddNetwork refuses such a pod unless
ENABLE_MULTI_NIC is on ("enable multi-nic feature on CNI for creating multi-nic-attachment pods").
"""

from __future__ import annotations

import pytest

from bot.domain.diagnosis.engine import diagnose
from bot.domain.diagnosis.model import CauseCode
from simulator.cluster import SimCluster
from simulator.scenarios import parse_scenario
from tests import factories as f

ROWS = [
    # (ENABLE_MULTI_NIC, annotation value, ipamd refuses)
    ("false", "multi-nic-attachment", True),
    ("true", "multi-nic-attachment", False),
    ("false", "something-else", False),
]


@pytest.mark.parametrize(("enabled", "value", "refused"), ROWS)
def test_bot(enabled: str, value: str, refused: bool) -> None:
    the_pod = f.pod(annotations={"k8s.amazonaws.com/nicConfig": value})
    ev = f.evidence(env={"ENABLE_MULTI_NIC": enabled}, the_pod=the_pod, pods_with_ip=3, the_metrics=None)
    codes = [c.code for c in diagnose(ev, now=f.NOW).causes]
    assert (CauseCode.MULTI_NIC_DISABLED in codes) is refused, codes


@pytest.mark.parametrize(("enabled", "value", "refused"), ROWS)
def test_simulator(enabled: str, value: str, refused: bool) -> None:
    scenario = parse_scenario(
        {
            "name": "multi-nic-row",
            "subnets": [{"name": "a", "cidr": "10.0.0.0/19", "az": "us-east-2a"}],
            "aws_node_env": {"ENABLE_MULTI_NIC": enabled},
            "node_groups": [{"name": "ng", "instance_type": "m5.large", "subnet": "a", "pods_per_node": 3}],
            "namespaces": ["ml"],
            "pods": [
                {"name": "p", "namespace": "ml", "node": "ng/0", "annotations": {"k8s.amazonaws.com/nicConfig": value}}
            ],
        }
    )
    cluster = SimCluster(scenario)
    cluster.build()
    pod = cluster.pods["ml/p"]
    assert (pod.phase == "failing") is refused, (pod.phase, pod.message)


def test_other_cards_are_said_to_be_unchecked() -> None:
    """With ENABLE_MULTI_NIC on a multi-card type the bot counts the default card only, and says so."""
    two_cards = f.InstanceLimits("p5.48xlarge", 2, 50, "nitro", vcpus=192, network_cards=32)
    the_pod = f.pod(annotations={"k8s.amazonaws.com/nicConfig": "multi-nic-attachment"})
    ev = f.evidence(env={"ENABLE_MULTI_NIC": "true"}, the_pod=the_pod, instance=two_cards)
    unchecked = diagnose(ev, now=f.NOW).could_not_check
    assert any("network cards other than the default one" in u.what for u in unchecked)
