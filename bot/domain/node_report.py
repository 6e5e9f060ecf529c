"""/cni node: one node's report over the state model, and finding a node by a partial name."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain import capacity
from bot.domain.cni_settings import EffectiveSettings, Problem
from bot.domain.facts import EniConfigFact, NodeFact, PodFact, SubnetFact
from bot.domain.ipamd_metrics import IpamdMetrics
from bot.domain.state import NodeMigration, NodeState, StateModel


@dataclass(frozen=True)
class NodeReport:
    state: NodeState
    problems: tuple[Problem, ...]
    aws_node: PodFact | None
    aws_node_checked: bool
    cni_version: str | None  # what ipamd on the node reports, else the DaemonSet image's
    ipamd: IpamdMetrics | None
    eniconfig: EniConfigFact | None  # the one it resolves to (custom networking)
    migration: NodeMigration | None  # custom networking only
    subnets: Mapping[str, SubnetFact]  # of its ENIs and its ENIConfig
    capacity_notes: tuple[str, ...] = ()  # what shaped the IP capacity (custom networking, PD, trunk, MAX_ENI)


def capacity_notes(state: NodeState, settings: EffectiveSettings) -> tuple[str, ...]:
    """Why the node's pod IP capacity is what it is, in a few words each."""
    limits = state.limits
    if limits is None:
        return ()
    notes = []
    if settings.max_eni is not None and settings.max_eni < limits.max_enis:
        notes.append(f"MAX_ENI={settings.max_eni}")
    if settings.custom_networking:
        notes.append("custom networking: the primary ENI serves no pods")
    if capacity.trunk_slot_reserved(limits, settings.pod_eni):
        notes.append("security groups for pods: the trunk ENI takes a slot")
    if settings.prefix_delegation:
        supported = capacity.prefix_delegation_active(limits, True)
        notes.append("prefix delegation: 16 IPs per slot" if supported else "not Nitro: no prefix delegation")
    if state.unmanaged_enis:
        notes.append(f"{state.unmanaged_enis} unmanaged ENIs")
    return tuple(notes)


def node_report(model: StateModel, name: str) -> NodeReport:
    snapshot = model.snapshot
    state = model.nodes[name]
    aws_node_pods = None
    if snapshot.aws_node_pods is not None:
        aws_node_pods = [p for p in snapshot.aws_node_pods if p.node_name == name]
    metrics = snapshot.ipamd.get(name)
    ds_version = snapshot.daemonset.cni_version if snapshot.daemonset else None
    eniconfig = model.eniconfigs.get(state.eniconfig.name) if state.eniconfig else None
    wanted = {row.subnet_id for row in state.enis} | ({eniconfig.subnet} if eniconfig and eniconfig.subnet else set())
    subnets = snapshot.subnets or {}
    return NodeReport(
        state=state,
        problems=tuple(model.node_problems(state, aws_node_pods)),
        aws_node=aws_node_pods[0] if aws_node_pods else None,
        aws_node_checked=aws_node_pods is not None,
        cni_version=(metrics.version.lstrip("v") if metrics and metrics.version else None) or ds_version,
        ipamd=metrics,
        eniconfig=eniconfig,
        migration=model.migration(state) if state.eniconfig else None,
        subnets={i: subnets[i] for i in sorted(wanted) if i in subnets},
        capacity_notes=capacity_notes(state, model.settings),
    )


@dataclass(frozen=True)
class NodeMatch:
    node: NodeFact | None
    candidates: tuple[str, ...]  # close or ambiguous names when there is no single match


def match_node(nodes: Sequence[NodeFact], query: str) -> NodeMatch:
    """A node by name, EC2 instance id, or a prefix of its name that only one node has."""
    query = query.strip()
    for node in nodes:
        if query in (node.name, node.instance_id):
            return NodeMatch(node, ())
    by_prefix = [n for n in nodes if n.name.startswith(query)]
    if len(by_prefix) == 1:
        return NodeMatch(by_prefix[0], ())
    if by_prefix:
        return NodeMatch(None, tuple(sorted(n.name for n in by_prefix)))
    # Compare with the short names too: "ip-10-0-1-5" is close to "ip-10-0-1-6", not to the full DNS name.
    names = {n.name: n.name for n in nodes} | {n.name.split(".", 1)[0]: n.name for n in nodes}
    if query.startswith("i-"):
        names |= {n.instance_id: n.name for n in nodes if n.instance_id}
    close = list(dict.fromkeys(names[c] for c in difflib.get_close_matches(query, list(names), n=3, cutoff=0.6)))
    return NodeMatch(None, tuple(close))
