"""Schema-complete Kubernetes objects for the simulated EKS cluster (nodes, pods, events, CRs; the DaemonSets
are in daemonset_objects.py).

The kubernetes client 37 validates every response with pydantic, so each builder fills the fields the
official models require, with the values EKS and the VPC CNI really use.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta
from typing import Any

JsonObject = dict[str, Any]
ECR = "602401143452.dkr.ecr.us-east-2.amazonaws.com"
KUBELET_VERSION = "v1.31.4-eks-aeac579"
NETWORK_POLICY_AGENT_TAG = "v1.1.6-eksbuild.1"
KUBE_PROXY_TAG = "v1.31.3-minimal-eksbuild.2"
METRICS_PORT = 61678
POD_ENI_RESOURCE = "vpc.amazonaws.com/pod-eni"
WINDOWS_IP_RESOURCE = "vpc.amazonaws.com/PrivateIPv4Address"  # the VPC resource controller's Windows IPs
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
NETWORK_NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


@functools.lru_cache(maxsize=65536)
def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(*parts: object, length: int = 64) -> str:
    """Deterministic hex for container ids, image digests, sandbox ids."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:length]


_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def name_suffix(*parts: object, length: int = 5) -> str:
    """Kubernetes-style random suffix (e.g. `aws-node-7xk2p`), derived from the inputs."""
    value = int(digest(*parts, length=16), 16)
    chars = []
    for _ in range(length):
        value, index = divmod(value, len(_SUFFIX_ALPHABET))
        chars.append(_SUFFIX_ALPHABET[index])
    return "".join(chars)


def namespace(name: str, created: datetime) -> JsonObject:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/metadata.name": name},
            "creationTimestamp": ts(created),
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


# --- nodes -------------------------------------------------------------------------------------------------
def node(
    *,
    name: str,
    instance_id: str,
    az: str,
    instance_type: str,
    private_ip: str,
    vcpus: int,
    memory_mib: int,
    max_pods: int,
    labels: dict[str, str],
    annotations: dict[str, str],
    taints: list[JsonObject],
    unschedulable: bool,
    network_ready: bool,
    pod_eni_capacity: int,
    created: datetime,
    now: datetime,
    os_image: str = "Amazon Linux 2023.6.20250203",
    windows_ips: int = 0,
) -> JsonObject:
    memory_ki = memory_mib * 1024 - 480_000  # what the kubelet reports after the hypervisor/kernel share
    allocatable_memory_ki = memory_ki - (255 + 11 * max_pods) * 1024 - 100 * 1024
    capacity = {
        "cpu": str(vcpus),
        "ephemeral-storage": "83873772Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{memory_ki}Ki",
        "pods": str(max_pods),
    }
    allocatable = {
        "cpu": f"{allocatable_millicpu(vcpus)}m",
        "ephemeral-storage": "76224326324",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{max(allocatable_memory_ki, 0)}Ki",
        "pods": str(max_pods),
    }
    if pod_eni_capacity:
        capacity[POD_ENI_RESOURCE] = allocatable[POD_ENI_RESOURCE] = str(pod_eni_capacity)
    if windows_ips:
        capacity[WINDOWS_IP_RESOURCE] = allocatable[WINDOWS_IP_RESOURCE] = str(windows_ips)
    all_taints = list(taints)
    if unschedulable:
        all_taints.append({"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule", "timeAdded": ts(now)})
    if not network_ready:
        all_taints.append({"key": NOT_READY_TAINT, "effect": "NoSchedule"})
    spec: JsonObject = {"providerID": f"aws:///{az}/{instance_id}"}
    if unschedulable:
        spec["unschedulable"] = True
    if all_taints:
        spec["taints"] = all_taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": private_ip,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                **annotations,
            },
            "creationTimestamp": ts(created),
        },
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": private_ip},
                {"type": "InternalDNS", "address": name},
                {"type": "Hostname", "address": name},
            ],
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": _node_conditions(network_ready, created, now),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": [],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": uuid_like("boot", instance_id),
                "containerRuntimeVersion": "containerd://1.7.25",
                "kernelVersion": "6.1.128-136.201.amzn2023.x86_64",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": digest("machine", instance_id, length=32),
                "operatingSystem": "linux",
                "osImage": os_image,
                "systemUUID": uuid_like("ec2", instance_id),
            },
        },
    }


