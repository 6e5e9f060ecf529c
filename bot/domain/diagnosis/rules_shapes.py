"""Pods on nodes aws-node does not serve (bot/domain/shapes.py): Fargate, EKS Auto Mode, Hybrid Nodes, Windows.
Each gets its own verdict with what can be read, and never an ipamd one (warm pools, ENI limits, aws-node
settings do not apply there)."""

from __future__ import annotations

from bot.domain.diagnosis.model import Cause, CauseCode
from bot.domain.diagnosis.rules_auto_mode import auto_subnet_exhausted
from bot.domain.diagnosis.signals import SandboxFailure, failing_plugin, plugin_error_text
from bot.domain.diagnosis.view import View
from bot.domain.facts import EventFact, NodeFact, SubnetFact, Unchecked
from bot.domain.shapes import COMPUTE_TYPE_LABEL, FARGATE_SCHEDULER, WINDOWS_IP_RESOURCE, NodeShape, node_shape
from bot.domain.wording import ago, plural

_FINISHED = {"Succeeded", "Failed"}


def node_not_served(v: View) -> Cause | None:
    """The pod is on a node without aws-node: say what manages its address instead."""
    node = v.ev.node
    if node is None:
        return None
    shape = node_shape(node.labels)
    if shape is NodeShape.EC2:
        return None
    if shape is NodeShape.WINDOWS:
        return _windows(v, node)
    return _managed_elsewhere(v, node, shape)


def fargate_unscheduled(v: View) -> Cause | None:
    """A pod for the fargate-scheduler waits for Fargate to give it a node (and its ENI)."""
    pod = v.ev.pod
    if pod is None or pod.node_name or pod.scheduler_name != FARGATE_SCHEDULER:
        return None
    events = [e for e in v.ev.events if e.source == FARGATE_SCHEDULER or "fargate" in e.source.lower()]
    evidence = [f"spec.schedulerName={FARGATE_SCHEDULER}: sent to Fargate; no node yet"]
    evidence += [_event_line(e, v) for e in events[:3]]
    if not events:
        evidence.append(f"0 events from {FARGATE_SCHEDULER} for the pod")
    profile_cause = _fargate_profile_cause(v, evidence)
    if profile_cause is not None:
        return profile_cause
    return Cause(
        CauseCode.FARGATE_POD,
        0.8 if events else 0.6,
        f"{pod.ref} waits for Fargate: Fargate gives each pod its own node and ENI in the profile's subnets, so "
        "aws-node, warm pools and node ENI limits do not apply"
        + (f"; Fargate says: {_first_sentence(events[0].message)}" if events else "."),
        tuple(evidence),
        (
            "Read Fargate's own words: `kubectl describe pod -n "
            f"{pod.namespace} {pod.name}` (events from {FARGATE_SCHEDULER}).",
            "Check the free addresses of the profile's subnets with `/cni subnets` (each Fargate pod takes one).",
            "Check the Fargate profile's namespace and label selectors still match the pod "
            "(`aws eks describe-fargate-profile`).",
        ),
    )


def unchecked_for_shape(v: View) -> list[Unchecked]:
    """What cannot be judged on this node's shape, said rather than guessed."""
    node = v.ev.node
    pod = v.ev.pod
    fargate = (node is not None and node_shape(node.labels) is NodeShape.FARGATE) or (
        pod is not None and pod.node_name is None and pod.scheduler_name == FARGATE_SCHEDULER
    )
    if (
        fargate
        and v.ev.fargate_profiles is None
        and not any(u.what == "Fargate profiles" for u in v.ev.could_not_check)
    ):
        return [Unchecked("the Fargate profiles' subnets and selectors", "eks:ListFargateProfiles", "not read")]
    return []


