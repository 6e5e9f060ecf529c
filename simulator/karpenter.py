"""Karpenter in the simulated cluster: NodePool (karpenter.sh/v1) and EC2NodeClass (karpenter.k8s.aws/v1) objects, and
the max-pods Karpenter gives the nodes it launches.

aws/karpenter-provider-aws (commit 1d92708) pkg/providers/instancetype/types.go `pods`: the EC2NodeClass's
spec.kubelet.maxPods when set; else for AMI families with SupportsENILimitedPodDensity (AL2, AL2023, Bottlerocket;
not Windows) ENILimitedPods = (default card's ENIs - reservedENIs) x (IPv4 per ENI - 1) + 2 (0 without a usable ENI);
else 110; then min(podsPerCore x vCPUs, that) when podsPerCore > 0 and the family has PodsPerCoreEnabled (not
Bottlerocket: pkg/providers/amifamily/bottlerocket.go FeatureFlags). reservedENIs is the controller's setting
(pkg/operator/options: --reserved-enis / RESERVED_ENIS), so it lives on the scenario, not on a node class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator import objects
from simulator.instance_types import InstanceType
from simulator.kube.resources import ResourceType

NODEPOOL_LABEL = "karpenter.sh/nodepool"
NODECLASS_LABEL = "karpenter.k8s.aws/ec2nodeclass"
_FAMILIES = {"al2": "AL2", "al2023": "AL2023", "bottlerocket": "Bottlerocket", "windows2022": "Windows2022"}

NODEPOOL_TYPE = ResourceType(
    "karpenter.sh",
    "v1",
    "NodePool",
    "nodepools",
    "nodepool",
    namespaced=False,
    strategic_merge=False,
    tracks_generation=True,
    categories=("karpenter",),
)
EC2NODECLASS_TYPE = ResourceType(
    "karpenter.k8s.aws",
    "v1",
    "EC2NodeClass",
    "ec2nodeclasses",
    "ec2nodeclass",
    namespaced=False,
    short_names=("ec2nc", "ec2ncs"),
    strategic_merge=False,
    tracks_generation=True,
    categories=("karpenter",),
)


@dataclass
class Ec2NodeClassSpec:
    name: str
    ami_family: str = "al2023"  # spec.amiSelectorTerms alias family: al2, al2023, bottlerocket, windows2022
    max_pods: int | None = None  # spec.kubelet.maxPods
    pods_per_core: int | None = None  # spec.kubelet.podsPerCore


@dataclass
class NodePoolSpec:
    name: str
    nodeclass: str


@dataclass
class KarpenterSpec:
    reserved_enis: int = 0  # the controller's --reserved-enis
    nodeclasses: list[Ec2NodeClassSpec] = field(default_factory=list)
    nodepools: list[NodePoolSpec] = field(default_factory=list)

    def nodeclass_of(self, labels: dict[str, str]) -> Ec2NodeClassSpec | None:
        """The EC2NodeClass of a node Karpenter launched (its NodePool's nodeClassRef, or the node's label)."""
        pool = next((p for p in self.nodepools if p.name == labels.get(NODEPOOL_LABEL)), None)
        name = pool.nodeclass if pool else labels.get(NODECLASS_LABEL)
        return next((c for c in self.nodeclasses if c.name == name), None)


def karpenter_max_pods(itype: InstanceType, nodeclass: Ec2NodeClassSpec, reserved_enis: int) -> int:
    family = nodeclass.ami_family.lower()
    if nodeclass.max_pods is not None:
        count = nodeclass.max_pods
    elif not family.startswith("windows"):
        usable = max(itype.default_card_enis - reserved_enis, 0)
        count = 0 if usable == 0 else usable * (itype.ipv4_per_eni - 1) + 2
    else:
        count = 110
    if nodeclass.pods_per_core and nodeclass.pods_per_core > 0 and family != "bottlerocket":
        count = min(nodeclass.pods_per_core * itype.vcpus, count)
    return count


def karpenter_objects(spec: KarpenterSpec, now: datetime) -> list[dict[str, Any]]:
    created = objects.ts(now - timedelta(days=20))
    out: list[dict[str, Any]] = []
    for c in spec.nodeclasses:
        kubelet = {k: v for k, v in (("maxPods", c.max_pods), ("podsPerCore", c.pods_per_core)) if v is not None}
        out.append(
            {
                "apiVersion": "karpenter.k8s.aws/v1",
                "kind": "EC2NodeClass",
                "metadata": _metadata("ec2nodeclass", c.name, created),
                "spec": {
                    "amiSelectorTerms": [{"alias": f"{c.ami_family.lower()}@latest"}],
                    "role": "KarpenterNodeRole",
                    "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
                    "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
                    **({"kubelet": kubelet} if kubelet else {}),
                },
            }
        )
    for p in spec.nodepools:
        out.append(
            {
                "apiVersion": "karpenter.sh/v1",
                "kind": "NodePool",
                "metadata": _metadata("nodepool", p.name, created),
                "spec": {
                    "template": {
                        "spec": {
                            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": p.nodeclass},
                            "requirements": [
                                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                            ],
                        }
                    },
                    "limits": {"cpu": "1000"},
                },
            }
        )
    return out


def _metadata(kind: str, name: str, created: str) -> dict[str, Any]:
    return {"name": name, "uid": objects.uuid_like(kind, name), "creationTimestamp": created}
