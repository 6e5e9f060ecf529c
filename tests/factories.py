"""Facts made by hand for unit and conformance tests: one module, two worlds built from the same facts.

One pod's world (why-pending evidence, tests/unit/diagnosis and tests/conformance): one healthy m5.large node
in us-east-2b, changed per case. The base world: VPC vpc-1 with a node subnet 10.0.32.0/20 and pod subnets in
100.64.0.0/16 (one per AZ); node ip-10-0-32-10 (i-0node, m5.large: 3 ENIs x 10 IPs, max-pods 29) with two
ENIs of 9 secondary IPs each, aws-node and kube-proxy on hostNetwork, stock aws-node settings, and the pod
web-7d9f in shop waiting on it.

A cluster snapshot (the state views, tests/unit/state and tests/unit/domain): the `snapshot_*` builders, a VPC
with a few subnets in us-east-2a, nodes, their ENIs and pod placements, read by `snapshot()`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.cni_settings import effective_settings, startup_errors
from bot.domain.diagnosis.view import STOCK_ENV
from bot.domain.eniconfig import resolve_eniconfig_name
from bot.domain.evidence import PodEvidence
from bot.domain.facts import (
    ContainerState,
    DaemonSetFact,
    EniConfigFact,
    EniFact,
    EventFact,
    NodeFact,
    PodFact,
    SubnetFact,
    Taint,
)
from bot.domain.instance_limits import InstanceLimits
from bot.domain.ipamd_metrics import IpamdMetrics
from bot.domain.snapshot import ClusterSnapshot, PodPlacement

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NODE = "ip-10-0-32-10.us-east-2.compute.internal"
INSTANCE = "i-0node"
AZ = "us-east-2b"
VPC = "vpc-1"
M5_LARGE = InstanceLimits("m5.large", 3, 10, "nitro", False, 2, 1, 9)
M4_LARGE = InstanceLimits("m4.large", 2, 10, "xen", False, 2, 1, 0)
T3_MEDIUM = InstanceLimits("t3.medium", max_enis=3, ipv4_per_eni=6, vcpus=2, branch_enis=0)
DEFAULT = object()  # "use the base world's value" where None means "could not be read"
NO_IP = (
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": '
    'plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container'
)


def ago(seconds: int) -> datetime:
    return NOW - timedelta(seconds=seconds)


def ips(prefix: str, start: int, count: int) -> tuple[str, ...]:
    """Consecutive addresses, e.g. ips("10.0.32.", 20, 3) or ips("10.0.32", 20, 3) -> 10.0.32.20 .. 10.0.32.22
    (spills into the next /24)."""
    a, b, c, _ = (int(x) for x in (prefix.rstrip(".") + ".0").split("."))
    base = (a << 24) + (b << 16) + (c << 8) + start
    return tuple(".".join(str((n >> s) & 255) for s in (24, 16, 8, 0)) for n in range(base, base + count))


def subnet(subnet_id: str, cidr: str, az: str = AZ, free: int = 3000, **tags: str) -> SubnetFact:
    return SubnetFact(subnet_id, VPC, az, cidr, free, {k.replace("__", "/"): v for k, v in tags.items()})


def eni(
    eni_id: str,
    device: int | None,
    subnet_id: str = "subnet-node",
    secondary: tuple[str, ...] = (),
    *,
    primary: str | None = None,
    prefixes: tuple[str, ...] = (),
    status: str = "in-use",
    instance: str | None = INSTANCE,
    interface_type: str = "interface",
    cni: bool = True,
    description: str | None = None,
    az: str = AZ,
) -> EniFact:
    tags = {"node.k8s.amazonaws.com/instance_id": instance or "i-gone"} if cni and device != 0 else {}
    return EniFact(
        eni_id=eni_id,
        subnet_id=subnet_id,
        vpc_id=VPC,
        az=az,
        status=status,
        interface_type=interface_type,
        description=description if description is not None else (f"aws-K8S-{instance}" if tags else ""),
        instance_id=instance if status == "in-use" else None,
        device_index=device,
        network_card=0,
        primary_ip=primary,
        secondary_ips=secondary,
        prefixes=prefixes,
        tags=tags,
    )


def pod(
    name: str = "web-7d9f",
    namespace: str = "shop",
    *,
    node: str | None = NODE,
    ip: str | None = None,
    host_network: bool = False,
    phase: str = "Pending",
    pod_eni: bool = False,
    annotations: dict[str, str] | None = None,
    conditions: dict[str, tuple[str, str, str]] | None = None,
    containers: tuple[ContainerState, ...] = (),
) -> PodFact:
    return PodFact(
        namespace=namespace,
        name=name,
        uid=f"uid-{name}",
        phase=phase,
        node_name=node,
        host_network=host_network,
        pod_ip=ip,
        created_at=ago(300),
        conditions=conditions or {},
        containers=containers,
        requests_pod_eni=pod_eni,
        annotations=annotations or {},
    )


def node(
    *,
    name: str = NODE,
    capacity_pods: int = 29,
    instance_type: str = "m5.large",
    labels: dict[str, str] | None = None,
    unschedulable: bool = False,
    ready: tuple[str, str, str] = ("True", "KubeletReady", "kubelet is posting ready status"),
    pod_eni: int | None = None,
) -> NodeFact:
    return NodeFact(
        name=name,
        instance_id=INSTANCE,
        az=AZ,
        instance_type=instance_type,
        capacity_pods=capacity_pods,
        allocatable_pod_eni=pod_eni,
        labels={"topology.kubernetes.io/zone": AZ, "node.kubernetes.io/instance-type": instance_type, **(labels or {})},
        annotations={},
        taints=(Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),) if unschedulable else (),
        unschedulable=unschedulable,
        ready=ready,
        created_at=ago(86400),
        internal_ip="10.0.32.10",
    )


def event(reason: str, message: str, *, count: int = 1, source: str = "kubelet", age: int = 30) -> EventFact:
    return EventFact(reason, message, "Warning", count, ago(age), ago(age + 60), source, "Pod", "web-7d9f")


def aws_node(*, ready: bool = True, restarts: int = 0, waiting: str = "", last_message: str = "") -> PodFact:
    return pod(
        "aws-node-x1",
        "kube-system",
        ip="10.0.32.10",
        host_network=True,
        phase="Running",
        containers=(
            ContainerState("aws-node", ready, restarts, waiting_reason=waiting, last_terminated_message=last_message),
            ContainerState("aws-eks-nodeagent", True, 0),
        ),
    )


def daemonset(env: dict[str, str]) -> DaemonSetFact:
    return DaemonSetFact(
        env=env,
        init_env={},
        image="602401143452.dkr.ecr.us-east-2.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1",
        cni_version="1.19.2",
        generation=1,
        observed_generation=1,
        desired=3,
        ready=3,
        updated=3,
        resource_version="1",
    )


def metrics(total: int, assigned: int, **extra: Any) -> IpamdMetrics:
    return IpamdMetrics(eni_max=3, ip_max=27, eni_allocated=2, total_ips=total, assigned_ips=assigned, **extra)


def running_pods(count: int, base: str = "10.0.32.", start: int = 20) -> list[PodFact]:
    addresses = ips(base, start, count)
    return [pod(f"app-{i}", "shop", ip=addresses[i], phase="Running") for i in range(count)]


def host_pods() -> list[PodFact]:
    return [
        pod("aws-node-x1", "kube-system", ip="10.0.32.10", host_network=True, phase="Running"),
        pod("kube-proxy-x1", "kube-system", ip="10.0.32.10", host_network=True, phase="Running"),
    ]


def evidence(
    *,
    env: dict[str, str] | None = None,
    the_pod: PodFact | None = None,
    the_node: NodeFact | None = None,
    node_enis: list[EniFact] | None = None,
    subnets: list[SubnetFact] | None = None,
    pods_with_ip: int = 18,
    waiting: int = 0,
    the_metrics: IpamdMetrics | None | object = DEFAULT,
    events: list[EventFact] | None = None,
    instance: InstanceLimits | None = M5_LARGE,
    eniconfigs: list[EniConfigFact] | None = None,
    **fields: Any,
) -> PodEvidence:
    """A scheduled pod on the base node whose pool is full (18/18) and has ENI room, unless told otherwise."""
    env = {**STOCK_ENV, **(env or {})}
    the_pod = the_pod or pod()
    the_node = the_node or node()
    if node_enis is None:
        addresses = ips("10.0.32.", 20, 18)
        node_enis = [
            eni("eni-0", 0, secondary=addresses[:9], primary="10.0.32.10", cni=False),
            eni("eni-1", 1, secondary=addresses[9:], primary="10.0.32.11"),
        ]
    subnets = subnets or [
        subnet("subnet-node", "10.0.32.0/20"),
        subnet("subnet-pods-a", "100.64.0.0/19", az="us-east-2a", free=8000),
        subnet("subnet-pods-b", "100.64.32.0/19", free=8000),
    ]
    extra_waiting = [pod(f"wait-{i}", "shop") for i in range(waiting)]
    settings = effective_settings(env)
    ev = PodEvidence(
        cluster="prod",
        namespace=the_pod.namespace,
        name=the_pod.name,
        pod=the_pod,
        events=events if events is not None else [event("FailedCreatePodSandBox", NO_IP, count=4)],
        node=the_node,
        node_pods=[*host_pods(), *running_pods(pods_with_ip), the_pod, *extra_waiting],
        aws_node_pod=aws_node(),
        daemonset=daemonset(env),
        settings=settings,
        startup_errors=startup_errors(env),
        eniconfigs=eniconfigs if eniconfigs is not None else [],
        instance=instance,
        vpc_id=VPC,
        node_enis=node_enis,
        subnets={s.subnet_id: s for s in subnets},
        metrics=metrics(18, 18) if the_metrics is DEFAULT else the_metrics,  # type: ignore[arg-type]
        checked=["pod", "node", "ipamd metrics"],
    )
    if settings.custom_networking:
        ev.eniconfig_resolution = resolve_eniconfig_name(the_node.labels, the_node.annotations, settings)
        ev.eniconfig = next((c for c in ev.eniconfigs or [] if c.name == ev.eniconfig_resolution.name), None)
    for key, value in fields.items():
        setattr(ev, key, value)
    return ev


def unscheduled(message: str, **fields: Any) -> PodEvidence:
    the_pod = pod(node=None, conditions={"PodScheduled": ("False", "Unschedulable", message)})
    ev = evidence(the_pod=the_pod, events=[event("FailedScheduling", message, source="default-scheduler")])
    ev.node = ev.node_pods = ev.node_enis = ev.metrics = ev.aws_node_pod = None
    for key, value in fields.items():
        setattr(ev, key, value)
    return ev


def with_pod(ev: PodEvidence, **changes: Any) -> PodEvidence:
    assert ev.pod is not None
    ev.pod = replace(ev.pod, **changes)
    return ev


# --- a cluster snapshot: the state views ------------------------------------------------------------------


def snapshot_subnet(
    subnet_id: str, cidr: str, az: str = "us-east-2a", free: int | None = None, tags: dict[str, str] | None = None
) -> SubnetFact:
    size = 2 ** (32 - int(cidr.split("/")[1])) - 5
    return SubnetFact(subnet_id, VPC, az, cidr, size if free is None else free, dict(tags or {}))


def snapshot_node(
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


def snapshot_eni(
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


def placement(
    name: str,
    node_name: str | None,
    ip: str | None,
    *,
    host: bool = False,
    phase: str = "Running",
    branch: bool = False,
) -> PodPlacement:
    return PodPlacement("default", name, node_name, ip, host, phase, branch)


def snapshot_daemonset(**env: str) -> DaemonSetFact:
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


def snapshot(**fields: Any) -> ClusterSnapshot:
    fields.setdefault("limits", {"m5.large": M5_LARGE, "t3.medium": T3_MEDIUM})
    fields.setdefault("daemonset", snapshot_daemonset())
    fields.setdefault("eniconfigs", [])
    fields.setdefault("pods", [])
    fields.setdefault("vpc_id", VPC)
    return ClusterSnapshot(cluster="test", **fields)
