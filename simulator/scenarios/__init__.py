"""Scenario files: a VPC, node groups, aws-node settings, workloads and what a correct diagnosis finds.

Each `<name>.yaml` beside this module is one scenario. Unknown keys are errors, so a typo in a scenario
fails loudly instead of silently simulating something else.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.karpenter import KarpenterSpec

SCENARIO_DIR = Path(__file__).resolve().parent


class ScenarioError(ValueError):
    pass


@dataclass
class ReservationSpec:
    cidr: str
    type: str = "prefix"
    description: str = ""


@dataclass
class ForeignEniSpec:
    """ENIs other software owns in a subnet (ELB, Lambda, ...): they use addresses but are not the CNI's."""

    description: str = "ELB app/web/0123456789abcdef"
    count: int = 1
    secondary_ips: int = 0
    requester_managed: bool = True
    interface_type: str = "interface"
    # Place the i-th ENI's primary address at subnet offset `scatter_offset + i * scatter_every` (fragmentation).
    scatter_every: int = 0
    scatter_offset: int = 0


@dataclass
class SubnetSpec:
    name: str
    cidr: str
    az: str
    tags: dict[str, str] = field(default_factory=dict)
    ipv6_cidr: str | None = None  # an associated IPv6 /64
    reservations: list[ReservationSpec] = field(default_factory=list)
    foreign_enis: list[ForeignEniSpec] = field(default_factory=list)


@dataclass
class SecurityGroupSpec:
    name: str
    description: str = ""


@dataclass
class EniConfigSpec:
    name: str
    subnet: str  # a subnet name from this scenario, or a subnet id (e.g. a typo'd or foreign one)
    security_groups: list[str] = field(default_factory=list)


@dataclass
class NodeEniSpec:
    """An ENI attached to each node of a group at launch, before aws-node starts (an appliance, a second NIC)."""

    subnet: str | None = None  # default: the group's subnet
    description: str = "appliance"
    secondary_ips: int = 0
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class NodeGroupSpec:
    name: str
    instance_type: str
    subnet: str
    count: int = 1
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    cordoned: bool = False
    max_pods: int | None = None
    # The aws-node env the nodes first started with (nodes older than the current settings), on top of defaults.
    previous_env: dict[str, str] | None = None
    # ipamd's compiled ENI limit for the type when it disagrees with EC2 (an outdated CNI version).
    eni_limit_override: int | None = None
    # EC2 API -> error code ipamd gets on these nodes (IAM denial, throttling): ipamd's side only.
    ipamd_faults: dict[str, str] = field(default_factory=dict)
    # The same, starting only once the pods that predate the scenario's own pods have their addresses.
    ipamd_faults_later: dict[str, str] = field(default_factory=dict)
    extra_enis: list[NodeEniSpec] = field(default_factory=list)
    # Workload pods per node of this group (namespace default, deployment "<group>-app").
    pods_per_node: int = 0
    os_image: str = "Amazon Linux 2023.6.20250203"  # status.nodeInfo.osImage
    # eks.amazonaws.com/compute-type: "" (EC2 with aws-node), fargate, auto or hybrid; and kubernetes.io/os.
    # aws-node's nodeAffinity keeps it off every node that is not plain EC2 Linux.
    compute_type: str = ""
    os: str = "linux"
    # IPv6 clusters: egress-cni host-local reservations (169.254.172.0/22) left by pods whose DEL never reached the
    # plugin, per node of the group (simulator/egress_v4.py).
    egress_v4_leaked: int = 0


@dataclass
class WorkloadSpec:
    """A Deployment's pods, spread by the scheduler over the group's nodes (or all nodes)."""

    name: str
    namespace: str = "default"
    replicas: int = 1
    node_group: str | None = None
    cpu: str = "100m"
    memory: str = "128Mi"
    host_network: bool = False
    pod_eni: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class PodSpec:
    """One named pod. `node` pins it ("<group>/<index>" or a node name); otherwise the scheduler places it.

    Named pods arrive after the workloads and after the current aws-node settings took effect, so they are
    the ones that meet the scenario's problem.
    """

    name: str
    namespace: str = "default"
    node: str | None = None
    node_group: str | None = None
    cpu: str = "100m"
    memory: str = "128Mi"
    host_network: bool = False
    pod_eni: bool = False
    owner: str | None = None  # Deployment name; default: a bare pod
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    scheduler_name: str = "default-scheduler"  # fargate-scheduler: Fargate places it (or not), never the simulator
    # A CNI ADD failure the IP model cannot produce (network-policy agent, veth setup...): the text after
    # `failed (add): ` in the kubelet's FailedCreatePodSandBox event. The pod gets no address.
    sandbox_error: str | None = None
    # The plugin of the chain (10-aws.conflist: aws-cni, egress-cni, portmap) that returned sandbox_error.
    sandbox_plugin: str = "aws-cni"


@dataclass
class LeakedEniSpec:
    subnet: str
    count: int = 1
    secondary_ips: int = 9


@dataclass
class ChurnSpec:
    """Pods deleted moments ago on a node: their IPs sit in cooldown (IP_COOLDOWN_PERIOD)."""

    node: str
    released: int


