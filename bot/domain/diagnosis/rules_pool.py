"""Causes where the node's IP pool is empty and cannot grow: cordoned, frozen by its warm targets, at the
node's ENI x IP capacity, or starved by its subnets (exhausted, excluded, fragmented), plus the pool that has
addresses no pod may use yet (cooldown) and leaked ENIs that make a short subnet shorter.

Over 500 lines on purpose: one rule per cause of an empty pool, each short, and they share the pool's
arithmetic; split by cause family, a reader would lose the order in which they are tried.
"""

from __future__ import annotations

import math

from bot.domain.capacity import (
    HOST_NETWORK_PODS,
    IPS_PER_PREFIX,
    max_pods,
    pd_max_pods_cap,
    pod_ip_capacity,
    steady_state_pool,
    trunk_slot_reserved,
)
from bot.domain.cni_settings import WARM_TARGET_MISCONFIG, warm_pool_problems
from bot.domain.diagnosis.model import Cause, CauseCode, ProposedChange
from bot.domain.diagnosis.signals import SandboxFailure
from bot.domain.diagnosis.subnets import SubnetHolders, discovery_candidate, holders, pod_subnet_for
from bot.domain.diagnosis.text import listing, subnet_line, verb
from bot.domain.diagnosis.view import View
from bot.domain.eni_rules import leaked_eni_sweep_for
from bot.domain.eni_rules import subnet_excluded as subnet_excluded_by_tags
from bot.domain.facts import EniFact
from bot.domain.fragmentation import BlockReport, analyse_prefix_blocks
from bot.domain.instance_limits import InstanceLimits
from bot.domain.karpenter import NODEPOOL_LABEL
from bot.domain.knobs import Severity
from bot.domain.max_pods import (
    AL2023,
    UNKNOWN_OS,
    max_pods_sources,
    node_os,
    setting_for_node,
    sources_line,
)
from bot.domain.wording import plural

SMALL_WARM_IP_TARGET = 2  # the README pairing: MINIMUM_IP_TARGET near the usual pods, WARM_IP_TARGET=2


def _starved(v: View) -> bool:
    """A pod on the node waits for an address and the pool has none to give."""
    return v.pool_empty


def _boost(v: View, base: float, *extra: bool) -> float:
    """More sure when the kubelet saw 'failed to assign an IP address' and each corroborating fact holds."""
    confidence = base + (0.08 if v.signals.count(SandboxFailure.NO_IP) else 0.0) + 0.05 * sum(extra)
    return round(min(confidence, 0.98), 2)


# --- the node refuses to grow its pool ------------------------------------------------------------------------


def node_cordoned(v: View) -> Cause | None:
    node = v.ev.node
    if node is None or not node.cordoned or v.settings.flag("AWS_MANAGE_ENIS_NON_SCHEDULABLE"):
        return None
    if not _starved(v) or v.at_ip_capacity:
        return None
    how = "spec.unschedulable=true" if node.unschedulable else "taint node.kubernetes.io/unschedulable:NoSchedule"
    return Cause(
        CauseCode.NODE_CORDONED,
        _boost(v, 0.85),
        f"Node {node.name} is cordoned and aws-node does not manage ENIs on cordoned nodes "
        f"(AWS_MANAGE_ENIS_NON_SCHEDULABLE=false), so its pool stays at {v.pool.total if v.pool else 0} IPs.",
        (
            f"node {node.name}: {how}",
            "AWS_MANAGE_ENIS_NON_SCHEDULABLE=false: ipamd attaches 0 new ENIs or IPs while the node is cordoned",
            f"pool {v.pool_line()}",
            *([w] if (w := v.waiting_line()) else []),
        ),
        (
            f"If the cordon is a leftover, `kubectl uncordon {node.name}`; the pool grows within seconds.",
            "If cordoned nodes must still start pods (DaemonSets, tolerations), set "
            "AWS_MANAGE_ENIS_NON_SCHEDULABLE=true.",
            "Or delete the pod so that it is scheduled on another node.",
        ),
        change=ProposedChange.aws_node(AWS_MANAGE_ENIS_NON_SCHEDULABLE="true"),
    )


