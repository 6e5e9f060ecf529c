from __future__ import annotations

import pytest

from bot.domain.capacity import (
    LIMIT_ENIS,
    LIMIT_MAX_PODS,
    LIMIT_SUBNET,
    NodeCapacity,
    NodeUsage,
    PoolState,
    WarmSettings,
    headroom,
    max_pods,
    pod_ip_capacity,
    steady_state_pool,
    what_if,
)
from bot.domain.instance_limits import InstanceLimits

from .limits_fixtures import describe_item, limits

# --- max pods (cni-reference 4.1 / 4.2) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "secondary", "custom_networking", "prefix_delegation"),
    [
        ("t3.micro", 4, 3, 34),
        ("t3.small", 11, 8, 110),
        ("t3.medium", 17, 12, 110),
        ("m5.large", 29, 20, 110),
        ("m5.xlarge", 58, 44, 110),
        ("c5.4xlarge", 234, 205, 110),
        ("m4.4xlarge", 234, 205, 234),  # Xen: PD falls back to secondary IPs
        ("m5.24xlarge", 737, 688, 250),
        ("m5.metal", 737, 688, 250),
        ("p5.48xlarge", 100, 51, 250),  # card 0 only: 2 ENIs x 50
    ],
)
def test_max_pods_matches_published_values(
    instance_type: str, secondary: int, custom_networking: int, prefix_delegation: int
) -> None:
    type_limits = limits(instance_type)
    assert max_pods(type_limits) == secondary
    assert max_pods(type_limits, custom_networking=True) == custom_networking
    assert max_pods(type_limits, prefix_delegation=True) == prefix_delegation


@pytest.mark.parametrize(
    ("instance_type", "custom_networking", "expected"),
    [
        ("m5.large", False, 434),  # 3 x 9 x 16 + 2
        ("m5.large", True, 290),  # (3 - 1) x 9 x 16 + 2
        ("m5.24xlarge", False, 11762),
        ("p5.48xlarge", False, 1570),
    ],
)
def test_uncapped_prefix_delegation(instance_type: str, custom_networking: bool, expected: int) -> None:
    got = max_pods(limits(instance_type), prefix_delegation=True, custom_networking=custom_networking, cap=False)
    assert got == expected


@pytest.mark.parametrize(("max_eni", "expected"), [(None, 29), (0, 29), (-1, 29), (2, 20), (1, 11), (10, 29)])
def test_max_eni_lowers_the_eni_count(max_eni: int | None, expected: int) -> None:
    assert max_pods(limits("m5.large"), max_eni=max_eni) == expected


def test_high_cpu_cap_is_by_vcpu_count() -> None:
    boundary = InstanceLimits.from_describe(describe_item("x.30", 8, 30, vcpus=30))
    above = InstanceLimits.from_describe(describe_item("x.32", 8, 30, vcpus=32))
    assert max_pods(boundary, prefix_delegation=True) == 110
    assert max_pods(above, prefix_delegation=True) == 250


# --- pod IP capacity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance_type", "options", "expected"),
    [
        ("m5.large", {}, 27),
        ("m5.large", {"custom_networking": True}, 18),
        ("m5.large", {"sgp_trunk": True}, 18),
        ("m5.large", {"sgp_trunk": True, "custom_networking": True}, 9),
        ("m5.large", {"prefix_delegation": True}, 432),
        ("m5.large", {"max_eni": 2}, 18),
        ("m5.large", {"unmanaged_enis": 1}, 18),
        ("t3.medium", {"sgp_trunk": True}, 15),  # not trunking compatible: no slot taken
        ("m4.4xlarge", {"prefix_delegation": True}, 232),  # Xen: secondary IPs
        ("t3.micro", {"custom_networking": True, "sgp_trunk": True, "unmanaged_enis": 3}, 0),
    ],
)
def test_pod_ip_capacity(instance_type: str, options: dict[str, object], expected: int) -> None:
    arguments: dict[str, object] = {
        "custom_networking": False,
        "prefix_delegation": False,
        "max_eni": None,
        "sgp_trunk": False,
    }
    arguments.update(options)
    assert pod_ip_capacity(limits(instance_type), **arguments) == expected  # type: ignore[arg-type]


def test_unknown_type_reserves_a_trunk_slot_like_ipamd() -> None:
    unknown = InstanceLimits.from_describe(describe_item("x9.large", 3, 10))
    capacity = pod_ip_capacity(unknown, custom_networking=False, prefix_delegation=False, max_eni=None, sgp_trunk=True)
    assert capacity == 18


