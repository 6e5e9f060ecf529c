from __future__ import annotations

import ipaddress
import random
import time

import pytest

from bot.domain.fragmentation import BlockState, analyse_prefix_blocks


def addresses(network: str) -> list[str]:
    return [str(ip) for ip in ipaddress.ip_network(network)]


def test_every_block_state_in_a_slash_24() -> None:
    used = [
        "10.0.0.1",  # AWS-reserved address (the VPC router): never counted
        "10.0.0.5",  # in block 0, which is AWS-reserved anyway
        "10.0.0.20",  # block 1: fragmented
        *addresses("10.0.0.32/28"),  # block 2: full
        "10.0.0.70",  # block 4: inside the reservation
        "10.0.0.20",  # duplicate
        "10.0.1.5",  # outside the subnet
        "not-an-ip",
        "fe80::1",
    ]
    report = analyse_prefix_blocks(
        "10.0.0.0/24", used, prefixes=["10.0.0.48/28", "10.9.0.0/28"], reservations=["10.0.0.64/27"]
    )
    assert report.total_blocks == 16
    assert (report.free, report.fragmented, report.full) == (9, 1, 1)
    assert (report.reserved, report.prefix_allocated, report.aws_reserved) == (2, 1, 2)
    assert report.reserved_free == 1  # 10.0.0.80/28 is reserved and untouched
    assert report.score == 19  # ceil(2 / 11 x 100)
    assert report.used_ips == 19
    assert report.free_ips == 256 - 5 - 19 - 16
    assert report.blocks[:6] == (
        BlockState.AWS_RESERVED,
        BlockState.FRAGMENTED,
        BlockState.FULL,
        BlockState.PREFIX_ALLOCATED,
        BlockState.RESERVED,
        BlockState.RESERVED,
    )
    assert report.blocks[-1] is BlockState.AWS_RESERVED
    assert report.severity == "healthy"


@pytest.mark.parametrize(
    ("used", "score", "severity"),
    [
        ([], 0, "healthy"),
        (["10.0.0.20"], 50, "medium"),  # 1 of 2 candidate blocks fragmented
        (["10.0.0.20", "10.0.0.40"], 100, "critical"),
        (addresses("10.0.0.16/28") + addresses("10.0.0.32/28"), 100, "exhausted"),
    ],
)
def test_score_and_severity(used: list[str], score: int, severity: str) -> None:
    report = analyse_prefix_blocks("10.0.0.0/26", used, [], [])  # blocks 1 and 2 are candidates
    assert (report.score, report.severity) == (score, severity)


def test_score_rounds_up() -> None:
    used = ["10.0.0.20"]  # 1 fragmented among 14 candidates of a /24: 7.14% -> 8
    assert analyse_prefix_blocks("10.0.0.0/24", used, [], []).score == 8


def test_no_candidate_block() -> None:
    report = analyse_prefix_blocks("10.0.0.0/28", [], [], [])
    assert (report.total_blocks, report.aws_reserved, report.score, report.severity) == (1, 1, None, "n/a")
    assert report.free_ips == 11


def test_subnets_below_a_slash_28_and_ipv6_are_refused() -> None:
    with pytest.raises(ValueError):
        analyse_prefix_blocks("10.0.0.0/29", [], [], [])
    with pytest.raises(ValueError):
        analyse_prefix_blocks("2001:db8::/64", [], [], [])


def test_large_prefix_reservation_marks_all_its_blocks() -> None:
    report = analyse_prefix_blocks("10.0.0.0/22", [], [], ["10.0.2.0/23", "10.0.0.0/30"])
    # The /23 is the upper half (32 blocks); AWS-reserved blocks (last of the subnet, and block 0 under the
    # /30) keep that state.
    assert (report.reserved, report.reserved_free, report.aws_reserved, report.free) == (31, 31, 2, 31)


@pytest.mark.parametrize("run", range(3))
def test_slash_16_with_60k_addresses_is_fast(run: int) -> None:
    base = int(ipaddress.IPv4Address("10.1.0.0"))
    rng = random.Random(run)
    used = [str(ipaddress.IPv4Address(base + offset)) for offset in rng.sample(range(65536), 60_000)]
    started = time.perf_counter()
    report = analyse_prefix_blocks("10.1.0.0/16", used, ["10.1.0.16/28"], ["10.1.200.0/24"])
    elapsed = time.perf_counter() - started
    assert report.total_blocks == 4096
    assert report.free + report.fragmented + report.full + report.reserved + report.prefix_allocated + 2 == 4096
    # A guard against quadratic behaviour, not a figure (bench figures come from bench/): ~45 ms when quiet.
    assert elapsed < 1.0, f"{elapsed * 1000:.0f} ms"