def warm_target_misconfig(v: View) -> Cause | None:
    if not _starved(v) or not v.settings_known:
        return None
    problems = [
        p
        for p in warm_pool_problems(v.settings, pods_per_node=v.pods_with_ip or None)
        if p.code == WARM_TARGET_MISCONFIG
    ]
    frozen = next((p for p in problems if p.severity is Severity.ERROR), None)
    minimum = v.settings.number("MINIMUM_IP_TARGET")
    # With prefix delegation the floor is whole /28s: MINIMUM_IP_TARGET=10 holds one prefix of 16.
    floor = math.ceil(minimum / IPS_PER_PREFIX) * IPS_PER_PREFIX if v.pd_active else minimum
    if frozen is not None and v.pool is not None and v.pool.total <= floor and not v.at_ip_capacity:
        return Cause(
            CauseCode.WARM_TARGET_MISCONFIG,
            _boost(v, 0.85),
            f"MINIMUM_IP_TARGET={minimum} without WARM_IP_TARGET freezes node {_node(v)}'s pool at {v.pool.total} "
            f"IPs, all {v.pool.assigned} assigned.",
            (
                f"aws-node MINIMUM_IP_TARGET={minimum}, WARM_IP_TARGET unset: ipamd keeps {minimum} IPs, no more",
                f"pool {v.pool_line()}",
                *([w] if (w := v.waiting_line()) else []),
            ),
            (
                f"Set WARM_IP_TARGET={frozen.suggested_env.get('WARM_IP_TARGET', '2')} so the pool grows past the "
                "floor (README pairing: MINIMUM_IP_TARGET near the usual pods per node, WARM_IP_TARGET=2).",
                "aws-node rolls out (10% of nodes at a time); the waiting pods get IPs once it has.",
            ),
            change=ProposedChange.aws_node(**frozen.suggested_env) if frozen.suggested else None,
        )
    slow = next((p for p in problems if p.severity is Severity.WARNING), None)
    if slow is None:
        return None
    return Cause(
        CauseCode.WARM_TARGET_MISCONFIG,
        0.35,
        slow.message,
        (f"pool {v.pool_line()}",),
        (slow.fix,),
        contributing=True,
        change=ProposedChange.aws_node(**slow.suggested_env) if slow.suggested else None,
    )


# --- the node's own ceiling ---------------------------------------------------------------------------------


def node_ip_capacity(v: View) -> Cause | None:
    if not _starved(v) or not v.at_ip_capacity or v.instance is None or v.ip_capacity is None:
        return None
    limits, capacity = v.instance, v.ip_capacity
    host_pods = max(v.host_network_pods, HOST_NETWORK_PODS)
    right = capacity + host_pods
    if v.pd_active:
        right = min(right, pd_max_pods_cap(limits.vcpus))
    node_max = v.max_pods
    too_high = node_max is not None and node_max > right
    enis = v.enis_line() or ""
    if v.eni_limit is not None and v.eni_limit != limits.max_enis:
        enis += f" (the instance allows {limits.max_enis})"
    source = v.pool.source if v.pool else "unknown"
    evidence = [enis, f"pod IPs {v.pool.assigned if v.pool else 0}/{capacity}: every ENI slot is full ({source})"]
    if node_max is not None:
        evidence.append(
            f"kubelet max-pods {node_max}: room for {node_max - host_pods} pods needing an IP "
            f"({host_pods} hostNetwork pods), but only {capacity} addresses"
        )
    evidence += _capacity_shrinkers(v, limits)
    s = v.settings
    mode = {"custom_networking": s.custom_networking, "prefix_delegation": s.prefix_delegation}
    sources = max_pods_sources(limits, max_eni=s.max_eni, **mode)
    if too_high:
        evidence.append("max-pods for this type and CNI mode by source: " + sources_line(sources))
    remedy = []
    if too_high:
        calculator = sources[0]
        node = v.ev.node
        os_image, labels = (node.os_image, node.labels) if node else (None, {})
        os = node_os(os_image)
        remedy.append(
            f"Set kubelet max-pods to {calculator.value} on {limits.instance_type} nodes, as {calculator.source} "
            f"computes it ({calculator.detail}): "
            f"{setting_for_node(os_image, labels, calculator.value, limits=limits, **mode)}; then replace the nodes."
        )
        standard = sources[1].value
        karpenter = NODEPOOL_LABEL in labels
        if os in (AL2023, UNKNOWN_OS) and standard != calculator.value and not karpenter:
            remedy.append(
                f"nodeadm's default for {limits.instance_type} is {standard} whatever the CNI mode: without "
                "maxPods or maxPodsExpression new AL2023 nodes come up too high again."
            )
    remedy += _more_capacity_hints(v, limits)
    remedy.append("Meanwhile move the pod: delete it so that it lands on a node with free IPs.")
    over = f", but kubelet max-pods is {node_max}" if too_high else ""
    return Cause(
        CauseCode.NODE_IP_CAPACITY,
        _boost(v, 0.8, too_high),
        f"Node {_node(v)} uses all {capacity} pod IPs its ENIs can hold ({v.enis_line()}){over}.",
        tuple(evidence),
        tuple(remedy),
    )