def _fargate_profile_cause(v: View, evidence: list[str]) -> Cause | None:
    """The profile that selects the pod, and whether its subnets can give the pod's ENI an address."""
    pod, profiles = v.ev.pod, v.ev.fargate_profiles
    if pod is None or profiles is None:
        return None
    matching = [p for p in profiles if p.status in ("ACTIVE", "") and p.selects(pod.namespace, pod.labels)]
    if not matching:
        names = ", ".join(p.name for p in profiles[:4]) or "none"
        return Cause(
            CauseCode.FARGATE_POD,
            0.85,
            f"No active Fargate profile selects {pod.ref} (namespace {pod.namespace} and its labels), so Fargate "
            "gives it no node.",
            (*evidence, f"{plural(len(profiles), 'Fargate profile')} in the cluster: {names}"),
            (
                "Add a selector for the pod's namespace (and labels) to a Fargate profile, or run the pod on nodes "
                "(remove the label or namespace that sent it to Fargate).",
            ),
        )
    subnets = [v.subnets[s] for p in matching for s in p.subnets if s in v.subnets]
    if not subnets or any(s.available_ips > 0 for s in subnets):
        evidence += [f"Fargate profile {matching[0].name}: {_subnets_free(subnets)}"] if subnets else []
        return None
    return Cause(
        CauseCode.FARGATE_POD,
        0.9,
        f"Fargate profile {matching[0].name} selects {pod.ref}, and its subnets have no free IP left for the pod's "
        "ENI.",
        (*evidence, f"Fargate profile {matching[0].name}: {_subnets_free(subnets)}"),
        (
            f"Free addresses in {', '.join(s.subnet_id for s in subnets[:3])} (`/cni subnets` shows who holds them), "
            "or add a subnet with room to the profile (a new profile: profiles' subnets cannot be edited).",
        ),
    )


def _subnets_free(subnets: list[SubnetFact]) -> str:
    return ", ".join(f"{s.subnet_id} ({s.az}) {s.available_ips:,} free" for s in subnets[:4])


_ELSEWHERE = {
    NodeShape.FARGATE: (
        CauseCode.FARGATE_POD,
        "a Fargate node: Fargate gives the pod its own ENI in the profile's subnets",
        (
            "Check the free addresses of the Fargate profile's subnets with `/cni subnets`.",
            "Fargate's own events are on the pod: `kubectl describe pod`.",
        ),
    ),
    NodeShape.AUTO: (
        CauseCode.AUTO_MODE_NODE,
        "an EKS Auto Mode node: EKS manages its pod networking (no aws-node); aws-node settings and ENIConfigs do "
        "not apply, and cnibot will not change them for it",
        (
            "Check the free addresses of the node's subnets with `/cni subnets` and `/cni node`.",
            "Pod subnets and security groups of Auto Mode nodes are set in their NodeClass "
            "(podSubnetSelectorTerms, podSecurityGroupSelectorTerms).",
        ),
    ),
    NodeShape.HYBRID: (
        CauseCode.HYBRID_NODE,
        "an EKS Hybrid node: it runs its own CNI (such as Cilium or Calico), not the VPC CNI",
        ("Look at that CNI's pods and logs on the node; the VPC's subnets are not where its pod addresses come from.",),
    ),
}


def _managed_elsewhere(v: View, node: NodeFact, shape: NodeShape) -> Cause:
    code, what, remedy = _ELSEWHERE[shape]
    pod = v.ev.pod
    ref = pod.ref if pod else v.ev.ref
    evidence = [
        f"node {node.name}: {COMPUTE_TYPE_LABEL}={node.labels.get(COMPUTE_TYPE_LABEL)}, where the aws-node "
        "DaemonSet does not run (its nodeAffinity)"
    ]
    evidence += _sandbox_lines(v)
    if shape is NodeShape.FARGATE and (profile_cause := _fargate_profile_cause(v, evidence)) is not None:
        return profile_cause
    if shape is NodeShape.AUTO and (exhausted := auto_subnet_exhausted(v, node, _sandbox_lines(v))) is not None:
        return exhausted
    return Cause(
        code,
        0.85,
        f"{ref} is on {what}.",
        tuple(evidence),
        remedy,
    )


def _windows(v: View, node: NodeFact) -> Cause:
    pod = v.ev.pod
    ref = pod.ref if pod else v.ev.ref
    live = [p for p in v.ev.node_pods or [] if p.phase not in _FINISHED and not p.host_network]
    evidence = [
        f"node {node.name}: kubernetes.io/os=windows, where aws-node does not run; pod IPs come from the VPC "
        f"resource controller as {WINDOWS_IP_RESOURCE}"
    ]
    allocatable = node.allocatable_windows_ips
    if allocatable is None or allocatable == 0:
        evidence.append(f"the node advertises no {WINDOWS_IP_RESOURCE}: Windows IPAM is off or not ready")
        summary = (
            f"{ref} is on Windows node {node.name}, which advertises no {WINDOWS_IP_RESOURCE}: the VPC resource "
            "controller gives it no pod IPs."
        )
        confidence = 0.85
    else:
        with_ip = sum(1 for p in live if p.pod_ip)
        evidence.append(f"{WINDOWS_IP_RESOURCE}: {allocatable} allocatable, {with_ip} pods on the node hold an IP")
        summary = (
            f"{ref} is on Windows node {node.name}: its IP comes from the VPC resource controller "
            f"({allocatable} {WINDOWS_IP_RESOURCE} allocatable, {with_ip} in use), not from ipamd."
        )
        confidence = 0.7
    evidence += _sandbox_lines(v)
    return Cause(
        CauseCode.WINDOWS_NODE,
        confidence,
        summary,
        tuple(evidence),
        (
            'Windows IPAM must be on: `enable-windows-ipam: "true"` in ConfigMap kube-system/amazon-vpc-cni '
            "(the VPC resource controller reads it).",
            "The controller's events on the node and pod say why an address was not given: `kubectl describe node "
            f"{node.name}`.",
        ),
    )


