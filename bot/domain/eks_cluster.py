"""What EKS DescribeCluster says about the cluster's shape: its IP family and whether EKS Auto Mode runs it.

EKS API reference (DescribeCluster): `kubernetesNetworkConfig.ipFamily` is `ipv4` or `ipv6` (chosen at creation),
and `computeConfig.enabled` is true on an EKS Auto Mode cluster, where EKS itself runs pod networking: no
`aws-node` DaemonSet is installed for Auto Mode nodes, so nothing about ipamd or its settings applies to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EksClusterFact:
    ip_family: str  # "ipv4" | "ipv6"
    auto_mode: bool  # computeConfig.enabled

    @property
    def ipv6(self) -> bool:
        return self.ip_family == "ipv6"


def eks_cluster_from_api(described: Mapping[str, Any]) -> EksClusterFact:
    network = described.get("kubernetesNetworkConfig") or {}
    compute = described.get("computeConfig") or {}
    family = str(network.get("ipFamily") or "ipv4").lower()
    return EksClusterFact(
        ip_family=family if family in ("ipv4", "ipv6") else "ipv4", auto_mode=compute.get("enabled") is True
    )


def managed_by_eks(eks: EksClusterFact | None, daemonset_present: bool) -> bool:
    """EKS Auto Mode with no aws-node DaemonSet at all: EKS runs the VPC CNI for every node, and cnibot may
    neither read nor change aws-node settings."""
    return eks is not None and eks.auto_mode and not daemonset_present
