"""Pending pods on EKS Auto Mode nodes: EKS, not aws-node, gives them addresses, but the causes that do not depend
on who runs the CNI still apply. Here: the node's subnets have no free address left. (max-pods and scheduling are
judged by the scheduling rules, as on every node; bot/domain/diagnosis/rules_pod.py.)"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.diagnosis.model import Cause, CauseCode
from bot.domain.diagnosis.view import View
from bot.domain.facts import NodeFact

AUTO_MODE_SUBNET_REMEDY = (
    "Auto Mode takes pod addresses from the NodeClass's pod subnets (`podSubnetSelectorTerms`, else the node's "
    "subnets): select a subnet with free addresses in the zone there, then new nodes use it."
)


def auto_subnet_exhausted(v: View, node: NodeFact, sandbox_lines: Sequence[str]) -> Cause | None:
    """Every subnet the Auto Mode node's ENIs are in has 0 free addresses: EKS cannot give the pod one either."""
    enis = v.ev.node_enis
    if not enis:
        return None
    ids = sorted({e.subnet_id for e in enis if e.subnet_id})
    subnets = [v.subnets[i] for i in ids if i in v.subnets]
    if not subnets or len(subnets) < len(ids) or any(s.available_ips > 0 for s in subnets):
        return None
    pod = v.ev.pod
    ref = pod.ref if pod else v.ev.ref
    where = ", ".join(f"{s.subnet_id} ({s.az}, {s.cidr})" for s in subnets[:3])
    evidence = [
        f"node {node.name}: eks.amazonaws.com/compute-type=auto: EKS Auto Mode gives its pods addresses (no aws-node)",
        *(f"subnet {s.subnet_id} ({s.az}): {s.available_ips} of {s.usable:,} usable addresses free" for s in subnets),
        *sandbox_lines,
    ]
    return Cause(
        CauseCode.SUBNET_EXHAUSTED,
        0.9,
        f"{ref} is on EKS Auto Mode node {node.name}, and its subnet {where} has no free address left: EKS cannot "
        "give the pod one.",
        tuple(evidence),
        (
            "See who holds the subnet's addresses with `/cni subnets`, and free some (leaked or idle ENIs).",
            AUTO_MODE_SUBNET_REMEDY,
        ),
    )
