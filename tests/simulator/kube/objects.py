"""Realistic, schema-complete Kubernetes objects for the fake API server's tests.

The kubernetes client 37 validates responses with pydantic, so every required field is present.
"""

from __future__ import annotations

import zlib
from typing import Any

ECR = "602401143452.dkr.ecr.us-west-2.amazonaws.com"
VPC_CNI_IMAGE = f"{ECR}/amazon-k8s-cni:v1.19.2-eksbuild.1"
NETWORK_POLICY_AGENT_IMAGE = f"{ECR}/amazon/aws-network-policy-agent:v1.1.6"


def make_node(name: str, *, zone: str = "us-west-2a", instance_type: str = "m5.large") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": instance_type,
                "topology.kubernetes.io/zone": zone,
            },
        },
        "spec": {"providerID": f"aws:///{zone}/i-{zlib.crc32(name.encode()):017x}"},
        "status": {
            "capacity": {"cpu": "2", "memory": "7974828Ki", "pods": "29"},
            "allocatable": {"cpu": "1930m", "memory": "7285676Ki", "pods": "29"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": "2026-11-28T03:00:00Z",
                    "lastTransitionTime": "2026-11-28T02:00:00Z",
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "10.0.1.17"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "b1",
                "containerRuntimeVersion": "containerd://1.7.25",
                "kernelVersion": "6.1.128",
                "kubeProxyVersion": "v1.31.4-eks-aeac579",
                "kubeletVersion": "v1.31.4-eks-aeac579",
                "machineID": "m1",
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.6.20250203",
                "systemUUID": "ec2aa7b1",
            },
        },
    }


def make_pod(
    name: str,
    *,
    namespace: str = "default",
    node: str | None = "ip-10-0-1-17.us-west-2.compute.internal",
    phase: str = "Running",
    labels: dict[str, str] | None = None,
    containers: tuple[str, ...] = ("app",),
    log: str | dict[str, str] | None = None,
) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "web"}},
        "spec": {
            "containers": [
                {
                    "name": container,
                    "image": "public.ecr.aws/nginx/nginx:1.27",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                }
                for container in containers
            ],
            "restartPolicy": "Always",
            "serviceAccountName": "default",
        },
        "status": {"phase": phase},
    }
    if node:
        pod["spec"]["nodeName"] = node
    if phase == "Running":
        pod["status"].update({"podIP": "10.0.1.33", "hostIP": "10.0.1.17", "startTime": "2026-11-28T03:00:00Z"})
    if log is not None:
        pod["_log"] = log
    return pod


def make_aws_node_pod(name: str, node: str) -> dict[str, Any]:
    pod = make_pod(
        name,
        namespace="kube-system",
        node=node,
        labels={"k8s-app": "aws-node"},
        containers=("aws-node", "aws-eks-nodeagent"),
        log={"aws-node": "ipamd started\nwarm pool ok\n", "aws-eks-nodeagent": "agent up\n"},
    )
    pod["spec"]["hostNetwork"] = True
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}]
    pod["spec"]["initContainers"] = [{"name": "aws-vpc-cni-init", "image": VPC_CNI_IMAGE}]
    return pod


def make_event(
    name: str,
    *,
    involved: dict[str, Any],
    reason: str = "FailedCreatePodSandBox",
    message: str = 'Failed to create pod sandbox: plugin type="aws-cni" failed (add): add cmd: failed to '
    "assign an IP address to container",
    namespace: str = "default",
    event_type: str = "Warning",
    count: int = 3,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": event_type,
        "count": count,
        "firstTimestamp": "2026-11-28T03:00:00Z",
        "lastTimestamp": "2026-11-28T03:05:00Z",
        "source": {"component": "kubelet", "host": "ip-10-0-1-17.us-west-2.compute.internal"},
    }


def involved_pod(pod: dict[str, Any]) -> dict[str, Any]:
    meta = pod["metadata"]
    return {
        "kind": "Pod",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": "v1",
        "resourceVersion": meta["resourceVersion"],
    }


def make_aws_node_daemonset() -> dict[str, Any]:
    env = [
        {"name": "ADDITIONAL_ENI_TAGS", "value": "{}"},
        {"name": "AWS_VPC_CNI_NODE_PORT_SUPPORT", "value": "true"},
        {"name": "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "value": "false"},
        {"name": "ENABLE_PREFIX_DELEGATION", "value": "false"},
        {"name": "WARM_ENI_TARGET", "value": "1"},
        {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "aws-node", "namespace": "kube-system", "labels": {"k8s-app": "aws-node"}},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "aws-node"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "aws-node"}},
                "spec": {
                    "hostNetwork": True,
                    "serviceAccountName": "aws-node",
                    "priorityClassName": "system-node-critical",
                    "initContainers": [
                        {
                            "name": "aws-vpc-cni-init",
                            "image": VPC_CNI_IMAGE.replace("amazon-k8s-cni:", "amazon-k8s-cni-init:"),
                            "env": [{"name": "DISABLE_TCP_EARLY_DEMUX", "value": "false"}],
                            "securityContext": {"privileged": True},
                        }
                    ],
                    "containers": [
                        {
                            "name": "aws-node",
                            "image": VPC_CNI_IMAGE,
                            "env": env,
                            "ports": [{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}],
                            "volumeMounts": [
                                {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
                                {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
                            ],
                        },
                        {
                            "name": "aws-eks-nodeagent",
                            "image": NETWORK_POLICY_AGENT_IMAGE,
                        },
                    ],
                    "volumes": [
                        {"name": "cni-bin-dir", "hostPath": {"path": "/opt/cni/bin"}},
                        {"name": "cni-net-dir", "hostPath": {"path": "/etc/cni/net.d"}},
                    ],
                    "tolerations": [{"operator": "Exists"}],
                },
            },
        },
        "status": {
            "currentNumberScheduled": 3,
            "desiredNumberScheduled": 3,
            "numberAvailable": 3,
            "numberMisscheduled": 0,
            "numberReady": 3,
            "observedGeneration": 1,
            "updatedNumberScheduled": 3,
        },
    }


def make_eniconfig(zone: str, subnet: str = "subnet-0a1b2c3d4e5f60718") -> dict[str, Any]:
    return {
        "apiVersion": "crd.k8s.amazonaws.com/v1alpha1",
        "kind": "ENIConfig",
        "metadata": {"name": zone},
        "spec": {"subnet": subnet, "securityGroups": ["sg-0123456789abcdef0"]},
    }


def make_cninode(node: str) -> dict[str, Any]:
    return {
        "apiVersion": "vpcresources.k8s.aws/v1alpha1",
        "kind": "CNINode",
        "metadata": {"name": node},
        "spec": {"features": [{"name": "SecurityGroupsForPods"}]},
    }


def make_security_group_policy(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "vpcresources.k8s.aws/v1beta1",
        "kind": "SecurityGroupPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "securityGroups": {"groupIds": ["sg-0f00"]}},
    }
