"""Small builders of facts for the state views: a VPC with a few subnets, nodes, their ENIs and pods."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.facts import DaemonSetFact, EniConfigFact, EniFact, NodeFact, SubnetFact
from bot.domain.instance_limits import InstanceLimits
from bot.domain.snapshot import ClusterSnapshot, PodPlacement

VPC = "vpc-1"
M5_LARGE = InstanceLimits("m5.large", max_enis=3, ipv4_per_eni=10, vcpus=2, branch_enis=9)
T3_MEDIUM = InstanceLimits("t3.medium", max_enis=3, ipv4_per_eni=6, vcpus=2, branch_enis=0)


def subnet(
    subnet_id: str, cidr: str, az: str = "us-east-2a", free: int | None = None, tags: dict[str, str] | None = None
) -> SubnetFact:
    size = 2 ** (32 - int(cidr.split("/")[1])) - 5
    return SubnetFact(subnet_id, VPC, az, cidr, size if free is None else free, dict(tags or {}))


def node(
    name: str,
    instance_id: str,
    *,
    az: str = "us-east-2a",
    instance_type: str = "m5.large",
    max_pods: int | None = 29,
    pod_eni: int | None = None,
    labels: dict[str, str] | None = None,
    created: datetime | None = None,
) -> NodeFact:
    return NodeFact(
        name=name,
        instance_id=instance_id,
        az=az,
        instance_type=instance_type,
        capacity_pods=max_pods,
        allocatable_pod_eni=pod_eni,
        labels={"topology.kubernetes.io/zone": az, **(labels or {})},
        annotations={},
        taints=(),
        unschedulable=False,
        ready=("True", "", ""),
        created_at=created or datetime(2026, 1, 1, tzinfo=UTC),
    )


def eni(
    eni_id: str,
    subnet_id: str,
    *,
    instance: str | None = None,
    device: int | None = None,
    primary: str | None = None,
    secondary: tuple[str, ...] = (),
    prefixes: tuple[str, ...] = (),
    kind: str = "interface",
    status: str | None = None,
    cni: bool = False,
    description: str = "",
    tags: dict[str, str] | None = None,
) -> EniFact:
    all_tags = dict(tags or {})
    if cni:
        all_tags.setdefault("node.k8s.amazonaws.com/instance_id", instance or "i-gone")
    return EniFact(
        eni_id=eni_id,
        subnet_id=subnet_id,
        vpc_id=VPC,
        az="us-east-2a",
        status=status or ("in-use" if instance or kind == "branch" else "available"),
        interface_type=kind,
        description=description or (f"aws-K8S-{instance or 'i-gone'}" if cni else ""),
        instance_id=instance if kind != "branch" else None,
        device_index=device,
        network_card=0,
        primary_ip=primary,
        secondary_ips=secondary,
        prefixes=prefixes,
        tags=all_tags,
    )


def pod(
    name: str,
    node_name: str | None,
    ip: str | None,
    *,
    host: bool = False,
    phase: str = "Running",
    branch: bool = False,
) -> PodPlacement:
    return PodPlacement("default", name, node_name, ip, host, phase, branch)


def daemonset(**env: str) -> DaemonSetFact:
    return DaemonSetFact(
        env={"ENABLE_IPv4": "true", **env},
        init_env={},
        image="602401143452.dkr.ecr.us-east-2.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1",
        cni_version="1.19.2",
        generation=3,
        observed_generation=3,
        desired=2,
        ready=2,
        updated=2,
        resource_version="100",
    )


def eniconfig(name: str, subnet_id: str | None, *groups: str) -> EniConfigFact:
    return EniConfigFact(name, subnet_id, tuple(groups))


def ips(prefix: str, first: int, count: int) -> tuple[str, ...]:
    """count addresses prefix.first, prefix.first+1, ..."""
    return tuple(f"{prefix}.{first + i}" for i in range(count))


def snapshot(**fields: Any) -> ClusterSnapshot:
    fields.setdefault("limits", {"m5.large": M5_LARGE, "t3.medium": T3_MEDIUM})
    fields.setdefault("daemonset", daemonset())
    fields.setdefault("eniconfigs", [])
    fields.setdefault("pods", [])
    fields.setdefault("vpc_id", VPC)
    return ClusterSnapshot(cluster="test", **fields)