def _capacity_shrinkers(v: View, limits: InstanceLimits) -> list[str]:
    per_eni = limits.secondary_ips_per_eni * v.slot_size
    s = v.settings
    out = []
    if s.custom_networking:
        out.append(f"custom networking: the primary ENI serves no pods (-{per_eni} IPs)")
    if trunk_slot_reserved(limits, s.pod_eni):
        out.append(f"security groups for pods: the trunk ENI takes an ENI slot (-{per_eni} IPs)")
    if s.max_eni is not None and 1 <= s.max_eni < limits.max_enis:
        out.append(
            f"MAX_ENI={s.max_eni} caps ENIs below the instance's {limits.max_enis} "
            f"(-{(limits.max_enis - s.max_eni) * per_eni} IPs)"
        )
    if v.unmanaged_enis:
        out.append(f"{plural(v.unmanaged_enis, 'ENI')} tagged no_manage serve no pods")
    if s.prefix_delegation and not limits.supports_prefix_delegation:
        out.append(
            f"ENABLE_PREFIX_DELEGATION=true, but {limits.instance_type} is not Nitro ({limits.hypervisor or 'n/a'}): "
            f"ipamd falls back to secondary IPs (x1, not x{IPS_PER_PREFIX})"
        )
    return out


def _more_capacity_hints(v: View, limits: InstanceLimits) -> list[str]:
    s = v.settings
    if s.prefix_delegation or not limits.supports_prefix_delegation:
        return ["Or use a larger instance type (more ENIs x IPs per ENI)."]
    with_pd = pod_ip_capacity(
        limits,
        custom_networking=s.custom_networking,
        prefix_delegation=True,
        max_eni=s.max_eni,
        sgp_trunk=s.pod_eni,
        unmanaged_enis=v.unmanaged_enis,
    )
    pods = max_pods(limits, custom_networking=s.custom_networking, prefix_delegation=True, max_eni=s.max_eni)
    return [
        f"Or enable prefix delegation: {limits.instance_type} could address {with_pd:,} pod IPs (max-pods {pods}); "
        "needs free /28 blocks in the subnets and new nodes.",
        "Or use a larger instance type (more ENIs x IPs per ENI).",
    ]


# --- subnets -------------------------------------------------------------------------------------------------


