"""Docs and JSON for /cni node, subnets, capacity and config.

Docs are written to read on a phone: a one-line answer first, short tables with numbers aligned, long lists
cut by bot/render/doc.py with "and N more" and the filter that shows them. The JSON (CommandResult.data) has
every row, with stable keys, for --json and scripts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.domain.capacity import LIMIT_ENIS, LIMIT_IPV6_PREFIX, LIMIT_MAX_PODS, LIMIT_SUBNET
from bot.domain.capacity_view import CapacityRow, CapacityView, WhatIf
from bot.domain.cni_settings import MANIFEST_OWNED_ENV, Problem, Severity
from bot.domain.config_view import ConfigView
from bot.domain.facts import Unchecked
from bot.domain.ip_ledger import HOLDERS
from bot.domain.node_report import NodeReport
from bot.domain.state import MIGRATED, NO_ENICONFIG, NOT_CHECKED, ON_PRIMARY_SUBNET
from bot.domain.subnet_view import ROLE_NODES, SubnetView
from bot.render.doc import Bullets, Context, Doc, Element, Para, Table, fmt_int

LIMIT_NAMES = {
    LIMIT_SUBNET: "subnet IPs",
    LIMIT_ENIS: "ENI/IP limits",
    LIMIT_MAX_PODS: "max-pods",
    LIMIT_IPV6_PREFIX: "a node without its IPv6 /80",
}
_ICON = {Severity.ERROR: ":red_circle:", Severity.WARNING: ":warning:", Severity.INFO: "ℹ️"}
_TABLE_ROWS = 12
_ROLE_SHORT = {"nodes": "nodes", "eniconfig": "eniconfig", "discovery": "discovery", "excluded": "excluded"}


def problem_bullets(problems: Sequence[Problem], *, title: str = "", hint: str = "") -> Bullets:
    items = [f"{_ICON[p.severity]} {p.message}" + (f" _Fix:_ {p.fix}" if p.fix else "") for p in problems]
    return Bullets(items, limit=6, more_hint=hint, title=title)


def unchecked_context(unchecked: Sequence[Unchecked]) -> Context | None:
    """The "could not check" line: what is missing from the answer, and why."""
    if not unchecked:
        return None
    parts = "; ".join(f"{u.what} ({u.api}: {u.reason})" for u in unchecked[:6])
    more = f" and {len(unchecked) - 6} more" if len(unchecked) > 6 else ""
    return Context(f":warning: Could not check {parts}{more}. The figures above leave these out.")


def unchecked_data(unchecked: Sequence[Unchecked]) -> list[dict[str, str]]:
    return [{"what": u.what, "api": u.api, "reason": u.reason} for u in unchecked]


def _finish(doc: Doc, unchecked: Sequence[Unchecked]) -> Doc:
    context = unchecked_context(unchecked)
    if context is not None:
        doc.add(context)
    return doc


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _pct(value: float) -> str:
    return f"{value:.0f}%" if value >= 1 or value == 0 else "<1%"


def _optional(value: int | None) -> str:
    return "?" if value is None else fmt_int(value)


# --- /cni node --------------------------------------------------------------------------------------------


def node_doc(report: NodeReport, unchecked: Sequence[Unchecked]) -> Doc:
    state, node = report.state, report.state.node
    where = ", ".join(x for x in (node.instance_type, node.az) if x)
    capacity = f"{state.ip_capacity:,} addressable" if state.ip_capacity is not None else "capacity unknown"
    worst = [p for p in report.problems if p.severity != Severity.INFO]
    flag = f" {_ICON[worst[0].severity]}" if worst else ""
    doc = Doc(
        f"*{node.name}* ({where}): {state.pods_with_ip:,} pods with an IP, {capacity}; "
        f"{state.unused_ips:,} IPs warm.{flag}"
    )
    doc.add(Para(_limits_line(report)))
    if report.problems:
        doc.add(problem_bullets(report.problems))
    doc.add(_eni_table(report))
    doc.add(Para(_pods_line(report)))
    doc.add(Para(_aws_node_line(report)))
    eniconfig = _eniconfig_line(report)
    if eniconfig:
        doc.add(Para(eniconfig))
    return _finish(doc, unchecked)


def _limits_line(report: NodeReport) -> str:
    state = report.state
    limits = state.limits
    max_pods = _optional(state.max_pods)
    if limits is None:
        return f"*Limits* unknown instance type · max-pods {max_pods}"
    recommended = _optional(state.recommended_max_pods)
    notes = f" ({'; '.join(report.capacity_notes)})" if report.capacity_notes else ""
    return (
        f"*Limits* {limits.max_enis} ENIs × {limits.ipv4_per_eni} IPv4 each · pod IP capacity "
        f"{_optional(state.ip_capacity)}{notes} · max-pods {max_pods} (formula for this mode: {recommended})"
    )


def _eni_table(report: NodeReport) -> Element:
    state = report.state
    if not state.enis_read:
        return Para("*ENIs* not read (see below).")
    rows: list[tuple[object, ...]] = [
        (
            row.eni_id,
            "" if row.device_index is None else row.device_index,
            row.kind,
            row.subnet_id,
            f"{row.prefixes}×/28" if row.prefixes else row.secondary_ips,
            row.used_by_pods,
            row.unused,
        )
        for row in state.enis
        if row.kind != "branch"
    ]
    branches = [row for row in state.enis if row.kind == "branch"]
    if branches:
        subnets = {row.subnet_id for row in branches}
        subnet = subnets.pop() if len(subnets) == 1 else f"{len(subnets)} subnets"
        rows.append(
            (plural(len(branches), "branch ENI"), "", "branch", subnet, 0, sum(r.used_by_pods for r in branches), 0)
        )
    return Table(
        ("ENI", "dev", "type", "subnet", "IPs", "pods", "warm"),
        rows,
        align="lrllrrr",
        limit=_TABLE_ROWS,
        more_hint="`--json` lists every ENI",
        title="*ENIs* (IPs: secondary IPs or /28 prefixes for pods)",
    )


def _pods_line(report: NodeReport) -> str:
    s = report.state
    parts = [f"{s.pods:,} on the node (max-pods {_optional(s.max_pods)})", f"{s.pods_with_ip:,} with a VPC IP"]
    if s.host_network_pods:
        parts.append(f"{s.host_network_pods:,} host-network")
    if s.branch_pods or s.node.allocatable_pod_eni:
        parts.append(f"{s.branch_pods:,} of {s.node.allocatable_pod_eni or 0:,} branch ENIs in use")
    if s.waiting_for_ip:
        parts.append(f"*{s.waiting_for_ip:,} waiting for an IP*")
    pool = f"*Warm pool* {s.unused_ips:,} of {s.attached_ips:,} attached pod IPs unused"
    return f"*Pods* {', '.join(parts)} · {pool}"


def _aws_node_line(report: NodeReport) -> str:
    version = f"CNI v{report.cni_version}" if report.cni_version else "CNI version unknown"
    if not report.aws_node_checked:
        pod = "not checked"
    elif report.aws_node is None:
        pod = "*no aws-node pod*"
    else:
        pod_fact = report.aws_node
        main = next((c for c in pod_fact.containers if c.name == "aws-node"), None)
        ready = "ready" if pod_fact.phase == "Running" and (main is None or main.ready) else "*not ready*"
        restarts = f", {main.restarts} restarts" if main and main.restarts else ""
        pod = f"`{pod_fact.name}` {ready}{restarts}"
    failed = ""
    if report.ipamd and report.ipamd.no_available_ip_addresses:
        failed = f" · ipamd: {report.ipamd.no_available_ip_addresses:,} pod IP requests failed for lack of IPs"
    return f"*aws-node* {pod} · {version}{failed}"


def _eniconfig_line(report: NodeReport) -> str | None:
    resolution = report.state.eniconfig
    if resolution is None:
        return None
    source = f"{resolution.source} `{resolution.key}`" if resolution.key else str(resolution.source)
    config = report.eniconfig
    if config is None:
        return f"*ENIConfig* `{resolution.name}` (from {source}) does not exist."
    subnet = report.subnets.get(config.subnet or "")
    where = f"{subnet.cidr}, {subnet.az}, {subnet.available_ips:,} free" if subnet else "subnet not found"
    status = ""
    if report.migration is not None and report.migration.status == MIGRATED:
        status = " · pod addresses all from it"
    return f"*ENIConfig* `{config.name}` (from {source}) → `{config.subnet}` ({where}){status}"


def node_data(report: NodeReport) -> dict[str, Any]:
    s, node = report.state, report.state.node
    limits = s.limits
    return {
        "node": node.name,
        "instance_id": node.instance_id,
        "instance_type": node.instance_type,
        "availability_zone": node.az,
        "limits": None
        if limits is None
        else {
            "max_enis": limits.max_enis,
            "ipv4_per_eni": limits.ipv4_per_eni,
            "branch_enis": limits.branch_enis,
            "prefix_delegation_supported": limits.supports_prefix_delegation,
        },
        "max_pods": s.max_pods,
        "recommended_max_pods": s.recommended_max_pods,
        "pod_ip_capacity": s.ip_capacity,
        "addressable_pods": s.addressable_pods,
        "pods": s.pods,
        "pods_with_ip": s.pods_with_ip,
        "host_network_pods": s.host_network_pods,
        "branch_eni_pods": s.branch_pods,
        "waiting_for_ip": s.waiting_for_ip,
        "attached_pod_ips": s.attached_ips,
        "warm_unused_ips": s.unused_ips,
        "subnet_addresses": s.subnet_addresses,
        "allocation_subnet": s.allocation_subnet,
        "enis": [
            {
                "eni_id": r.eni_id,
                "device_index": r.device_index,
                "network_card": r.network_card,
                "type": r.kind,
                "subnet_id": r.subnet_id,
                "secondary_ips": r.secondary_ips,
                "prefixes": r.prefixes,
                "pod_addresses": r.pod_addresses,
                "used_by_pods": r.used_by_pods,
                "unused": r.unused,
            }
            for r in s.enis
        ]
        if s.enis_read
        else None,
        "aws_node": None
        if report.aws_node is None
        else {
            "pod": report.aws_node.name,
            "phase": report.aws_node.phase,
            "ready": all(c.ready for c in report.aws_node.containers),
            "restarts": sum(c.restarts for c in report.aws_node.containers),
        },
        "cni_version": report.cni_version,
        "ipamd_failed_ip_requests": report.ipamd.no_available_ip_addresses if report.ipamd else None,
        "eniconfig": None
        if s.eniconfig is None
        else {
            "name": s.eniconfig.name,
            "source": str(s.eniconfig.source),
            "exists": report.eniconfig is not None,
            "subnet_id": report.eniconfig.subnet if report.eniconfig else None,
            "migration": report.migration.status if report.migration else None,
        },
        "problems": problems_data(report.problems),
    }


def problems_data(problems: Iterable[Problem]) -> list[dict[str, str]]:
    return [{"code": p.code, "severity": str(p.severity), "message": p.message, "fix": p.fix} for p in problems]


# --- /cni subnets -----------------------------------------------------------------------------------------


def subnets_doc(
    views: Sequence[SubnetView], az: str | None, unchecked: Sequence[Unchecked], *, ipv6: bool = False
) -> Doc:
    scope = f" in {az}" if az else ""
    if not views:
        return _finish(Doc(f"No subnets in use by the cluster{scope} were found."), unchecked)
    free = sum(v.subnet.available_ips for v in views)
    fullest = max(views, key=lambda v: v.percent_used)
    doc = Doc(
        f"{plural(len(views), 'subnet')}{scope} in use: {free:,} free IPs; fullest `{fullest.subnet.subnet_id}` "
        f"({fullest.subnet.az}) at {_pct(fullest.percent_used)} used."
    )
    hint = "`/cni subnets --az ZONE` shows one zone" if not az else "`--json` lists them all"
    doc.add(
        Table(
            ("subnet", "AZ", "CIDR", "free", "used", "for"),
            [
                (
                    v.subnet.subnet_id,
                    v.subnet.az,
                    v.subnet.cidr,
                    v.subnet.available_ips,
                    _pct(v.percent_used),
                    ",".join(_ROLE_SHORT[r] for r in v.roles),
                )
                for v in views
            ],
            align="lllrrl",
            limit=_TABLE_ROWS,
            more_hint=hint,
        ),
        Table(
            ("subnet", *HOLDERS),
            [
                (v.subnet.subnet_id, *(v.holders[h] + (v.unattributed if h == "other" else 0) for h in HOLDERS))
                for v in views
            ],
            align="lrrrrr",
            limit=_TABLE_ROWS,
            more_hint=hint,
            title="*Who holds the used IPs* (warm: attached to nodes, no pod; nodes: ENI primaries, trunks)",
        ),
    )
    blocks = [v for v in views if v.blocks is not None]
    if blocks:
        doc.add(_blocks_table(blocks, hint))
    leaked = [v for v in views if v.holders["leaked"]]
    if leaked:
        ids = ", ".join(f"`{v.subnet.subnet_id}` ({v.holders['leaked']:,})" for v in leaked[:3])
        kept = sum(v.leaked_kept for v in leaked)
        stopped = leaked[0].sweep_stopped_by
        if stopped:
            outlook = f"ipamd's leaked-ENI sweep does not run ({stopped}=true)"
        elif kept:
            outlook = f"ipamd's hourly sweep will not delete {kept:,} of these addresses (not all tagged as its own)"
        else:
            outlook = "ipamd's hourly sweep deletes them once they are 5 minutes old"
        doc.add(
            Para(
                f":warning: Leaked ENIs (detached CNI ENIs) hold IPs in {ids}; {outlook}. To free them now: "
                "`aws ec2 delete-network-interface`."
            )
        )
    if ipv6:
        doc.add(Para(_ipv6_note(views)))
    return _finish(doc, unchecked)


def _ipv6_note(views: Sequence[SubnetView]) -> str:
    with_v6 = [f"`{v.subnet.subnet_id}` {v.subnet.ipv6_cidrs[0]}" for v in views if v.subnet.ipv6_cidrs]
    missing = [f"`{v.subnet.subnet_id}`" for v in views if not v.subnet.ipv6_cidrs and ROLE_NODES in v.roles]
    note = (
        "IPv6 cluster: pods take IPv6 addresses from each node's /80, so these IPv4 figures count nodes and ENIs, "
        f"not pods. IPv6 CIDRs: {', '.join(with_v6[:4]) or 'none'}."
    )
    if missing:
        note += f" :warning: No IPv6 CIDR on node subnet(s) {', '.join(missing[:3])}: their nodes get no /80."
    return note


def _blocks_table(views: Sequence[SubnetView], hint: str) -> Table:
    rows = []
    for v in views:
        b = v.blocks
        assert b is not None
        rows.append((v.subnet.subnet_id, b.free, b.fragmented, b.reserved_free, b.prefix_allocated, b.severity))
    return Table(
        ("subnet", "free /28", "fragmented", "reserved", "delegated", "fragmentation"),
        rows,
        align="lrrrrl",
        limit=_TABLE_ROWS,
        more_hint=hint,
        title="*Prefix delegation: aligned /28 blocks* (a prefix needs a free one)",
    )


def subnets_data(views: Sequence[SubnetView]) -> dict[str, Any]:
    return {
        "subnets": [
            {
                "subnet_id": v.subnet.subnet_id,
                "name": v.subnet.name,
                "availability_zone": v.subnet.az,
                "cidr": v.subnet.cidr,
                "usable_ips": v.subnet.usable,
                "free_ips": v.subnet.available_ips,
                "percent_used": round(v.percent_used, 1),
                "roles": list(v.roles),
                "eniconfigs": list(v.eniconfigs),
                "holders": dict(v.holders),
                "unattributed": v.unattributed,
                "prefix_blocks": None
                if v.blocks is None
                else {
                    "free": v.blocks.free,
                    "fragmented": v.blocks.fragmented,
                    "full": v.blocks.full,
                    "reserved": v.blocks.reserved,
                    "reserved_free": v.blocks.reserved_free,
                    "prefix_allocated": v.blocks.prefix_allocated,
                    "score": v.blocks.score,
                    "severity": v.blocks.severity,
                },
            }
            for v in views
        ]
    }


# --- /cni capacity ----------------------------------------------------------------------------------------


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
            limit=_TABLE_ROWS + 1,
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
    return _finish(doc, unchecked)


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


# --- /cni config ------------------------------------------------------------------------------------------


def config_doc(view: ConfigView, *, show_all: bool, ip_knobs: Sequence[str], unchecked: Sequence[Unchecked]) -> Doc:
    changed = [s for s in view.settings if s.non_default]
    version = f"aws-node v{view.cni_version}" if view.cni_version else "aws-node (version unknown)"
    cn = "custom networking on" if view.custom_networking else "custom networking off"
    doc = Doc(f"{version} · {_addon_short(view)} · {cn} · {plural(len(changed), 'non-default setting')}.")
    if view.rollout is not None:
        desired, updated, ready = view.rollout
        if updated < desired or ready < desired:
            doc.add(
                Para(f":hourglass: Rolling out: {updated:,} of {desired:,} aws-node pods updated, {ready:,} ready.")
            )
    shown = [s for s in view.settings if show_all or s.non_default or s.name in ip_knobs]
    doc.add(
        Table(
            ("setting", "value", "default"),
            [(f"{s.name} *" if s.non_default else s.name, s.value, s.default) for s in shown],
            align="lll",
            limit=len(shown) if show_all else 24,
            title="*Effective settings* (* = differs from a stock install)"
            + ("" if show_all else "; `/cni config --all` shows every knob"),
        )
    )
    issues = [f":red_circle: aws-node exits at start: {e}" for e in view.startup_errors]
    issues += [f"{_ICON[p.severity]} {p.message}" + (f" _Fix:_ {p.fix}" if p.fix else "") for p in view.problems]
    issues += [f"ℹ️ {note}" for note in view.notes]
    if view.unrecognised:
        issues.append(f"ℹ️ Env not known to the bot: {', '.join(view.unrecognised)}.")
    hidden = [name for name in view.env_from_refs if name not in MANIFEST_OWNED_ENV]
    if hidden:
        issues.append(f"ℹ️ Set from secrets or config maps, so not shown: {', '.join(hidden)}.")
    if issues:
        doc.add(Bullets(issues, limit=8))
    doc.add(Para(_addon_line(view)))
    if view.eniconfigs or view.custom_networking:
        doc.add(*_eniconfig_elements(view))
    doc.add(Para(_drift_line(view)))
    return _finish(doc, unchecked)


def _addon_short(view: ConfigView) -> str:
    if not view.addon_checked:
        return "add-on not checked"
    return "EKS managed add-on" if view.addon else "self-managed"


def _addon_line(view: ConfigView) -> str:
    if not view.addon_checked:
        return "*Installed as* unknown: the EKS add-on could not be checked."
    if view.addon is None:
        return "*Installed as* self-managed (no EKS add-on `vpc-cni`): changes patch the aws-node DaemonSet."
    addon = view.addon
    values = " with configuration values" if addon.configuration_values else ""
    return (
        f"*Installed as* EKS managed add-on `vpc-cni` {addon.version} ({addon.status}){values}: changes go through "
        "the add-on's configuration values, or an add-on update would overwrite them."
    )


def _eniconfig_elements(view: ConfigView) -> list[Element]:
    elements: list[Element] = []
    if view.eniconfigs:
        elements.append(
            Table(
                ("ENIConfig", "subnet", "AZ", "free", "nodes"),
                [(c.name, c.subnet_id or "none", c.az or "?", _optional(c.free_ips), c.nodes) for c in view.eniconfigs],
                align="lllrr",
                limit=_TABLE_ROWS,
                more_hint="`--json` lists them all",
                title="*ENIConfigs* (custom networking)",
            )
        )
        problems = [p for c in view.eniconfigs for p in c.problems]
        if problems:
            elements.append(problem_bullets(problems))
    if not view.custom_networking:
        elements.append(Para("ENIConfigs exist, but custom networking is off: they are not used."))
        return elements
    elements.append(Para(_migration_summary(view)))
    pending = [m for m in view.migration if m.status in (ON_PRIMARY_SUBNET, NO_ENICONFIG)]
    if pending:
        items = [
            f"`{m.node}` "
            + (
                f"no ENIConfig `{m.eniconfig}`"
                if m.status == NO_ENICONFIG
                else f"{m.pods_outside:,} pods on {', '.join(m.subnets_outside)}"
            )
            + (f", created {m.created_at:%Y-%m-%d}" if m.created_at else "")
            for m in pending
        ]
        elements.append(Bullets(items, limit=8, more_hint="`/cni config --json` lists them all"))
    return elements


def _migration_summary(view: ConfigView) -> str:
    statuses = [m.status for m in view.migration]
    done, old = statuses.count(MIGRATED), statuses.count(ON_PRIMARY_SUBNET)
    missing, unknown = statuses.count(NO_ENICONFIG), statuses.count(NOT_CHECKED)
    text = f"*Custom networking* {done:,} of {len(statuses):,} nodes take pod IPs from their ENIConfig subnet."
    if old:
        text += (
            f" {old:,} still allocate from the primary subnet (created before custom networking was enabled): "
            "replace them (cordon, drain, terminate)."
        )
    if missing:
        text += f" {missing:,} resolve to an ENIConfig that does not exist: ipamd cannot add ENIs there."
    if unknown:
        text += f" {unknown:,} not checked (their ENIs could not be read)."
    return text


def _drift_line(view: ConfigView) -> str:
    if view.drift is None:
        return "*Drift* not tracked yet: once changes go through approvals, this compares with the last approved one."
    if not view.drift.changes:
        return "*Drift* none: aws-node matches the last approved change."
    changes = ", ".join(f"{c.key} {c.old or 'unset'} → {c.new or 'unset'}" for c in view.drift.changes[:5])
    return f":warning: *Drift* from the last approved change: {changes}."


def config_data(view: ConfigView) -> dict[str, Any]:
    return {
        "cni_version": view.cni_version,
        "image": view.image,
        "rollout": None
        if view.rollout is None
        else dict(zip(("desired", "updated", "ready"), view.rollout, strict=True)),
        "managed_addon": None
        if view.addon is None
        else {
            "version": view.addon.version,
            "status": view.addon.status,
            "configuration_values": view.addon.configuration_values,
        },
        "addon_checked": view.addon_checked,
        "settings": [
            {"name": s.name, "value": s.value, "default": s.default, "non_default": s.non_default, "set": s.set_in_env}
            for s in view.settings
        ],
        "startup_errors": list(view.startup_errors),
        "problems": problems_data(view.problems),
        "notes": list(view.notes),
        "unrecognised_env": list(view.unrecognised),
        "custom_networking": view.custom_networking,
        "eniconfigs": [
            {
                "name": c.name,
                "subnet_id": c.subnet_id,
                "availability_zone": c.az,
                "free_ips": c.free_ips,
                "security_groups": list(c.security_groups),
                "nodes": c.nodes,
                "problems": problems_data(c.problems),
            }
            for c in view.eniconfigs
        ],
        "migration": [
            {
                "node": m.node,
                "eniconfig": m.eniconfig,
                "status": m.status,
                "pod_addresses_outside": m.addresses_outside,
                "pods_outside": m.pods_outside,
                "subnets_outside": list(m.subnets_outside),
                "created_at": m.created_at.isoformat() if m.created_at else None,
            }
            for m in view.migration
        ],
        "drift": None
        if view.drift is None
        else [{"key": c.key, "approved": c.old, "running": c.new} for c in view.drift.changes],
    }
