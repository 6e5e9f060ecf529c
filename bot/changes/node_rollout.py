"""`/cni nodes replace`: replace nodes one batch at a time, as an approved high-risk change.

Each node: cordon; drain through the Eviction API so PodDisruptionBudgets hold (a blocked eviction is retried
within a bound, then reported); terminate through its Auto Scaling group without lowering the desired capacity;
wait for the replacement to be Ready with aws-node ready and, under custom networking, its pod ENIs in the
ENIConfig subnet. Progress goes to the request's thread; the first failure stops the rollout and every node's
state is said.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.changes.drafts import ChangeRefused, Draft
from bot.changes.nodes import nodes_not_migrated
from bot.changes.state import read_state, writer_for
from bot.domain.changes import BaseRevision, ChangeKind, ChangeSpec, Target
from bot.domain.cni_settings import effective_settings
from bot.domain.facts import NodeFact, PodFact
from bot.domain.knobs import Risk
from bot.domain.names import is_label, is_subdomain, shown
from bot.domain.shapes import aws_node_runs_on
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection
from bot.render.doc import escape

NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
KARPENTER_LABEL = "karpenter.sh/nodepool"
MAX_NODES = 200


@dataclass(frozen=True)
class RolloutTimings:
    batch: int = 1  # nodes replaced at once
    eviction_wait: float = 120.0  # seconds a PodDisruptionBudget may block one eviction before the rollout stops
    node_ready_timeout: float = 900.0  # seconds for a replacement to join, be Ready and run aws-node
    poll: float = 0.2


def pick_nodes(
    conn: ClusterConnection, *, names: Sequence[str], nodegroup: str | None, pending: Sequence[str] | None
) -> list[NodeFact]:
    """The nodes to replace, checked: they exist, aws-node runs there, and an Auto Scaling group can replace them."""
    # What people typed is echoed made inert: `<!channel>` must not ping anyone.
    for name in names:
        if not is_subdomain(name):
            raise ChangeRefused([f"`{escape(shown(name))}` is not a node name."])
    if nodegroup is not None and not is_label(nodegroup):
        raise ChangeRefused([f"`{escape(shown(nodegroup))}` is not a node group name."])
    nodes = {n.name: n for n in conn.kube.nodes()}
    if names:
        missing = [n for n in names if n not in nodes]
        if missing:
            raise ChangeRefused([f"No node named {', '.join(f'`{m}`' for m in missing[:5])}."])
        chosen = [nodes[n] for n in dict.fromkeys(names)]
    elif nodegroup is not None:
        chosen = sorted((n for n in nodes.values() if n.labels.get(NODEGROUP_LABEL) == nodegroup), key=lambda n: n.name)
        if not chosen:
            raise ChangeRefused([f"No node carries `{NODEGROUP_LABEL}={nodegroup}`."])
    else:
        chosen = [nodes[n] for n in pending or () if n in nodes]
        if not chosen:
            raise ChangeRefused(["That change lists no node still to replace."])
    problems = []
    for node in chosen:
        if not aws_node_runs_on(node.labels):
            problems.append(f"`{node.name}` is not a node aws-node runs on (Fargate, Auto Mode, Hybrid or Windows).")
        elif KARPENTER_LABEL in node.labels:
            problems.append(
                f"`{node.name}` is a Karpenter node: delete its NodeClaim instead (not done by cnibot yet)."
            )
        elif not node.instance_id:
            problems.append(f"`{node.name}` has no EC2 instance id (spec.providerID).")
    if len(chosen) > MAX_NODES:
        problems.append(f"At most {MAX_NODES} nodes per request.")
    if problems:
        raise ChangeRefused(problems)
    return chosen


def draft_nodes_replace(
    conn: ClusterConnection,
    *,
    names: Sequence[str] = (),
    nodegroup: str | None = None,
    pending: Sequence[str] | None = None,
    pending_from: int | None = None,
    running: int | None = None,
    timings: RolloutTimings = RolloutTimings(),
) -> Draft:
    if running is not None:
        raise ChangeRefused([f"Node rollout #{running} is still open on this cluster; one rollout at a time."])
    chosen = pick_nodes(conn, names=names, nodegroup=nodegroup, pending=pending)
    groups: dict[str, int] = {}
    for node in chosen:
        group = node.labels.get(NODEGROUP_LABEL, "(no node group label)")
        groups[group] = groups.get(group, 0) + 1
    warnings = []
    everyone = conn.kube.nodes()
    for group, count in sorted(groups.items()):
        size = sum(1 for n in everyone if n.labels.get(NODEGROUP_LABEL) == group)
        if count == size and size <= timings.batch:
            warnings.append(f"Every node of `{group}` is replaced at once: its pods wait for the replacement.")
    spec = ChangeSpec(replace_nodes=tuple(n.name for n in chosen))
    source = f" (the nodes change #{pending_from} left to replace)" if pending_from else ""
    return Draft(
        kind=ChangeKind.NODES_REPLACE,
        spec=spec,
        risk=Risk.HIGH,
        summary=f"replace {len(chosen)} node(s){source}",
        base=BaseRevision(),
        target=Target.NONE,
        detail={
            "warnings": warnings,
            "effect": (
                f"{timings.batch} node(s) at a time: cordon, drain through the Eviction API (PodDisruptionBudgets "
                f"hold; a blocked eviction is retried for {int(timings.eviction_wait)} s), terminate through the Auto "
                "Scaling group without lowering its desired capacity, then wait for the replacement to be Ready with "
                "aws-node ready. The first failure stops the rollout."
            ),
            "needs_node_replacement": False,
            "pending_from": pending_from,
        },
    )


class RolloutFailed(Exception):
    def __init__(self, message: str, states: dict[str, str]) -> None:
        super().__init__(message)
        self.message = message
        self.states = states

    def text(self) -> str:
        return f"{self.message}. " + states_text(self.states)


def states_text(states: dict[str, str]) -> str:
    return "Nodes: " + "; ".join(f"`{name}` {state}" for name, state in states.items())


@dataclass
class _Rollout:
    conn: ClusterConnection
    timings: RolloutTimings
    say: Callable[[str], None]
    guard: Callable[[str], None]
    states: dict[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep


def run_rollout(
    conn: ClusterConnection,
    names: Sequence[str],
    timings: RolloutTimings,
    *,
    say: Callable[[str], None],
    guard: Callable[[str], None],
    replaced: Callable[[str, str], None] = lambda old, new: None,
) -> list[str]:
    """Replace the nodes; returns one line per replacement. Raises RolloutFailed at the first failure."""
    run = _Rollout(conn, timings, say, guard, dict.fromkeys(names, "not started"))
    written = []
    order = list(names)
    for start in range(0, len(order), max(1, timings.batch)):
        batch = order[start : start + max(1, timings.batch)]
        known = {n.name for n in conn.kube.nodes()}
        for name in batch:
            _take_out(run, name)
        for name in batch:
            replacement = _wait_for_replacement(run, name, known)
            known.add(replacement)
            run.states[name] = f"replaced by `{replacement}`"
            replaced(name, replacement)
            written.append(f"`{name}` replaced by `{replacement}`")
            done = sum(1 for s in run.states.values() if s.startswith("replaced"))
            say(f":white_check_mark: `{name}` replaced by `{replacement}` ({done}/{len(order)}).")
    return written


def _take_out(run: _Rollout, name: str) -> None:
    kube, writer = run.conn.kube, writer_for(run.conn)
    node = next((n for n in kube.nodes() if n.name == name), None)
    if node is None or not node.instance_id:
        run.states[name] = "gone before its turn"
        raise RolloutFailed(f"node `{name}` is gone", run.states)
    run.guard(f"cordon {name}")
    _step(run, name, "cordon", lambda: writer.cordon(name))
    run.states[name] = "cordoned"
    pods = [p for p in kube.pods_on_node(name) if not _daemon_pod(p) and p.phase not in ("Succeeded", "Failed")]
    for pod in pods:
        _evict(run, name, pod)
    run.states[name] = "cordoned and drained"
    aws = run.conn.aws(node.az)
    run.guard(f"terminate {name}")
    group = _step(run, name, "find its Auto Scaling group", lambda: aws.auto_scaling_group_of(node.instance_id or ""))
    if group is None:
        run.states[name] = "cordoned and drained; no Auto Scaling group found, not terminated"
        raise RolloutFailed(f"`{name}` ({node.instance_id}) is in no Auto Scaling group", run.states)
    _step(run, name, "terminate", lambda: aws.terminate_in_auto_scaling_group(node.instance_id or ""))
    run.states[name] = f"terminated in `{group}`, waiting for its replacement"
    run.say(f":arrows_counterclockwise: `{name}`: cordoned, {len(pods)} pod(s) evicted, terminated in `{group}`.")


def _step(run: _Rollout, name: str, what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except UpstreamError as exc:
        run.states[name] = f"{run.states[name]}; {what} failed"
        raise RolloutFailed(f"{what} of `{name}` failed ({exc.api}: {exc.reason})", run.states) from exc


def _daemon_pod(pod: PodFact) -> bool:
    """DaemonSet pods stay (as `kubectl drain --ignore-daemonsets`): the DaemonSet controller labels them."""
    return "pod-template-generation" in pod.labels


def _evict(run: _Rollout, name: str, pod: PodFact) -> None:
    writer = writer_for(run.conn)
    deadline = time.monotonic() + run.timings.eviction_wait
    while True:
        run.guard(f"evict {pod.ref}")
        try:
            writer.evict(pod.namespace, pod.name)
            return
        except UpstreamError as exc:
            if exc.code == "404":
                return  # gone already
            if exc.code != "429":
                run.states[name] = "cordoned; drain failed"
                raise RolloutFailed(f"evicting `{pod.ref}` failed ({exc.api}: {exc.reason})", run.states) from exc
            if time.monotonic() >= deadline:
                run.states[name] = f"cordoned; `{pod.ref}` not evicted"
                raise RolloutFailed(
                    f"a PodDisruptionBudget blocks evicting `{pod.ref}` from `{name}` ({exc.reason}) for "
                    f"{int(run.timings.eviction_wait)} s",
                    run.states,
                ) from exc
            run.sleep(run.timings.poll)


def _wait_for_replacement(run: _Rollout, name: str, known: set[str]) -> str:
    kube = run.conn.kube
    deadline = time.monotonic() + run.timings.node_ready_timeout
    seen: str | None = None
    while True:
        run.guard(f"wait for the replacement of {name}")
        new = [n for n in kube.nodes() if n.name not in known and aws_node_runs_on(n.labels)]
        for node in new:
            seen = seen or node.name
            if node.ready[0] == "True" and _aws_node_ready(run.conn, node.name) and _on_expected_subnets(run, node):
                return node.name
        if time.monotonic() >= deadline:
            where = f"`{seen}` joined but is not Ready with aws-node ready" if seen else "no new node joined"
            run.states[name] = f"terminated; replacement not ready ({where})"
            raise RolloutFailed(
                f"the replacement of `{name}` was not ready within {int(run.timings.node_ready_timeout)} s: {where}",
                run.states,
            )
        run.sleep(run.timings.poll)


def _aws_node_ready(conn: ClusterConnection, node: str) -> bool:
    pods = conn.kube.aws_node_pods(node)
    return bool(pods) and all(p.conditions.get("Ready", ("",))[0] == "True" for p in pods)


def _on_expected_subnets(run: _Rollout, node: NodeFact) -> bool:
    """Under custom networking the replacement must take pod addresses from its ENIConfig subnet."""
    state = read_state(run.conn)
    settings = effective_settings(state.aws_node.env if state.aws_node else {})
    if not settings.custom_networking:
        return True
    # This node's ENIs only (a new instance: never cached), not the VPC sweep that may predate it.
    enis = run.conn.aws(node.az).node_enis(node.instance_id or "")
    return not nodes_not_migrated([node], enis, state.eniconfig_states(), settings)