def subnet_excluded(v: View) -> Cause | None:
    if not _starved(v) or v.settings.custom_networking or v.at_ip_capacity:
        return None
    if v.ev.subnets is None or v.ev.node_enis is None or v.growth_subnets:
        return None
    if not v.settings.flag("ENABLE_SUBNET_DISCOVERY"):
        return _primary_subnet_excluded(v)
    if not v.excluded_subnets:
        return None
    excluded_enis = [e for e in v.managed_enis if e.subnet_id in v.excluded_subnets]
    az = v.ev.node.az if v.ev.node else None
    tagged_one = [s for s in v.subnets.values() if s.az == az and s.cni_role and s.cni_role != "0"]
    evidence = []
    for subnet_id in sorted({e.subnet_id for e in excluded_enis}):
        enis = [e for e in excluded_enis if e.subnet_id == subnet_id]
        held = sum(len(e.secondary_ips) + IPS_PER_PREFIX * len(e.prefixes) for e in enis)
        evidence.append(
            f"subnet {subnet_id} is {_exclusion_reason(v, subnet_id)}: ipamd uses none of the node's "
            f"{plural(len(enis), 'ENI')} in it ({held} IPs)"
        )
    evidence.append(
        f"{plural(len(tagged_one), 'subnet')} in {az} tagged kubernetes.io/role/cni, "
        f"{len(v.new_eni_subnets)} of them usable for new ENIs"
    )
    evidence.append(f"pool {v.pool_line()}")
    candidate = discovery_candidate(v, az)
    remedy = []
    if candidate is not None:
        remedy.append(
            f"Tag {candidate.subnet_id} ({candidate.cidr}, {candidate.available_ips:,} free) with "
            "kubernetes.io/role/cni=1 so ipamd can put new ENIs there."
        )
    else:
        remedy.append(f"Create a subnet in {az} and tag it kubernetes.io/role/cni=1 so ipamd can put new ENIs there.")
    remedy.append("Or remove the kubernetes.io/role/cni=0 tag if the exclusion was not meant for this node's subnet.")
    return Cause(
        CauseCode.SUBNET_EXCLUDED,
        _boost(v, 0.85),
        f"Subnet discovery excludes every subnet node {_node(v)} could use in {az}: "
        f"{plural(len(v.excluded_subnets), 'subnet')} excluded and "
        f"{len(v.new_eni_subnets)} usable for new ENIs.",
        tuple(evidence),
        tuple(remedy),
    )


def _primary_subnet_excluded(v: View) -> Cause | None:
    """awsutils.go createENI: without subnet discovery, a node subnet excluded by its tags gets no new ENI ("primary
    subnet is tagged with kubernetes.io/role/cni=0 and subnet discovery is disabled"); its ENIs still serve pods."""
    primary = v.subnets.get(v.primary_eni.subnet_id) if v.primary_eni else None
    if primary is None or not v.eni_room or not subnet_excluded_by_tags(primary.tags, cluster_name=v.cluster_name):
        return None
    az = v.ev.node.az if v.ev.node else None
    candidate = discovery_candidate(v, az)
    remedy = [
        f"Remove the kubernetes.io/role/cni tag from {primary.subnet_id} if the exclusion was not meant for this "
        "node's subnet: `aws ec2 delete-tags --resources "
        f"{primary.subnet_id} --tags Key=kubernetes.io/role/cni`; ipamd attaches ENIs on its next try."
    ]
    if candidate is not None:
        remedy.append(
            f"Or turn on subnet discovery (ENABLE_SUBNET_DISCOVERY=true) and tag {candidate.subnet_id} "
            f"({candidate.available_ips:,} free in {az}) with kubernetes.io/role/cni=1."
        )
    else:
        remedy.append(
            f"Or turn on subnet discovery (ENABLE_SUBNET_DISCOVERY=true) with a subnet in {az} tagged "
            "kubernetes.io/role/cni=1."
        )
    return Cause(
        CauseCode.SUBNET_EXCLUDED,
        _boost(v, 0.85),
        f"Node {_node(v)}'s subnet {primary.subnet_id} is {_exclusion_reason(v, primary.subnet_id)} and subnet "
        "discovery is off, so ipamd attaches no ENI and the full primary ENI is all the node has.",
        (
            f"subnet {primary.subnet_id} ({primary.az}): {_exclusion_reason(v, primary.subnet_id)}, "
            f"{primary.available_ips:,} free",
            "ENABLE_SUBNET_DISCOVERY=false: ipamd refuses to create ENIs in an excluded node subnet",
            *([line] if (line := v.enis_line()) else []),
            f"pool {v.pool_line()}",
        ),
        tuple(remedy),
    )


def _exclusion_reason(v: View, subnet_id: str) -> str:
    subnet = v.subnets.get(subnet_id)
    if subnet is not None and subnet.cni_role == "0":
        return "tagged kubernetes.io/role/cni=0"
    return f"tagged for other clusters only (cni.networking.k8s.aws/cluster/*, CLUSTER_NAME={v.cluster_name})"


