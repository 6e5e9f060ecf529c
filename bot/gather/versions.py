"""Gather what `/cni version` (and the version line of `/cni config` and digests) needs: the aws-node DaemonSet's
images, the vpc-cni add-on, the cluster's Kubernetes version and the versions EKS offers for it, in parallel."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.facts import Unchecked
from bot.domain.versions import OfferedVersion, VersionReport, version_report
from bot.gateways.connections import ClusterConnection
from bot.gather.reads import Reads, reads_pool


@dataclass
class VersionFacts:
    report: VersionReport
    region: str | None
    checked: list[str] = field(default_factory=list)
    could_not_check: list[Unchecked] = field(default_factory=list)


def gather_versions(conn: ClusterConnection) -> VersionFacts:
    checked: list[str] = []
    unchecked: list[Unchecked] = []
    eks_name = conn.cluster.eks_name or conn.cluster.name
    with reads_pool(4, "gather-versions") as pool:
        reads = Reads(pool, checked, unchecked)
        ds_f = reads.later("aws-node DaemonSet", conn.kube.aws_node_daemonset)
        aws = reads.attempt("AWS region", conn.aws)
        addon_f = cluster_f = None
        if aws is not None:
            addon_f = reads.later("EKS add-on vpc-cni", lambda: (aws.eks_addon(eks_name),))
            cluster_f = reads.later("EKS cluster version", lambda: aws.eks_cluster(eks_name))
        cluster = cluster_f.result() if cluster_f else None
        k8s = str(cluster.get("version")) if cluster and cluster.get("version") else None
        offered = None
        if aws is not None and k8s:
            found = reads.attempt("versions EKS offers", lambda: aws.eks_addon_versions(k8s))
            offered = [OfferedVersion(v, d) for v, d in found] if found is not None else None
        daemonset = ds_f.result()
        addon = addon_f.result() if addon_f else None
    managed = None if addon is None else addon[0] is not None
    report = version_report(
        addon_version=str(addon[0].get("addonVersion")) if addon and addon[0] else None,
        managed=managed,
        images=daemonset.images if daemonset else {},
        kubernetes_version=k8s,
        offered=offered,
    )
    return VersionFacts(report, aws.region if aws else None, checked, unchecked)
