"""Conformance: which ENIs and subnets ipamd uses, pinned to upstream and run against BOTH the bot and the simulator.

Each row names the upstream function (aws/amazon-vpc-cni-k8s) whose behaviour it pins, a world, and what ipamd
does in it: whether it may attach another ENI (hasRoomForEni), whether the pool grows when it is short, and in
which subnet the next ENI is created. The simulator's ipamd acts on the world; the bot's diagnosis view predicts
from the same world read as facts. Neither may pass by agreeing with the other: both must match the row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from bot.domain.eni_rules import eni_is_leaked, leaked_eni_sweep_for
from simulator.awsnode import MANIFEST_ENV, parse_env
from simulator.leaked_enis import sweep_leaked_enis
from simulator.model import Ec2Model
from tests.conformance.world import EniSpec, SubnetSpec, World, WorldSpec, build

NODE = SubnetSpec("node", "10.0.0.0/20", free=3000)
NO_MANAGE = {"node.k8s.amazonaws.com/no_manage": "true"}
MINE = {"node.k8s.amazonaws.com/instance_id": "{instance}"}
OFF = {"ENABLE_SUBNET_DISCOVERY": "false"}
WANT_12 = {"WARM_IP_TARGET": "12"}


@dataclass(frozen=True)
class Row:
    upstream: str  # file: function
    world: WorldSpec
    room: bool  # ipamd may attach another ENI
    grows: bool  # the short pool gains addresses
    next_eni: str | None  # the subnet the new ENI is created in (None: no new ENI)


def node_subnet(free: int, cni: str | None = None) -> SubnetSpec:
    return SubnetSpec("node", "10.0.0.0/20", free=free, tags={"kubernetes.io/role/cni": cni} if cni else {})


def pods(name: str, cidr: str, free: int, *, az: str = "us-east-2a", cni: str | None = None, **tags: str) -> SubnetSpec:
    """A subnet besides the node's; ``cni`` is its kubernetes.io/role/cni tag, ``tags`` any other."""
    all_tags = {**tags, **({"kubernetes.io/role/cni": cni} if cni is not None else {})}
    return SubnetSpec(name, cidr, free=free, tags=all_tags, az=az)


