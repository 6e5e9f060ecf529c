"""Per-instance-type network limits, as the VPC CNI sees them.

Built from one DescribeInstanceTypes item; the SGP branch-ENI limit is not in that API, so it comes from
a small table of facts taken from the VPC Resource Controller's limits (``pkg/aws/vpc/limits.go``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InstanceLimits:
    instance_type: str
    max_enis: int  # ENIs on the default network card: the only card ipamd manages for pod IPs
    ipv4_per_eni: int  # includes each ENI's primary address
    hypervisor: str = "nitro"  # "nitro", "xen", or "" (bare metal reports none)
    bare_metal: bool = False
    vcpus: int = 0  # 0 = unknown
    network_cards: int = 1
    branch_enis: int | None = None  # SGP branch ENIs; None = type not in our table

    @property
    def supports_prefix_delegation(self) -> bool:
        # ipamd: IsPrefixDelegationSupported() == nitro or bare metal.
        return self.hypervisor == "nitro" or self.bare_metal

    @property
    def trunking(self) -> bool:
        """True when the type is known to accept a trunk ENI (security groups for pods)."""
        return bool(self.branch_enis)

    @property
    def secondary_ips_per_eni(self) -> int:
        """Pod address slots per ENI: every address but the ENI's primary one."""
        return max(self.ipv4_per_eni - 1, 0)

    @classmethod
    def from_describe(cls, item: Mapping[str, Any]) -> InstanceLimits:
        """Build from one ``DescribeInstanceTypes`` ``InstanceTypes[]`` item (boto3 shape)."""
        try:
            instance_type = str(item["InstanceType"])
            network = item["NetworkInfo"]
            ipv4_per_eni = int(network["Ipv4AddressesPerInterface"])
            max_enis = int(network["MaximumNetworkInterfaces"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"DescribeInstanceTypes item lacks network limits: {exc!r}") from exc

        cards = network.get("NetworkCards") or []
        default_index = int(network.get("DefaultNetworkCardIndex", 0))
        for card in cards:
            if int(card.get("NetworkCardIndex", -1)) == default_index:
                # Multi-card types (p5, trn1...): ipamd's pod capacity counts card 0 only.
                max_enis = int(card["MaximumNetworkInterfaces"])
                break

        return cls(
            instance_type=instance_type,
            max_enis=max_enis,
            ipv4_per_eni=ipv4_per_eni,
            hypervisor=str(item.get("Hypervisor", "")),
            bare_metal=bool(item.get("BareMetal", False)),
            vcpus=int(item.get("VCpuInfo", {}).get("DefaultVCpus", 0)),
            network_cards=len(cards) or int(network.get("MaximumNetworkCards", 1)),
            branch_enis=branch_eni_limit(instance_type),
        )


def branch_eni_limit(instance_type: str) -> int | None:
    """SGP branch ENIs for a type: 0 = not trunking compatible, None = not in our table."""
    return BRANCH_ENI_LIMITS.get(instance_type)


def _family(family: str, limits: Mapping[str, int]) -> dict[str, int]:
    return {f"{family}.{size}": limit for size, limit in limits.items()}


def _never_trunking(family: str, *sizes: str) -> dict[str, int]:
    return dict.fromkeys((f"{family}.{size}" for size in sizes), 0)


# Branch-ENI limits, from the VPC Resource Controller's limits.go (the ipamd table does not carry them).
_SMALL = {"large": 9, "xlarge": 18, "2xlarge": 38, "4xlarge": 54}
_GEN5 = {**_SMALL, "8xlarge": 54, "12xlarge": 54}
_GEN6 = {**_SMALL, "8xlarge": 84, "12xlarge": 114}
_BIG = {"16xlarge": 107, "24xlarge": 107}
_T_SIZES = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")

BRANCH_ENI_LIMITS: dict[str, int] = {
    **_family("m5", {**_GEN5, **_BIG, "metal": 120}),
    **_family("r5", {**_GEN5, **_BIG, "metal": 120}),
    **_family("c5", {**_SMALL, "9xlarge": 54, "12xlarge": 54, "18xlarge": 107, "24xlarge": 107, "metal": 107}),
    **_family("m5a", {**_GEN5, **_BIG}),
    **_family("m6i", {**_GEN6, **_BIG, "32xlarge": 107, "metal": 107}),
    **_family("c6i", {**_GEN6, **_BIG, "32xlarge": 107, "metal": 107}),
    **_family("r6i", {**_GEN6, **_BIG, "32xlarge": 107, "metal": 107}),
    **_family("m7i", {**_GEN6, **_BIG, "48xlarge": 107}),
    **_family("m6g", {"medium": 4, **_GEN5, "16xlarge": 107, "metal": 107}),
    "p3dn.24xlarge": 107,
    "p5.48xlarge": 120,
    # Burstable and Xen-era types never accept a trunk ENI.
    **_never_trunking("t2", *_T_SIZES),
    **_never_trunking("t3", *_T_SIZES),
    **_never_trunking("t3a", *_T_SIZES),
    **_never_trunking("t4g", *_T_SIZES),
    **_never_trunking("m4", "large", "xlarge", "2xlarge", "4xlarge", "10xlarge", "16xlarge"),
}
