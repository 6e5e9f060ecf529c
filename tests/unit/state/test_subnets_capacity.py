"""Subnet views, headroom per zone, PD room in /28 blocks, and warm-pool what-ifs."""

from __future__ import annotations

import pytest

from bot.domain.capacity import LIMIT_ENIS, LIMIT_SUBNET
from bot.domain.capacity_view import capacity_view, parse_warm_env, suggested_warm_env
from bot.domain.state import StateModel
from bot.domain.subnet_view import ROLE_DISCOVERY, ROLE_ENICONFIG, ROLE_EXCLUDED, ROLE_NODES, subnet_views
from tests.factories import (
    eniconfig,
    ips,
    placement,
    snapshot,
    snapshot_daemonset,
    snapshot_eni,
    snapshot_node,
    snapshot_subnet,
)


def _two_zone_cluster(**env: str) -> StateModel:
    """Two m5.large nodes in us-east-2a (subnet-a) and one in us-east-2b (subnet-b), 5 pods each."""
    nodes = [snapshot_node("a1", "i-a1"), snapshot_node("a2", "i-a2"), snapshot_node("b1", "i-b1", az="us-east-2b")]
    enis, pods = [], []
    for n, net, sub in (("a1", "10.0.0", "subnet-a"), ("a2", "10.0.1", "subnet-a"), ("b1", "10.1.0", "subnet-b")):
        iid = f"i-{n}"
        enis.append(
            snapshot_eni(f"eni-{n}-0", sub, instance=iid, device=0, primary=f"{net}.4", secondary=ips(net, 5, 9))
        )
        enis.append(
            snapshot_eni(f"eni-{n}-1", sub, instance=iid, device=1, primary=f"{net}.20", secondary=ips(net, 21, 9))
        )
        pods += [placement(f"{n}-web-{i}", n, f"{net}.{5 + i}") for i in range(5)]
    subnets = {
        "subnet-a": snapshot_subnet("subnet-a", "10.0.0.0/20", free=1000),
        "subnet-b": snapshot_subnet("subnet-b", "10.1.0.0/20", az="us-east-2b", free=5),
        "subnet-pods": snapshot_subnet("subnet-pods", "100.64.0.0/20"),
        "subnet-tagged": snapshot_subnet("subnet-tagged", "10.2.0.0/20", tags={"kubernetes.io/role/cni": "1"}),
        "subnet-excluded": snapshot_subnet("subnet-excluded", "10.3.0.0/20", tags={"kubernetes.io/role/cni": "0"}),
        "subnet-unrelated": snapshot_subnet("subnet-unrelated", "10.4.0.0/20"),
    }
    return StateModel(
        snapshot(
            nodes=nodes,
            enis=enis,
            pods=pods,
            subnets=subnets,
            eniconfigs=[eniconfig("spare", "subnet-pods")],
            daemonset=snapshot_daemonset(ENABLE_SUBNET_DISCOVERY="false", **env),
        )
    )


def test_subnets_in_use_with_their_roles_fullest_first_per_zone() -> None:
    views = subnet_views(_two_zone_cluster())
    roles = {v.subnet.subnet_id: v.roles for v in views}
    assert roles == {
        "subnet-a": (ROLE_NODES,),
        "subnet-b": (ROLE_NODES,),
        "subnet-pods": (ROLE_ENICONFIG,),
        "subnet-tagged": (ROLE_DISCOVERY,),
        "subnet-excluded": (ROLE_EXCLUDED,),
    }
    assert [v.subnet.subnet_id for v in views][0] == "subnet-a"  # us-east-2a, least free first
    only_b = subnet_views(_two_zone_cluster(), az="us-east-2b")
    assert [v.subnet.subnet_id for v in only_b] == ["subnet-b"]


def test_addresses_on_no_swept_eni_are_unattributed() -> None:
    view = next(v for v in subnet_views(_two_zone_cluster()) if v.subnet.subnet_id == "subnet-a")
    # 4091 usable - 1000 free = 3091 used; the sweep shows 2 nodes x 2 ENIs x 10 addresses.
    assert sum(view.holders.values()) == 40 and view.unattributed == 3091 - 40
    assert view.blocks is None  # no prefix delegation