def allocatable_millicpu(vcpus: int) -> int:
    """EKS AMI kube-reserved CPU: 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% above."""
    reserved = 60 + (10 if vcpus >= 2 else 0) + 5 * max(min(vcpus, 4) - 2, 0) + int(2.5 * max(vcpus - 4, 0))
    return vcpus * 1000 - reserved


def _node_conditions(network_ready: bool, created: datetime, now: datetime) -> list[JsonObject]:
    def condition(kind: str, status: str, reason: str, message: str) -> JsonObject:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": ts(now),
            "lastTransitionTime": ts(created + timedelta(seconds=40)),
        }

    conditions = [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ]
    if network_ready:
        conditions.append(condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"))
    else:
        conditions.append(condition("Ready", "False", "KubeletNotReady", NETWORK_NOT_READY))
        conditions.append(condition("NetworkUnavailable", "True", "NetworkPluginNotReady", NETWORK_NOT_READY))
    return conditions


def uuid_like(*parts: object) -> str:
    h = digest(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# --- pods --------------------------------------------------------------------------------------------------
def owner_reference(kind: str, name: str, api_version: str = "apps/v1") -> JsonObject:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": _owner_uid(kind, name),
        "controller": True,
        "blockOwnerDeletion": True,
    }


@functools.lru_cache(maxsize=65536)
def _owner_uid(kind: str, name: str) -> str:
    return uuid_like("owner", kind, name)


def container_spec(name: str, image: str, requests: dict[str, str], limits: dict[str, str]) -> JsonObject:
    resources: JsonObject = {}
    if requests:
        resources["requests"] = dict(requests)
    if limits:
        resources["limits"] = dict(limits)
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resources,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


@functools.lru_cache(maxsize=256)
def image_id(image: str) -> str:
    return f"{image.split(':')[0]}@sha256:{digest('image', image)}"


def running_status(container: JsonObject, started: datetime, restarts: int = 0, owner_uid: str = "") -> JsonObject:
    # Container ids only need to be unique and stable: derived from the owner's uid when there is one.
    seed = owner_uid.replace("-", "") * 2 if owner_uid else digest("ctr", container["name"], started.isoformat())
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": image_id(container["image"]),
        "containerID": f"containerd://{seed[:60]}{restarts:04x}",
        "ready": True,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": ts(started)}},
        "lastState": {},
    }


def creating_status(container: JsonObject) -> JsonObject:
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
    }


# How the last run of a failing aws-node container ended. The entrypoint exits 1 when validateEnvVars fails.
# When ipamd fails instead, the entrypoint waits for it forever and the liveness probe has the kubelet stop
# the container: the Go entrypoint runs as PID 1, where the runtime's re-raised SIGTERM is ignored, so it
# ends through the runtime's fallback exit(2).
ENTRYPOINT_EXIT_CODE = 1
LIVENESS_KILL_EXIT_CODE = 2


def crashloop_status(
    container: JsonObject, pod_name: str, pod_uid: str, restarts: int, now: datetime, exit_code: int
) -> JsonObject:
    """A container in back-off after failing. No termination message: aws-node writes none to
    /dev/termination-log, and the manifest sets no terminationMessagePolicy (so no FallbackToLogsOnError)."""
    finished = now - timedelta(seconds=20)
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": image_id(container["image"]),
        "containerID": f"containerd://{digest('ctr', pod_name, restarts)}",
        "ready": False,
        "restartCount": restarts,
        "started": False,
        "state": {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": (
                    f"back-off 5m0s restarting failed container={container['name']} "
                    f"pod={pod_name}_kube-system({pod_uid})"
                ),
            }
        },
        "lastState": {
            "terminated": {
                "exitCode": exit_code,
                "reason": "Error",
                "startedAt": ts(finished - timedelta(seconds=3)),
                "finishedAt": ts(finished),
                "containerID": f"containerd://{digest('ctr', pod_name, restarts - 1)}",
            }
        },
    }


