"""What the state commands read of a cluster, once: the snapshot, and the little of each pod that
cluster-wide views keep."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.cni_settings import EffectiveSettings, effective_settings
from bot.domain.eks_cluster import EksClusterFact
from bot.domain.facts import (
    DaemonSetFact,
    EniConfigFact,
    EniFact,
    FargateProfileFact,
    NodeFact,
    PodFact,
    SubnetFact,
    Unchecked,
)
from bot.domain.instance_limits import InstanceLimits
from bot.domain.ipamd_metrics import IpamdMetrics

TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})
# --- facts the gatherer adds to bot.domain.facts ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodPlacement:
    """The little of a pod that cluster-wide views need (150k of these must stay small)."""

    namespace: str
    name: str
    node_name: str | None
    pod_ip: str | None
    host_network: bool
    phase: str
    branch_eni: bool = False  # requests vpc.amazonaws.com/pod-eni: its IP is a branch ENI's, not ipamd's

    @classmethod
    def of(cls, pod: PodFact) -> PodPlacement:
        return cls(
            pod.namespace, pod.name, pod.node_name, pod.pod_ip, pod.host_network, pod.phase, pod.requests_pod_eni
        )

    @property
    def active(self) -> bool:
        """Counted by kubelet against max-pods: not finished."""
        return self.phase not in TERMINAL_PHASES

    @property
    def holds_vpc_ip(self) -> bool:
        return self.active and not self.host_network and bool(self.pod_ip)


@dataclass(frozen=True)
class ManagedAddon:
    """The EKS managed add-on vpc-cni."""

    version: str
    status: str
    configuration_values: str = ""


@dataclass
class ClusterSnapshot:
    """Everything read for the state commands. A None field was not read or could not be checked."""

    cluster: str
    nodes: list[NodeFact] | None = None
    pods: list[PodPlacement] | None = None
    daemonset: DaemonSetFact | None = None
    eniconfigs: list[EniConfigFact] | None = None
    aws_node_pods: list[PodFact] | None = None
    ipamd: dict[str, IpamdMetrics] = field(default_factory=dict)  # node name -> its ipamd metrics
    addon: ManagedAddon | None = None
    addon_checked: bool = False  # True once EKS answered (addon None then means self-managed)
    vpc_id: str | None = None
    subnets: dict[str, SubnetFact] | None = None  # every subnet of the VPC, by id
    enis: list[EniFact] | None = None  # the VPC's ENIs (or one node's)
    limits: dict[str, InstanceLimits] = field(default_factory=dict)  # by instance type
    prefix_reservations: dict[str, list[str]] = field(default_factory=dict)  # subnet id -> CIDRs
    existing_security_groups: set[str] | None = None
    # Cluster shapes (bot/domain/shape_view.py): EKS's view of the cluster, and its Fargate profiles.
    eks: EksClusterFact | None = None
    fargate_profiles: list[FargateProfileFact] | None = None
    checked: list[str] = field(default_factory=list)
    could_not_check: list[Unchecked] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # how long each read took (logs and benchmarks)

    @property
    def settings(self) -> EffectiveSettings | None:
        return effective_settings(self.daemonset.env) if self.daemonset else None
