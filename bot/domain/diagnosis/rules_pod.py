"""Causes decided by the pod alone or by the scheduler: not found, hostNetwork, already has an IP, not
scheduled (and the two scheduler verdicts that are about pod networking: max-pods and SGP branch ENIs)."""

from __future__ import annotations

from collections import Counter

from bot.domain.diagnosis.model import Cause, CauseCode, ProposedChange
from bot.domain.diagnosis.signals import SchedulerVerdict, Unfit, parse_scheduler_message
from bot.domain.diagnosis.text import listing, verb
from bot.domain.diagnosis.view import View
from bot.domain.facts import PodFact
from bot.domain.max_pods import calculator_max_pods
from bot.domain.shapes import NodeShape, aws_node_runs_on, node_shape
from bot.domain.wording import ago, plural

MIN_CONFIDENCE_SHARE = 0.6  # a scheduler group that covers only some nodes is still a cause, less surely


def pod_not_found(v: View) -> Cause:
    ev = v.ev
    evidence = [f"0 pods named {ev.name} in namespace {ev.namespace}"]
    remedy = []
    if ev.similar_names:
        evidence.append(f"{plural(len(ev.similar_names), 'close name')} in {ev.namespace}: {listing(ev.similar_names)}")
        remedy.append(f"Did you mean `{ev.namespace}/{ev.similar_names[0]}`? Pod names carry the ReplicaSet suffix.")
    if ev.same_name_elsewhere:
        evidence.append(
            f"{plural(len(ev.same_name_elsewhere), 'pod')} of that name in other namespaces: "
            f"{listing(ev.same_name_elsewhere)}"
        )
        remedy.append(f"Ask about `{ev.same_name_elsewhere[0]}` (or pass `-n NAMESPACE`).")
    remedy.append(f"List the pods: `kubectl get pods -n {ev.namespace}`.")
    hint = f"; did you mean {ev.similar_names[0]}?" if ev.similar_names else "."
    if not ev.similar_names and ev.same_name_elsewhere:
        hint = f"; {ev.same_name_elsewhere[0]} exists."
    return Cause(
        CauseCode.POD_NOT_FOUND,
        1.0,
        f"No pod named {ev.name} in namespace {ev.namespace}{hint}",
        tuple(evidence),
        tuple(remedy),
    )


def host_network(v: View) -> Cause:
    pod = _pod(v)
    node_ip = v.ev.node.internal_ip if v.ev.node else None
    where = f"node {pod.node_name}'s IP{f' ({node_ip})' if node_ip else ''}" if pod.node_name else "its node's IP"
    return Cause(
        CauseCode.HOST_NETWORK,
        1.0,
        f"{pod.ref} runs with hostNetwork: it uses {where}, so the VPC CNI gives it no address of its own.",
        (f"spec.hostNetwork=true; phase {pod.phase}; {_containers_line(pod)}",),
        ("Nothing to fix in pod networking; if the pod is stuck, look at its containers and events.",),
    )


def pod_has_ip(v: View) -> Cause:
    pod = _pod(v)
    waiting = [c for c in pod.containers if c.waiting_reason]
    state = f"phase {pod.phase}, {_containers_line(pod)}"
    if waiting:
        first = waiting[0]
        state += f"; container {first.name} waiting: {first.waiting_reason}"
    evidence = [f"status.podIP={pod.pod_ip} on node {pod.node_name or 'unknown'}", state]
    evidence += [
        f"container {c.name}: {c.waiting_reason}, {plural(c.restarts, 'restart')} ({c.waiting_message[:160]})"
        for c in waiting
        if c.waiting_message
    ]
    remedy = ["Pod networking is done; the remaining problem is the container state above."]
    if waiting:
        remedy.append(f"`kubectl describe pod -n {pod.namespace} {pod.name}` shows why {waiting[0].name} waits.")
    return Cause(
        CauseCode.POD_HAS_IP,
        1.0,
        f"{pod.ref} already has IP {pod.pod_ip} ({state}).",
        tuple(evidence),
        tuple(remedy),
    )


# --- the scheduler ---------------------------------------------------------------------------------------


def scheduler_verdict(v: View) -> SchedulerVerdict | None:
    event = v.signals.scheduling
    if event is not None:
        return parse_scheduler_message(event.message)
    pod = v.ev.pod
    status, reason, message = pod.conditions.get("PodScheduled", ("", "", "")) if pod else ("", "", "")
    if status == "False" and message:
        return parse_scheduler_message(message)
    return None


# Reasons about room on a node. The others (selectors, affinity, taints, cordons) only say which nodes the
# pod may use at all: when room is what is missing on the nodes it may use, room is the cause.
_CAPACITY = frozenset({Unfit.MAX_PODS, Unfit.POD_ENI, Unfit.RESOURCES, Unfit.PORTS})


def _capacity_bound(verdict: SchedulerVerdict) -> bool:
    return any(group in _CAPACITY for _, _, group in verdict.reasons)