ROWS: dict[str, Row] = {
    # --- item 1: unmanaged ENIs count once ------------------------------------------------------------------
    "unmanaged ENI leaves room for a managed one": Row(
        "pkg/ipamd/ipamd.go: filterUnmanagedENIs, hasRoomForEni",
        WorldSpec((NODE,), (EniSpec("node", 2, NO_MANAGE, ""),), {"WARM_IP_TARGET": "12"}),
        room=True,
        grows=True,
        next_eni="node",
    ),
    "unmanaged ENI and two managed ENIs fill an m5.large": Row(
        "pkg/ipamd/ipamd.go: hasRoomForEni (maxENI - unmanagedENI)",
        WorldSpec((NODE,), (EniSpec("node", 9, MINE), EniSpec("node", 2, NO_MANAGE, "")), {"WARM_IP_TARGET": "25"}),
        room=False,
        grows=False,
        next_eni=None,
    ),
    "no_manage=false is managed": Row(
        "pkg/ipamd/ipamd.go: setUnmanagedENIs",
        WorldSpec((NODE,), (EniSpec("node", 0, {"node.k8s.amazonaws.com/no_manage": "false"}, ""),), WANT_12),
        room=True,
        grows=True,
        next_eni=None,
    ),
    "untagged ENI is unmanaged with MANAGE_UNTAGGED_ENI=false": Row(
        "pkg/ipamd/ipamd.go: setUnmanagedENIs (enableManageUntaggedMode)",
        WorldSpec((NODE,), (EniSpec("node", 0, {}, ""),), {"WARM_IP_TARGET": "12", "MANAGE_UNTAGGED_ENI": "false"}),
        room=True,
        grows=True,
        next_eni="node",
    ),
    # --- item 2: one more IP when the full request fails -----------------------------------------------------
    "3 free addresses still feed an ENI with room": Row(
        "pkg/ipamd/ipamd.go: tryAssignIPs (Try to just get one more IP)",
        WorldSpec((node_subnet(3),), (), {"WARM_IP_TARGET": "9", **OFF}, primary_secondaries=5),
        room=True,
        grows=True,
        next_eni=None,
    ),
    "0 free addresses stop it, and no new ENI is tried without discovery": Row(
        "pkg/ipamd/ipamd.go: tryAssignIPs, increaseDatastorePool",
        WorldSpec((node_subnet(0),), (), {"WARM_IP_TARGET": "9", **OFF}, primary_secondaries=5),
        room=True,
        grows=False,
        next_eni=None,
    ),
    "with discovery a failed ENI moves on to a new ENI in a tagged subnet": Row(
        "pkg/ipamd/ipamd.go: tryAssignIPs (useSubnetDiscovery: continue), increaseDatastorePool",
        WorldSpec(
            (node_subnet(0), pods("pods", "100.64.0.0/24", 100, cni="1")),
            (),
            {"WARM_IP_TARGET": "9"},
            primary_secondaries=5,
        ),
        room=True,
        grows=True,
        next_eni="pods",
    ),
    # --- item 3: subnet discovery ---------------------------------------------------------------------------
    "any non-empty value but 0 opts a subnet in": Row(
        "pkg/awsutils/awsutils.go: isSubnetValidForENICreation",
        WorldSpec(
            (node_subnet(2), pods("pods", "100.64.0.0/24", 100, cni="true")),
            env={"WARM_IP_TARGET": "12"},
        ),
        room=True,
        grows=True,
        next_eni="pods",
    ),
    "a subnet scoped to another cluster is not used": Row(
        "pkg/awsutils/awsutils.go: ValidSubnetTagsMatchingClusterName",
        WorldSpec(
            (
                node_subnet(2),
                pods(
                    "pods",
                    "100.64.0.0/24",
                    100,
                    cni="1",
                    **{"cni.networking.k8s.aws/cluster/other": "1"},
                ),
            ),
            env={"WARM_IP_TARGET": "12", "CLUSTER_NAME": "mine"},
        ),
        room=True,
        grows=False,
        next_eni=None,
    ),
    "a subnet scoped to this cluster is used": Row(
        "pkg/awsutils/awsutils.go: ValidSubnetTagsMatchingClusterName",
        WorldSpec(
            (
                node_subnet(2),
                pods(
                    "pods",
                    "100.64.0.0/24",
                    100,
                    cni="1",
                    **{"cni.networking.k8s.aws/cluster/other": "1", "cni.networking.k8s.aws/cluster/mine": "1"},
                ),
            ),
            env={"WARM_IP_TARGET": "12", "CLUSTER_NAME": "mine"},
        ),
        room=True,
        grows=True,
        next_eni="pods",
    ),
    "without CLUSTER_NAME cluster tags are ignored": Row(
        "pkg/awsutils/awsutils.go: ValidSubnetTagsMatchingClusterName (CLUSTER_NAME is not set)",
        WorldSpec(
            (
                node_subnet(2),
                pods(
                    "pods",
                    "100.64.0.0/24",
                    100,
                    cni="1",
                    **{"cni.networking.k8s.aws/cluster/other": "1"},
                ),
            ),
            env={"WARM_IP_TARGET": "12", "CLUSTER_NAME": ""},
        ),
        room=True,
        grows=True,
        next_eni="pods",
    ),
    "a primary subnet tagged 0 gets no new ENI without discovery": Row(
        "pkg/awsutils/awsutils.go: createENI, IsSubnetExcluded",
        WorldSpec((node_subnet(3000, cni="0"),), env={"WARM_IP_TARGET": "12", **OFF}),
        room=True,
        grows=False,
        next_eni=None,
    ),
    "a primary subnet tagged 0 is excluded with discovery, its ENI too": Row(
        "pkg/ipamd/ipamd.go: excludedENIBasedOnSubnetTags; pkg/awsutils/awsutils.go: isSubnetValidForENICreation",
        WorldSpec(
            (
                node_subnet(3000, cni="0"),
                pods("pods", "100.64.0.0/24", 100, cni="1"),
            ),
            env={"WARM_IP_TARGET": "3"},
        ),
        room=True,
        grows=True,
        next_eni="pods",
    ),
    "an untagged secondary subnet is not used, however free": Row(
        "pkg/awsutils/awsutils.go: isSubnetValidForENICreation (secondary subnets require explicit opt-in)",
        WorldSpec((node_subnet(50), pods("other", "100.64.0.0/24", 200)), env={"WARM_IP_TARGET": "12"}),
        room=True,
        grows=True,
        next_eni="node",
    ),
    "valid subnets are tried most free first": Row(
        "pkg/awsutils/awsutils.go: GetVpcSubnets (sort by AvailableIpAddressCount)",
        WorldSpec(
            (
                node_subnet(2),
                pods("a", "100.64.0.0/24", 100, cni="1"),
                pods("b", "100.64.1.0/24", 200, cni="1"),
            ),
            env={"WARM_IP_TARGET": "12"},
        ),
        room=True,
        grows=True,
        next_eni="b",
    ),
    "only subnets of the node's zone": Row(
        "pkg/awsutils/awsutils.go: GetVpcSubnets (availability-zone filter)",
        WorldSpec(
            (node_subnet(2), pods("elsewhere", "100.64.0.0/24", 200, az="us-east-2b", cni="1")),
            env={"WARM_IP_TARGET": "12"},
        ),
        room=True,
        grows=False,
        next_eni=None,
    ),
    # --- item 10: excluded ENIs --------------------------------------------------------------------------------
    "an ENI in an excluded subnet serves no pods but takes an ENI slot": Row(
        "pkg/ipamd/ipamd.go: hasRoomForEni (excludedENI), datastore GetAllocatableENIs (IsExcludedForPodIPs)",
        WorldSpec(
            (NODE, pods("old", "100.64.0.0/24", 100, cni="0")),
            (EniSpec("old", 9, MINE),),
            {"WARM_IP_TARGET": "12"},
        ),
        room=True,
        grows=True,
        next_eni="node",
    ),
    "excluded ENIs still fill the ENI limit": Row(
        "pkg/ipamd/ipamd.go: hasRoomForEni (excluded ENIs on both sides)",
        WorldSpec(
            (NODE, pods("old", "100.64.0.0/24", 100, cni="0")),
            (EniSpec("old", 9, MINE), EniSpec("old", 9, MINE)),
            {"WARM_IP_TARGET": "12"},
        ),
        room=False,
        grows=False,
        next_eni=None,
    ),
}


