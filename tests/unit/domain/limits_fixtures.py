"""DescribeInstanceTypes items (boto3 shape) and InstanceLimits for the types the reference tabulates."""

from __future__ import annotations

from typing import Any

from bot.domain.instance_limits import InstanceLimits


def describe_item(
    instance_type: str,
    enis: int,
    ips_per_eni: int,
    *,
    vcpus: int = 2,
    hypervisor: str | None = "nitro",
    bare_metal: bool = False,
    cards: list[int] | None = None,
) -> dict[str, Any]:
    """One ``InstanceTypes[]`` item; ``cards`` gives each network card's ENI limit (card 0 is the default)."""
    network: dict[str, Any] = {
        "MaximumNetworkInterfaces": sum(cards) if cards else enis,
        "Ipv4AddressesPerInterface": ips_per_eni,
        "DefaultNetworkCardIndex": 0,
        "MaximumNetworkCards": len(cards) if cards else 1,
        "NetworkCards": [
            {"NetworkCardIndex": index, "MaximumNetworkInterfaces": limit}
            for index, limit in enumerate(cards or [enis])
        ],
    }
    item: dict[str, Any] = {
        "InstanceType": instance_type,
        "NetworkInfo": network,
        "BareMetal": bare_metal,
        "VCpuInfo": {"DefaultVCpus": vcpus},
    }
    if hypervisor is not None:
        item["Hypervisor"] = hypervisor
    return item


ITEMS = {
    "t3.micro": describe_item("t3.micro", 2, 2),
    "t3.small": describe_item("t3.small", 3, 4),
    "t3.medium": describe_item("t3.medium", 3, 6),
    "t2.medium": describe_item("t2.medium", 3, 6, hypervisor="xen"),
    "m5.large": describe_item("m5.large", 3, 10),
    "m5.xlarge": describe_item("m5.xlarge", 4, 15, vcpus=4),
    "c5.4xlarge": describe_item("c5.4xlarge", 8, 30, vcpus=16),
    "m4.4xlarge": describe_item("m4.4xlarge", 8, 30, vcpus=16, hypervisor="xen"),
    "m5.24xlarge": describe_item("m5.24xlarge", 15, 50, vcpus=96),
    "m5.metal": describe_item("m5.metal", 15, 50, vcpus=96, hypervisor=None, bare_metal=True),
    "p3dn.24xlarge": describe_item("p3dn.24xlarge", 15, 50, vcpus=96),
    # 64 ENIs over 32 cards, but only card 0's two ENIs serve pods.
    "p5.48xlarge": describe_item("p5.48xlarge", 2, 50, vcpus=192, cards=[2] + [2] * 31),
}


def limits(instance_type: str) -> InstanceLimits:
    return InstanceLimits.from_describe(ITEMS[instance_type])