def _confidence(verdict: SchedulerVerdict, groups: set[Unfit]) -> float:
    """Share of the decisive nodes that this cause explains, scaled to [0.6, 0.95]."""
    decisive = [r for r in verdict.reasons if r[2] in _CAPACITY] or list(verdict.reasons)
    counted = sum(n for n, _, _ in decisive) or 1
    mine = sum(n for n, _, group in decisive if group in groups)
    return round(MIN_CONFIDENCE_SHARE + 0.35 * mine / counted, 2)


def _constraint_lines(verdict: SchedulerVerdict) -> list[str]:
    """The nodes the pod's own constraints rule out, as context for a capacity cause."""
    words = [f"{n} {text}" for n, text, group in verdict.reasons if group not in _CAPACITY]
    ruled_out = sum(n for n, _, group in verdict.reasons if group not in _CAPACITY)
    if not words:
        return []
    return [f"{plural(ruled_out, 'other node')} ruled out by the pod's own constraints: {listing(words, 3)}"]


def max_pods_reached(v: View) -> Cause | None:
    verdict = scheduler_verdict(v)
    if verdict is None or not verdict.nodes(Unfit.MAX_PODS):
        return None
    full = verdict.nodes(Unfit.MAX_PODS)
    evidence = [f"scheduler: {full} of {verdict.total_nodes} nodes: Too many pods (kubelet max-pods reached)"]
    evidence += _constraint_lines(verdict)
    evidence += _max_pods_by_type(v)
    remedy = [
        "Add nodes (scale the node group, or let Cluster Autoscaler / Karpenter add capacity).",
        "Or free room: delete finished or idle pods on the full nodes.",
    ]
    remedy += _prefix_delegation_hint(v)
    return Cause(
        CauseCode.MAX_PODS_REACHED,
        _confidence(verdict, {Unfit.MAX_PODS}),
        f"{_pod(v).ref} is not scheduled: {full} of {verdict.total_nodes} nodes already run their max-pods.",
        tuple(evidence),
        tuple(remedy),
    )


def _max_pods_by_type(v: View) -> list[str]:
    groups = Counter((n.instance_type or "unknown type", n.capacity_pods) for n in v.ev.nodes or [])
    return [
        f"{plural(count, 'node')} of {itype} with max-pods {pods}"
        for (itype, pods), count in sorted(groups.items(), key=lambda kv: -kv[1])
    ][:4]


def _prefix_delegation_hint(v: View) -> list[str]:
    """Prefix delegation is aws-node's: only for the nodes it serves, and only when its settings were read."""
    nodes = v.ev.nodes or []
    auto = [n for n in nodes if node_shape(n.labels) is NodeShape.AUTO]
    hints = [AUTO_MODE_MAX_PODS] if auto else []
    if v.settings.prefix_delegation or not v.settings_known:
        return hints
    gains = []
    for itype in sorted({n.instance_type for n in nodes if n.instance_type and aws_node_runs_on(n.labels)}):
        limits = v.ev.limits_by_type.get(itype)
        if limits is None or not limits.supports_prefix_delegation:
            continue
        cn, max_eni = v.settings.custom_networking, v.settings.max_eni
        now = calculator_max_pods(limits, custom_networking=cn, prefix_delegation=False, max_eni=max_eni).value
        with_pd = calculator_max_pods(limits, custom_networking=cn, prefix_delegation=True, max_eni=max_eni).value
        if with_pd > now:
            gains.append(f"{itype} {now} -> {with_pd}")
    if not gains:
        return hints
    return [
        *hints,
        f"Raise pod density with prefix delegation, max-pods {listing(gains, 3)} by max-pods-calculator.sh "
        "(ENABLE_PREFIX_DELEGATION=true, then new node groups with the higher max-pods).",
    ]


# EKS user guide (Auto Mode): EKS sets an Auto Mode node's max-pods itself, min(110, ENIs x (IPs per ENI - 1)).
AUTO_MODE_MAX_PODS = (
    "EKS Auto Mode nodes get their max-pods from EKS (min(110, ENIs x (IPs per ENI - 1))), not from aws-node or "
    "bootstrap settings: for more pods, let the NodePool add nodes (raise its `limits`) or allow larger instance "
    "types in it."
)