def bot_next_eni(world: World) -> str | None:
    """Where the bot says the next ENI goes: none while an ENI with room can still take an address."""
    growth = world.view().growth_subnets
    if any(not g.new_eni and not g.short for g in growth):
        return None
    first = next((g for g in growth if g.new_eni and not g.short), None)
    return world.subnet_name(first.subnet.subnet_id) if first else None


@pytest.mark.parametrize("name", list(ROWS))
def test_bot(name: str) -> None:
    row = ROWS[name]
    world = build(row.world)
    view = world.view()
    assert view.eni_room is row.room, row.upstream
    assert world.bot_would_grow() is row.grows, row.upstream
    assert bot_next_eni(world) == row.next_eni, row.upstream


@pytest.mark.parametrize("name", list(ROWS))
def test_simulator(name: str) -> None:
    row = ROWS[name]
    world = build(row.world)
    assert world.sim_has_room_for_eni() is row.room, row.upstream
    gained, new_enis = world.sim_grow()
    assert (gained > 0) is row.grows, (row.upstream, world.ipamd.last_error)
    assert (new_enis[0] if new_enis else None) == row.next_eni, (row.upstream, world.ipamd.last_error)


def test_excluded_eni_addresses_leave_the_pool_in_both() -> None:
    """datastore GetIPStats skips excluded ENIs: their 9 IPs are not in the pool."""
    world = build(ROWS["an ENI in an excluded subnet serves no pods but takes an ENI slot"].world)
    pool = world.view().pool
    assert pool is not None and pool.total == 9
    assert world.ipamd.total_ips() == 9


# --- item 6: the leaked-ENI sweep ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRow:
    upstream: str
    description: str
    tags: dict[str, str]
    env: dict[str, str]
    deleted: bool