# --- warm pool model (cni-reference 4.3) ------------------------------------------------------------------

ENI_TARGET = WarmSettings()
PD = WarmSettings(prefix_delegation=True, warm_prefix_target=1)


@pytest.mark.parametrize(
    ("instance_type", "settings", "pods", "max_pods_value", "enis", "total", "prefixes", "unused", "subnet"),
    [
        # WARM_ENI_TARGET=1 (docs/eni-and-ip-target.md, t3.small table)
        ("t3.small", ENI_TARGET, 0, 11, 1, 3, 0, 3, 4),
        ("t3.small", ENI_TARGET, 5, 11, 3, 9, 0, 4, 12),
        ("t3.small", ENI_TARGET, 9, 11, 3, 9, 0, 0, 12),
        # m5.large with one pod: 2 ENIs, 18 IPs, subnet cost 20 (BPG)
        ("m5.large", ENI_TARGET, 1, 29, 2, 18, 0, 17, 20),
        ("p3dn.24xlarge", ENI_TARGET, 3, 737, 2, 98, 0, 95, 100),
        ("p3dn.24xlarge", ENI_TARGET, 95, 737, 3, 147, 0, 52, 150),
        # WARM_IP_TARGET=2, MINIMUM_IP_TARGET=5
        ("t3.small", WarmSettings(warm_ip_target=2, minimum_ip_target=5), 0, 11, 2, 5, 0, 5, 7),
        ("t3.small", WarmSettings(warm_ip_target=2, minimum_ip_target=5), 5, 11, 3, 7, 0, 2, 10),
        ("t3.small", WarmSettings(warm_ip_target=2, minimum_ip_target=5), 9, 11, 3, 9, 0, 0, 12),
        ("p3dn.24xlarge", WarmSettings(warm_ip_target=5, minimum_ip_target=10), 7, 737, 1, 12, 0, 5, 13),
        ("p3dn.24xlarge", WarmSettings(warm_ip_target=5, minimum_ip_target=10), 45, 737, 2, 50, 0, 5, 52),
        # README: 30 pods
        ("p3dn.24xlarge", WarmSettings(warm_ip_target=30), 30, 737, 2, 60, 0, 30, 62),
        ("p3dn.24xlarge", WarmSettings(warm_ip_target=2, minimum_ip_target=30), 30, 737, 1, 32, 0, 2, 33),
        # Prefix delegation, WARM_PREFIX_TARGET=1
        ("t3.small", PD, 0, 110, 1, 16, 1, 16, 17),
        ("t3.small", PD, 5, 110, 1, 32, 2, 27, 33),
        ("t3.small", PD, 17, 110, 1, 48, 3, 31, 49),
        ("t3.small", PD, 58, 110, 2, 80, 5, 22, 82),
        # Prefix delegation with WARM_IP_TARGET=1, MINIMUM_IP_TARGET=1
        (
            "t3.small",
            WarmSettings(prefix_delegation=True, warm_ip_target=1, minimum_ip_target=1),
            5,
            110,
            1,
            16,
            1,
            11,
            17,
        ),
        (
            "t3.small",
            WarmSettings(prefix_delegation=True, warm_ip_target=1, minimum_ip_target=1),
            58,
            110,
            2,
            64,
            4,
            6,
            66,
        ),
    ],
)
def test_steady_state_reproduces_documented_examples(
    instance_type: str,
    settings: WarmSettings,
    pods: int,
    max_pods_value: int,
    enis: int,
    total: int,
    prefixes: int,
    unused: int,
    subnet: int,
) -> None:
    pool = steady_state_pool(limits(instance_type), settings, pods, max_pods_value)
    assert (pool.enis, pool.total_ips, pool.prefixes, pool.unused_ips, pool.subnet_ips) == (
        enis,
        total,
        prefixes,
        unused,
        subnet,
    )


@pytest.mark.parametrize(
    ("instance_type", "settings", "pods", "max_pods_value", "total", "limited_by"),
    [
        ("t3.small", ENI_TARGET, 9, 11, 9, LIMIT_ENIS),  # every ENI full
        ("t3.small", PD, 100, 110, 112, LIMIT_MAX_PODS),  # 7 prefixes reach max-pods: the warm prefix is skipped
        ("m5.large", ENI_TARGET, 15, 20, 27, None),  # whole-ENI growth may overshoot max-pods, as in ipamd
        ("m5.large", ENI_TARGET, 20, 20, 20, LIMIT_MAX_PODS),  # total >= max-pods: no warm ENI
        ("m5.large", WarmSettings(warm_ip_target=5), 18, 20, 23, None),  # the whole shortfall is allocated
        ("m5.large", WarmSettings(warm_ip_target=5), 20, 20, 20, LIMIT_MAX_PODS),
    ],
)
def test_growth_stops_at_max_pods_or_eni_limit(
    instance_type: str, settings: WarmSettings, pods: int, max_pods_value: int, total: int, limited_by: str | None
) -> None:
    pool = steady_state_pool(limits(instance_type), settings, pods, max_pods_value)
    assert (pool.total_ips, pool.limited_by) == (total, limited_by)