def _sandbox_lines(v: View) -> list[str]:
    counts = v.signals.sandbox
    if not counts:
        return []
    total = sum(counts.values())
    latest = v.signals.sandbox_latest
    line = f"FailedCreatePodSandBox {plural(total, 'time')}"
    if latest is not None:
        plugin = failing_plugin(latest.message)
        words = _first_sentence(plugin_error_text(latest.message))
        line += f", last {ago(latest.last_seen, v.now)}: " + (f'plugin "{plugin}": {words}' if plugin else words)
    if counts.get(SandboxFailure.NO_IP):
        line += " (not ipamd's pool: aws-node does not serve this node)"
    return [line]


def _event_line(e: EventFact, v: View) -> str:
    return f"{e.reason} x{e.count} ({ago(e.last_seen, v.now)}): {_first_sentence(e.message)}"


def _first_sentence(text: str, limit: int = 180) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ipv6_prefix_missing(v: View) -> Cause | None:
    """IPv6: ipamd's nodeInit gives the primary ENI one /80 (setupENI -> assignIPv6Prefix, AssignIpv6Addresses with
    Ipv6PrefixCount=1); when that fails nodeInit fails, ipamd exits, and no pod on the node gets an address."""
    if not (v.settings_known and v.settings.ipv6) or v.ev.node_enis is None:
        return None
    primary = v.primary_eni
    if primary is None or primary.ipv6_prefixes:
        return None
    subnet = v.subnets.get(primary.subnet_id)
    node = v.ev.node
    name = node.name if node else "the node"
    evidence = [f"primary ENI {primary.eni_id}: 0 IPv6 prefixes (ipamd gives it one /80 at start)"]
    remedy: list[str]
    if subnet is not None and not subnet.ipv6_cidrs:
        evidence.append(f"subnet {subnet.subnet_id} ({subnet.az}, {subnet.cidr}): no IPv6 CIDR block associated")
        summary = (
            f"Node {name}'s subnet {subnet.subnet_id} has no IPv6 CIDR, so ipamd cannot give the node its /80 prefix "
            "and exits at start: no pod on the node gets an address."
        )
        remedy = [
            f"Associate an IPv6 CIDR with {subnet.subnet_id}: `aws ec2 associate-subnet-cidr-block --subnet-id "
            f"{subnet.subnet_id} --ipv6-cidr-block <a /64 of the VPC's IPv6 CIDR>`; aws-node succeeds on its next "
            "restart.",
            "Or run IPv6 nodes only in subnets that have an IPv6 CIDR.",
        ]
        confidence = 0.9
    else:
        if subnet is not None:
            evidence.append(f"subnet {subnet.subnet_id}: IPv6 CIDR {', '.join(subnet.ipv6_cidrs)}")
        summary = f"Node {name} has no IPv6 /80 prefix on its primary ENI, so its pods get no address."
        remedy = [
            "Read why ipamd could not assign it: `kubectl logs -n kube-system <aws-node pod> -c aws-node` (look for "
            "'Failed to allocate IPv6 Prefixes to ENI').",
            "ipamd needs ec2:AssignIpv6Addresses (the AmazonEKS_CNI_IPv6_Policy).",
        ]
        confidence = 0.7
    awsn = v.ev.aws_node_pod
    main = next((c for c in awsn.containers if c.name == "aws-node"), None) if awsn else None
    if main is not None and not main.ready:
        evidence.append(f"aws-node {awsn.name if awsn else ''}: not ready, {plural(main.restarts, 'restart')}")
    evidence += _sandbox_lines(v)
    return Cause(CauseCode.IPV6_PREFIX_MISSING, confidence, summary, tuple(evidence), tuple(remedy))
