"""Recognisers for what Kubernetes and aws-node say: scheduler verdicts, sandbox failures, aws-node events.

The strings are the exact ones upstream emits (cni-reference section 3 and appendix A); matching is by
substring so that containerd's and dockershim's wrappers around them both match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.facts import EventFact

POD_ENI_RESOURCE = "vpc.amazonaws.com/pod-eni"


# --- the scheduler --------------------------------------------------------------------------------------


class Unfit(StrEnum):
    """Why the scheduler found a node unfit, grouped the way a person fixes it."""

    MAX_PODS = "max-pods"  # "Too many pods": kubelet max-pods
    POD_ENI = "pod-eni"  # "Insufficient vpc.amazonaws.com/pod-eni": SGP branch ENIs
    RESOURCES = "resources"  # Insufficient cpu / memory / any other resource
    AFFINITY = "affinity"  # node selector / affinity, pod (anti-)affinity, topology spread
    TAINTS = "taints"  # untolerated taints
    UNSCHEDULABLE = "unschedulable"  # cordoned nodes
    VOLUMES = "volumes"
    PORTS = "ports"
    NO_NODES = "no-nodes"
    OTHER = "other"


_UNFIT_PATTERNS: tuple[tuple[Unfit, re.Pattern[str]], ...] = (
    (Unfit.MAX_PODS, re.compile(r"too many pods", re.I)),
    (Unfit.POD_ENI, re.compile(r"insufficient vpc\.amazonaws\.com/pod-eni", re.I)),
    (Unfit.RESOURCES, re.compile(r"^insufficient ", re.I)),
    (Unfit.UNSCHEDULABLE, re.compile(r"were unschedulable|node\.kubernetes\.io/unschedulable", re.I)),
    (Unfit.TAINTS, re.compile(r"taint", re.I)),
    (Unfit.VOLUMES, re.compile(r"volume|persistentvolumeclaim|persistent volumes", re.I)),
    (Unfit.AFFINITY, re.compile(r"affinity|selector|topology spread", re.I)),
    (Unfit.PORTS, re.compile(r"free ports", re.I)),
)


@dataclass(frozen=True)
class SchedulerVerdict:
    """A parsed FailedScheduling message: "0/5 nodes are available: 3 Too many pods, 2 Insufficient cpu."."""

    message: str
    total_nodes: int | None
    reasons: tuple[tuple[int, str, Unfit], ...]  # (nodes, the scheduler's words, group)

    def nodes(self, group: Unfit) -> int:
        return sum(n for n, _, g in self.reasons if g == group)

    @property
    def groups(self) -> list[Unfit]:
        """Groups, most nodes first."""
        totals: dict[Unfit, int] = {}
        for n, _, group in self.reasons:
            totals[group] = totals.get(group, 0) + n
        return sorted(totals, key=lambda g: -totals[g])

    def words(self, group: Unfit) -> list[str]:
        return [f"{n} {text}" for n, text, g in self.reasons if g == group]


_AVAILABLE = re.compile(r"(\d+)/(\d+) nodes are available(?::\s*(.*))?", re.S)
_REASON = re.compile(r"^\s*(\d+)\s+(.+?)\s*$", re.S)


def classify_unfit(text: str) -> Unfit:
    for group, pattern in _UNFIT_PATTERNS:
        if pattern.search(text):
            return group
    return Unfit.OTHER


def parse_scheduler_message(message: str) -> SchedulerVerdict:
    match = _AVAILABLE.search(message)
    if match is None:
        if "no nodes available" in message.lower():
            return SchedulerVerdict(message, 0, ((0, "no nodes available to schedule pods", Unfit.NO_NODES),))
        return SchedulerVerdict(message, None, ((0, message.strip(), classify_unfit(message)),))
    total = int(match.group(2))
    body = (match.group(3) or "").split("preemption:", 1)[0].strip().rstrip(".")
    reasons: list[tuple[int, str, Unfit]] = []
    for part in _split_top_level(body):
        found = _REASON.match(part)
        if found:
            text = found.group(2).rstrip(".")
            reasons.append((int(found.group(1)), text, classify_unfit(text)))
    if not reasons and total == 0:
        reasons.append((0, "no nodes in the cluster", Unfit.NO_NODES))
    return SchedulerVerdict(message, total, tuple(reasons))


def _split_top_level(text: str) -> list[str]:
    """Split on ", " outside braces: taints print as {key: value} and may hold commas."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for index, char in enumerate(text):
        depth += char == "{"
        depth -= char == "}"
        if char == "," and depth == 0 and text[index + 1 : index + 2] == " ":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


# --- the kubelet's sandbox failures ---------------------------------------------------------------------


class SandboxFailure(StrEnum):
    NO_IP = "no-ip"  # ipamd answered: no IP (or the SGP branch ENI is not ready yet)
    IPAMD_UNREACHABLE = "ipamd-unreachable"  # aws-node restarting, crash-looping or not started
    NETWORK_POLICY = "network-policy"  # the network policy agent, not IP management
    NETWORK_SETUP = "network-setup"  # veth/route setup after an IP was assigned
    NETWORK_NOT_READY = "network-not-ready"  # the node's CNI is not initialised
    OTHER = "other"