def _short_subnets(v: View) -> list[int]:
    """Indexes into growth_subnets of the subnets that cannot give the node even ipamd's smallest request."""
    return [i for i, g in enumerate(v.growth_subnets) if g.short]


def _block_report(v: View, subnet_id: str) -> BlockReport | None:
    subnet = v.subnets.get(subnet_id)
    enis = v.ev.subnet_enis.get(subnet_id)
    if subnet is None or enis is None:
        return None
    used = [ip for e in enis for ip in ((e.primary_ip,) if e.primary_ip else ()) + e.secondary_ips]
    prefixes = [p for e in enis for p in e.prefixes]
    try:
        return analyse_prefix_blocks(subnet.cidr, used, prefixes, v.ev.prefix_reservations.get(subnet_id, []))
    except ValueError:
        return None


# EC2's answer to CreateNetworkInterface with Ipv4PrefixCount when no aligned /28 is free (issue #3105).
ENI_PREFIX_ERROR = ("CreateNetworkInterface", "InvalidParameterValue")
INSUFFICIENT_PREFIXES_TEXT = "There aren't sufficient free Ipv4 addresses or prefixes"


def prefix_fragmentation(v: View) -> Cause | None:
    if not v.pd_active or not _starved(v) or v.at_ip_capacity:
        return None
    m = v.ev.metrics
    # A new ENI asked for with a prefix (createENI: Ipv4PrefixCount) on a subnet with no free aligned /28: EC2
    # answers InvalidParameterValue "There aren't sufficient free Ipv4 addresses or prefixes", which ipamd
    # counts under that code only (awsAPIErrInc); with prefix delegation on, that is fragmentation evidence.
    eni_prefix_errors = m.api_errors.get(ENI_PREFIX_ERROR, 0) if m else 0
    errors = (m.api_error_count("InsufficientCidrBlocks") if m else 0) + eni_prefix_errors

    cidr_errors = m.api_error_count("InsufficientCidrBlocks") if m else 0
    for growth in v.growth_subnets:
        subnet = growth.subnet
        if subnet.available_ips < IPS_PER_PREFIX:
            continue
        report = _block_report(v, subnet.subnet_id)
        if report is not None and (report.free or report.reserved_free):
            continue
        if report is None and not errors:
            continue
        evidence = [subnet_line(subnet) + f", {subnet.cidr}"]
        if report is not None:
            evidence.append(
                f"0 of {report.free + report.fragmented + report.full} aligned /28 blocks free: "
                f"{report.fragmented} fragmented, {report.full} full, {report.prefix_allocated} already prefixes, "
                f"{report.reserved} reserved; fragmentation score {report.score}%"
            )
        if cidr_errors:
            evidence.append(f"ipamd: InsufficientCidrBlocks {plural(cidr_errors, 'time')} (awscni_aws_api_error_count)")
        if eni_prefix_errors:
            evidence.append(
                f"ipamd: CreateNetworkInterface InvalidParameterValue {plural(eni_prefix_errors, 'time')} "
                f"(awscni_aws_api_error_count): EC2's \"{INSUFFICIENT_PREFIXES_TEXT}\" for a new ENI's /28"
            )
        evidence.append(f"pool {v.pool_line()}")
        return Cause(
            CauseCode.PREFIX_FRAGMENTATION,
            _boost(v, 0.85 if report is not None else 0.7, bool(errors)),
            f"Prefix delegation needs a free aligned /28, and {subnet.subnet_id} ({subnet.az}) has none although "
            f"{subnet.available_ips:,} IPs are free: they are scattered.",
            tuple(evidence),
            (
                f"Reserve a range for prefixes: `aws ec2 create-subnet-cidr-reservation --subnet-id "
                f"{subnet.subnet_id} --reservation-type prefix --cidr <an empty range>` (EC2 takes prefixes "
                "from reservations first).",
                f"Or add a new subnet in {subnet.az} tagged kubernetes.io/role/cni=1 for new ENIs.",
                "Or lower prefix demand: WARM_IP_TARGET/MINIMUM_IP_TARGET instead of WARM_PREFIX_TARGET.",
            ),
        )
    return None