def pod_conditions(
    *, scheduled: bool, initialized: bool, ready: bool, sandbox: bool, since: datetime, unschedulable_message: str = ""
) -> list[JsonObject]:
    when = ts(since)
    if not scheduled:
        return [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": unschedulable_message,
                "lastProbeTime": None,
                "lastTransitionTime": when,
            }
        ]
    flag = {True: "True", False: "False"}
    return [
        {
            "type": "PodReadyToStartContainers",
            "status": flag[sandbox],
            "lastProbeTime": None,
            "lastTransitionTime": when,
        },
        {"type": "Initialized", "status": flag[initialized], "lastProbeTime": None, "lastTransitionTime": when},
        {
            "type": "Ready",
            "status": flag[ready],
            "lastProbeTime": None,
            "lastTransitionTime": when,
            **({} if ready else {"reason": "ContainersNotReady", "message": "containers with unready status: [app]"}),
        },
        {
            "type": "ContainersReady",
            "status": flag[ready],
            "lastProbeTime": None,
            "lastTransitionTime": when,
            **({} if ready else {"reason": "ContainersNotReady", "message": "containers with unready status: [app]"}),
        },
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": when},
    ]


def pod_spec_defaults(spec: JsonObject) -> JsonObject:
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("serviceAccount", "default")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault(
        "tolerations",
        [
            {"key": NOT_READY_TAINT, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ],
    )
    return spec


# --- events ------------------------------------------------------------------------------------------------
def core_event(
    *,
    namespace_name: str,
    involved: JsonObject,
    reason: str,
    message: str,
    component: str,
    host: str = "",
    event_type: str = "Warning",
    count: int = 1,
    first: datetime,
    last: datetime,
    key: str = "",
) -> JsonObject:
    """An event recorded through core/v1 (kubelet, controllers on the old API): count and timestamps."""
    source: JsonObject = {"component": component}
    if host:
        source["host"] = host
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved['name']}.{_event_id(key or reason, involved, first)}",
            "namespace": namespace_name,
            "creationTimestamp": ts(first),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source,
        "type": event_type,
        "count": count,
        "firstTimestamp": ts(first),
        "lastTimestamp": ts(last),
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }


def series_event(
    *,
    namespace_name: str,
    involved: JsonObject,
    reason: str,
    message: str,
    reporting_controller: str,
    reporting_instance: str,
    action: str,
    event_type: str = "Warning",
    first: datetime,
    last: datetime,
    count: int = 1,
) -> JsonObject:
    """An event written through events.k8s.io/v1 (scheduler, aws-node), in its core/v1 storage form."""
    event: JsonObject = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{involved['name']}.{_event_id(reason + action, involved, first)}",
            "namespace": namespace_name,
            "creationTimestamp": ts(first),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": {},
        "type": event_type,
        "eventTime": micro_ts(first),
        "reportingComponent": reporting_controller,
        "reportingInstance": reporting_instance,
        "action": action,
    }
    if count > 1:
        event["series"] = {"count": count, "lastObservedTime": micro_ts(last)}
    return event


def involved(
    obj_kind: str, name: str, namespace_name: str, uid: str, api_version: str = "v1", resource_version: str = ""
) -> JsonObject:
    ref: JsonObject = {"apiVersion": api_version, "kind": obj_kind, "name": name, "uid": uid}
    if namespace_name:
        ref["namespace"] = namespace_name
    if resource_version:
        ref["resourceVersion"] = resource_version
    return ref


def _event_id(key: str, ref: JsonObject, first: datetime) -> str:
    return digest("event", key, ref.get("namespace", ""), ref["name"], first.isoformat(), length=16)


# --- custom resources ----------------------------------------------------------------------------------------
def eniconfig(name: str, subnet: str, security_groups: list[str], created: datetime) -> JsonObject:
    spec: JsonObject = {"subnet": subnet}
    if security_groups:
        spec["securityGroups"] = list(security_groups)
    return {
        "apiVersion": "crd.k8s.amazonaws.com/v1alpha1",
        "kind": "ENIConfig",
        "metadata": {"name": name, "creationTimestamp": ts(created)},
        "spec": spec,
    }


def cninode(name: str, features: list[JsonObject], node_uid: str, created: datetime) -> JsonObject:
    return {
        "apiVersion": "vpcresources.k8s.aws/v1alpha1",
        "kind": "CNINode",
        "metadata": {
            "name": name,
            "creationTimestamp": ts(created),
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
        },
        "spec": {"features": features},
        "status": {},
    }
