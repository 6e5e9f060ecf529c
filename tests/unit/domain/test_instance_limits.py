from __future__ import annotations

import pytest

from bot.domain.instance_limits import BRANCH_ENI_LIMITS, InstanceLimits, branch_eni_limit

from .limits_fixtures import describe_item, limits


@pytest.mark.parametrize(
    ("instance_type", "max_enis", "ipv4_per_eni", "hypervisor", "bare_metal", "vcpus", "cards", "branch"),
    [
        ("m5.large", 3, 10, "nitro", False, 2, 1, 9),
        ("t3.micro", 2, 2, "nitro", False, 2, 1, 0),
        ("m4.4xlarge", 8, 30, "xen", False, 16, 1, 0),
        ("m5.metal", 15, 50, "", True, 96, 1, 120),
        ("p5.48xlarge", 2, 50, "nitro", False, 192, 32, 120),
    ],
)
def test_from_describe_reads_the_default_card(
    instance_type: str,
    max_enis: int,
    ipv4_per_eni: int,
    hypervisor: str,
    bare_metal: bool,
    vcpus: int,
    cards: int,
    branch: int,
) -> None:
    got = limits(instance_type)
    assert got == InstanceLimits(instance_type, max_enis, ipv4_per_eni, hypervisor, bare_metal, vcpus, cards, branch)


def test_default_card_index_is_honoured() -> None:
    item = describe_item("x.big", 0, 50, cards=[4, 7])
    item["NetworkInfo"]["DefaultNetworkCardIndex"] = 1
    assert InstanceLimits.from_describe(item).max_enis == 7


@pytest.mark.parametrize(
    ("instance_type", "pd", "trunking"),
    [
        ("m5.large", True, True),
        ("t3.medium", True, False),  # Nitro, but burstable types take no trunk ENI
        ("m4.4xlarge", False, False),  # Xen: prefix delegation falls back
        ("t2.medium", False, False),
        ("m5.metal", True, True),  # bare metal reports no hypervisor yet supports PD
    ],
)
def test_capabilities(instance_type: str, pd: bool, trunking: bool) -> None:
    got = limits(instance_type)
    assert got.supports_prefix_delegation is pd
    assert got.trunking is trunking


@pytest.mark.parametrize(
    ("instance_type", "branch"),
    [
        ("m5.large", 9),
        ("m5.xlarge", 18),
        ("m5.4xlarge", 54),
        ("c5.4xlarge", 54),
        ("m5.24xlarge", 107),
        ("m5.metal", 120),
        ("m6i.12xlarge", 114),
        ("c5.9xlarge", 54),
        ("r5.large", 9),
        ("t3.medium", 0),
        ("t4g.large", 0),
        ("x9.unknown", None),
    ],
)
def test_branch_eni_limits(instance_type: str, branch: int | None) -> None:
    assert branch_eni_limit(instance_type) == branch


def test_unknown_type_is_not_claimed_trunking() -> None:
    item = describe_item("x9.unknown", 4, 15)
    got = InstanceLimits.from_describe(item)
    assert got.branch_enis is None and got.trunking is False


def test_branch_table_has_no_invented_sizes() -> None:
    # c5 has no 8xlarge/16xlarge sizes; the table must not carry them.
    assert "c5.8xlarge" not in BRANCH_ENI_LIMITS and "c5.16xlarge" not in BRANCH_ENI_LIMITS


def test_missing_network_info_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="network limits"):
        InstanceLimits.from_describe({"InstanceType": "m5.large"})