OLD = {"node.k8s.amazonaws.com/instance_id": "i-gone", "node.k8s.amazonaws.com/createdAt": "2025-12-31T22:00:00Z"}
SWEPT_OFF = "pkg/ipamd/ipamd.go: disableLeakedENICleanup"
SWEEP: dict[str, SweepRow] = {
    "tag and description: deleted": SweepRow(
        "pkg/awsutils/awsutils.go: getLeakedENIs", "aws-K8S-i-gone", OLD, {}, True
    ),
    "description only: kept": SweepRow(
        "pkg/awsutils/awsutils.go: getLeakedENIs (tag-key filter)",
        "aws-K8S-i-gone",
        {"node.k8s.amazonaws.com/createdAt": "2025-12-31T22:00:00Z"},
        {},
        False,
    ),
    "tag only: kept": SweepRow(
        "pkg/awsutils/awsutils.go: getLeakedENIs (description prefix)", "my eni", OLD, {}, False
    ),
    "cluster tag of another cluster: kept": SweepRow(
        "pkg/awsutils/awsutils.go: getLeakedENIs (cluster tag filter)",
        "aws-K8S-i-gone",
        {**OLD, "cluster.k8s.amazonaws.com/name": "other"},
        {"CLUSTER_NAME": "mine"},
        False,
    ),
    "cluster tag of this cluster: deleted": SweepRow(
        "pkg/awsutils/awsutils.go: getLeakedENIs (cluster tag filter)",
        "aws-K8S-i-gone",
        {**OLD, "cluster.k8s.amazonaws.com/name": "mine"},
        {"CLUSTER_NAME": "mine"},
        True,
    ),
    "IPv6 cluster: no sweep": SweepRow(
        "pkg/ipamd/ipamd.go: disableLeakedENICleanup",
        "aws-K8S-i-gone",
        OLD,
        {"ENABLE_IPv6": "true", "ENABLE_IPv4": "false"},
        False,
    ),
    "DISABLE_NETWORK_RESOURCE_PROVISIONING: no sweep": SweepRow(
        SWEPT_OFF, "aws-K8S-i-gone", OLD, {"DISABLE_NETWORK_RESOURCE_PROVISIONING": "true"}, False
    ),
    "ENABLE_IMDS_ONLY_MODE: no sweep": SweepRow(
        SWEPT_OFF, "aws-K8S-i-gone", OLD, {"ENABLE_IMDS_ONLY_MODE": "true"}, False
    ),
    "DISABLE_LEAKED_ENI_CLEANUP: no sweep": SweepRow(
        SWEPT_OFF, "aws-K8S-i-gone", OLD, {"DISABLE_LEAKED_ENI_CLEANUP": "true"}, False
    ),
}


def _bot_sweeps(row: SweepRow) -> bool:
    from bot.domain.cni_settings import effective_settings
    from bot.domain.diagnosis.view import STOCK_ENV

    s = effective_settings({**STOCK_ENV, **row.env})
    runs, _ = leaked_eni_sweep_for(s)
    cluster = s.values.get("CLUSTER_NAME")
    name = cluster if isinstance(cluster, str) else ""
    leaked = eni_is_leaked(status="available", description=row.description, tags=row.tags, cluster_name=name)
    return runs and leaked


def _simulator_sweeps(row: SweepRow) -> bool:
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, "10.0.0.0/24", "us-east-2a")
    eni = model.create_network_interface(subnet.id, description=row.description, tags=dict(row.tags))
    return sweep_leaked_enis(model, vpc.id, parse_env({**MANIFEST_ENV, **row.env})) == [eni.id]


@pytest.mark.parametrize("name", list(SWEEP))
def test_leaked_eni_sweep_bot(name: str) -> None:
    assert _bot_sweeps(SWEEP[name]) is SWEEP[name].deleted, SWEEP[name].upstream


@pytest.mark.parametrize("name", list(SWEEP))
def test_leaked_eni_sweep_simulator(name: str) -> None:
    assert _simulator_sweeps(SWEEP[name]) is SWEEP[name].deleted, SWEEP[name].upstream


def test_sweep_waits_for_the_created_at_tag() -> None:
    """getLeakedENIs: an ENI without createdAt is tagged now and deleted on a sweep 5+ minutes later."""
    model = Ec2Model()
    vpc = model.create_vpc("10.0.0.0/16")
    subnet = model.create_subnet(vpc.id, "10.0.0.0/24", "us-east-2a")
    eni = model.create_network_interface(
        subnet.id, description="aws-K8S-i-gone", tags={"node.k8s.amazonaws.com/instance_id": "i-gone"}
    )
    config = parse_env(MANIFEST_ENV)
    assert sweep_leaked_enis(model, vpc.id, config) == []
    assert "node.k8s.amazonaws.com/createdAt" in model.eni(eni.id).tags
    model.clock += timedelta(minutes=4)
    assert sweep_leaked_enis(model, vpc.id, config) == []
    model.clock += timedelta(minutes=2)
    assert sweep_leaked_enis(model, vpc.id, config) == [eni.id]


def test_simulator_creates_no_eni_when_describe_subnets_keeps_failing() -> None:
    """awsutils.go createENI: GetVpcSubnets failed, and the fallback's IsSubnetExcluded lists subnets again; when that
    fails too ipamd quits the attempt ("Quit ENI creation attempt.") rather than guess the node's subnet."""
    world = build(ROWS["any non-empty value but 0 opts a subnet in"].world)
    ctx = world.ipamd.context
    assert ctx is not None
    world.ipamd.context = replace(ctx, fault=lambda api: "RequestLimitExceeded" if api == "DescribeSubnets" else None)
    gained, new_enis = world.sim_grow()
    assert (gained, new_enis) == (0, [])
    assert "Quit ENI creation attempt" in world.ipamd.last_error
