"""The simulated EKS add-on catalogue for `vpc-cni` and the images each version runs.

DescribeAddonVersions answers from `CATALOGUE`: which versions EKS offers for a cluster's Kubernetes version and
which one is the default there (the response shape is botocore's `eks` service model: `addons[].addonVersions[]`
with `compatibilities[] {clusterVersion, platformVersions, defaultVersion}`). The versions are real VPC CNI releases;
the image tag of the network policy agent paired with each is the `nodeAgent.image.tag` of the upstream chart
(`charts/aws-vpc-cni/values.yaml`) at that release tag. Which release EKS marks as default is the simulator's own
choice (EKS publishes it only through this API), kept so a stock cluster is one or two minors behind the latest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from simulator.kube.store import KubeStore

JsonObject = dict[str, Any]

# Release -> network policy agent tag (aws/amazon-vpc-cni-k8s, charts/aws-vpc-cni/values.yaml at the tag).
NODE_AGENT_TAGS: dict[str, str] = {
    "v1.18.6": "v1.1.4",
    "v1.19.0": "v1.1.5",
    "v1.19.2": "v1.1.6",
    "v1.19.6": "v1.2.2",
    "v1.20.0": "v1.2.3",
    "v1.20.5": "v1.2.7",
    "v1.21.1": "v1.3.1",
}


@dataclass(frozen=True)
class CatalogueEntry:
    version: str  # the add-on version, e.g. v1.19.2-eksbuild.1
    cluster_versions: tuple[str, ...]
    default_for: tuple[str, ...] = ()

    @property
    def release(self) -> str:
        return self.version.split("-", 1)[0]


_ALL = ("1.29", "1.30", "1.31", "1.32", "1.33")
CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("v1.21.1-eksbuild.1", ("1.30", "1.31", "1.32", "1.33")),
    CatalogueEntry("v1.20.5-eksbuild.1", _ALL, default_for=("1.33",)),
    CatalogueEntry("v1.20.0-eksbuild.1", _ALL),
    CatalogueEntry("v1.19.6-eksbuild.1", _ALL, default_for=("1.30", "1.31", "1.32")),
    CatalogueEntry("v1.19.2-eksbuild.1", _ALL),
    CatalogueEntry("v1.19.0-eksbuild.1", ("1.29", "1.30", "1.31", "1.32")),
    CatalogueEntry("v1.18.6-eksbuild.1", ("1.29", "1.30", "1.31"), default_for=("1.29",)),
)

# Registry account of the EKS images per region (awslabs/amazon-eks-ami, templates/al2/runtime/get-ecr-uri.sh);
# every other commercial region uses 602401143452.
_REGION_ACCOUNTS: dict[str, str] = {
    "af-south-1": "877085696533",
    "ap-east-1": "800184023465",
    "ap-southeast-3": "296578399912",
    "eu-south-1": "590381155156",
    "me-south-1": "558608220178",
    "me-central-1": "759879836304",
    "us-gov-west-1": "013241004608",
    "us-gov-east-1": "151742754352",
    "cn-north-1": "918309763551",
    "cn-northwest-1": "961992271922",
}


def registry(region: str) -> str:
    account = _REGION_ACCOUNTS.get(region, "602401143452")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}"


def images_for(version: str, region: str) -> dict[str, str]:
    """Container name -> image for an add-on version (or a bare release tag), as the chart renders them."""
    release = version.split("-", 1)[0]
    base = registry(region)
    agent = NODE_AGENT_TAGS.get(release, "v1.1.6")
    return {
        "aws-node": f"{base}/amazon-k8s-cni:{version}",
        "aws-vpc-cni-init": f"{base}/amazon-k8s-cni-init:{version}",
        "aws-eks-nodeagent": f"{base}/amazon/aws-network-policy-agent:{agent}-eksbuild.1",
    }


def entry(version: str) -> CatalogueEntry | None:
    return next((e for e in CATALOGUE if e.version == version), None)


def describe_addon_versions(addon_name: str | None, kubernetes_version: str | None) -> dict[str, object]:
    """The DescribeAddonVersions body for `vpc-cni` (the only add-on the simulator knows)."""
    if addon_name not in (None, "", "vpc-cni"):
        return {"addons": []}
    versions = []
    for item in CATALOGUE:
        clusters = [v for v in item.cluster_versions if not kubernetes_version or v == kubernetes_version]
        if not clusters:
            continue
        versions.append(
            {
                "addonVersion": item.version,
                "architecture": ["amd64", "arm64"],
                "computeTypes": ["ec2", "hybrid"],
                "compatibilities": [
                    {"clusterVersion": v, "platformVersions": ["*"], "defaultVersion": v in item.default_for}
                    for v in clusters
                ],
                "requiresConfiguration": False,
                "requiresIamPermissions": True,
            }
        )
    return {
        "addons": [
            {
                "addonName": "vpc-cni",
                "type": "networking",
                "addonVersions": versions,
                "publisher": "eks",
                "owner": "aws",
                "defaultNamespace": "kube-system",
            }
        ]
    }


class _RollsAwsNode(Protocol):
    """The part of `SimCluster` a version change needs."""

    store: KubeStore
    scenario: Any
    lock: Any

    def on_store_write(self, verb: str, before: JsonObject | None, after: JsonObject | None) -> None: ...


def roll_aws_node(sim: _RollsAwsNode, version: str) -> None:
    """What UpdateAddon with a new version does to the cluster: the version's manifest replaces the images (and
    `VPC_CNI_VERSION`, the `app.kubernetes.io/version` label), which rolls aws-node like any template change."""
    images = images_for(version, sim.scenario.region)
    release = version.split("-", 1)[0]
    with sim.lock:
        before = sim.store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")

        def patch(ds: JsonObject) -> None:
            template = ds["spec"]["template"]
            for container in [*template["spec"]["containers"], *template["spec"]["initContainers"]]:
                if container["name"] in images:
                    container["image"] = images[container["name"]]
                for env in container.get("env") or []:
                    if env.get("name") == "VPC_CNI_VERSION":
                        env["value"] = release
            ds["metadata"].setdefault("labels", {})["app.kubernetes.io/version"] = release.lstrip("v")

        after = sim.store.update("apps/v1", "DaemonSet", "kube-system", "aws-node", patch)
        sim.on_store_write("PATCH", before, after)
