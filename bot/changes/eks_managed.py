"""Refuse aws-node and ENIConfig changes on an EKS Auto Mode cluster that has no aws-node DaemonSet: EKS runs the
VPC CNI there (DescribeCluster computeConfig.enabled), so there is nothing of cnibot's to change."""

from __future__ import annotations

from bot.domain.eks_cluster import EksClusterFact, eks_cluster_from_api
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection

AUTO_MODE_REFUSAL = (
    "The VPC CNI of this cluster is managed by EKS (Auto Mode: computeConfig.enabled, no aws-node DaemonSet), so "
    "cnibot will not change aws-node settings or ENIConfigs here. Auto Mode's pod subnets and security groups are "
    "set in its NodeClass (podSubnetSelectorTerms, podSecurityGroupSelectorTerms)."
)


def eks_cluster_fact(conn: ClusterConnection) -> EksClusterFact | None:
    """DescribeCluster (cached in the gateway), or None when EKS could not be asked."""
    try:
        described = conn.aws().eks_cluster(conn.eks_name)
    except UpstreamError:
        return None
    return eks_cluster_from_api(described) if described else None


def auto_mode_refusal(conn: ClusterConnection, daemonset_present: bool) -> str | None:
    if daemonset_present:
        return None
    fact = eks_cluster_fact(conn)
    return AUTO_MODE_REFUSAL if fact is not None and fact.auto_mode else None
