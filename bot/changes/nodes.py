"""The last step of changes that take effect only on new nodes: which nodes are still to replace.

Custom networking: only ENIs created after the change use the ENIConfig subnet, so a node has moved over when every
pod ENI it has (device index > 0 on card 0) sits in its ENIConfig's subnet. Until then it must be replaced.
Prefix delegation and other settings whose max-pods lives in the node's launch settings: every node aws-node ran on
when the change was verified is to replace, and stays listed while it exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.changes.impact import vpc_of
from bot.changes.state import read_state
from bot.domain.changes import EniConfigState
from bot.domain.cni_settings import EffectiveSettings, effective_settings
from bot.domain.eniconfig import resolve_eniconfig_name
from bot.domain.facts import EniFact, NodeFact
from bot.domain.shapes import aws_node_runs_on
from bot.gateways.connections import ClusterConnection

_POD_ENI_TYPES = {"interface", ""}


def nodes_not_migrated(
    nodes: Sequence[NodeFact],
    enis: Sequence[EniFact],
    eniconfigs: Mapping[str, EniConfigState | None],
    settings: EffectiveSettings,
) -> list[str]:
    """Names of the nodes whose pod ENIs are not (all) in the subnet of their ENIConfig."""
    pod_enis: dict[str, list[EniFact]] = {}
    for eni in enis:
        on_card_0 = eni.network_card == 0 and eni.interface_type in _POD_ENI_TYPES
        if eni.instance_id and (eni.device_index or 0) > 0 and on_card_0:
            pod_enis.setdefault(eni.instance_id, []).append(eni)
    remaining = []
    for node in nodes:
        config = eniconfigs.get(resolve_eniconfig_name(node.labels, node.annotations, settings).name)
        mine = pod_enis.get(node.instance_id or "", [])
        if config is None or not mine or any(eni.subnet_id != config.subnet for eni in mine):
            remaining.append(node.name)
    return sorted(remaining)


def nodes_to_replace(conn: ClusterConnection) -> list[str]:
    """Read the cluster and EC2 now and list the nodes still on the old subnets."""
    state = read_state(conn)
    settings = effective_settings(state.aws_node.env if state.aws_node else {})
    nodes = [n for n in conn.kube.nodes() if aws_node_runs_on(n.labels)]  # others never take ENIConfig subnets
    aws = conn.aws(next((n.az for n in nodes if n.az), None))
    enis = aws.vpc_enis(vpc_of(conn))
    return nodes_not_migrated(nodes, enis, state.eniconfig_states(), settings)


# Why a change lists nodes to replace (its detail's `replace_for`): the tracking job re-lists them accordingly.
FOR_CUSTOM_NETWORKING = "custom-networking"
FOR_NODE_SETTINGS = "node-settings"


def nodes_serving_now(conn: ClusterConnection) -> dict[str, str]:
    """The nodes aws-node runs on, with their instance ids: after a prefix-delegation change each still has its
    old max-pods."""
    return {
        n.name: n.instance_id or ""
        for n in sorted(conn.kube.nodes(), key=lambda n: n.name)
        if aws_node_runs_on(n.labels)
    }


def nodes_still_present(conn: ClusterConnection, instances: Mapping[str, str]) -> list[str]:
    """The listed nodes still there as the same instance (EC2 may give a new instance an old one's address, so its
    node name)."""
    present = {n.name: n.instance_id or "" for n in conn.kube.nodes()}
    return sorted(name for name, instance in instances.items() if name in present and present[name] == instance)


def remaining_nodes(conn: ClusterConnection, detail: Mapping[str, object]) -> list[str]:
    """Re-list the nodes a change still has to replace, by why it lists them."""
    if detail.get("replace_for") == FOR_NODE_SETTINGS:
        listed = detail.get("node_instances")
        return nodes_still_present(
            conn, {str(k): str(v) for k, v in listed.items()} if isinstance(listed, dict) else {}
        )
    return nodes_to_replace(conn)