def subnet_exhausted(v: View) -> Cause | None:
    if not _starved(v) or v.at_ip_capacity or not v.growth_subnets:
        return None
    short = _short_subnets(v)
    if len(short) < len(v.growth_subnets):
        return None
    m = v.ev.metrics
    errors = m.api_error_count("InsufficientFreeAddressesInSubnet") if m else 0
    first, first_need = v.growth_subnets[0].subnet, v.growth_subnets[0].least
    evidence = [f"{subnet_line(g.subnet)}; {g.asks_text()}" for g in v.growth_subnets]
    if any(g.new_eni for g in v.growth_subnets) and (enis := v.enis_line()):
        evidence.append(f"{enis}: room for another ENI")
    if errors:
        evidence.append(
            f"ipamd: InsufficientFreeAddressesInSubnet {plural(errors, 'time')} (awscni_aws_api_error_count)"
        )
    evidence.append(f"pool {v.pool_line()}")
    who = holders(v, first.subnet_id)
    change: ProposedChange | None = None
    remedy: list[str] = []
    if who is not None:
        evidence += _holders_lines(who)
        change, remedy = _warm_pool_fix(v, who)
        if who.leaked and first.available_ips + who.leaked_addresses >= first_need:
            remedy.insert(
                0,
                f"Delete the {plural(len(who.leaked), 'detached CNI ENI')} in {first.subnet_id}: "
                f"{verb(len(who.leaked), 'it holds', 'they hold')} {who.leaked_addresses} addresses, enough for the "
                f"node's next request. " + _delete_step(list(who.leaked)),
            )
    remedy += _more_addresses_hints(v)
    if v.settings.custom_networking and v.ev.eniconfig is not None and change is None:
        better = pod_subnet_for(v, first.az, better_than=first)
        if better is not None:
            groups = v.ev.eniconfig.security_groups
            change = ProposedChange.eniconfig_spec(v.ev.eniconfig.name, better.subnet_id, groups)
            remedy.insert(
                0, f"Point ENIConfig {v.ev.eniconfig.name} at {better.subnet_id} ({better.available_ips:,} free)."
            )
    remedy.append("ipamd waits 2 minutes after InsufficientFreeAddressesInSubnet before it retries.")
    return Cause(
        CauseCode.SUBNET_EXHAUSTED,
        _boost(v, 0.8, bool(errors)),
        f"{_subnets_phrase(v)} {'has' if len(v.growth_subnets) == 1 else 'have'} too few free IPs for node "
        f"{_node(v)} ({first.available_ips:,} free of {first.usable:,}; it needs at least {first_need}).",
        tuple(evidence),
        tuple(remedy),
        change=change,
    )


def _subnets_phrase(v: View) -> str:
    names = [f"{g.subnet.subnet_id} ({g.subnet.az})" for g in v.growth_subnets]
    return ("Subnet " if len(names) == 1 else "Subnets ") + listing(names, 3)


def _holders_lines(who: SubnetHolders) -> list[str]:
    lines = [
        f"{plural(len(who.nodes), 'node')} {verb(len(who.nodes), 'holds', 'hold')} {who.held:,} pod addresses in "
        f"{who.subnet.subnet_id} on "
        f"{plural(who.node_enis, 'ENI')} (+{who.primaries} ENI primary IPs)"
    ]
    if who.assigned is not None and who.unused is not None:
        lines.append(f"{who.assigned:,} of them used by running pods, {who.unused:,} unused in warm pools")
    if who.leaked:
        n = len(who.leaked)
        lines.append(f"{plural(n, 'detached CNI ENI')} {verb(n, 'holds', 'hold')} {who.leaked_addresses} more")
    if who.other_enis:
        lines.append(
            f"{plural(who.other_enis, 'other ENI')} (load balancers, endpoints...) "
            f"{verb(who.other_enis, 'holds', 'hold')} {who.other_addresses}"
        )
    return lines


