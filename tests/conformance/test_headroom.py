"""Conformance: how many more pods a node with a full pool gets from a short subnet, by /cni capacity's headroom
and by the simulator's ipamd, pods arriving one at a time.

Upstream: an ENI with room takes one IP when the full request fails (pkg/ipamd/ipamd.go tryAssignIPs); a new ENI
comes from one CreateNetworkInterface with all it asks for (pkg/awsutils/awsutils.go createENI; how much:
ipamd.go GetENIResourcesToAllocate), plus its own primary address, and no retry for less.
"""

from __future__ import annotations

import pytest

from bot.domain.capacity import NodeCapacity, PoolState, headroom
from bot.domain.cni_settings import effective_settings
from bot.domain.diagnosis.view import STOCK_ENV
from tests.conformance.world import SubnetSpec, World, WorldSpec, build

ROWS = [
    # (aws-node env, free addresses in the node subnet, more pods that get an IP)
    ({}, 5, 0),  # WARM_ENI_TARGET: a new ENI needs 9 IPs + its primary at once
    ({}, 12, 9),  # one whole ENI; the 2 left buy nothing
    ({"WARM_IP_TARGET": "2", "WARM_ENI_TARGET": "0"}, 5, 4),  # an ENI with 2 IPs, then one IP at a time
    ({"WARM_IP_TARGET": "2", "WARM_ENI_TARGET": "0"}, 2, 0),  # the new ENI's 2 IPs + primary do not fit
]


def _world(env: dict[str, str], free: int) -> World:
    spec = WorldSpec((SubnetSpec("node", "10.0.0.0/20", free=free),), env={"ENABLE_SUBNET_DISCOVERY": "false", **env})
    world = build(spec)
    for i in range(9):  # the primary ENI's 9 IPs all in use
        assert world.ipamd.assign(f"default/old-{i}") is not None
    return world


def _simulator_more_pods(world: World) -> int:
    for i in range(40):
        key = f"default/new-{i}"
        if world.ipamd.assign(key) is None:
            world.ipamd.converge()
            if world.ipamd.assign(key) is None:
                return i
        world.ipamd.converge()
    return 40


@pytest.mark.parametrize(("env", "free", "more"), ROWS)
def test_bot(env: dict[str, str], free: int, more: int) -> None:
    world = _world(env, free)
    view = world.view()
    assert view.instance is not None
    node = NodeCapacity(
        name="n",
        availability_zone="us-east-2a",
        subnet_id="node",
        limits=view.instance,
        pods=11,
        assigned_ips=9,
        max_pods=110,
        pool=PoolState(enis=1, total_ips=9, prefixes=0, unused_ips=0, subnet_ips=10),
    )
    settings = effective_settings({**STOCK_ENV, **env}).warm()
    assert headroom([node], {"node": free}, settings).fits == more


@pytest.mark.parametrize(("env", "free", "more"), ROWS)
def test_simulator(env: dict[str, str], free: int, more: int) -> None:
    assert _simulator_more_pods(_world(env, free)) == more
