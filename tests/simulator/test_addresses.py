import pytest

from simulator.addresses import (
    AddressInUse,
    CidrReservation,
    NoFreeAddress,
    NoFreePrefix,
    SubnetAddressSpace,
    int_to_ip,
    ip_to_int,
)


def ips(values: list[int]) -> list[str]:
    return [int_to_ip(v) for v in values]


def test_aws_reserves_first_four_and_last_address() -> None:
    space = SubnetAddressSpace("10.0.1.0/24")
    assert space.available == 251
    assert ips(space.allocate(2)) == ["10.0.1.4", "10.0.1.5"]
    assert space.available == 249


def test_allocation_is_lowest_free_and_reuses_released_addresses() -> None:
    space = SubnetAddressSpace("10.0.1.0/28")
    first = space.allocate(3)
    space.release(first[1])
    assert ips(space.allocate(2)) == ["10.0.1.5", "10.0.1.7"]


def test_exhaustion_is_all_or_nothing_and_never_negative() -> None:
    space = SubnetAddressSpace("10.0.1.0/28")  # 11 usable
    space.allocate(10)
    with pytest.raises(NoFreeAddress):
        space.allocate(2)
    assert space.available == 1
    space.allocate(1)
    assert space.available == 0


def test_prefixes_are_aligned_and_skip_blocks_with_any_used_address() -> None:
    space = SubnetAddressSpace("10.0.1.0/26")
    # block 0 holds AWS-reserved addresses; put one foreign IP in block 1
    space.claim(ip_to_int("10.0.1.20"))
    assert int_to_ip(space.allocate_prefix()) == "10.0.1.32"
    assert space.available == 64 - 5 - 1 - 16


def test_fragmented_subnet_has_free_addresses_but_no_prefix() -> None:
    space = SubnetAddressSpace("10.0.1.0/26")
    for block in (16, 32, 48):
        space.claim(ip_to_int(f"10.0.1.{block + 7}"))
    assert space.available >= 16
    with pytest.raises(NoFreePrefix):
        space.allocate_prefix()


def test_prefix_reservation_is_used_first_and_excluded_from_secondary_ips() -> None:
    space = SubnetAddressSpace("10.0.1.0/24")
    space.reserve(CidrReservation("scr-1", ip_to_int("10.0.1.128"), 26, "prefix"))
    assert int_to_ip(space.allocate_prefix()) == "10.0.1.128"
    space.reserve(CidrReservation("scr-2", ip_to_int("10.0.1.0"), 27, "explicit"))
    assert ips(space.allocate(1)) == ["10.0.1.32"]
    with pytest.raises(AddressInUse):
        space.reserve(CidrReservation("scr-3", ip_to_int("10.0.1.16"), 28, "explicit"))
