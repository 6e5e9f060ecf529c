"""The aws-node and kube-proxy DaemonSets of the simulated cluster: their pod templates as the EKS manifest
writes them, env and image edits, the revision hash and status, in the shape the kubernetes client validates.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from simulator.awsnode import CNI_IMAGE_TAG
from simulator.objects import ECR, KUBE_PROXY_TAG, METRICS_PORT, NETWORK_POLICY_AGENT_TAG, digest, ts

JsonObject = dict[str, Any]


def env_list(env: dict[str, str]) -> list[JsonObject]:
    entries: list[JsonObject] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    entries.append(
        {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}
    )
    entries.append(
        {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
    )
    return entries


def env_from_daemonset(daemonset: JsonObject) -> dict[str, str]:
    """Literal env values of the aws-node container (valueFrom entries resolve per pod and are skipped)."""
    for container in daemonset.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
        if container.get("name") == "aws-node":
            return {e["name"]: str(e.get("value", "")) for e in container.get("env") or [] if "valueFrom" not in e}
    return {}


def with_images(template: JsonObject, images: dict[str, str]) -> JsonObject:
    """The pod template with its containers' images replaced by name (init containers included)."""
    spec = template["spec"]
    for container in [*spec.get("containers", []), *spec.get("initContainers", [])]:
        if container.get("name") in images:
            container["image"] = images[container["name"]]
    return template


def images_of(template: JsonObject | None) -> dict[str, str]:
    spec = (template or {}).get("spec") or {}
    return {
        str(c.get("name")): str(c.get("image", ""))
        for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    }


def aws_node_template(env: dict[str, str], image_tag: str = CNI_IMAGE_TAG) -> JsonObject:
    """The pod template of the aws-node DaemonSet as the upstream manifest ships it."""
    return {
        "metadata": {
            "labels": {
                "app.kubernetes.io/instance": "aws-vpc-cni",
                "app.kubernetes.io/name": "aws-node",
                "k8s-app": "aws-node",
            }
        },
        "spec": {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
                                    {
                                        "key": "eks.amazonaws.com/compute-type",
                                        "operator": "NotIn",
                                        "values": ["fargate", "hybrid", "auto"],
                                    },
                                ]
                            }
                        ]
                    }
                }
            },
            "containers": [
                {
                    "name": "aws-node",
                    "image": f"{ECR}/amazon-k8s-cni:{image_tag}",
                    "imagePullPolicy": "IfNotPresent",
                    "env": env_list(env),
                    "ports": [{"containerPort": METRICS_PORT, "name": "metrics", "protocol": "TCP"}],
                    "livenessProbe": _probe(60),
                    "readinessProbe": _probe(1),
                    "resources": {"requests": {"cpu": "25m"}},
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "volumeMounts": [
                        {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
                        {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
                        {"mountPath": "/host/var/log/aws-routed-eni", "name": "log-dir"},
                        {"mountPath": "/var/run/aws-node", "name": "run-dir"},
                        {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                    ],
                },
                {
                    "name": "aws-eks-nodeagent",
                    "image": f"{ECR}/amazon/aws-network-policy-agent:{NETWORK_POLICY_AGENT_TAG}",
                    "imagePullPolicy": "IfNotPresent",
                    "args": [
                        "--enable-ipv6=false",
                        "--enable-network-policy=false",
                        "--enable-cloudwatch-logs=false",
                        "--metrics-bind-addr=:8162",
                        "--health-probe-bind-addr=:8163",
                        "--conntrack-cache-cleanup-period=300",
                    ],
                    "env": [
                        {
                            "name": "MY_NODE_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
                        }
                    ],
                    "resources": {"requests": {"cpu": "25m"}},
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "privileged": True},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                },
            ],
            "initContainers": [
                {
                    "name": "aws-vpc-cni-init",
                    "image": f"{ECR}/amazon-k8s-cni-init:{image_tag}",
                    "imagePullPolicy": "IfNotPresent",
                    "env": [
                        {"name": "DISABLE_TCP_EARLY_DEMUX", "value": "false"},
                        {"name": "ENABLE_IPv6", "value": "false"},
                    ],
                    "resources": {"requests": {"cpu": "25m"}},
                    "securityContext": {"privileged": True},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "volumeMounts": [{"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"}],
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "serviceAccount": "aws-node",
            "serviceAccountName": "aws-node",
            "terminationGracePeriodSeconds": 10,
            "tolerations": [{"operator": "Exists"}],
            "volumes": [
                {"hostPath": {"path": "/opt/cni/bin", "type": ""}, "name": "cni-bin-dir"},
                {"hostPath": {"path": "/etc/cni/net.d", "type": ""}, "name": "cni-net-dir"},
                {"hostPath": {"path": "/var/log/aws-routed-eni", "type": "DirectoryOrCreate"}, "name": "log-dir"},
                {"hostPath": {"path": "/var/run/aws-node", "type": "DirectoryOrCreate"}, "name": "run-dir"},
                {"hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}, "name": "xtables-lock"},
            ],
        },
    }


def _probe(initial_delay: int) -> JsonObject:
    return {
        "exec": {
            "command": [
                "/app/grpc-health-probe",
                "-addr=127.0.0.1:50051",
                "-connect-timeout=5s",
                "-rpc-timeout=5s",
            ]
        },
        "failureThreshold": 3,
        "initialDelaySeconds": initial_delay,
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 10,
    }


def revision_hash(template: JsonObject) -> str:
    """controller-revision-hash of a pod template (stable for identical templates)."""
    return digest(json.dumps(template, sort_keys=True), length=10)


def daemonset(
    name: str,
    template: JsonObject,
    *,
    created: datetime,
    desired: int,
    ready: int,
    updated: int,
    generation: int = 1,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> JsonObject:
    selector = {"k8s-app": template["metadata"]["labels"]["k8s-app"]}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "labels": labels or {"k8s-app": selector["k8s-app"]},
            "annotations": {"deprecated.daemonset.template.generation": str(generation), **(annotations or {})},
            "generation": generation,
            "creationTimestamp": ts(created),
        },
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector},
            "template": template,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"}},
        },
        "status": daemonset_status(desired=desired, ready=ready, updated=updated, generation=generation),
    }


def daemonset_status(*, desired: int, ready: int, updated: int, generation: int) -> JsonObject:
    return {
        "currentNumberScheduled": desired,
        "desiredNumberScheduled": desired,
        "numberAvailable": ready,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberUnavailable": desired - ready,
        "observedGeneration": generation,
        "updatedNumberScheduled": updated,
    }


def kube_proxy_template() -> JsonObject:
    return {
        "metadata": {"labels": {"k8s-app": "kube-proxy"}},
        "spec": {
            "containers": [
                {
                    "name": "kube-proxy",
                    "image": f"{ECR}/eks/kube-proxy:{KUBE_PROXY_TAG}",
                    "command": [
                        "kube-proxy",
                        "--v=2",
                        "--config=/var/lib/kube-proxy-config/config",
                        "--hostname-override=$(NODE_NAME)",
                    ],
                    "env": [
                        {
                            "name": "NODE_NAME",
                            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
                        }
                    ],
                    "resources": {"requests": {"cpu": "100m"}},
                    "securityContext": {"privileged": True},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "serviceAccountName": "kube-proxy",
            "tolerations": [{"operator": "Exists"}],
        },
    }
