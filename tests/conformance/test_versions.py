"""Where the VPC CNI's images live and which network policy agent each release ships with: bot and simulator,
each against the upstream facts (never against each other).

- eks-ami `templates/al2/runtime/get-ecr-uri.sh` (at ff03e27b, before AL2 support was removed): the registry
  account per region, 602401143452 for the other commercial regions, `amazonaws.com.cn` in China.
- amazon-vpc-cni-k8s `charts/aws-vpc-cni/templates/_helpers.tpl` (`aws-vpc-cni.image`, `.initImage`,
  `.nodeAgentImage`): `<account>.dkr.ecr.<region>.<domain>/amazon-k8s-cni:<tag>`, `amazon-k8s-cni-init`,
  `amazon/aws-network-policy-agent`; `charts/aws-vpc-cni/values.yaml` at each release tag: `nodeAgent.image.tag`.
"""

from __future__ import annotations

import pytest

from bot.domain import versions as bot_versions
from simulator import addons as sim_addons

REGISTRY_ROWS = [
    ("us-east-2", "602401143452.dkr.ecr.us-east-2.amazonaws.com"),
    ("eu-west-1", "602401143452.dkr.ecr.eu-west-1.amazonaws.com"),
    ("af-south-1", "877085696533.dkr.ecr.af-south-1.amazonaws.com"),
    ("ap-east-1", "800184023465.dkr.ecr.ap-east-1.amazonaws.com"),
    ("me-south-1", "558608220178.dkr.ecr.me-south-1.amazonaws.com"),
    ("eu-south-1", "590381155156.dkr.ecr.eu-south-1.amazonaws.com"),
    ("us-gov-west-1", "013241004608.dkr.ecr.us-gov-west-1.amazonaws.com"),
    ("cn-north-1", "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn"),
]

AGENT_ROWS = [("1.18.6", "v1.1.4"), ("1.19.2", "v1.1.6"), ("1.20.0", "v1.2.3"), ("1.21.1", "v1.3.1")]


@pytest.mark.parametrize(("region", "registry"), REGISTRY_ROWS)
def test_registry_of_the_region(region: str, registry: str) -> None:
    assert bot_versions.ecr_registry(region) == registry
    assert sim_addons.registry(region) == registry


@pytest.mark.parametrize(("release", "agent"), AGENT_ROWS)
def test_network_policy_agent_paired_with_each_release(release: str, agent: str) -> None:
    assert bot_versions.NODE_AGENT_TAG[release] == agent
    assert sim_addons.NODE_AGENT_TAGS[f"v{release}"] == agent


def test_image_repositories_of_the_three_containers() -> None:
    base = "602401143452.dkr.ecr.us-west-2.amazonaws.com"
    expected = {
        "aws-node": f"{base}/amazon-k8s-cni:",
        "aws-vpc-cni-init": f"{base}/amazon-k8s-cni-init:",
        "aws-eks-nodeagent": f"{base}/amazon/aws-network-policy-agent:",
    }
    bot_images = bot_versions.self_managed_images("1.20.0", "us-west-2") or {}
    sim_images = sim_addons.images_for("v1.20.0", "us-west-2")
    for name, prefix in expected.items():
        assert bot_images[name].startswith(prefix)
        assert sim_images[name].startswith(prefix)
