"""/cni subnets: each subnet's free addresses, /28 blocks and role, over the state model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.eni_rules import eni_is_leaked, leaked_eni_sweep_for
from bot.domain.facts import SubnetFact
from bot.domain.fragmentation import BlockReport
from bot.domain.ip_ledger import HOLDER_LEAKED, HOLDER_NODES
from bot.domain.state import StateModel

# --- subnets ----------------------------------------------------------------------------------------------

ROLE_NODES = "nodes"
ROLE_ENICONFIG = "eniconfig"
ROLE_DISCOVERY = "discovery"
ROLE_EXCLUDED = "excluded"  # tagged kubernetes.io/role/cni=0
ROLE_FARGATE = "fargate"  # a Fargate profile's subnet: one ENI per Fargate pod


@dataclass(frozen=True)
class SubnetView:
    subnet: SubnetFact
    roles: tuple[str, ...]
    eniconfigs: tuple[str, ...]
    holders: Mapping[str, int]  # HOLDERS -> addresses
    unattributed: int  # used per DescribeSubnets but on no ENI of the sweep (e.g. stopped instances)
    blocks: BlockReport | None  # /28 analysis, with prefix delegation
    leaked_kept: int = 0  # addresses on leaked ENIs that ipamd's sweep will not delete (see eni_rules)
    sweep_stopped_by: str = ""  # the setting that stops the sweep altogether, if any

    @property
    def percent_used(self) -> float:
        usable = self.subnet.usable
        return 100.0 * self.subnet.used / usable if usable else 100.0


def subnet_views(model: StateModel, az: str | None = None) -> list[SubnetView]:
    """Every subnet the cluster uses: its nodes' ENI subnets, ENIConfig subnets, discovery-tagged subnets."""
    snapshot = model.snapshot
    subnets = snapshot.subnets or {}
    roles: dict[str, set[str]] = defaultdict(set)
    for use in model.ledger.uses:
        if use.holder == HOLDER_NODES:
            roles[use.eni.subnet_id].add(ROLE_NODES)
    eniconfig_names: dict[str, list[str]] = defaultdict(list)
    for config in snapshot.eniconfigs or []:
        if config.subnet:
            roles[config.subnet].add(ROLE_ENICONFIG)
            eniconfig_names[config.subnet].append(config.name)
    for tagged in subnets.values():
        if tagged.cni_role is not None:
            roles[tagged.subnet_id].add(ROLE_EXCLUDED if tagged.cni_role == "0" else ROLE_DISCOVERY)
    for profile in snapshot.fargate_profiles or []:
        for subnet_id in profile.subnets:
            roles[subnet_id].add(ROLE_FARGATE)
    s = model.settings
    pd = s.prefix_delegation and not (model.settings_known and s.ipv6)  # IPv6 pods take no IPv4 /28s
    sweeps, stopped_by = leaked_eni_sweep_for(s)
    cluster = s.values.get("CLUSTER_NAME")
    cluster_name = cluster if isinstance(cluster, str) else ""
    views = []
    for subnet_id, subnet_roles in roles.items():
        subnet = subnets.get(subnet_id)
        if subnet is None or (az and subnet.az != az):
            continue
        holders = model.ledger.holders(subnet_id)
        views.append(
            SubnetView(
                subnet=subnet,
                roles=tuple(
                    r
                    for r in (ROLE_NODES, ROLE_ENICONFIG, ROLE_DISCOVERY, ROLE_EXCLUDED, ROLE_FARGATE)
                    if r in subnet_roles
                ),
                eniconfigs=tuple(sorted(eniconfig_names.get(subnet_id, []))),
                holders=holders,
                unattributed=max(subnet.used - sum(holders.values()), 0) if snapshot.enis is not None else 0,
                blocks=model.prefix_blocks(subnet_id) if pd else None,
                leaked_kept=sum(
                    u.eni.address_count
                    for u in model.ledger.by_subnet.get(subnet_id, [])
                    if u.holder == HOLDER_LEAKED
                    and not (
                        sweeps
                        and eni_is_leaked(
                            status=u.eni.status,
                            description=u.eni.description,
                            tags=u.eni.tags,
                            cluster_name=cluster_name,
                        )
                    )
                ),
                sweep_stopped_by=stopped_by,
            )
        )
    return sorted(views, key=lambda v: (v.subnet.az, v.subnet.available_ips, v.subnet.subnet_id))


def cluster_azs(model: StateModel) -> list[str]:
    azs = {n.az for n in model.snapshot.nodes or [] if n.az}
    azs |= {s.az for s in (model.snapshot.subnets or {}).values() if s.az}
    return sorted(azs)
