"""Gather the ENI and IP state of a cluster (or of one node) into a ClusterSnapshot, in parallel and within the
EC2 API budget.

Cluster-wide, EC2 sees: one DescribeSubnets by vpc-id, one paginated DescribeNetworkInterfaces sweep of the VPC
(vpc-id filter: the subnets' other holders matter too), DescribeInstanceTypes for types not cached yet, and
only when asked the EKS add-on, the prefix reservations of the cluster's subnets (prefix delegation) and one
DescribeSecurityGroups for the ENIConfigs. Never a call per node. Kubernetes: nodes, pods (paginated, light),
the aws-node DaemonSet and the ENIConfigs.

For one node: its ENIs by instance id (and its branch ENIs with security groups for pods), its pods, its
aws-node pod and ipamd's metrics through the API server's pod proxy.

A failing read is noted under "could not check" and the rest goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.domain.eks_cluster import EksClusterFact, eks_cluster_from_api
from bot.domain.facts import NodeFact, SubnetFact
from bot.domain.ipamd_metrics import parse_ipamd_metrics
from bot.domain.names import is_subdomain
from bot.domain.node_report import NodeMatch, match_node
from bot.domain.snapshot import ClusterSnapshot, ManagedAddon, PodPlacement
from bot.errors import UpstreamError
from bot.gateways.aws import AwsGateway
from bot.gateways.connections import ClusterConnection
from bot.gather.reads import Reads, reads_pool

log = logging.getLogger("cnibot.gather")
T = TypeVar("T")

# GetSubnetCidrReservations is one call per subnet: look at no more than this many (the budget).
MAX_RESERVATION_LOOKUPS = 8


@dataclass(frozen=True)
class Wants:
    """What a command needs beyond nodes, the DaemonSet, ENIConfigs, subnets and the ENI sweep."""

    pods: bool = True
    instance_limits: bool = True
    eks_addon: bool = False
    prefix_reservations: bool = False  # only read when prefix delegation is on
    security_groups: bool = False  # of the ENIConfigs
    shapes: bool = False  # EKS DescribeCluster (IP family, Auto Mode) and the Fargate profiles


class _Reads(Reads):
    def __init__(self, snapshot: ClusterSnapshot, pool: ThreadPoolExecutor) -> None:
        super().__init__(pool, snapshot.checked, snapshot.could_not_check, snapshot.seconds)
        self.snapshot = snapshot


def gather_cluster(conn: ClusterConnection, wants: Wants | None = None) -> ClusterSnapshot:
    wants = wants or Wants()
    snapshot = ClusterSnapshot(cluster=conn.cluster.name)
    kube = conn.kube
    with reads_pool(12, "gather-cluster") as pool:
        reads = _Reads(snapshot, pool)
        # Nodes and pods come from watch-backed caches: listed on first use, then kept current.
        nodes_f = reads.later("nodes", conn.nodes.items)
        pods_f = reads.later("pods", conn.pods.items) if wants.pods else None
        ds_f = reads.later("aws-node DaemonSet", kube.aws_node_daemonset)
        eniconfigs_f = reads.later("ENIConfigs", kube.eniconfigs)

        aws = reads.attempt("AWS region", lambda: conn.aws(_az_hint(conn, nodes_f)))
        if aws is not None:
            _gather_ec2(conn, aws, reads, nodes_f, wants)

        snapshot.nodes = nodes_f.result()
        snapshot.pods = pods_f.result() if pods_f else None
        snapshot.daemonset = ds_f.result()
        snapshot.eniconfigs = eniconfigs_f.result()
        if aws is not None:
            _gather_extras(aws, reads, wants)
    return snapshot


def _gather_ec2(
    conn: ClusterConnection,
    aws: AwsGateway,
    reads: _Reads,
    nodes_f: Future[list[NodeFact] | None],
    wants: Wants,
) -> None:
    snapshot = reads.snapshot
    eks_name = conn.cluster.eks_name or conn.cluster.name
    addon_f = None
    if wants.eks_addon:
        # A 1-tuple, so that "self-managed" (None inside) differs from "could not check" (None).
        addon_f = reads.later("EKS add-on vpc-cni", lambda: (_addon(aws.eks_addon(eks_name)),))
    eks_f = fargate_f = None
    if wants.shapes:
        # In parallel with the EC2 reads; both cached for minutes in the gateway, and EKS calls, not the EC2
        # budget aws-node depends on.
        eks_f = reads.later("EKS cluster", lambda: _eks_fact(aws.eks_cluster(eks_name)))
        fargate_f = reads.later("Fargate profiles", lambda: aws.fargate_profiles(eks_name))
    vpc_f = reads.later("VPC of the cluster", lambda: _vpc_id(conn, aws, eks_name, nodes_f))
    subnets_f = reads.later("subnets of the VPC", lambda: _subnets(aws, vpc_f.result()))
    enis_f = reads.later("ENIs of the VPC", lambda: _enis(aws, vpc_f.result()))
    limits_f = None
    if wants.instance_limits:
        limits_f = reads.later("instance type limits", lambda: aws.instance_limits(_types(nodes_f.result())))

    snapshot.vpc_id = vpc_f.result()
    snapshot.subnets = subnets_f.result()
    snapshot.enis = enis_f.result()
    snapshot.limits = (limits_f.result() if limits_f else None) or {}
    if eks_f is not None and fargate_f is not None:
        snapshot.eks = eks_f.result()
        snapshot.fargate_profiles = fargate_f.result()
    addon = addon_f.result() if addon_f else None
    if addon is not None:
        snapshot.addon_checked = True
        snapshot.addon = addon[0]


def _gather_extras(aws: AwsGateway, reads: _Reads, wants: Wants) -> None:
    """Reads that depend on the first round: /28 reservations (prefix delegation), ENIConfig security groups."""
    snapshot = reads.snapshot
    futures: dict[str, Future[list[str] | None]] = {}
    settings = snapshot.settings
    if wants.prefix_reservations and settings is not None and settings.prefix_delegation:
        for subnet_id in _cluster_subnet_ids(snapshot)[:MAX_RESERVATION_LOOKUPS]:
            futures[subnet_id] = reads.later(f"prefix reservations of {subnet_id}", _reservations(aws, subnet_id))
    groups = sorted({g for c in snapshot.eniconfigs or [] for g in c.security_groups})
    if wants.security_groups and groups:
        snapshot.existing_security_groups = reads.attempt(
            "ENIConfig security groups", lambda: aws.existing_security_groups(groups)
        )
    for subnet_id, future in futures.items():
        found = future.result()
        if found is not None:
            snapshot.prefix_reservations[subnet_id] = found


def gather_node(conn: ClusterConnection, node: NodeFact) -> ClusterSnapshot:
    """One node's state: the same snapshot shape, holding that node only."""
    snapshot = ClusterSnapshot(cluster=conn.cluster.name, nodes=[node])
    kube = conn.kube
    with reads_pool(10, "gather-node") as pool:
        reads = _Reads(snapshot, pool)
        pods_f = reads.later("pods on the node", lambda: kube.pods_on_node(node.name))
        aws_node_f = reads.later("aws-node pod on the node", lambda: kube.aws_node_pods(node.name))
        ds_f = reads.later("aws-node DaemonSet", kube.aws_node_daemonset)
        eniconfigs_f = reads.later("ENIConfigs", kube.eniconfigs)

        def ipamd_metrics() -> Any:
            pods = aws_node_f.result()
            return parse_ipamd_metrics(kube.ipamd_metrics(pods[0].name)) if pods else None

        metrics_f = reads.later("ipamd metrics", ipamd_metrics)

        aws = reads.attempt("AWS region", lambda: conn.aws(node.az))
        enis_f = branch_f = limits_f = subnets_f = None
        if aws is not None:
            itype, iid = node.instance_type, node.instance_id
            if itype:
                limits_f = reads.later("instance type limits", lambda: aws.instance_limits([itype]))
            if iid:
                enis_f = reads.later("the node's ENIs", lambda: aws.node_enis(iid))

                def branch_enis() -> Any:
                    ds = ds_f.result()
                    pod_eni = ds is not None and ds.env.get("ENABLE_POD_ENI", "").lower() in ("true", "1", "t")
                    return aws.node_branch_enis(iid) if pod_eni else []

                branch_f = reads.later("the node's branch ENIs", branch_enis)

            def subnets() -> dict[str, SubnetFact] | None:
                vpc = conn.vpc_id
                if vpc is None and enis_f is not None:
                    vpc = next((e.vpc_id for e in enis_f.result() or [] if e.vpc_id), None)
                    conn.vpc_id = vpc
                snapshot.vpc_id = vpc
                return _subnets(aws, vpc)

            subnets_f = reads.later("subnets of the VPC", subnets)

        pods = pods_f.result()
        snapshot.pods = [PodPlacement.of(p) for p in pods] if pods is not None else None
        snapshot.aws_node_pods = aws_node_f.result()
        snapshot.daemonset = ds_f.result()
        snapshot.eniconfigs = eniconfigs_f.result()
        metrics = metrics_f.result()
        if metrics is not None:
            snapshot.ipamd[node.name] = metrics
        if enis_f is not None:
            enis = enis_f.result()
            branches = branch_f.result() if branch_f else []
            snapshot.enis = None if enis is None else enis + (branches or [])
        snapshot.limits = (limits_f.result() if limits_f else None) or {}
        snapshot.subnets = subnets_f.result() if subnets_f else None
    return snapshot


