"""Everything gathered about one pod for why-pending, as pure data (what the diagnosis rules read)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.cni_settings import EffectiveSettings, effective_settings, startup_errors
from bot.domain.eniconfig import Resolution
from bot.domain.facts import (
    DaemonSetFact,
    EniConfigFact,
    EniFact,
    EventFact,
    FargateProfileFact,
    NodeFact,
    PodFact,
    SubnetFact,
    Unchecked,
)
from bot.domain.instance_limits import InstanceLimits
from bot.domain.ipamd_metrics import IpamdMetrics


@dataclass
class PodEvidence:
    cluster: str
    namespace: str
    name: str
    pod: PodFact | None = None
    # When the pod does not exist: close names in its namespace, and "ns/name" of same-named pods elsewhere.
    similar_names: list[str] = field(default_factory=list)
    same_name_elsewhere: list[str] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)  # the pod's, both event APIs, newest first
    node: NodeFact | None = None
    node_pods: list[PodFact] | None = None  # every pod on the node
    # Only for a pod the scheduler has not placed: the nodes it could go to, and their instance types' limits.
    nodes: list[NodeFact] | None = None
    limits_by_type: dict[str, InstanceLimits] = field(default_factory=dict)
    # Only when an allocation subnet is short: every pod of the cluster (whose IPs are in that subnet).
    all_pods: list[PodFact] | None = None
    aws_node_pod: PodFact | None = None
    aws_node_events: list[EventFact] = field(default_factory=list)
    daemonset: DaemonSetFact | None = None
    settings: EffectiveSettings | None = None  # aws-node env with upstream defaults filled in
    startup_errors: list[str] = field(default_factory=list)  # env combinations that make aws-node exit
    eniconfigs: list[EniConfigFact] | None = None
    eniconfig_resolution: Resolution | None = None  # only with custom networking
    eniconfig: EniConfigFact | None = None  # the resolved one, if it exists
    instance: InstanceLimits | None = None
    vpc_id: str | None = None
    node_enis: list[EniFact] | None = None
    subnets: dict[str, SubnetFact] | None = None  # every subnet of the VPC, by id
    subnet_enis: dict[str, list[EniFact]] = field(default_factory=dict)  # sweeps of the subnets that matter
    prefix_reservations: dict[str, list[str]] = field(default_factory=dict)
    existing_security_groups: set[str] | None = None
    fargate_profiles: list[FargateProfileFact] | None = None  # only for Fargate pods
    metrics: IpamdMetrics | None = None
    checked: list[str] = field(default_factory=list)
    could_not_check: list[Unchecked] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def add_daemonset(self, daemonset: DaemonSetFact | None) -> None:
        """The aws-node DaemonSet as read, and what it means: its effective settings and start-up errors."""
        self.daemonset = daemonset
        if daemonset is not None:
            self.settings = effective_settings(daemonset.env)
            self.startup_errors = startup_errors(daemonset.env)
