"""/cni capacity as a Slack document and as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.capacity_view import CapacityRow, CapacityView, WhatIf
from bot.domain.facts import Unchecked
from bot.domain.wording import plural
from bot.render.doc import Bullets, Context, Doc, Para, Table
from bot.render.state import LIMIT_NAMES, TABLE_ROWS, finish_with_unchecked

# What the capacity headline is computed from: when one could not be read, the headline says so first.
_HEADLINE_INPUTS = (
    "nodes",
    "pods",
    "AWS region",
    "VPC of the cluster",
    "subnets of the VPC",
    "ENIs of the VPC",
    "instance type limits",
)


def capacity_headline_gaps(unchecked: Sequence[Unchecked]) -> list[str]:
    """The inputs of the headline that could not be read."""
    gaps = [u.what for u in unchecked if u.what in _HEADLINE_INPUTS or u.what.startswith("prefix reservations")]
    return list(dict.fromkeys(gaps))


def capacity_doc(view: CapacityView, cluster: str, unchecked: Sequence[Unchecked]) -> Doc:
    total = view.total
    room = (
        f"Room for *{total.fits:,} more pods* in {cluster} before the first limit: {LIMIT_NAMES[total.binding]}. "
        f"{plural(total.nodes, 'node')}, {plural(total.pods, 'pod')}, {plural(total.ips_unused, 'IP')} held unused "
        "by warm pools."
    )
    gaps = capacity_headline_gaps(unchecked)
    if gaps:
        room = (
            f":warning: Could not read the {', the '.join(gaps)}, so the real room is not known; counted from what "
            f"could be read: {room[0].lower()}{room[1:]}"
        )
    doc = Doc(room)
    rows = [_capacity_cells(r.az, r) for r in view.by_az]
    if len(view.by_az) > 1:
        rows.append(_capacity_cells("all", total))
    doc.add(
        Table(
            (
                "AZ",
                "nodes",
                "pods",
                "IPs used",
                "warm",
                "free in /28s" if view.room_in_prefixes else "subnet free",
                "fit",
                "limit",
            ),
            rows,
            align="lrrrrrrl",
            limit=TABLE_ROWS + 1,
            more_hint="`--json` lists every zone",
        )
    )
    if view.what_if is not None:
        doc.add(Para(what_if_line(view.what_if)))
    notes = []
    branches = view.branch_enis
    if branches is not None:
        waiting = f"; {plural(branches.pods_waiting, 'pod')} waiting for one" if branches.pods_waiting else ""
        notes.append(
            f"Security groups for pods: {branches.used:,} of {branches.allocatable:,} branch ENIs in use{waiting}."
        )
    if view.nodes_at_ip_capacity:
        notes.append(f"{view.nodes_at_ip_capacity:,} nodes use every pod IP they can address.")
    if view.nodes_at_max_pods:
        notes.append(f"{view.nodes_at_max_pods:,} nodes are at kubelet max-pods.")
    if view.nodes_without_limits:
        notes.append(
            f"{len(view.nodes_without_limits):,} nodes of unknown instance types are left out of the headroom "
            f"(e.g. `{view.nodes_without_limits[0]}`)."
        )
    if view.headroom.unknown_subnets:
        notes.append("Some nodes' allocation subnets are unknown; their room is counted without a subnet limit.")
    if view.ipv6:
        notes.append(
            "IPv6 cluster: pods take IPv6 addresses from each node's /80 prefix, so only max-pods (and a node's "
            "missing /80) limit them; subnet IPv4 addresses count nodes and ENIs, not pods."
        )
    if view.windows_ips is not None:
        allocatable, used = view.windows_ips
        notes.append(
            f"Windows nodes: {used:,} of {allocatable:,} vpc.amazonaws.com/PrivateIPv4Address in use (the VPC "
            f"resource controller's pod IPs): room for {max(allocatable - used, 0):,} more Windows pods."
        )
    if view.nodes_not_served:
        shapes = ", ".join(f"{count:,} {shape}" for shape, count in view.nodes_not_served)
        notes.append(
            f"Left out: nodes aws-node does not serve ({shapes}); their pod addresses do not come from ipamd's pools."
        )
    if notes:
        doc.add(Bullets(notes))
    prefixes = " With prefix delegation a subnet's room is its whole free /28 blocks." if view.room_in_prefixes else ""
    if view.ipv6:
        how = "fit: more pods before max-pods, on the nodes that have their IPv6 /80."
    else:
        how = (
            "fit: more pods before the first limit, filling warm pools, then attached ENIs, then new ENIs, each "
            f"costing subnet IPs.{prefixes} Branch-ENI pods are not modelled."
        )
    doc.add(Context(f"{how} `/cni subnets` has the detail."))
    return finish_with_unchecked(doc, unchecked)


def _capacity_cells(name: str, row: CapacityRow) -> tuple[object, ...]:
    free: object = "?" if row.subnet_free is None else row.subnet_free
    return (name, row.nodes, row.pods, row.ips_assigned, row.ips_unused, free, row.fits, LIMIT_NAMES[row.binding])


def what_if_line(what_if: WhatIf) -> str:
    settings = ", ".join(f"{k}={v}" for k, v in what_if.settings)
    result = what_if.result
    total = result.total
    if total.delta < 0:
        per_subnet = [s for s in sorted(result.subnets, key=lambda s: s.delta) if s.freed]
        where = ", ".join(f"{s.freed:,} in `{s.subnet_id or 'unknown subnet'}`" for s in per_subnet[:3])
        more = f" and {len(per_subnet) - 3} more subnets" if len(per_subnet) > 3 else ""
        outcome = f"would free {total.freed:,} IPs: {where}{more}"
    elif total.delta > 0:
        outcome = f"would take {total.needed:,} more IPs from the subnets"
    else:
        outcome = "would hold as many IPs as now"
    unknown = (
        f" ({', '.join(result.unknown_instance_types)} left out: limits unknown)"
        if result.unknown_instance_types
        else ""
    )
    lead = "*What if* "
    tail = " Try your own with `/cni capacity --what-if KEY=VALUE`." if what_if.chosen_by_bot else ""
    return f"{lead}{settings} {outcome} (warm-pool model, {plural(total.nodes, 'node')}){unknown}.{tail}"


def capacity_data(view: CapacityView) -> dict[str, Any]:
    def row(r: CapacityRow) -> dict[str, Any]:
        return {
            "availability_zone": r.az or None,
            "nodes": r.nodes,
            "pods": r.pods,
            "ips_assigned": r.ips_assigned,
            "ips_unused_warm": r.ips_unused,
            "subnet_free_ips": r.subnet_free,
            "more_pods_fit": r.fits,
            "binding_limit": r.binding,
        }

    what_if = view.what_if
    return {
        "total": row(view.total),
        "by_az": [row(r) for r in view.by_az],
        "what_if": None
        if what_if is None
        else {
            "settings": dict(what_if.settings),
            "suggested_by_bot": what_if.chosen_by_bot,
            "ips_held_now": what_if.result.total.held_now,
            "ips_held_proposed": what_if.result.total.held_proposed,
            "ips_freed": what_if.result.total.freed,
            "ips_needed": what_if.result.total.needed,
            "by_subnet": [
                {"subnet_id": s.subnet_id, "nodes": s.nodes, "held_now": s.held_now, "held_proposed": s.held_proposed}
                for s in what_if.result.subnets
            ],
            "unknown_instance_types": list(what_if.result.unknown_instance_types),
        },
        "branch_enis": None
        if view.branch_enis is None
        else {
            "used": view.branch_enis.used,
            "allocatable": view.branch_enis.allocatable,
            "pods_waiting": view.branch_enis.pods_waiting,
        },
        "nodes_at_ip_capacity": view.nodes_at_ip_capacity,
        "nodes_at_max_pods": view.nodes_at_max_pods,
        "nodes_without_limits": list(view.nodes_without_limits),
        "unknown_subnets": list(view.headroom.unknown_subnets),
        "nodes_not_served_by_aws_node": dict(view.nodes_not_served),
        "ipv6": view.ipv6,
        "windows_private_ipv4": None
        if view.windows_ips is None
        else {"allocatable": view.windows_ips[0], "in_use": view.windows_ips[1]},
    }