def test_minimum_without_warm_ip_freezes_at_the_floor() -> None:
    pool = steady_state_pool(limits("t3.small"), WarmSettings(minimum_ip_target=5), 5, 11)
    assert (pool.total_ips, pool.unused_ips) == (5, 0)


def test_warm_eni_target_zero_grows_only_when_empty() -> None:
    small = limits("t3.small")
    assert steady_state_pool(small, WarmSettings(warm_eni_target=0), 2, 11).total_ips == 3
    assert steady_state_pool(small, WarmSettings(warm_eni_target=0), 3, 11).total_ips == 6


@pytest.mark.parametrize(
    ("settings", "pods", "enis", "total"),
    [
        (WarmSettings(custom_networking=True), 0, 2, 9),  # primary serves no pods: a second ENI at once
        (WarmSettings(custom_networking=True), 18, 3, 18),
        (WarmSettings(sgp_trunk=True), 0, 2, 9),  # primary + trunk
        (WarmSettings(sgp_trunk=True), 18, 3, 18),  # the trunk slot caps growth at two pod ENIs
        (WarmSettings(max_eni=1), 9, 1, 9),
    ],
)
def test_primary_trunk_and_max_eni_shape_the_pool(settings: WarmSettings, pods: int, enis: int, total: int) -> None:
    pool = steady_state_pool(limits("m5.large"), settings, pods, 29)
    assert (pool.enis, pool.total_ips) == (enis, total)


def test_pd_on_xen_falls_back_to_secondary_ips() -> None:
    pool = steady_state_pool(limits("m4.4xlarge"), PD, 1, 234)
    assert (pool.prefixes, pool.total_ips) == (0, 58)


# --- what-if --------------------------------------------------------------------------------------------

TYPES = {name: limits(name) for name in ("m5.large", "t3.small")}


def test_what_if_per_subnet_and_total() -> None:
    nodes = [
        NodeUsage("a1", "m5.large", "subnet-a", 1, 29),
        NodeUsage("a2", "m5.large", "subnet-a", 10, 29),
        NodeUsage("b1", "t3.small", "subnet-b", 5, 11),
        NodeUsage("x1", "z9.huge", "subnet-b", 5, 11),
    ]
    proposed = WarmSettings(warm_ip_target=2, minimum_ip_target=5)
    result = what_if(nodes, WarmSettings(), proposed, TYPES)

    by_name = {node.name: node for node in result.nodes}
    assert by_name["a1"].now.subnet_ips == 20 and by_name["a1"].proposed.subnet_ips == 6
    assert by_name["a2"].now.subnet_ips == 30 and by_name["a2"].proposed.subnet_ips == 14  # 12 IPs on 2 ENIs
    assert by_name["b1"].delta == -2  # 12 -> 10
    subnets = {subnet.subnet_id: subnet for subnet in result.subnets}
    assert (subnets["subnet-a"].held_now, subnets["subnet-a"].held_proposed) == (50, 20)
    assert subnets["subnet-a"].freed == 30 and subnets["subnet-a"].needed == 0
    assert (subnets["subnet-a"].unused_now, subnets["subnet-a"].unused_proposed) == (34, 6)
    assert result.total.held_now == 62 and result.total.held_proposed == 30 and result.total.nodes == 3
    assert result.unknown_instance_types == ("z9.huge",)


def test_what_if_reports_addresses_needed() -> None:
    nodes = [NodeUsage("a1", "m5.large", "subnet-a", 1, 29)]
    result = what_if(nodes, WarmSettings(warm_ip_target=1), WarmSettings(warm_eni_target=2), TYPES)
    assert result.total.needed == 27 and result.total.freed == 0  # 3 addresses -> 3 ENIs x 10


# --- headroom -------------------------------------------------------------------------------------------


def node(
    name: str,
    *,
    az: str = "az-a",
    subnet: str = "subnet-a",
    instance_type: str = "m5.large",
    pods: int,
    assigned: int,
    max_pods_value: int = 29,
    pool: PoolState | None = None,
) -> NodeCapacity:
    return NodeCapacity(name, az, subnet, limits(instance_type), pods, assigned, max_pods_value, pool)


