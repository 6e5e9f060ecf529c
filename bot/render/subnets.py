"""/cni subnets as a Slack document and as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.facts import Unchecked
from bot.domain.ip_ledger import HOLDERS
from bot.domain.subnet_view import ROLE_NODES, SubnetView
from bot.domain.wording import plural
from bot.render.doc import Doc, Para, Table
from bot.render.state import ROLE_SHORT, TABLE_ROWS, finish_with_unchecked, percent_text


def subnets_doc(
    views: Sequence[SubnetView], az: str | None, unchecked: Sequence[Unchecked], *, ipv6: bool = False
) -> Doc:
    scope = f" in {az}" if az else ""
    if not views:
        return finish_with_unchecked(Doc(f"No subnets in use by the cluster{scope} were found."), unchecked)
    free = sum(v.subnet.available_ips for v in views)
    fullest = max(views, key=lambda v: v.percent_used)
    doc = Doc(
        f"{plural(len(views), 'subnet')}{scope} in use: {free:,} free IPs; fullest `{fullest.subnet.subnet_id}` "
        f"({fullest.subnet.az}) at {percent_text(fullest.percent_used)} used."
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
                    percent_text(v.percent_used),
                    ",".join(ROLE_SHORT[r] for r in v.roles),
                )
                for v in views
            ],
            align="lllrrl",
            limit=TABLE_ROWS,
            more_hint=hint,
        ),
        Table(
            ("subnet", *HOLDERS),
            [
                (v.subnet.subnet_id, *(v.holders[h] + (v.unattributed if h == "other" else 0) for h in HOLDERS))
                for v in views
            ],
            align="lrrrrr",
            limit=TABLE_ROWS,
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
    return finish_with_unchecked(doc, unchecked)


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
        limit=TABLE_ROWS,
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
