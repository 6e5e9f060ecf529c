"""Which nodes the VPC CNI's aws-node serves, from the node's labels.

The aws-node DaemonSet's nodeAffinity (config/master/aws-k8s-cni.yaml in aws/amazon-vpc-cni-k8s) keeps it off
Windows nodes, off architectures other than amd64/arm64, and off nodes labelled eks.amazonaws.com/compute-type
fargate, hybrid or auto: on those, pod addresses come from Fargate, the node's own CNI, EKS Auto Mode or the VPC
resource controller, and nothing about ipamd's pool applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"
OS_LABEL = "kubernetes.io/os"
ARCH_LABEL = "kubernetes.io/arch"
FARGATE_SCHEDULER = "fargate-scheduler"
WINDOWS_IP_RESOURCE = "vpc.amazonaws.com/PrivateIPv4Address"


class NodeShape(StrEnum):
    EC2 = "ec2"  # aws-node and ipamd serve it
    FARGATE = "fargate"
    AUTO = "auto"  # EKS Auto Mode
    HYBRID = "hybrid"  # EKS Hybrid Nodes
    WINDOWS = "windows"


_BY_COMPUTE_TYPE = {"fargate": NodeShape.FARGATE, "auto": NodeShape.AUTO, "hybrid": NodeShape.HYBRID}


def node_shape(labels: Mapping[str, str]) -> NodeShape:
    shape = _BY_COMPUTE_TYPE.get(labels.get(COMPUTE_TYPE_LABEL, ""))
    if shape is not None:
        return shape
    if labels.get(OS_LABEL) == "windows":
        return NodeShape.WINDOWS
    return NodeShape.EC2


def aws_node_runs_on(labels: Mapping[str, str]) -> bool:
    """The manifest's nodeAffinity: os linux, arch amd64 or arm64, compute-type not fargate, hybrid or auto.
    Nodes without the os/arch labels are given the benefit of the doubt (every kubelet sets them)."""
    if labels.get(COMPUTE_TYPE_LABEL) in _BY_COMPUTE_TYPE:
        return False
    if labels.get(OS_LABEL, "linux") != "linux":
        return False
    return labels.get(ARCH_LABEL, "amd64") in ("amd64", "arm64")