def test_full_node_is_bound_by_max_pods() -> None:
    result = headroom([node("n1", pods=29, assigned=27)], {"subnet-a": 1000}, WarmSettings())
    assert result.fits == 0 and result.nodes[0].binding == LIMIT_MAX_PODS


def test_max_pods_above_ip_capacity_binds_on_eni_limits() -> None:
    result = headroom([node("n1", pods=22, assigned=20, max_pods_value=110)], {"subnet-a": 1000}, WarmSettings())
    assert (result.fits, result.binding) == (7, LIMIT_ENIS)
    assert (result.nodes[0].max_pods_room, result.nodes[0].ip_room) == (88, 7)


def test_subnet_shortage_uses_warm_ips_first_and_a_new_eni_comes_whole() -> None:
    # One pod on an m5.large: 17 warm IPs cost nothing; with WARM_ENI_TARGET the third ENI asks for its 9 IPs + its
    # primary in one CreateNetworkInterface (awsutils.go createENI, no one-IP retry): 5 free addresses buy none.
    result = headroom([node("n1", pods=3, assigned=1)], {"subnet-a": 5}, WarmSettings())
    assert result.fits == 17 and result.binding == LIMIT_SUBNET
    assert result.by_az[0].node_room == 26 and result.by_az[0].subnet_free_ips == 5


def test_nodes_share_one_subnet() -> None:
    nodes = [node("n1", pods=3, assigned=1), node("n2", pods=3, assigned=1)]
    result = headroom(nodes, {"subnet-a": 12}, WarmSettings())
    assert [n.fits for n in result.nodes] == [26, 17]  # 17 warm each; 10 addresses buy a whole ENI, 2 buy none
    assert result.fits == 43 and result.by_az[0].binding == LIMIT_SUBNET


def test_with_ip_targets_a_new_eni_asks_for_what_the_targets_lack() -> None:
    # WARM_IP_TARGET=2: a new ENI comes with 2 IPs (+ its primary), then grows an IP at a time.
    settings = WarmSettings(warm_eni_target=0, warm_ip_target=2)
    full = PoolState(enis=1, total_ips=9, prefixes=0, unused_ips=0, subnet_ips=10)
    result = headroom([node("n1", pods=11, assigned=9, pool=full)], {"subnet-a": 5}, settings)
    assert result.fits == 4
    assert headroom([node("n1", pods=11, assigned=9, pool=full)], {"subnet-a": 2}, settings).fits == 0


def test_prefix_delegation_buys_whole_prefixes() -> None:
    small = node("n1", instance_type="t3.small", pods=10, assigned=8, max_pods_value=110)
    result = headroom([small], {"subnet-a": 40}, PD)
    # 24 warm (2 prefixes, 8 used); the last free slot costs 16; a new ENI's first prefix costs 17.
    assert result.fits == 56 and result.binding == LIMIT_SUBNET


def test_measured_pool_overrides_the_model() -> None:
    measured = PoolState(enis=3, total_ips=27, prefixes=0, unused_ips=26, subnet_ips=30)
    result = headroom([node("n1", pods=3, assigned=1, pool=measured)], {"subnet-a": 0}, WarmSettings())
    assert result.fits == 26


def test_per_az_and_unknown_subnets() -> None:
    nodes = [
        node("a", az="az-a", subnet="subnet-a", pods=3, assigned=1),
        node("b", az="az-b", subnet="subnet-b", pods=20, assigned=18, max_pods_value=110),
        node("c", az="az-c", subnet="subnet-c", pods=29, assigned=27),
    ]
    result = headroom(nodes, {"subnet-a": 0, "subnet-c": 50}, WarmSettings())
    by_az = {az.availability_zone: az for az in result.by_az}
    assert (by_az["az-a"].fits, by_az["az-a"].binding) == (17, LIMIT_SUBNET)
    assert (by_az["az-b"].fits, by_az["az-b"].binding, by_az["az-b"].subnet_free_ips) == (9, LIMIT_ENIS, None)
    assert (by_az["az-c"].fits, by_az["az-c"].binding) == (0, LIMIT_MAX_PODS)
    assert result.fits == 26 and result.unknown_subnets == ("subnet-b",)
    assert result.binding == LIMIT_SUBNET  # three-way tie: the scarcest resource is named


def test_empty_cluster() -> None:
    result = headroom([], {}, WarmSettings())
    assert (result.fits, result.binding, result.by_az) == (0, LIMIT_MAX_PODS, ())
