"""The numbers shown with a request: subnet addresses each change frees or needs (the warm-pool model),
pods per node under custom networking, and the pod subnets' headroom. Best effort: a failed read becomes
"estimate unavailable", never a refused request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.changes.state import eks_name
from bot.domain.capacity import NodeUsage, max_pods, what_if
from bot.domain.changes import EniConfigState
from bot.domain.cni_settings import EffectiveSettings, effective_settings
from bot.domain.eniconfig import resolve_eniconfig_name
from bot.domain.facts import EniFact, NodeFact, PodFact, SubnetFact
from bot.domain.instance_limits import InstanceLimits
from bot.domain.shapes import aws_node_runs_on
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection

_FINISHED = {"Succeeded", "Failed"}


def vpc_of(conn: ClusterConnection) -> str:
    """The cluster's VPC: configured, else from EKS DescribeCluster (remembered on the connection)."""
    if conn.vpc_id:
        return conn.vpc_id
    described = conn.aws().eks_cluster(eks_name(conn.cluster))
    vpc = ((described or {}).get("resourcesVpcConfig") or {}).get("vpcId")
    if not vpc:
        raise UpstreamError("eks:DescribeCluster", "the cluster's VPC is unknown; set `vpc_id` for the cluster")
    conn.vpc_id = str(vpc)
    return conn.vpc_id


@dataclass(frozen=True)
class Fleet:
    """The nodes with what the estimates need: pod IPs in use, instance limits, the ENIs and subnets."""

    vpc_id: str
    nodes: tuple[NodeFact, ...]
    assigned: Mapping[str, int]  # node name -> pods holding a VPC address
    limits: Mapping[str, InstanceLimits]
    enis: tuple[EniFact, ...]
    subnets: Mapping[str, SubnetFact]

    def primary_subnet(self, node: NodeFact) -> str | None:
        for eni in self.enis:
            if eni.instance_id == node.instance_id and eni.device_index == 0:
                return eni.subnet_id
        return None


def read_fleet(conn: ClusterConnection) -> Fleet:
    """The nodes an aws-node change reaches (its nodeAffinity: not Fargate, Auto Mode, Hybrid or Windows)."""
    nodes = [n for n in conn.kube.nodes() if aws_node_runs_on(n.labels)]
    pods = conn.kube.all_pods()
    aws = conn.aws(next((n.az for n in nodes if n.az), None))
    vpc = vpc_of(conn)
    limits = aws.instance_limits(n.instance_type for n in nodes if n.instance_type)
    return Fleet(
        vpc_id=vpc,
        nodes=tuple(nodes),
        assigned=Counter(p.node_name for p in pods if _holds_vpc_ip(p) and p.node_name),
        limits=limits,
        enis=tuple(aws.vpc_enis(vpc)),
        subnets={s.subnet_id: s for s in aws.vpc_subnets(vpc)},
    )


def _holds_vpc_ip(pod: PodFact) -> bool:
    return not pod.host_network and bool(pod.pod_ip) and pod.phase not in _FINISHED


def warm_pool_estimate(
    fleet: Fleet,
    env_before: Mapping[str, str],
    env_after: Mapping[str, str],
    eniconfigs: Mapping[str, EniConfigState | None],
) -> dict[str, Any]:
    """Subnet addresses held per subnet now and once ipamd has converged on the new settings."""
    before, after = effective_settings(env_before), effective_settings(env_after)
    usage = []
    for node in fleet.nodes:
        limits = fleet.limits.get(node.instance_type or "")
        subnet = _pod_subnet(fleet, node, before, eniconfigs)
        if limits is None or subnet is None:
            continue
        ceiling = node.capacity_pods or max_pods(limits, custom_networking=before.custom_networking)
        usage.append(NodeUsage(node.name, limits.instance_type, subnet, fleet.assigned.get(node.name, 0), ceiling))
    result = what_if(usage, before.warm(), after.warm(), fleet.limits)
    return {
        "subnets": [
            {"subnet": s.subnet_id, "nodes": s.nodes, "now": s.held_now, "after": s.held_proposed}
            for s in result.subnets
        ],
        "unknown_types": list(result.unknown_instance_types),
    }


def _pod_subnet(
    fleet: Fleet, node: NodeFact, settings: EffectiveSettings, eniconfigs: Mapping[str, EniConfigState | None]
) -> str | None:
    """Where the node's pod addresses come from: its ENIConfig's subnet with custom networking."""
    if settings.custom_networking:
        name = resolve_eniconfig_name(node.labels, node.annotations, settings).name
        state = eniconfigs.get(name)
        return state.subnet if state else None
    return fleet.primary_subnet(node)


def max_pods_table(fleet: Fleet, *, custom_networking_after: bool) -> list[dict[str, Any]]:
    """Per instance type: kubelet max-pods the nodes run with now, and what the new mode supports."""
    by_type: dict[str, list[NodeFact]] = {}
    for node in fleet.nodes:
        if node.instance_type in fleet.limits:
            by_type.setdefault(str(node.instance_type), []).append(node)
    rows = []
    for instance_type, nodes in sorted(by_type.items()):
        limits = fleet.limits[instance_type]
        now = max((n.capacity_pods or 0) for n in nodes) or max_pods(limits)
        rows.append(
            {
                "instance_type": instance_type,
                "nodes": len(nodes),
                "now": now,
                "after": max_pods(limits, custom_networking=custom_networking_after),
            }
        )
    return rows


def estimate_or_error(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run an estimate; a failing read becomes {"error": "..."} shown as "estimate unavailable"."""
    try:
        return dict(fn(*args, **kwargs))
    except UpstreamError as exc:
        return {"error": f"{exc.api} failed ({exc.reason})"}