def _warm_pool_fix(v: View, who: SubnetHolders) -> tuple[ProposedChange | None, list[str]]:
    """Shrink the warm pools in WARM_ENI_TARGET mode: WARM_IP_TARGET=2 with MINIMUM_IP_TARGET at the usual pods."""
    s = v.settings
    if s.prefix_delegation or s.number("WARM_IP_TARGET") or s.number("MINIMUM_IP_TARGET") or who.unused is None:
        return None, []
    typical = who.typical_pods() or max(v.pods_with_ip, 1)
    freed = sum(max(n.held - max((n.assigned or 0) + SMALL_WARM_IP_TARGET, typical), 0) for n in who.nodes)
    if freed <= 0:
        return None, []
    per_node = _warm_per_node(v, typical)
    lines = [
        f"Shrink the warm pools: WARM_IP_TARGET={SMALL_WARM_IP_TARGET} with MINIMUM_IP_TARGET={typical} (the usual "
        f"pods per node here) would free about {freed:,} addresses in {who.subnet.subnet_id}"
        + (
            f"; WARM_ENI_TARGET={s.number('WARM_ENI_TARGET')} keeps about {per_node} unused per node"
            if per_node
            else ""
        )
        + "."
    ]
    change = ProposedChange.aws_node(WARM_IP_TARGET=str(SMALL_WARM_IP_TARGET), MINIMUM_IP_TARGET=str(typical))
    return change, lines


def _warm_per_node(v: View, pods: int) -> int | None:
    """Unused IPs the current warm settings keep on a node of this type running ``pods`` pods."""
    if v.instance is None or v.max_pods is None:
        return None
    pool = steady_state_pool(v.instance, v.settings.warm(), pods, v.max_pods)
    return pool.unused_ips


def _more_addresses_hints(v: View) -> list[str]:
    az = v.ev.node.az if v.ev.node else None
    hints = []
    if not v.settings.custom_networking and v.settings.flag("ENABLE_SUBNET_DISCOVERY"):
        candidate = discovery_candidate(v, az)
        if candidate is not None:
            hints.append(
                f"Add room: tag {candidate.subnet_id} ({candidate.available_ips:,} free in {az}) with "
                "kubernetes.io/role/cni=1; new ENIs go to the subnet with the most free IPs."
            )
        else:
            hints.append(f"Add room: create a subnet in {az} and tag it kubernetes.io/role/cni=1.")
    hints.append("For lasting room: a secondary VPC CIDR (100.64.0.0/16) with custom networking, or IPv6.")
    return hints


# --- addresses that exist but may not be handed out ----------------------------------------------------------


def ip_cooldown(v: View) -> Cause | None:
    m, pod = v.ev.metrics, v.ev.pod
    if m is None or v.pool is None or v.pool.free == 0 or pod is None or pod.requests_pod_eni:
        return None
    failures = v.signals.count(SandboxFailure.NO_IP)
    if not failures:
        return None
    cooldown = v.settings.number("IP_COOLDOWN_PERIOD")
    released = m.del_requests or 0
    evidence = [
        f"pool {v.pool_line()}, yet 'failed to assign an IP address to container' {plural(failures, 'time')}",
        f"IP_COOLDOWN_PERIOD={cooldown}s: a released IP is not handed out again for {cooldown}s, but counts as "
        "available, so the pool does not grow",
        f"{released:,} IP releases on this node since aws-node started (awscni_del_ip_req_count)",
    ]
    if m.no_available_ip_addresses:
        evidence.append(f"awscni_no_available_ip_addresses={m.no_available_ip_addresses}")
    change, raise_text = _warm_raise(v)
    return Cause(
        CauseCode.IP_COOLDOWN,
        0.7 if released else 0.5,
        f"Node {_node(v)} has {v.pool.free} unassigned IPs but they are in their {cooldown}s cooldown after pod churn "
        f"({released:,} releases), so new pods find none.",
        tuple(evidence),
        (
            raise_text,
            "Or lower IP_COOLDOWN_PERIOD with care (kube-proxy needs time to drop rules for the old pod; 0 is "
            "discouraged).",
            "It clears on its own once churn slows: cooled IPs return to the pool.",
        ),
        change=change,
    )