def sgp_branch_capacity_unscheduled(v: View) -> Cause | None:
    verdict = scheduler_verdict(v)
    if verdict is None or not verdict.nodes(Unfit.POD_ENI):
        return None
    short = verdict.nodes(Unfit.POD_ENI)
    evidence = [
        f"scheduler: {short} of {verdict.total_nodes} nodes: Insufficient vpc.amazonaws.com/pod-eni "
        "(no free branch ENI for a security-groups-for-pods pod)"
    ]
    evidence += _constraint_lines(verdict)
    nodes = v.ev.nodes or []
    with_trunk = [n for n in nodes if n.allocatable_pod_eni]
    without = [n for n in nodes if not n.allocatable_pod_eni]
    if nodes:
        branch_total = sum(n.allocatable_pod_eni or 0 for n in with_trunk)
        line = (
            f"{plural(len(with_trunk), 'node')} {verb(len(with_trunk), 'advertises', 'advertise')} {branch_total} "
            "branch ENIs in total, all taken"
        )
        if without:
            line += f"; {plural(len(without), 'node')} {verb(len(without), 'advertises', 'advertise')} none (no trunk)"
        evidence.append(line)
        for itype, count in Counter(n.instance_type or "unknown type" for n in without).most_common(3):
            limits = v.ev.limits_by_type.get(itype)
            why = " (type not trunking compatible)" if limits is not None and limits.branch_enis == 0 else ""
            evidence.append(f"{plural(count, 'node')} of {itype} without branch ENIs{why}")
    remedy = []
    change = None
    if v.settings_known and not v.settings.pod_eni:
        evidence.append("aws-node ENABLE_POD_ENI=false: 0 nodes get a trunk ENI")
        remedy.append(
            "Turn on security groups for pods: ENABLE_POD_ENI=true (and the cluster role needs "
            "AmazonEKSVPCResourceController)."
        )
    remedy += [
        "Add nodes of a trunking-capable type (m5.large takes 9 branch-ENI pods; t-family types take none).",
        "Or drop the SecurityGroupPolicy match for this pod if it does not need its own security groups.",
    ]
    if v.settings_known and not v.settings.pod_eni:
        change = ProposedChange.aws_node(ENABLE_POD_ENI="true")
    return Cause(
        CauseCode.SGP_BRANCH_CAPACITY,
        _confidence(verdict, {Unfit.POD_ENI}),
        f"{_pod(v).ref} needs a branch ENI (security groups for pods) and {short} of {verdict.total_nodes} "
        "nodes have none free.",
        tuple(evidence),
        tuple(remedy),
        change=change,
    )


_GROUP_REMEDY = {
    Unfit.RESOURCES: "Lower the pod's requests or add capacity (node group size, autoscaler).",
    Unfit.AFFINITY: "Check the pod's nodeSelector, affinity and topology spread against the nodes' labels.",
    Unfit.TAINTS: "Add a toleration for the taint, or run the pod on nodes without it.",
    Unfit.UNSCHEDULABLE: "Nodes are cordoned: `kubectl uncordon` them or add nodes.",
    Unfit.VOLUMES: "Check the pod's PersistentVolumeClaims: bound, and in an AZ that has nodes.",
    Unfit.PORTS: "A hostPort the pod asks for is taken on every fitting node.",
    Unfit.NO_NODES: "The cluster has no nodes the scheduler can use: check the node groups.",
    Unfit.OTHER: "Read the scheduler's message above and compare it with the nodes.",
}
_NETWORK_GROUPS = {Unfit.MAX_PODS, Unfit.POD_ENI}


def not_scheduled(v: View) -> Cause | None:
    pod = _pod(v)
    verdict = scheduler_verdict(v)
    if verdict is None:
        age = ago(pod.created_at, v.now)
        return Cause(
            CauseCode.NOT_SCHEDULED,
            0.5,
            f"{pod.ref} has no node yet and the scheduler has not reported on it (created {age}).",
            (f"spec.nodeName empty, 0 FailedScheduling events, phase {pod.phase}, created {age}",),
            (
                "Give it a few seconds; if it stays, check that the scheduler runs and that "
                "spec.schedulerName names a scheduler that exists.",
            ),
        )
    groups = [g for g in verdict.groups if g not in _NETWORK_GROUPS]
    if not groups:
        return None
    # Only the pod's constraints here, while another cause is about room: they narrow, they do not block.
    narrows_only = _capacity_bound(verdict) and not any(g in _CAPACITY for g in groups)
    words = [w for g in groups for w in verdict.words(g)]
    evidence = [f"scheduler: 0 of {verdict.total_nodes} nodes fit: {listing(words, 6)}"]
    event = v.signals.scheduling
    if event is not None:
        evidence.append(f"FailedScheduling {plural(event.count, 'time')}, last {ago(event.last_seen, v.now)}")
    return Cause(
        CauseCode.NOT_SCHEDULED,
        0.5 if narrows_only else _confidence(verdict, set(groups)),
        f"{pod.ref} is not scheduled: none of {verdict.total_nodes} nodes fits ({listing(words, 3)}).",
        tuple(evidence),
        tuple(_GROUP_REMEDY[g] for g in groups),
        contributing=narrows_only,
    )


def _pod(v: View) -> PodFact:
    assert v.ev.pod is not None
    return v.ev.pod


def _containers_line(pod: PodFact) -> str:
    ready = sum(1 for c in pod.containers if c.ready)
    return f"{ready}/{len(pod.containers)} containers ready"