@dataclass
class EventSpec:
    """An event the model cannot produce by itself (e.g. the network-policy agent failing)."""

    pod: str  # "namespace/name"
    reason: str
    message: str
    component: str = "kubelet"
    type: str = "Warning"
    count: int = 1


@dataclass
class Expectation:
    pod: str
    cause: str
    contributing: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class FargateSelectorSpec:
    namespace: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class FargateProfileSpec:
    """An EKS Fargate profile: pods matching a selector run on Fargate, one ENI each in these subnets."""

    name: str
    selectors: list[FargateSelectorSpec] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)  # subnet names of this scenario


@dataclass
class ManagedAddonSpec:
    version: str = ""
    configuration_values: dict[str, Any] = field(default_factory=dict)
    service_account_role_arn: str = ""


@dataclass
class Scenario:
    name: str
    description: str = ""
    cluster_name: str = "demo"
    region: str = "us-east-2"
    kubernetes_version: str = "1.31"
    cni_version: str = "v1.19.2"
    vpc_cidr: str = "10.0.0.0/16"
    secondary_cidrs: list[str] = field(default_factory=list)
    subnets: list[SubnetSpec] = field(default_factory=list)
    security_groups: list[SecurityGroupSpec] = field(default_factory=list)
    aws_node_env: dict[str, str] = field(default_factory=dict)
    managed_addon: ManagedAddonSpec | None = None
    fargate_profiles: list[FargateProfileSpec] = field(default_factory=list)
    # EKS Auto Mode for the whole cluster (DescribeCluster computeConfig.enabled): EKS runs pod networking and no
    # aws-node DaemonSet is installed, so every node group must be compute_type auto (or fargate).
    auto_mode: bool = False
    # Karpenter: its reservedENIs setting, EC2NodeClasses and NodePools (simulator/karpenter.py). A node group
    # labelled karpenter.sh/nodepool without max_pods gets the max-pods Karpenter computes for it.
    karpenter: KarpenterSpec | None = None
    eniconfigs: list[EniConfigSpec] = field(default_factory=list)
    node_groups: list[NodeGroupSpec] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    workloads: list[WorkloadSpec] = field(default_factory=list)
    pods: list[PodSpec] = field(default_factory=list)
    leaked_enis: list[LeakedEniSpec] = field(default_factory=list)
    churn: list[ChurnSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)
    expect: list[Expectation] = field(default_factory=list)

    def subnet(self, name: str) -> SubnetSpec:
        for subnet in self.subnets:
            if subnet.name == name:
                return subnet
        raise ScenarioError(f"scenario {self.name}: no subnet named {name!r}")


def list_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name: str) -> Scenario:
    path = SCENARIO_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {name!r}; known: {', '.join(list_scenarios())}")
    data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("name", name)
    return parse_scenario(data)


def parse_scenario(data: dict[str, Any]) -> Scenario:
    scenario = _build(Scenario, data, "scenario")
    _check(scenario)
    return scenario


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    kwargs = {key: _convert(hints[key], value, f"{where}.{key}") for key, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ScenarioError(f"{where}: expected a list")
        return [_convert(args[0], item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ScenarioError(f"{where}: expected a mapping")
        if args and args[1] is str:
            return {str(k): _scalar_text(v) for k, v in value.items()}
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)  # type: ignore[arg-type]
    if hint is str:
        return _scalar_text(value)
    if hint is int and not isinstance(value, bool):
        return int(value)
    return value


def _scalar_text(value: Any) -> str:
    """YAML scalars as env/tag text: booleans the way Kubernetes and AWS spell them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _check(scenario: Scenario) -> None:
    subnet_names = {s.name for s in scenario.subnets}
    groups = {g.name for g in scenario.node_groups}
    for group in scenario.node_groups:
        if group.subnet not in subnet_names:
            raise ScenarioError(f"node group {group.name}: unknown subnet {group.subnet!r}")
        for extra in group.extra_enis:
            if extra.subnet is not None and extra.subnet not in subnet_names:
                raise ScenarioError(f"node group {group.name}: extra ENI in unknown subnet {extra.subnet!r}")
    if scenario.auto_mode:
        others = [g.name for g in scenario.node_groups if g.compute_type not in ("auto", "fargate")]
        if others or scenario.managed_addon is not None or scenario.eniconfigs:
            raise ScenarioError(
                "auto_mode: no aws-node at all, so no managed add-on, no ENIConfigs and only auto/fargate node groups"
                + (f" (not: {', '.join(others)})" if others else "")
            )
    for leaked in scenario.leaked_enis:
        if leaked.subnet not in subnet_names:
            raise ScenarioError(f"leaked ENIs: unknown subnet {leaked.subnet!r}")
    for workload in scenario.workloads:
        if workload.node_group and workload.node_group not in groups:
            raise ScenarioError(f"workload {workload.name}: unknown node group {workload.node_group!r}")
    pods = {f"{p.namespace}/{p.name}" for p in scenario.pods}
    for expectation in scenario.expect:
        if "/" not in expectation.pod:
            raise ScenarioError(f"expectation {expectation.pod!r}: use namespace/name")
        if expectation.pod not in pods and not expectation.pod.startswith("kube-system/"):
            raise ScenarioError(f"expectation names a pod the scenario does not declare: {expectation.pod}")
