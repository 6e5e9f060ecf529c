import pytest

from simulator.instance_types import INSTANCE_TYPES, get_instance_type


@pytest.mark.parametrize(
    ("name", "enis", "ips", "standard", "calculator", "custom_net", "pd"),
    [
        ("t3.micro", 2, 2, 4, 4, 3, 34),
        ("t3.small", 3, 4, 11, 11, 8, 110),
        ("t3.medium", 3, 6, 17, 17, 12, 110),
        ("m5.large", 3, 10, 29, 29, 20, 110),
        ("m5.xlarge", 4, 15, 58, 58, 44, 110),
        ("m5.4xlarge", 8, 30, 234, 110, 110, 110),
        ("c5.4xlarge", 8, 30, 234, 110, 110, 110),
        ("m5.24xlarge", 15, 50, 737, 250, 250, 250),
        ("m5.metal", 15, 50, 737, 250, 250, 250),
        ("p5.48xlarge", 2, 50, 100, 100, 51, 250),
    ],
)
def test_limits_and_max_pods_match_the_reference_table(
    name: str, enis: int, ips: int, standard: int, calculator: int, custom_net: int, pd: int
) -> None:
    """standard: eni-max-pods.txt and nodeadm (uncapped); the rest: AL2's max-pods-calculator.sh (capped)."""
    itype = get_instance_type(name)
    assert (itype.default_card_enis, itype.ipv4_per_eni) == (enis, ips)
    assert itype.standard_max_pods() == standard
    assert itype.calculator_max_pods() == calculator
    assert itype.calculator_max_pods(custom_networking=True) == custom_net
    assert itype.calculator_max_pods(prefix_delegation=True) == pd


def test_non_nitro_types_fall_back_from_prefix_delegation() -> None:
    for name in ("t2.medium", "m4.4xlarge"):
        itype = get_instance_type(name)
        assert itype.hypervisor == "xen" and not itype.supports_prefix_delegation
        assert itype.calculator_max_pods(prefix_delegation=True) == itype.calculator_max_pods()


def test_required_families_are_present() -> None:
    wanted = [f"t3.{s}" for s in ("micro", "small", "medium", "large", "xlarge", "2xlarge")]
    wanted += [f"m5.{s}" for s in ("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge", "metal")]
    wanted += ["m6i.32xlarge", "c5.24xlarge", "r5.24xlarge", "t2.medium", "m4.4xlarge", "p5.48xlarge"]
    assert set(wanted) <= set(INSTANCE_TYPES)
    assert get_instance_type("m5.metal").bare_metal
    assert get_instance_type("p5.48xlarge").max_enis == 64
    assert get_instance_type("m5.large").branch_enis == 9
    assert get_instance_type("t3.medium").branch_enis == 0