# The aws-cni plugin's own error texts (cmd/routed-eni-cni-plugin/cni.go: add). containerd wraps every CNI
# error in `failed to setup network for sandbox "<id>": plugin type="<type>" name="<network>" failed (add): `,
# so only the plugin's text after that says what went wrong. Note the plugin's "add command:" (not "add cmd:")
# in front of the veth/route setup failure: it is the one message that says the IP was assigned first.
_AWS_CNI_ADD_ERRORS: tuple[tuple[SandboxFailure, str], ...] = (
    (SandboxFailure.NETWORK_POLICY, "add cmd: failed to setup network policy"),
    (SandboxFailure.NO_IP, "add cmd: failed to assign an IP address to container"),
    (SandboxFailure.IPAMD_UNREACHABLE, "add cmd: Error received from AddNetwork gRPC call"),
    (SandboxFailure.IPAMD_UNREACHABLE, "add cmd: failed to connect to backend server"),
    (SandboxFailure.NETWORK_SETUP, "add command: failed to setup network"),
)
# The kubelet's and the runtime's words for a node whose CNI is not initialised (no aws-cni involved).
_NOT_READY_TEXTS = (
    "NetworkPluginNotReady",
    "cni plugin not initialized",
    "cni config uninitialized",
    "network is not ready",
)
_CNI_PLUGIN = re.compile(r'plugin type="([^"]*)"')
AWS_CNI_PLUGIN = "aws-cni"


def failing_plugin(message: str) -> str | None:
    """The CNI plugin libcni names in the message (`plugin type="egress-cni" ...`), None when not named."""
    match = _CNI_PLUGIN.search(message)
    return match.group(1) if match else None


def plugin_error_text(message: str) -> str:
    """The failing plugin's own words: what follows libcni's `failed (add): `, else the whole message."""
    _, found, after = message.partition("failed (add): ")
    return (after if found else message).strip()


def classify_sandbox(message: str) -> SandboxFailure:
    """By the aws-cni plugin's own text, never by containerd's wrapper: an error of another plugin in the
    chain (egress-cni, portmap, bandwidth...) or of the runtime is OTHER."""
    plugin = failing_plugin(message)
    if plugin is None or plugin == AWS_CNI_PLUGIN:
        lowered = message.lower()
        for failure, text in _AWS_CNI_ADD_ERRORS:
            if text.lower() in lowered:
                return failure
    if any(text.lower() in message.lower() for text in _NOT_READY_TEXTS):
        return SandboxFailure.NETWORK_NOT_READY
    return SandboxFailure.OTHER


@dataclass(frozen=True)
class PodSignals:
    """The pod's own events, sorted into what the rules ask about."""

    scheduling: EventFact | None  # newest FailedScheduling
    sandbox: dict[SandboxFailure, int]  # failure kind -> occurrences
    sandbox_latest: EventFact | None
    branch_failures: tuple[EventFact, ...]  # vpc-resource-controller BranchAllocationFailed and friends

    @property
    def sandbox_failures(self) -> int:
        return sum(self.sandbox.values())

    def count(self, failure: SandboxFailure) -> int:
        return self.sandbox.get(failure, 0)


_SANDBOX_REASONS = {"FailedCreatePodSandBox", "NetworkNotReady", "FailedCreatePodSandbox"}
_BRANCH_REASONS = {"BranchAllocationFailed", "BranchENIAnnotationFailed"}


def pod_signals(events: Sequence[EventFact]) -> PodSignals:
    """``events`` newest first, as the gatherer merges them."""
    scheduling = next((e for e in events if e.reason == "FailedScheduling"), None)
    sandbox: dict[SandboxFailure, int] = {}
    latest: EventFact | None = None
    for event in events:
        if event.reason not in _SANDBOX_REASONS:
            continue
        kind = (
            SandboxFailure.NETWORK_NOT_READY if event.reason == "NetworkNotReady" else classify_sandbox(event.message)
        )
        sandbox[kind] = sandbox.get(kind, 0) + max(event.count, 1)
        latest = latest or event
    branch = tuple(e for e in events if e.reason in _BRANCH_REASONS)
    return PodSignals(scheduling, sandbox, latest, branch)


# --- aws-node's own events ------------------------------------------------------------------------------

_EC2_API = re.compile(r"ec2:(\w+)")


def missing_permissions(events: Iterable[EventFact]) -> dict[str, int]:
    """EC2 API -> occurrences, from aws-node's MissingIAMPermissions events."""
    apis: dict[str, int] = {}
    for event in events:
        if event.reason != "MissingIAMPermissions":
            continue
        match = _EC2_API.search(event.message)
        api = match.group(1) if match else "unknown"
        apis[api] = apis.get(api, 0) + max(event.count, 1)
    return apis
