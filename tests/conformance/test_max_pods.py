"""Conformance: kubelet max-pods as each EKS tool computes it, run against BOTH the bot and the simulator.

Sources (awslabs/amazon-eks-ami): AL2's max-pods-calculator.sh (templates/al2/runtime, in the history before AL2
support was removed) caps at 110 for <= 30 vCPUs and 250 above in every mode; nodeadm's CalcMaxPods
(nodeadm/internal/kubelet/eni_max_pods.go, calculateStandardMaxPods) is the uncapped default-card formula whatever
the CNI mode, as is amazon-vpc-cni-k8s misc/eni-max-pods.txt (737 for m5.24xlarge).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.instance_limits import InstanceLimits
from bot.domain.max_pods import (
    AL2,
    AL2023,
    BOTTLEROCKET,
    CALCULATOR,
    ENI_MAX_PODS,
    NODEADM,
    how_to_set,
    max_pods_sources,
    node_os,
)
from simulator.instance_types import get_instance_type


@dataclass(frozen=True)
class Row:
    instance_type: str
    enis: int  # default network card
    ips: int
    vcpus: int
    hypervisor: str
    custom_networking: bool
    prefix_delegation: bool
    max_eni: int
    calculator: int
    standard: int


ROWS = [
    Row("m5.large", 3, 10, 2, "nitro", False, False, 0, 29, 29),
    Row("m5.large", 3, 10, 2, "nitro", True, False, 0, 20, 29),
    Row("m5.large", 3, 10, 2, "nitro", False, True, 0, 110, 29),
    Row("m5.large", 3, 10, 2, "nitro", False, False, 2, 20, 29),
    Row("m5.4xlarge", 8, 30, 16, "nitro", False, False, 0, 110, 234),
    Row("m5.24xlarge", 15, 50, 96, "nitro", False, False, 0, 250, 737),
    Row("m5.24xlarge", 15, 50, 96, "nitro", True, True, 0, 250, 737),
    Row("t3.small", 3, 4, 2, "nitro", True, False, 0, 8, 11),
    Row("t2.medium", 3, 6, 2, "xen", False, True, 0, 17, 17),  # no PD off Nitro: the calculator ignores the flag
]


def _id(row: Row) -> str:
    mode = "+".join(n for n, on in (("cn", row.custom_networking), ("pd", row.prefix_delegation)) if on) or "ip"
    return f"{row.instance_type}-{mode}" + (f"-maxeni{row.max_eni}" if row.max_eni else "")


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_bot(row: Row) -> None:
    limits = InstanceLimits(row.instance_type, row.enis, row.ips, row.hypervisor, vcpus=row.vcpus)
    sources = max_pods_sources(
        limits,
        custom_networking=row.custom_networking,
        prefix_delegation=row.prefix_delegation,
        max_eni=row.max_eni or None,
    )
    assert {s.source: s.value for s in sources} == {
        CALCULATOR: row.calculator,
        NODEADM: row.standard,
        ENI_MAX_PODS: row.standard,
    }


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_simulator(row: Row) -> None:
    itype = get_instance_type(row.instance_type)
    assert (itype.default_card_enis, itype.ipv4_per_eni, itype.vcpus) == (row.enis, row.ips, row.vcpus)
    assert itype.standard_max_pods() == row.standard
    calculated = itype.calculator_max_pods(
        custom_networking=row.custom_networking, prefix_delegation=row.prefix_delegation, max_eni=row.max_eni
    )
    assert calculated == row.calculator


@pytest.mark.parametrize(
    ("os_image", "os", "setting"),
    [
        ("Amazon Linux 2023.6.20250203", AL2023, "spec.kubelet.config.maxPods: 20"),
        ("Amazon Linux 2", AL2, "--max-pods=20"),
        ("Bottlerocket OS 1.30.0 (aws-k8s-1.31)", BOTTLEROCKET, "settings.kubernetes.max-pods = 20"),
    ],
)
def test_the_setting_is_named_for_the_node_os(os_image: str, os: str, setting: str) -> None:
    assert node_os(os_image) == os
    assert setting in how_to_set(os, 20, custom_networking=True, prefix_delegation=False)


def test_nodeadm_expression_for_custom_networking() -> None:
    """nodeadm's maxPodsExpression is CEL over default_enis and ips_per_eni."""
    text = how_to_set(AL2023, 20, custom_networking=True, prefix_delegation=False)
    assert 'maxPodsExpression: "(default_enis - 1) * (ips_per_eni - 1) + 2"' in text
