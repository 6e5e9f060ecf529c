"""/cni node as a Slack document and as data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.facts import Unchecked
from bot.domain.knobs import Severity
from bot.domain.node_report import NodeReport
from bot.domain.shapes import NodeShape, aws_node_runs_on, node_shape
from bot.domain.state import MIGRATED
from bot.domain.wording import plural
from bot.render.doc import Doc, Element, Para, Table
from bot.render.state import (
    SEVERITY_ICON,
    TABLE_ROWS,
    finish_with_unchecked,
    optional_text,
    problem_bullets,
    problems_data,
)


def node_doc(report: NodeReport, unchecked: Sequence[Unchecked]) -> Doc:
    state, node = report.state, report.state.node
    where = ", ".join(x for x in (node.instance_type, node.az) if x)
    capacity = f"{state.ip_capacity:,} addressable" if state.ip_capacity is not None else "capacity unknown"
    worst = [p for p in report.problems if p.severity != Severity.INFO]
    flag = f" {SEVERITY_ICON[worst[0].severity]}" if worst else ""
    if aws_node_runs_on(node.labels):
        summary = f"{state.pods_with_ip:,} pods with an IP, {capacity}; {state.unused_ips:,} IPs warm."
    else:  # no ipamd pool: no addressable or warm figures to give
        shape = _MAX_PODS_OWNER.get(node_shape(node.labels), "another CNI")
        summary = (
            f"{state.pods_with_ip:,} pods with an IP, max-pods {optional_text(state.max_pods)}; addresses from {shape}."
        )
    doc = Doc(f"*{node.name}* ({where}): {summary}{flag}")
    doc.add(Para(_limits_line(report)))
    if report.problems:
        doc.add(problem_bullets(report.problems))
    doc.add(_eni_table(report))
    doc.add(Para(_pods_line(report)))
    doc.add(Para(_aws_node_line(report)))
    eniconfig = _eniconfig_line(report)
    if eniconfig:
        doc.add(Para(eniconfig))
    return finish_with_unchecked(doc, unchecked)


_MAX_PODS_OWNER = {
    NodeShape.AUTO: "EKS Auto Mode",
    NodeShape.FARGATE: "Fargate (one pod per node)",
    NodeShape.WINDOWS: "the Windows node's kubelet",
    NodeShape.HYBRID: "the hybrid node's kubelet",
}


def _limits_line(report: NodeReport) -> str:
    state = report.state
    limits = state.limits
    max_pods = optional_text(state.max_pods)
    if limits is None:
        return f"*Limits* unknown instance type · max-pods {max_pods}"
    if not aws_node_runs_on(state.node.labels):
        # Fargate, Auto Mode, Hybrid, Windows: ipamd's capacity and the aws-node formulas do not apply.
        return (
            f"*Limits* {limits.max_enis} ENIs × {limits.ipv4_per_eni} IPv4 each · max-pods {max_pods} (set by "
            f"{_MAX_PODS_OWNER.get(node_shape(state.node.labels), 'the node')}, not by aws-node's mode)"
        )
    recommended = optional_text(state.recommended_max_pods)
    notes = f" ({'; '.join(report.capacity_notes)})" if report.capacity_notes else ""
    return (
        f"*Limits* {limits.max_enis} ENIs × {limits.ipv4_per_eni} IPv4 each · pod IP capacity "
        f"{optional_text(state.ip_capacity)}{notes} · max-pods {max_pods} (formula for this mode: {recommended})"
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
        limit=TABLE_ROWS,
        more_hint="`--json` lists every ENI",
        title="*ENIs* (IPs: secondary IPs or /28 prefixes for pods)",
    )


def _pods_line(report: NodeReport) -> str:
    s = report.state
    parts = [f"{s.pods:,} on the node (max-pods {optional_text(s.max_pods)})", f"{s.pods_with_ip:,} with a VPC IP"]
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
