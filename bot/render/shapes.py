"""The per-shape sections of `/cni capacity` and `/cni subnets` (bot/domain/shape_view.py): one row per node
shape, IPv4 and IPv6 figures in their own cells and never summed, and what cnibot cannot see for each shape."""

from __future__ import annotations

from typing import Any

from bot.domain.shape_view import IPV4, IPV6, ShapeSection, ShapesView
from bot.render.doc import Bullets, Context, Element, Para, Table

MANAGED_BY_EKS = (
    "The VPC CNI of this cluster is managed by EKS (Auto Mode, no aws-node DaemonSet): aws-node settings, warm "
    "pools and ENIConfigs do not apply and cnibot will not change them. Subnets, node ENIs (through EC2) and pods "
    "are still read."
)


def worth_showing(view: ShapesView) -> bool:
    """Only a cluster that is not all aws-node EC2 nodes gets the sections."""
    return view.managed_by_eks or any(s.label != "EC2 (aws-node, IPv4)" for s in view.sections)


def _free_cell(section: ShapeSection) -> str:
    if section.family == IPV6:
        return "IPv6 (not counted)"
    if section.family != IPV4:
        return "not VPC"
    return "?" if section.free_ipv4 is None else f"{section.free_ipv4:,} IPv4"


def _fits_cell(section: ShapeSection) -> str:
    return "?" if section.fits is None else f"{section.fits:,}"


def capacity_elements(view: ShapesView) -> list[Element]:
    rows = [(s.label, s.nodes, s.pods, _free_cell(s), _fits_cell(s), s.limit) for s in view.sections]
    elements: list[Element] = []
    if view.managed_by_eks:
        elements.append(Para(f":information_source: {MANAGED_BY_EKS}"))
    elements.append(
        Table(
            ("shape", "nodes", "pods", "free for pods", "fit", "limit"),
            rows,
            align="lrrrrl",
            title="*By node shape* (each shape gets pod addresses its own way; IPv4 and IPv6 are never added up)",
        )
    )
    elements.extend(_cannot_see(view))
    return elements


def subnets_elements(view: ShapesView) -> list[Element]:
    rows = [
        (
            s.label,
            ", ".join(s.subnets[:4]) + (f" +{len(s.subnets) - 4}" if len(s.subnets) > 4 else "") or "none",
            _free_cell(s),
            s.source,
        )
        for s in view.sections
    ]
    elements: list[Element] = []
    if view.managed_by_eks:
        elements.append(Para(f":information_source: {MANAGED_BY_EKS}"))
    elements.append(
        Table(
            ("shape", "subnets", "free for pods", "pod addresses from"),
            rows,
            align="llrl",
            title="*By node shape*",
        )
    )
    elements.extend(_cannot_see(view))
    return elements


def _cannot_see(view: ShapesView) -> list[Element]:
    out: list[Element] = []
    shared = view.shared_subnets
    if shared:
        first, labels = next(iter(sorted(shared.items())))
        more = f" (and {len(shared) - 1} more)" if len(shared) > 1 else ""
        out.append(
            Context(
                f"`{first}`{more} is shared by {', '.join(labels)}: its free addresses appear in each of those rows "
                "and are taken by whichever shape asks first."
            )
        )
    items = [f"{s.label}: {what}" for s in view.sections for what in s.cannot_see]
    if items:
        out.append(Bullets(items, title="*Not visible to cnibot*", limit=8))
    return out


def headline(view: ShapesView, cluster: str) -> str:
    """The first line when no node is aws-node's: each shape's own room, never one summed figure."""
    parts = [f"{s.label}: {'?' if s.fits is None else f'{s.fits:,}'} more pods ({s.limit})" for s in view.sections]
    lead = "VPC CNI managed by EKS (Auto Mode)" if view.managed_by_eks else "No node runs aws-node"
    return f"{lead} in {cluster}. " + ("; ".join(parts) + "." if parts else "No nodes found.")


def shapes_data(view: ShapesView) -> dict[str, Any]:
    return {
        "ip_family": view.ip_family,
        "vpc_cni_managed_by_eks": view.managed_by_eks,
        "by_shape": [
            {
                "shape": s.shape.value,
                "label": s.label,
                "address_family": s.family or None,
                "nodes": s.nodes,
                "pods": s.pods,
                "pod_addresses_from": s.source,
                "subnets": list(s.subnets),
                "free_ipv4_for_pods": s.free_ipv4,
                "more_pods_fit": s.fits,
                "binding_limit": s.limit,
                "cannot_see": list(s.cannot_see),
            }
            for s in view.sections
        ],
    }