def find_node(conn: ClusterConnection, query: str) -> NodeMatch:
    """A node by name (one GET), else by instance id or unique name prefix (one paginated LIST)."""
    kube = conn.kube
    # Only a whole DNS subdomain can be a node's name; a prefix or an instance id is matched in the list.
    if not query.startswith("i-") and is_subdomain(query):
        node = kube.read_node(query)
        if node is not None:
            return NodeMatch(node, ())
    return match_node(kube.nodes(), query)


# --- helpers ----------------------------------------------------------------------------------------------


def _az_hint(conn: ClusterConnection, nodes_f: Future[list[NodeFact] | None]) -> str | None:
    """A node's zone names the region, needed only when neither settings nor environment do."""
    if conn.default_region():
        return None
    return next((n.az for n in nodes_f.result() or [] if n.az), None)


def _vpc_id(
    conn: ClusterConnection, aws: AwsGateway, eks_name: str, nodes_f: Future[list[NodeFact] | None]
) -> str | None:
    """Configured, else EKS's, else the VPC of one node's primary ENI; remembered for the connection."""
    if conn.vpc_id:
        return conn.vpc_id
    vpc: str | None = None
    try:
        cluster = aws.eks_cluster(eks_name)
        vpc = ((cluster or {}).get("resourcesVpcConfig") or {}).get("vpcId")
    except UpstreamError as exc:
        log.info("EKS DescribeCluster failed (%s); finding the VPC through a node", exc.reason)
    if not vpc:
        instance = next((n.instance_id for n in nodes_f.result() or [] if n.instance_id), None)
        if instance:
            vpc = next((e.vpc_id for e in aws.node_enis(instance) if e.vpc_id), None)
    if not vpc:
        raise UpstreamError("aws:vpc", "the cluster's VPC is unknown: set vpc_id for the cluster")
    conn.vpc_id = vpc
    return vpc


