"""EC2 instance-type facts the VPC CNI depends on: ENI and IP limits, network cards, hypervisor, vCPUs.

Values are written from the published EC2 instance-type specifications; the branch-ENI counts (security groups
for pods) follow the VPC Resource Controller's limits for the same types (0 = not trunking compatible).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_mib: int
    # ENIs per network card, index = NetworkCardIndex. Single-card types have one entry.
    card_enis: tuple[int, ...]
    ipv4_per_eni: int
    ipv6_per_eni: int
    hypervisor: str  # "nitro", "xen", or "" for bare metal
    bare_metal: bool = False
    branch_enis: int = 0
    default_card: int = 0

    @property
    def max_enis(self) -> int:
        """MaximumNetworkInterfaces: all cards together."""
        return sum(self.card_enis)

    @property
    def default_card_enis(self) -> int:
        """ENIs on the default network card: the N of the max-pods formulas (ipamd manages only this card)."""
        return self.card_enis[self.default_card]

    @property
    def supports_prefix_delegation(self) -> bool:
        return self.hypervisor == "nitro" or self.bare_metal

    @property
    def trunking_compatible(self) -> bool:
        return self.branch_enis > 0

    def standard_max_pods(self) -> int:
        """nodeadm's calculateStandardMaxPods and eni-max-pods.txt: default-card ENIs x (IPs - 1) + 2, uncapped."""
        return self.default_card_enis * (self.ipv4_per_eni - 1) + 2

    def calculator_max_pods(
        self, *, custom_networking: bool = False, prefix_delegation: bool = False, max_eni: int = 0
    ) -> int:
        """AL2's max-pods-calculator.sh: --cni-max-eni, --cni-custom-networking-enabled (one ENI less),
        --cni-prefix-delegation-enabled (x16 on Nitro), + 2, then capped at 110 (<= 30 vCPUs) or 250 in every mode."""
        enis = self.default_card_enis
        if max_eni > 0:
            enis = min(enis, max_eni)
        if custom_networking:
            enis -= 1
        per_eni = self.ipv4_per_eni - 1
        if prefix_delegation and self.supports_prefix_delegation:
            per_eni *= 16
        return min(enis * per_eni + 2, 110 if self.vcpus <= 30 else 250)


# (size, vCPUs, ENIs, IPv4 per ENI, branch ENIs): the ENI/IP steps shared by the m5/m6i/c5/r5 generations.
_Size = tuple[str, int, int, int, int]
_STANDARD_SIZES: list[_Size] = [
    ("large", 2, 3, 10, 9),
    ("xlarge", 4, 4, 15, 18),
    ("2xlarge", 8, 4, 15, 38),
    ("4xlarge", 16, 8, 30, 54),
    ("8xlarge", 32, 8, 30, 54),
    ("12xlarge", 48, 8, 30, 54),
    ("16xlarge", 64, 15, 50, 107),
    ("24xlarge", 96, 15, 50, 107),
]
# m6i: the same ENI/IP steps, but the VPC Resource Controller (pkg/aws/vpc/limits.go) gives the 8xlarge and
# 12xlarge more branch ENIs (84 and 114) than the m5/r5 sizes of the same shape (54).
_M6I_SIZES: list[_Size] = [
    *_STANDARD_SIZES[:4],
    ("8xlarge", 32, 8, 30, 84),
    ("12xlarge", 48, 8, 30, 114),
    *_STANDARD_SIZES[6:],
]
_C5_SIZES: list[_Size] = [
    ("large", 2, 3, 10, 9),
    ("xlarge", 4, 4, 15, 18),
    ("2xlarge", 8, 4, 15, 38),
    ("4xlarge", 16, 8, 30, 54),
    ("9xlarge", 36, 8, 30, 54),
    ("12xlarge", 48, 8, 30, 54),
    ("18xlarge", 72, 15, 50, 107),
    ("24xlarge", 96, 15, 50, 107),
]
_T3_SIZES: list[_Size] = [
    ("nano", 2, 2, 2, 0),
    ("micro", 2, 2, 2, 0),
    ("small", 2, 3, 4, 0),
    ("medium", 2, 3, 6, 0),
    ("large", 2, 3, 12, 0),
    ("xlarge", 4, 4, 15, 0),
    ("2xlarge", 8, 4, 15, 0),
]
_T3_MEMORY_MIB = {"nano": 512, "micro": 1024, "small": 2048, "medium": 4096, "large": 8192}


def _family(prefix: str, sizes: list[_Size], mib_per_vcpu: int, hypervisor: str = "nitro") -> list[InstanceType]:
    types = []
    for size, vcpus, enis, ips, branches in sizes:
        metal = size == "metal"
        types.append(
            InstanceType(
                name=f"{prefix}.{size}",
                vcpus=vcpus,
                memory_mib=vcpus * mib_per_vcpu,
                card_enis=(enis,),
                ipv4_per_eni=ips,
                ipv6_per_eni=ips,
                hypervisor="" if metal else hypervisor,
                bare_metal=metal,
                branch_enis=branches,
            )
        )
    return types


def _build_table() -> dict[str, InstanceType]:
    types = [
        *_family("t3", _T3_SIZES, 4096),
        *_family("m5", [*_STANDARD_SIZES, ("metal", 96, 15, 50, 120)], 4096),
        *_family("m6i", [*_M6I_SIZES, ("32xlarge", 128, 15, 50, 107)], 4096),
        *_family("c5", _C5_SIZES, 2048),
        *_family("r5", _STANDARD_SIZES, 8192),
        # Xen (non-Nitro): prefix delegation unsupported, not trunking compatible.
        *_family("t2", [("medium", 2, 3, 6, 0)], 2048, hypervisor="xen"),
        *_family("m4", [("4xlarge", 16, 8, 30, 0)], 4096, hypervisor="xen"),
        # 32 network cards with 2 ENIs each; ipamd and max-pods only count card 0.
        InstanceType("p5.48xlarge", 192, 2048 * 1024, (2,) * 32, 50, 50, "nitro", branch_enis=120),
    ]
    table = {t.name: t for t in types}
    for size, mib in _T3_MEMORY_MIB.items():
        t = table[f"t3.{size}"]
        table[t.name] = InstanceType(t.name, t.vcpus, mib, t.card_enis, t.ipv4_per_eni, t.ipv6_per_eni, t.hypervisor)
    return dict(sorted(table.items()))


INSTANCE_TYPES: dict[str, InstanceType] = _build_table()


def get_instance_type(name: str) -> InstanceType:
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown instance type {name!r}") from None
