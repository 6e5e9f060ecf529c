"""What a capacity sample holds, and what digests are built from. Plain frozen dataclasses, no SDK types.

A sample is small on purpose: per subnet a handful of numbers (kept for months, thinned), per node one row
(kept only on the newest samples), the pods that failed to get an IP since the previous sample, and the
aws-node env with its hash (to see drift and settings changes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.instance_limits import InstanceLimits


@dataclass(frozen=True)
class SubnetSample:
    subnet_id: str
    az: str
    usable: int  # addresses in the CIDR minus the 5 AWS reserves
    free: int  # DescribeSubnets AvailableIpAddressCount
    warm_unused: int | None = None  # held by nodes' warm pools, assigned to no pod; None = not measured
    leaked_enis: int = 0  # detached ENIs the VPC CNI created and nobody deleted (newest sample only)
    leaked_ips: int = 0  # the addresses they hold

    @property
    def used(self) -> int:
        return max(self.usable - self.free, 0)

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.usable if self.usable else 100.0


@dataclass(frozen=True)
class NodeSample:
    """One node's ENIs and IPs against its limits."""

    name: str
    instance_type: str
    az: str
    enis: int  # ENIs attached on the default card (primary, trunk and pod ENIs)
    max_enis: int | None  # what ipamd may attach (MAX_ENI applied); None = type unknown
    assigned_ips: int  # pod IPs in use
    held_ips: int  # pod addresses attached (assigned + warm pool)
    ip_capacity: int | None  # pod IPs the node can address at most
    pods: int  # counted against max-pods
    max_pods: int | None
    allocation_subnet: str | None = None  # where its next pod addresses come from

    @property
    def ip_room(self) -> int | None:
        return None if self.ip_capacity is None else max(self.ip_capacity - self.assigned_ips, 0)


@dataclass(frozen=True)
class VpcSubnet:
    """A subnet of the cluster's VPC, used or not: recommendations look for room beside the busy ones."""

    subnet_id: str
    az: str
    cidr: str
    usable: int
    free: int
    cni_role: str | None  # kubernetes.io/role/cni tag value
    name: str = ""
    used_by_cluster: bool = False


@dataclass(frozen=True)
class FailedPod:
    """A pod that failed to get an IP, from a FailedCreatePodSandBox event or a stored diagnosis."""

    namespace: str
    name: str
    cause: str  # a stable code: no-ip, ipamd-unreachable, network-not-ready, or a diagnosis cause code
    message: str
    last_seen: datetime
    count: int = 1
    source: str = "event"  # event | diagnosis

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class CapacitySample:
    cluster: str
    taken_at: datetime
    subnets: tuple[SubnetSample, ...]
    nodes: tuple[NodeSample, ...] = ()
    failed_pods: tuple[FailedPod, ...] = ()
    aws_node_env: Mapping[str, str] | None = None  # None = the DaemonSet could not be read
    cni_version: str | None = None
    vpc_subnets: tuple[VpcSubnet, ...] = ()
    limits: Mapping[str, InstanceLimits] = field(default_factory=dict)
    could_not_check: tuple[str, ...] = ()  # "what (api: reason)" lines
    events_read: bool = True  # False: the sandbox events could not be read, so failed_pods is not the whole story
    # Subnets only other shapes draw on (Fargate profiles, Auto Mode, Windows nodes) -> that shape's label: no
    # ipamd pool holds addresses there, and ipamd's remedies do not apply to them.
    other_shape_subnets: Mapping[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every input was read; a partial sample may miss subnets (found through nodes and ENIConfigs)."""
        return not self.could_not_check

    @property
    def settings_hash(self) -> str | None:
        return settings_hash(self.aws_node_env) if self.aws_node_env is not None else None


def settings_hash(env: Mapping[str, str]) -> str:
    """A short stable hash of the aws-node env: equal env, equal hash, on every replica."""
    canonical = json.dumps(sorted(env.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


Point = tuple[datetime, int]  # (when, free addresses)


@dataclass(frozen=True)
class SubnetHistory:
    """Free addresses of one subnet over time, oldest first."""

    subnet_id: str
    az: str
    usable: int
    points: tuple[Point, ...]
