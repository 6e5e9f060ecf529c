"""Facts read from Kubernetes and EC2, in the shapes the decision code reads.

Gateways build these from API responses; diagnosis, capacity views and digests consume them. Plain frozen
dataclasses: no SDK types cross this line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Unchecked:
    """Something that could not be checked, and why (shown to the user as "could not check")."""

    what: str  # e.g. "subnets of the node", "ipamd metrics"
    api: str  # e.g. "ec2:DescribeSubnets", "kube:GET pods/proxy"
    reason: str  # e.g. "throttled (RequestLimitExceeded)", "forbidden", "timed out"


@dataclass(frozen=True)
class EventFact:
    reason: str
    message: str
    type: str  # Normal | Warning
    count: int
    last_seen: datetime | None
    first_seen: datetime | None
    source: str  # reporting component: kubelet, default-scheduler, aws-node, vpc-resource-controller
    object_kind: str
    object_name: str
    api: str = "core/v1"  # or "events.k8s.io/v1"


@dataclass(frozen=True)
class ContainerState:
    name: str
    ready: bool
    restarts: int
    waiting_reason: str = ""
    waiting_message: str = ""
    last_terminated_reason: str = ""
    last_terminated_message: str = ""
    last_exit_code: int | None = None


@dataclass(frozen=True)
class PodFact:
    namespace: str
    name: str
    uid: str
    phase: str
    node_name: str | None
    host_network: bool
    pod_ip: str | None
    created_at: datetime | None
    conditions: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # type -> (status, reason, message)
    containers: tuple[ContainerState, ...] = ()
    requests_pod_eni: bool = False  # vpc.amazonaws.com/pod-eni in requests/limits: security groups for pods
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    deleting: bool = False
    scheduler_name: str = "default-scheduler"
    images: dict[str, str] = field(default_factory=dict)  # container name -> image (aws-node pods only)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True, slots=True)
class NodeFact:
    name: str
    instance_id: str | None  # from spec.providerID aws:///<az>/<instance-id>
    az: str | None
    instance_type: str | None
    capacity_pods: int | None
    allocatable_pod_eni: int | None  # vpc.amazonaws.com/pod-eni (security groups for pods)
    labels: dict[str, str]
    annotations: dict[str, str]
    taints: tuple[Taint, ...]
    unschedulable: bool
    ready: tuple[str, str, str]  # (status, reason, message) of the Ready condition
    created_at: datetime | None
    internal_ip: str | None = None
    os_image: str | None = None  # status.nodeInfo.osImage, e.g. "Amazon Linux 2023.6.20250203"
    allocatable_windows_ips: int | None = None  # vpc.amazonaws.com/PrivateIPv4Address (Windows IPAM)

    @property
    def cordoned(self) -> bool:
        return self.unschedulable or any(t.key == "node.kubernetes.io/unschedulable" for t in self.taints)


@dataclass(frozen=True)
class DaemonSetFact:
    """The aws-node DaemonSet: its env (aws-node container), image, rollout state."""

    env: dict[str, str]
    init_env: dict[str, str]
    image: str
    cni_version: str | None
    generation: int
    observed_generation: int
    desired: int
    ready: int
    updated: int
    resource_version: str
    env_from_refs: tuple[str, ...] = ()  # env entries set through valueFrom (not readable as values)
    images: dict[str, str] = field(default_factory=dict)  # container name -> image, init containers included


@dataclass(frozen=True)
class FargateProfileFact:
    """An EKS Fargate profile: which pods it takes (namespace and labels per selector) and its subnets."""

    name: str
    subnets: tuple[str, ...]
    selectors: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (namespace, label pairs)
    status: str = "ACTIVE"

    def selects(self, namespace: str, labels: dict[str, str]) -> bool:
        """EKS: a selector matches when the namespace is equal and every one of its labels is on the pod."""
        return any(ns == namespace and all(labels.get(k) == v for k, v in wanted) for ns, wanted in self.selectors)


@dataclass(frozen=True)
class EniConfigFact:
    name: str
    subnet: str | None
    security_groups: tuple[str, ...]
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EniFact:
    eni_id: str
    subnet_id: str
    vpc_id: str
    az: str
    status: str  # in-use | available
    interface_type: str  # interface | trunk | branch | efa | ...
    description: str
    instance_id: str | None
    device_index: int | None
    network_card: int
    primary_ip: str | None
    secondary_ips: tuple[str, ...]
    prefixes: tuple[str, ...]
    tags: dict[str, str]
    requester_managed: bool = False
    security_groups: tuple[str, ...] = ()
    ipv6_prefixes: tuple[str, ...] = ()  # IPv6 clusters: the node's /80 on its primary ENI

    @property
    def cni_managed(self) -> bool:
        return "node.k8s.amazonaws.com/instance_id" in self.tags or self.description.startswith("aws-K8S-")

    @property
    def address_count(self) -> int:
        """Subnet addresses this ENI holds (primary + secondaries + 16 per /28 prefix)."""
        return (1 if self.primary_ip else 0) + len(self.secondary_ips) + 16 * len(self.prefixes)


@dataclass(frozen=True)
class SubnetFact:
    subnet_id: str
    vpc_id: str
    az: str
    cidr: str
    available_ips: int
    tags: dict[str, str]
    ipv6_cidrs: tuple[str, ...] = ()  # associated IPv6 CIDR blocks

    @property
    def size(self) -> int:
        prefix = int(self.cidr.split("/")[1])
        return int(2 ** (32 - prefix))  # int ** int is typed Any (a negative power is a float)

    @property
    def usable(self) -> int:
        return max(self.size - 5, 0)

    @property
    def used(self) -> int:
        return max(self.usable - self.available_ips, 0)

    @property
    def cni_role(self) -> str | None:
        """Value of the kubernetes.io/role/cni discovery tag ("1", "0") or None."""
        return self.tags.get("kubernetes.io/role/cni")

    @property
    def name(self) -> str:
        return self.tags.get("Name", "")