def _warm_raise(v: View) -> tuple[ProposedChange, str]:
    s = v.settings
    warm_ip = s.number("WARM_IP_TARGET")
    if warm_ip or s.number("MINIMUM_IP_TARGET"):
        value = max(warm_ip * 2, 5)
        return ProposedChange.aws_node(WARM_IP_TARGET=str(value)), (
            f"Keep more warm IPs than churn needs: WARM_IP_TARGET={value}."
        )
    if v.pd_active:
        value = s.number("WARM_PREFIX_TARGET") + 1
        return ProposedChange.aws_node(WARM_PREFIX_TARGET=str(value)), (
            f"Keep another free /28 warm: WARM_PREFIX_TARGET={value}."
        )
    value = s.number("WARM_ENI_TARGET") + 1
    return ProposedChange.aws_node(WARM_ENI_TARGET=str(value)), (
        f"Keep another ENI's worth of IPs warm: WARM_ENI_TARGET={value}."
    )


def _sweep(v: View) -> tuple[bool, str]:
    """Does ipamd's leaked-ENI sweep run with these settings, and if not, which setting stops it."""
    return leaked_eni_sweep_for(v.settings)


def _why_not_swept(v: View, eni: EniFact) -> str:
    if "node.k8s.amazonaws.com/instance_id" not in eni.tags:
        return "no node.k8s.amazonaws.com/instance_id tag"
    if not eni.description.startswith("aws-K8S-"):
        return "description does not start with aws-K8S-"
    return f"cluster.k8s.amazonaws.com/name is not {v.cluster_name}"


def _delete_step(enis: list[EniFact]) -> str:
    return (
        f"To free them now: `aws ec2 delete-network-interface --network-interface-id {enis[0].eni_id}` "
        f"(for each of the {len(enis)}; check each is detached first)."
    )


def leaked_enis(v: View) -> Cause | None:
    leaked = []
    for subnet_id in v.ev.subnet_enis:
        who = holders(v, subnet_id)
        if who is not None and who.leaked:
            leaked.append(who)
    if not leaked:
        return None
    enis = [e for w in leaked for e in w.leaked]
    swept = [e for w in leaked for e in w.swept]
    kept = [e for e in enis if e not in swept]
    addresses = sum(w.leaked_addresses for w in leaked)
    runs, stopper = _sweep(v)
    evidence = [
        f"{plural(len(w.leaked), 'detached CNI ENI')} (status available) "
        f"{verb(len(w.leaked), 'holds', 'hold')} {w.leaked_addresses} "
        f"addresses in {w.subnet.subnet_id}: {listing([e.eni_id for e in w.leaked], 3)}"
        for w in leaked
    ]
    if not runs:
        evidence.append(f"{stopper}=true: ipamd's leaked-ENI sweep does not run")
    for eni in kept[:3]:
        evidence.append(f"{eni.eni_id}: the sweep never deletes it ({_why_not_swept(v, eni)})")
    remedy = []
    if runs and swept and not kept:
        remedy.append(
            "ipamd's hourly sweep deletes them once their createdAt tag is 5 minutes old (an ENI without one is "
            "tagged on one sweep and deleted on the next)."
        )
    elif runs and swept:
        remedy.append(
            f"ipamd's hourly sweep deletes {len(swept)} of them ({listing([e.eni_id for e in swept], 3)}); the other "
            f"{len(kept)} stay until someone deletes them."
        )
    remedy.append(_delete_step(enis))
    count = len(enis)
    if runs and swept and not kept:
        outlook = "ipamd's sweep has not deleted them yet"
    elif runs and swept:
        outlook = f"no sweep will delete {len(kept)} of them"
    else:
        outlook = "no sweep will delete them"
    return Cause(
        CauseCode.LEAKED_ENIS,
        0.6,
        f"{plural(count, 'detached CNI ENI')} {verb(count, 'holds', 'hold')} {addresses} addresses of the short "
        f"subnet; {outlook}.",
        tuple(evidence),
        tuple(remedy),
        contributing=True,
        change=ProposedChange.aws_node(DISABLE_LEAKED_ENI_CLEANUP="false")
        if stopper == "DISABLE_LEAKED_ENI_CLEANUP"
        else None,
    )


def _node(v: View) -> str:
    if v.ev.node is not None:
        return v.ev.node.name
    return (v.ev.pod.node_name if v.ev.pod else None) or "unknown"