def _subnets(aws: AwsGateway, vpc: str | None) -> dict[str, SubnetFact] | None:
    if vpc is None:
        return None
    return {s.subnet_id: s for s in aws.vpc_subnets(vpc)}


def _enis(aws: AwsGateway, vpc: str | None) -> Any:
    return aws.vpc_enis(vpc) if vpc else None


def _reservations(aws: AwsGateway, subnet_id: str) -> Callable[[], list[str]]:
    return lambda: aws.subnet_prefix_reservations(subnet_id)


def _types(nodes: Iterable[NodeFact] | None) -> list[str]:
    return sorted({n.instance_type for n in nodes or [] if n.instance_type})


def _eks_fact(described: dict[str, Any] | None) -> EksClusterFact | None:
    return eks_cluster_from_api(described) if described else None


def _addon(described: dict[str, Any] | None) -> ManagedAddon | None:
    if not described:
        return None
    return ManagedAddon(
        version=str(described.get("addonVersion", "")),
        status=str(described.get("status", "")),
        configuration_values=str(described.get("configurationValues") or ""),
    )


def _cluster_subnet_ids(snapshot: ClusterSnapshot) -> list[str]:
    """Subnets the cluster's pods draw from: ENIConfig subnets first, then its nodes' ENI subnets."""
    instances = {n.instance_id for n in snapshot.nodes or [] if n.instance_id}
    ids: list[str] = []
    for config in snapshot.eniconfigs or []:
        if config.subnet and config.subnet not in ids:
            ids.append(config.subnet)
    for eni in snapshot.enis or []:
        if eni.instance_id in instances and eni.subnet_id not in ids:
            ids.append(eni.subnet_id)
    known = snapshot.subnets or {}
    return [i for i in ids if i in known]
