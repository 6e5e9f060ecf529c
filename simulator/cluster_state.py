"""The simulated cluster's per-node and per-pod state, and the CNI texts the kubelet reports."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator import objects
from simulator.addresses import int_to_ip
from simulator.ipamd import NodeIpamd
from simulator.model import Instance
from simulator.scenarios import NodeGroupSpec, PodSpec

GRPC_ERROR = (
    "add cmd: Error received from AddNetwork gRPC call: rpc error: code = Unavailable desc = connection error: "
    'desc = "transport: Error while dialing: dial tcp 127.0.0.1:50051: connect: connection refused"'
)
NO_IP = "add cmd: failed to assign an IP address to container"
EVENT_TTL = timedelta(hours=1)  # kube-apiserver --event-ttl default


@functools.lru_cache(maxsize=4096)
def replicaset_name(namespace_name: str, deployment: str) -> str:
    return f"{deployment}-{objects.name_suffix('rs', namespace_name, deployment, length=10)}"


def sandbox_message(pod_key: str, suffix: str, plugin: str = "aws-cni") -> str:
    """The containerd text of a failed CNI ADD, as the kubelet reports it in FailedCreatePodSandBox.

    libcni names the failing plugin by its type and the network (the conflist's name, "aws-cni", for every
    plugin of the chain); containerd wraps that in "failed to setup network for sandbox".
    """
    sandbox = objects.digest("sandbox", pod_key)
    return (
        "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "
        f'"{sandbox}": plugin type="{plugin}" name="aws-cni" failed (add): {suffix}'
    )


@dataclass
class SimNode:
    name: str
    group: NodeGroupSpec
    instance: Instance
    ipamd: NodeIpamd
    max_pods: int
    labels: dict[str, str]
    annotations: dict[str, str]
    taints: list[dict[str, str]]
    cordoned: bool
    created: datetime
    uid: str
    aws_node_pod: str = ""
    aws_node_uid: str = ""
    aws_node_revision: str = ""
    aws_node_started: datetime | None = None
    kube_proxy_pod: str = ""
    trunk_eni: str | None = None
    next_vlan: int = 1

    @property
    def private_ip(self) -> str:
        return int_to_ip(self.instance.private_ip)

    @property
    def runs_aws_node(self) -> bool:
        """aws-node's nodeAffinity (config/master/aws-k8s-cni.yaml): Linux, and compute-type not fargate, hybrid
        or auto."""
        return not self.group.compute_type and self.group.os == "linux"

    @property
    def cni_config_written(self) -> bool:
        """The CNI conflist exists once ipamd has initialised on the node (now or in an earlier aws-node run: the
        file stays in /etc/cni/net.d). The entrypoint copies it only after waitForIPAM succeeds
        (cmd/aws-vpc-cni/main.go _main), so a node whose ipamd never started has none."""
        return self.ipamd.started


@dataclass
class SimPod:
    namespace: str
    name: str
    spec: PodSpec
    uid: str
    created: datetime
    phase: str = "unscheduled"  # unscheduled | running | failing
    node: str | None = None
    ip: str | None = None
    reason: str = ""  # event reason of the current failure
    message: str = ""  # event message (or the scheduler's message)
    attempts: int = 0
    branch_eni: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] | None = None  # the object as a client created it over HTTP

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Rollout:
    generation: int
    revision: str
    pending: list[str]
    batch: int
    interval: float
    next_at: float


def pod_spec_from_object(obj: dict[str, Any]) -> PodSpec:
    """The scheduling-relevant part of a pod a client created: placement, host network, requests, pod-eni."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    containers = spec.get("containers") or [{}]
    requests = (containers[0].get("resources") or {}).get("requests") or {}
    limits = (containers[0].get("resources") or {}).get("limits") or {}
    owners = meta.get("ownerReferences") or []
    return PodSpec(
        name=meta.get("name", ""),
        namespace=meta.get("namespace") or "default",
        node=spec.get("nodeName"),
        node_group=(spec.get("nodeSelector") or {}).get("eks.amazonaws.com/nodegroup"),
        cpu=str(requests.get("cpu", "0")),
        memory=str(requests.get("memory", "0")),
        host_network=bool(spec.get("hostNetwork")),
        pod_eni=objects.POD_ENI_RESOURCE in limits or objects.POD_ENI_RESOURCE in requests,
        owner=owners[0].get("name") if owners else None,
        labels=dict(meta.get("labels") or {}),
    )