def test_headroom_per_zone_names_the_binding_limit() -> None:
    view = capacity_view(_two_zone_cluster())
    by_az = {row.az: row for row in view.by_az}
    # us-east-2a: 2 nodes with 22 more IPs each before the ENI x IP limit (27 - 5); the subnet has plenty.
    assert (by_az["us-east-2a"].fits, by_az["us-east-2a"].binding) == (44, LIMIT_ENIS)
    # us-east-2b: 13 warm IPs cost nothing; a third ENI needs its 9 IPs + primary at once, more than the 5 free.
    assert (by_az["us-east-2b"].fits, by_az["us-east-2b"].binding) == (13, LIMIT_SUBNET)
    assert view.total.nodes == 3 and view.total.pods == 15 and view.total.ips_unused == 3 * 13
    assert view.total.fits == sum(row.fits for row in view.by_az)


def test_prefix_delegation_counts_only_whole_free_blocks() -> None:
    cidr_used = [f"10.9.0.{16 * block + 9}" for block in range(16)]  # one address in every /28
    nodes = [snapshot_node("n1", "i-1", max_pods=110)]
    enis = [snapshot_eni("eni-1", "subnet-frag", instance="i-1", device=0, primary=cidr_used[1])]
    enis += [snapshot_eni(f"eni-lambda-{i}", "subnet-frag", primary=ip) for i, ip in enumerate(cidr_used) if i != 1]
    model = StateModel(
        snapshot(
            nodes=nodes,
            enis=enis,
            subnets={"subnet-frag": snapshot_subnet("subnet-frag", "10.9.0.0/24", free=251 - 16)},
            daemonset=snapshot_daemonset(ENABLE_PREFIX_DELEGATION="true"),
        )
    )
    view = capacity_view(model)
    assert view.room_in_prefixes and view.total.subnet_free == 0
    assert (view.total.fits, view.total.binding) == (0, LIMIT_SUBNET)
    blocks = subnet_views(model)[0].blocks
    assert blocks is not None and blocks.free == 0 and blocks.fragmented == 14


def test_what_if_suggests_ip_targets_and_says_what_they_free() -> None:
    model = _two_zone_cluster()
    assert suggested_warm_env(model) == {"WARM_IP_TARGET": "2", "MINIMUM_IP_TARGET": "5"}
    what_if = capacity_view(model).what_if
    assert what_if is not None and what_if.chosen_by_bot
    # Each node now holds 2 ENIs (20 addresses); with 5 pods and WARM_IP_TARGET=2 it needs 1 ENI with 7 IPs.
    assert what_if.result.total.freed == 3 * (20 - 8)
    assert {s.subnet_id: s.freed for s in what_if.result.subnets} == {"subnet-a": 24, "subnet-b": 12}


def test_no_suggestion_when_ip_targets_are_set_but_explicit_what_if_works() -> None:
    model = _two_zone_cluster(WARM_IP_TARGET="5", MINIMUM_IP_TARGET="10")
    assert suggested_warm_env(model) is None and capacity_view(model).what_if is None
    asked = capacity_view(model, {"WARM_ENI_TARGET": "1", "WARM_IP_TARGET": "0", "MINIMUM_IP_TARGET": "0"}).what_if
    assert asked is not None and not asked.chosen_by_bot and asked.result.total.needed > 0


def test_warm_env_words_are_parsed_and_checked() -> None:
    assert parse_warm_env(["warm_ip_target=2,MINIMUM_IP_TARGET=10"]) == {
        "WARM_IP_TARGET": "2",
        "MINIMUM_IP_TARGET": "10",
    }
    for bad, message in [
        (["WARM_IP_TARGET"], "is not KEY=VALUE"),
        (["MAX_ENI=2"], "not a warm-pool setting"),
        (["WARM_IP_TARGET=-1"], "WARM_IP_TARGET must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_warm_env(bad)


def test_sgp_branch_use_counts_waiting_pods_anywhere() -> None:
    model = StateModel(
        snapshot(
            nodes=[snapshot_node("n1", "i-1", pod_eni=9)],
            enis=[snapshot_eni("eni-1", "subnet-a", instance="i-1", device=0, primary="10.0.0.4")],
            pods=[placement("sg-1", "n1", "10.0.0.9", branch=True), placement("sg-2", None, None, branch=True)],
            daemonset=snapshot_daemonset(ENABLE_POD_ENI="true"),
        )
    )
    branches = capacity_view(model).branch_enis
    assert branches is not None and (branches.used, branches.allocatable, branches.pods_waiting) == (1, 9, 1)
