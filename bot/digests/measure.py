"""One capacity sample from one cluster snapshot: arithmetic on what the gatherer read, through the shared
state views (the IP ledger, per-node state), so digests count exactly what `/cni subnets` and `/cni capacity`
count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from bot.domain import capacity
from bot.domain.capacity_samples import CapacitySample, FailedPod, NodeSample, SubnetSample, VpcSubnet
from bot.domain.ip_ledger import HOLDER_LEAKED, HOLDER_NODES, HOLDER_WARM
from bot.domain.shape_view import shapes_view
from bot.domain.shapes import NodeShape, aws_node_runs_on
from bot.domain.snapshot import ClusterSnapshot
from bot.domain.state import NodeState, StateModel


def measure(
    snapshot: ClusterSnapshot, now: datetime, failed_pods: Sequence[FailedPod] = (), *, events_read: bool = True
) -> CapacitySample:
    model = StateModel(snapshot)
    subnets = snapshot.subnets or {}
    enis_read = snapshot.enis is not None
    other_shapes = _other_shape_subnets(model)
    cluster_subnets = _cluster_subnet_ids(model) | set(other_shapes)
    holders = {s: model.ledger.holders(s) for s in cluster_subnets} if enis_read else {}
    leaked = Counter(u.eni.subnet_id for u in model.ledger.uses if u.holder == HOLDER_LEAKED) if enis_read else {}
    return CapacitySample(
        cluster=snapshot.cluster,
        taken_at=now,
        subnets=tuple(
            SubnetSample(
                subnet_id=s.subnet_id,
                az=s.az,
                usable=s.usable,
                free=s.available_ips,
                warm_unused=holders[s.subnet_id][HOLDER_WARM] if enis_read else None,
                leaked_enis=leaked.get(s.subnet_id, 0),
                leaked_ips=holders[s.subnet_id][HOLDER_LEAKED] if enis_read else 0,
            )
            for s in sorted((subnets[i] for i in cluster_subnets), key=lambda s: (s.az, s.subnet_id))
        ),
        # ipamd's nodes only: Fargate, Auto Mode, Hybrid and Windows nodes have no ENI/IP pool to be at a limit of.
        nodes=tuple(
            _node_sample(state, model) for state in model.nodes.values() if aws_node_runs_on(state.node.labels)
        ),
        failed_pods=tuple(failed_pods),
        aws_node_env=dict(snapshot.daemonset.env) if snapshot.daemonset else None,
        cni_version=snapshot.daemonset.cni_version if snapshot.daemonset else None,
        vpc_subnets=tuple(
            VpcSubnet(
                subnet_id=s.subnet_id,
                az=s.az,
                cidr=s.cidr,
                usable=s.usable,
                free=s.available_ips,
                cni_role=s.cni_role,
                name=s.name,
                used_by_cluster=s.subnet_id in cluster_subnets,
            )
            for s in sorted(subnets.values(), key=lambda s: (s.az, s.subnet_id))
        ),
        limits=dict(snapshot.limits),
        could_not_check=tuple(f"{u.what} ({u.api}: {u.reason})" for u in snapshot.could_not_check),
        events_read=events_read,
        other_shape_subnets=other_shapes,
    )


def _other_shape_subnets(model: StateModel) -> dict[str, str]:
    """Subnets only nodes aws-node does not serve draw on (and Fargate profiles' subnets), by shape label."""
    view = shapes_view(model)
    ec2 = view.section(NodeShape.EC2)
    ipamd = set(ec2.subnets if ec2 else ()) | {c.subnet for c in model.snapshot.eniconfigs or [] if c.subnet}
    known = model.snapshot.subnets or {}
    out: dict[str, str] = {}
    for section in view.sections:
        if section.shape is NodeShape.EC2:
            continue
        for subnet_id in section.subnets:
            if subnet_id in known and subnet_id not in ipamd:
                out.setdefault(subnet_id, section.label)
    return out


def _cluster_subnet_ids(model: StateModel) -> set[str]:
    """The subnets pods draw from: where the nodes' ENIs are, ENIConfig subnets, discovery-tagged subnets."""
    known = model.snapshot.subnets or {}
    # aws-node's nodes only: the other shapes' subnets come from _other_shape_subnets.
    served = {n.instance_id for n in model.snapshot.nodes or [] if n.instance_id and aws_node_runs_on(n.labels)}
    ids = {u.eni.subnet_id for u in model.ledger.uses if u.holder == HOLDER_NODES and u.eni.instance_id in served}
    ids |= {c.subnet for c in model.snapshot.eniconfigs or [] if c.subnet}
    ids |= {s.subnet_id for s in known.values() if s.cni_role == "1"}
    ids |= {
        n.allocation_subnet for n in model.nodes.values() if n.allocation_subnet and aws_node_runs_on(n.node.labels)
    }
    return {i for i in ids if i in known}


def _node_sample(state: NodeState, model: StateModel) -> NodeSample:
    limits = state.limits
    return NodeSample(
        name=state.name,
        instance_type=state.node.instance_type or "",
        az=state.node.az or "",
        enis=sum(1 for row in state.enis if row.network_card == 0 and row.kind != "branch"),
        max_enis=capacity.attachable_enis(limits, model.settings.max_eni) if limits else None,
        assigned_ips=state.pods_with_ip,
        held_ips=state.attached_ips,
        ip_capacity=state.ip_capacity,
        pods=state.pods,
        max_pods=state.max_pods,
        allocation_subnet=state.allocation_subnet,
    )
