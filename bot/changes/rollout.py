"""After a write: wait for the aws-node rollout, then check the change took.

Verification is what an operator would look at: the DaemonSet carries the new env, aws-node is ready on
every node, and no new pod sandbox failed for lack of an IP since the change was written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.changes.containers import container_env, edits_by_container
from bot.domain.facts import DaemonSetFact
from bot.gateways.kube import KubeGateway

SANDBOX_FAILED = "FailedCreatePodSandBox"
# The CNI's "no IP" answers (cni-reference 3.1): what a bad warm-pool or ENIConfig change produces.
IP_FAILURES = ("failed to assign an IP address to container", "Failed to get pod ENI config")


@dataclass(frozen=True)
class Progress:
    desired: int
    updated: int
    ready: int
    generation: int
    observed_generation: int

    @property
    def done(self) -> bool:
        return (
            self.observed_generation >= self.generation and self.updated >= self.desired and self.ready >= self.desired
        )

    def text(self) -> str:
        return f"{self.updated}/{self.desired} aws-node pods updated, {self.ready}/{self.desired} ready"

    @classmethod
    def of(cls, ds: DaemonSetFact, generation: int) -> Progress:
        return cls(ds.desired, ds.updated, ds.ready, generation, ds.observed_generation)


@dataclass(frozen=True)
class RolloutResult:
    done: bool
    progress: Progress | None
    message: str


class Backoff:
    """Poll quickly at first (most rollouts of small clusters and simulators finish fast), then slower."""

    def __init__(self, first: float, longest: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self._next = first
        self._longest = longest
        self._sleep = sleep

    def wait(self) -> None:
        self._sleep(self._next)
        self._next = min(self._next * 2, self._longest)


def env_matches(ds: DaemonSetFact, wanted: Mapping[str, str | None]) -> list[str]:
    """Keys whose value is not what the change wrote, on the container(s) the writer wrote them to."""
    wrong = {
        key
        for container, edits in edits_by_container(wanted).items()
        for key, value in edits.items()
        if container_env(ds, container).get(key) != value
    }
    return sorted(wrong)


def watch_rollout(
    kube: KubeGateway,
    *,
    wanted_env: Mapping[str, str | None],
    generation: int | None,
    timeout: float,
    backoff: Backoff,
    on_progress: Callable[[Progress], None],
    heartbeat: Callable[[], None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
) -> RolloutResult:
    """Wait until every aws-node pod runs the new template (and is ready), or ``timeout`` seconds pass.

    ``generation`` None (the managed add-on path): EKS writes the DaemonSet itself, so first wait until its
    env shows the change, then watch that generation. ``heartbeat`` runs on every poll (the apply lock's lease
    is renewed there, so a slow rollout is never taken for a dead replica).
    """
    deadline = clock() + timeout
    last: Progress | None = None
    while True:
        heartbeat()
        ds = kube.aws_node_daemonset()
        if ds is None:
            return RolloutResult(False, last, "the aws-node DaemonSet disappeared")
        if generation is None and not env_matches(ds, wanted_env):
            generation = ds.generation
        if generation is not None:
            progress = Progress.of(ds, generation)
            if progress != last:
                on_progress(progress)
                last = progress
            if progress.done:
                return RolloutResult(True, progress, progress.text())
        if clock() >= deadline:
            where = last.text() if last else "the DaemonSet never showed the new env"
            return RolloutResult(False, last, f"timed out after {int(timeout)}s: {where}")
        backoff.wait()


def ip_failure_counts(kube: KubeGateway) -> dict[str, int]:
    """Sandbox failures for lack of an IP, by event uid -> count (new uids or higher counts = new failures)."""
    counts: dict[str, int] = {}
    items = kube.list_items("kube:LIST events", "/api/v1/events", {"fieldSelector": f"reason={SANDBOX_FAILED}"})
    for item in items:
        message = str(item.get("message") or "")
        if any(text in message for text in IP_FAILURES):
            uid = str((item.get("metadata") or {}).get("uid") or "")
            counts[uid] = int(item.get("count") or (item.get("series") or {}).get("count") or 1)
    return counts


def verify(
    kube: KubeGateway, *, wanted_env: Mapping[str, str | None], failures_before: Mapping[str, int], check_env: bool
) -> list[str]:
    """Problems found after the rollout; empty when the change took."""
    problems: list[str] = []
    if check_env:
        ds = kube.aws_node_daemonset()
        if ds is None:
            return ["the aws-node DaemonSet is gone"]
        wrong = env_matches(ds, wanted_env)
        if wrong:
            problems.append(f"aws-node does not carry the new value of {', '.join(wrong)}")
    problems += _aws_node_not_ready(kube)
    new = sum(
        count - failures_before.get(uid, 0)
        for uid, count in ip_failure_counts(kube).items()
        if count > failures_before.get(uid, 0)
    )
    if new:
        problems.append(f"{new} new pod sandbox failure(s) for lack of an IP ({SANDBOX_FAILED}) since the change")
    return problems


def _aws_node_not_ready(kube: KubeGateway) -> list[str]:
    nodes = {n.name for n in kube.nodes()}
    ready_on = set()
    for pod in kube.aws_node_pods():
        if pod.node_name and pod.conditions.get("Ready", ("",))[0] == "True":
            ready_on.add(pod.node_name)
    missing = sorted(nodes - ready_on)
    if not missing:
        return []
    listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return [f"aws-node is not ready on {len(missing)} of {len(nodes)} node(s): {listed}"]
