"""Recommendations, in the order AWS's EKS best-practices guide gives them for IP exhaustion: let ipamd
discover more subnets, add a secondary CIDR with custom networking, use prefix delegation, then tune the warm
pool. Each comes with its effect computed from the sample (addresses gained, days bought, pods that fit), so
the reader can judge it without doing the arithmetic.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.digests.forecast import humane_days
from bot.digests.outlook import Level, SubnetOutlook
from bot.domain import capacity
from bot.domain.capacity_samples import CapacitySample, NodeSample, VpcSubnet
from bot.domain.cni_settings import EffectiveSettings, effective_settings
from bot.domain.cni_version import version_at_least
from bot.domain.instance_limits import InstanceLimits
from bot.domain.max_pods import calculator_max_pods

LEAKED_ENIS = "LEAKED_ENIS"
SUBNET_DISCOVERY = "SUBNET_DISCOVERY"
CUSTOM_NETWORKING = "CUSTOM_NETWORKING"
PREFIX_DELEGATION = "PREFIX_DELEGATION"
WARM_POOL = "WARM_POOL"

SUBNET_DISCOVERY_SINCE = "1.18.0"
# A subnet with fewer free addresses than this is not worth tagging.
MIN_USEFUL_FREE = 64
# The CGNAT range EKS documents for pod subnets, and the /18 per AZ a /16 gives up to four AZs.
SECONDARY_CIDR = "100.64.0.0/16"
POD_SUBNET_PREFIX = 18
# Warm pools holding this share of the cluster's pod addresses unused are worth tuning even without pressure.
WASTEFUL_WARM_SHARE = 0.25
MIN_FREED_TO_MENTION = 32
SUGGESTED_WARM_IP_TARGET = 2  # the README's pairing with MINIMUM_IP_TARGET


@dataclass(frozen=True)
class Recommendation:
    code: str
    title: str
    action: str
    effect: str


def recommendations(sample: CapacitySample, outlooks: Sequence[SubnetOutlook]) -> list[Recommendation]:
    if sample.aws_node_env is None:
        return []  # without the settings every suggestion could be one already in place
    settings = effective_settings(sample.aws_node_env)
    if settings.ipv6:
        return []  # one /80 per node: none of these apply
    pressured = [o for o in outlooks if o.level != Level.HEALTHY]
    found = [
        _leaked_enis(sample, settings),
        _subnet_discovery(sample, settings, pressured),
        _custom_networking(sample, settings, pressured),
        _prefix_delegation(sample, settings),
        _warm_pool(sample, settings, outlooks, pressured),
    ]
    return [r for r in found if r is not None]


# --- 0. leaked ENIs: addresses back for free ---------------------------------------------------------------


def _leaked_enis(sample: CapacitySample, settings: EffectiveSettings) -> Recommendation | None:
    leaky = sorted((s for s in sample.subnets if s.leaked_enis), key=lambda s: -s.leaked_ips)
    if not leaky:
        return None
    where = "; ".join(
        f"{s.leaked_enis} in {s.subnet_id} ({s.az}) hold {s.leaked_ips:,} of its {s.usable:,} addresses" for s in leaky
    )
    # ipamd's hourly clean-up (awsutils cleanUpLeakedENIs) is off with DISABLE_LEAKED_ENI_CLEANUP=true or IPv6.
    cleanup = (
        "ipamd's hourly clean-up is off here (DISABLE_LEAKED_ENI_CLEANUP=true), so delete them"
        if settings.flag("DISABLE_LEAKED_ENI_CLEANUP")
        else "ipamd deletes leaked ENIs about once an hour; if these stay, delete them"
    )
    first = leaky[0].subnet_id
    return Recommendation(
        LEAKED_ENIS,
        "Delete the leaked ENIs",
        f"Detached ENIs that the VPC CNI created: {where}. {cleanup}: `aws ec2 describe-network-interfaces "
        f"--filters Name=subnet-id,Values={first} Name=status,Values=available "
        "Name=tag-key,Values=node.k8s.amazonaws.com/instance_id`, then `aws ec2 delete-network-interface "
        "--network-interface-id ENI_ID` for each.",
        "; ".join(f"{s.subnet_id}: {s.free:,} -> {s.free + s.leaked_ips:,} free addresses" for s in leaky) + ".",
    )


# --- 1. subnet discovery --------------------------------------------------------------------------------


def _subnet_discovery(
    sample: CapacitySample, settings: EffectiveSettings, pressured: Sequence[SubnetOutlook]
) -> Recommendation | None:
    if settings.custom_networking or not pressured:
        return None  # ENIConfig subnets take precedence over discovery
    busy_azs = {o.az for o in pressured}
    candidates = [
        s
        for s in sample.vpc_subnets
        if s.az in busy_azs and not s.used_by_cluster and s.cni_role is None and s.free >= MIN_USEFUL_FREE
    ]
    if not candidates:
        return None
    by_az: dict[str, list[VpcSubnet]] = defaultdict(list)
    for subnet in candidates:
        by_az[subnet.az].append(subnet)
    gains = []
    for az, subnets in sorted(by_az.items()):
        added = sum(s.free for s in subnets)
        gains.append(f"{az}: +{added:,} addresses{_days_bought(az, added, pressured)}")
    names = ", ".join(_subnet_name(s) for s in sorted(candidates, key=lambda s: -s.free)[:4])
    steps = []
    if not settings.flag("ENABLE_SUBNET_DISCOVERY"):
        steps.append("set ENABLE_SUBNET_DISCOVERY=true on aws-node")
    if sample.cni_version and not version_at_least(sample.cni_version, SUBNET_DISCOVERY_SINCE):
        steps.append(f"upgrade the VPC CNI from {sample.cni_version} to {SUBNET_DISCOVERY_SINCE} or newer")
    steps.append(f"tag {names} with kubernetes.io/role/cni=1 (private subnets only)")
    return Recommendation(
        SUBNET_DISCOVERY,
        "Let ipamd use more subnets (subnet discovery)",
        _sentence(steps) + "; new ENIs then go to the tagged subnet of their AZ with the most free addresses.",
        "; ".join(gains) + ". Existing ENIs stay where they are.",
    )


def _subnet_name(subnet: VpcSubnet) -> str:
    label = f"{subnet.subnet_id} ({subnet.az}, {subnet.free:,} free)"
    return f"{subnet.name} {label}" if subnet.name else label


# --- 2. secondary CIDR with custom networking ---------------------------------------------------------------


def _custom_networking(
    sample: CapacitySample, settings: EffectiveSettings, pressured: Sequence[SubnetOutlook]
) -> Recommendation | None:
    if settings.custom_networking or not pressured:
        return None
    azs = sorted({s.az for s in sample.vpc_subnets if s.used_by_cluster} | {o.az for o in pressured})
    per_az = 2 ** (32 - POD_SUBNET_PREFIX) - 5
    existing = [s for s in sample.vpc_subnets if s.cidr.startswith("100.64.")]
    if existing:
        action = (
            f"Point one ENIConfig per AZ at the VPC's 100.64.0.0/10 subnets ({len(existing)} exist), set "
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true and ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone, then "
            "replace the nodes."
        )
        added = {az: sum(s.free for s in existing if s.az == az) for az in azs}
    else:
        action = (
            f"Associate {SECONDARY_CIDR} with the VPC, create one /{POD_SUBNET_PREFIX} per AZ and an ENIConfig for "
            "each, set AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true and ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone, "
            "then replace the nodes."
        )
        added = dict.fromkeys(azs, per_az)
    gains = [f"{az}: +{n:,} pod addresses{_days_bought(az, n, pressured)}" for az, n in added.items() if n > 0]
    if not gains:
        return None
    return Recommendation(
        CUSTOM_NETWORKING,
        "Give pods their own address space (secondary CIDR + custom networking)",
        action,
        "; ".join(gains) + ". " + _max_pods_cost(sample.nodes, sample.limits, settings),
    )


def _max_pods_cost(
    nodes: Sequence[NodeSample], limits: Mapping[str, InstanceLimits], settings: EffectiveSettings
) -> str:
    """Custom networking gives up the primary ENI: what that does to max-pods, per instance type in use."""
    changes = []
    for itype in sorted({n.instance_type for n in nodes if n.instance_type in limits})[:4]:
        lim = limits[itype]
        pd = settings.prefix_delegation
        before = calculator_max_pods(lim, custom_networking=False, prefix_delegation=pd, max_eni=settings.max_eni)
        after = calculator_max_pods(lim, custom_networking=True, prefix_delegation=pd, max_eni=settings.max_eni)
        changes.append(f"{itype} {before.value} -> {after.value}")
    if not changes:
        return "The primary ENI stops serving pods, so kubelet max-pods must drop on every node."
    return f"The primary ENI stops serving pods: max-pods {', '.join(changes)} (max-pods-calculator.sh)."


# --- 3. prefix delegation -----------------------------------------------------------------------------------


def _prefix_delegation(sample: CapacitySample, settings: EffectiveSettings) -> Recommendation | None:
    if settings.prefix_delegation:
        return None
    at_limit = [
        n
        for n in sample.nodes
        if n.ip_room == 0
        and n.instance_type in sample.limits
        and sample.limits[n.instance_type].supports_prefix_delegation
    ]
    if not at_limit:
        return None
    by_type: dict[str, list[NodeSample]] = defaultdict(list)
    for node in at_limit:
        by_type[node.instance_type].append(node)
    effects = []
    more_pods = 0
    for itype, members in sorted(by_type.items(), key=lambda item: -len(item[1])):
        lim = sample.limits[itype]
        cn, max_eni = settings.custom_networking, settings.max_eni
        before = calculator_max_pods(lim, custom_networking=cn, prefix_delegation=False, max_eni=max_eni).value
        after = calculator_max_pods(lim, custom_networking=cn, prefix_delegation=True, max_eni=max_eni).value
        more_pods += sum(max(after - max(n.pods, n.max_pods or 0), 0) for n in members)
        effects.append(
            f"{itype} ({len(members)} at their limit): max-pods {before} -> {after} (max-pods-calculator.sh)"
        )
    return Recommendation(
        PREFIX_DELEGATION,
        "Give nodes /28 prefixes instead of single IPs (prefix delegation)",
        "Set ENABLE_PREFIX_DELEGATION=true (WARM_PREFIX_TARGET=1) on aws-node and roll out new node groups with "
        "the higher max-pods; the subnets need free contiguous /28 blocks (reserve them with subnet CIDR "
        "reservations if they are fragmented).",
        "; ".join(effects[:4]) + f". Up to {more_pods:,} more pods on the nodes that are full today.",
    )


# --- 4. warm pool tuning ------------------------------------------------------------------------------------


def _warm_pool(
    sample: CapacitySample,
    settings: EffectiveSettings,
    outlooks: Sequence[SubnetOutlook],
    pressured: Sequence[SubnetOutlook],
) -> Recommendation | None:
    current = settings.warm()
    if current.ip_targets_defined or not sample.nodes:
        return None
    held = sum(n.held_ips for n in sample.nodes)
    unused = sum(max(n.held_ips - n.assigned_ips, 0) for n in sample.nodes)
    if not pressured and (held == 0 or unused / held < WASTEFUL_WARM_SHARE):
        return None
    typical = max(round(statistics.median(n.assigned_ips for n in sample.nodes)), 1)
    proposed_env = {"WARM_IP_TARGET": str(SUGGESTED_WARM_IP_TARGET), "MINIMUM_IP_TARGET": str(typical)}
    proposed = effective_settings({**dict(sample.aws_node_env or {}), **proposed_env}).warm()
    usage = [
        capacity.NodeUsage(
            name=n.name,
            instance_type=n.instance_type,
            subnet_id=n.allocation_subnet or "",
            assigned_ips=n.assigned_ips,
            max_pods=n.max_pods or n.ip_capacity or 0,
        )
        for n in sample.nodes
    ]
    result = capacity.what_if(usage, current, proposed, sample.limits)
    freed = result.total.freed
    if freed < MIN_FREED_TO_MENTION:
        return None
    by_subnet = {o.subnet_id: o for o in outlooks}
    parts = []
    for subnet in sorted(result.subnets, key=lambda s: -s.freed)[:4]:
        if subnet.freed <= 0:
            continue
        outlook = by_subnet.get(subnet.subnet_id)
        bought = ""
        if outlook is not None and outlook.level != Level.HEALTHY:
            bought = _days_for(outlook, subnet.freed)
        parts.append(f"{subnet.subnet_id}: {subnet.freed:,}{bought}")
    env_text = " ".join(f"{k}={v}" for k, v in proposed_env.items())
    return Recommendation(
        WARM_POOL,
        "Keep fewer idle IPs on each node (warm-pool tuning)",
        f"Set {env_text} on aws-node (MINIMUM_IP_TARGET = the typical {typical} pod IPs per node); each node "
        "then holds about its pods plus 2 spare addresses instead of whole spare ENIs.",
        f"Frees about {freed:,} addresses ({', '.join(parts)}). More EC2 calls under pod churn.",
    )


# --- shared ------------------------------------------------------------------------------------------------


def _days_bought(az: str, added: int, pressured: Sequence[SubnetOutlook]) -> str:
    drains = [o.forecast.drain_per_day for o in pressured if o.az == az and o.forecast.drain_per_day]
    drain = sum(d for d in drains if d and d > 0)
    return f" ({humane_days(added / drain)} more at today's drain)" if drain > 0 else ""


def _days_for(outlook: SubnetOutlook, added: int) -> str:
    drain = outlook.forecast.drain_per_day
    return f" ({humane_days(added / drain)} more)" if drain and drain > 0 else ""


def _sentence(steps: Sequence[str]) -> str:
    text = ", then ".join(steps)
    return text[:1].upper() + text[1:]
