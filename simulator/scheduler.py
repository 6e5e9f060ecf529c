"""The part of kube-scheduler the scenarios need: filters (taints, unschedulable, node selector, pods,
cpu, memory, vpc.amazonaws.com/pod-eni), least-loaded placement, and the FailedScheduling message text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
# Reasons that evicting lower-priority pods could fix; the others make preemption pointless.
_RESOURCE_REASONS = {
    "Too many pods",
    "Insufficient cpu",
    "Insufficient memory",
    "Insufficient vpc.amazonaws.com/pod-eni",
}


@dataclass
class NodeCapacity:
    """What the scheduler knows of a node: allocatable resources, what is requested, taints."""

    name: str
    labels: dict[str, str]
    max_pods: int
    cpu_millis: int
    memory_mib: int
    pod_eni: int = 0
    unschedulable: bool = False
    taints: list[dict[str, str]] = field(default_factory=list)
    pods: int = 0
    cpu_requested: int = 0
    memory_requested: int = 0
    pod_eni_used: int = 0


@dataclass(frozen=True)
class PodRequest:
    cpu_millis: int
    memory_mib: int
    pod_eni: bool = False
    node_selector: tuple[tuple[str, str], ...] = ()


def reasons_against(node: NodeCapacity, pod: PodRequest) -> list[str]:
    """Why the pod cannot go to the node (empty = it fits)."""
    reasons = []
    if any(node.labels.get(k) != v for k, v in pod.node_selector):
        return ["node(s) didn't match Pod's node affinity/selector"]
    if node.unschedulable:
        return ["node(s) were unschedulable"]
    for taint in node.taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute"):
            value = taint.get("value", "")
            return [f"node(s) had untolerated taint {{{taint['key']}: {value}}}"]
    if node.pods + 1 > node.max_pods:
        reasons.append("Too many pods")
    if node.cpu_requested + pod.cpu_millis > node.cpu_millis:
        reasons.append("Insufficient cpu")
    if node.memory_requested + pod.memory_mib > node.memory_mib:
        reasons.append("Insufficient memory")
    if pod.pod_eni and node.pod_eni_used + 1 > node.pod_eni:
        reasons.append("Insufficient vpc.amazonaws.com/pod-eni")
    return reasons


def place(nodes: Iterable[NodeCapacity], pod: PodRequest) -> tuple[NodeCapacity | None, str]:
    """The least-loaded node that fits (ties: first in order) and books the pod on it; or None and the
    FailedScheduling message."""
    candidates = list(nodes)
    best: NodeCapacity | None = None
    failures: list[list[str]] = []
    for node in candidates:
        reasons = reasons_against(node, pod)
        if reasons:
            failures.append(reasons)
        elif best is None or node.pods < best.pods:
            best = node
    if best is not None:
        book(best, pod)
        return best, ""
    return None, unschedulable_message(len(candidates), failures)


def book(node: NodeCapacity, pod: PodRequest) -> None:
    node.pods += 1
    node.cpu_requested += pod.cpu_millis
    node.memory_requested += pod.memory_mib
    if pod.pod_eni:
        node.pod_eni_used += 1


def unschedulable_message(total: int, failures: list[list[str]]) -> str:
    """`0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption ...`"""
    reasons: Counter[str] = Counter()
    preemption: Counter[str] = Counter()
    for node_reasons in failures:
        reasons.update(node_reasons)
        helpful = all(r in _RESOURCE_REASONS for r in node_reasons)
        preemption[NO_VICTIMS if helpful else PREEMPTION_NOT_HELPFUL] += 1
    if total == 0:
        return "no nodes available to schedule pods"
    listed = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
    victims = ", ".join(f"{n} {r}" for r, n in sorted(preemption.items()))
    return f"0/{total} nodes are available: {listed}. preemption: 0/{total} nodes are available: {victims}."


def parse_cpu(text: str) -> int:
    """Kubernetes CPU quantity -> millicores."""
    text = str(text)
    if text.endswith("m"):
        return int(text[:-1])
    return int(float(text) * 1000)


def parse_memory(text: str) -> int:
    """Kubernetes memory quantity -> MiB (rounded up)."""
    text = str(text)
    units = {
        "Ki": 1 / 1024,
        "Mi": 1,
        "Gi": 1024,
        "Ti": 1024 * 1024,
        "K": 1000 / 1048576,
        "M": 1e6 / 1048576,
        "G": 1e9 / 1048576,
    }
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(-(-float(text[: -len(suffix)]) * factor // 1))
    return int(-(-int(text) // 1048576))
