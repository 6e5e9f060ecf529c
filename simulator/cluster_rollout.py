"""aws-node changes roll out: a new DaemonSet revision replaces the pods a batch at a time on a ticker, every
node's ipamd re-reads its context, and the nodes, pods and DaemonSet status are written back to the store.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import timedelta
from typing import Any

from simulator import daemonset_objects
from simulator.awsnode import MANIFEST_ENV
from simulator.cluster_placement import PodPlacement
from simulator.cluster_state import Rollout
from simulator.ipamd import CUSTOM_NETWORKING_INIT_ERROR

log = logging.getLogger(__name__)
JsonObject = dict[str, Any]
MANIFEST_INIT_ENV = {"DISABLE_TCP_EARLY_DEMUX": "false", "ENABLE_IPv6": "false"}  # the manifest's aws-vpc-cni-init env


class AwsNodeRollout(PodPlacement):
    """Rolls aws-node revisions and reconverges ipamd. Mixed into `SimCluster`."""

    rollout: Rollout | None
    rollout_seconds: float
    lock: threading.RLock
    _clock: float  # seconds of rollout time that have passed (ticker-driven)
    _ticker: threading.Thread | None
    _stop: threading.Event

    def reconverge(self) -> None:
        """Every node's ipamd re-reads its context and runs its pool; pods without network retry."""
        with self.lock, self.model.lock:
            for node in self.aws_node_nodes():
                ipamd = node.ipamd
                context = self._context(node, ipamd.context.config if ipamd.context else self.config)
                if not ipamd.ready and ipamd.startup_error == CUSTOM_NETWORKING_INIT_ERROR:
                    ipamd.start(context)  # crash-looping aws-node tries its init again
                elif ipamd.ready:
                    ipamd.context = context
                    ipamd.converge()
            self.retry_failing_pods()
            self._rewrite_all()

    def begin_rollout(
        self, env: dict[str, str], generation: int | None = None, template: JsonObject | None = None
    ) -> None:
        """The DaemonSet template changed: a new revision rolls node by node (10% at a time)."""
        with self.lock:
            self._set_env(env)
            if template is not None:  # the revision hashes the template as written, annotations included
                self.revision = daemonset_objects.revision_hash(template)
            self.generation = generation or self.generation + 1
            names = list(self.nodes)
            batch = max(1, math.ceil(len(names) * 0.1))
            steps = max(1, math.ceil(len(names) / batch))
            interval = self.rollout_seconds / steps if self.rollout_seconds > 0 else 0.0
            self.rollout = Rollout(self.generation, self.revision, names, batch, interval, self._clock)
            if self.rollout_seconds <= 0:
                self.advance_rollout(all_at_once=True)
            else:
                self._write_daemonset_status()
                self._ensure_ticker()

    def advance_rollout(self, *, all_at_once: bool = False) -> bool:
        """Replace the next batch of aws-node pods; True while the rollout has nodes left."""
        with self.lock, self.model.lock:
            rollout = self.rollout
            if rollout is None:
                return False
            count = len(rollout.pending) if all_at_once else rollout.batch
            batch, rollout.pending = rollout.pending[:count], rollout.pending[count:]
            for name in batch:
                node = self.nodes[name]
                self._start_aws_node(node, self.config)
                node.aws_node_started = self.now + timedelta(seconds=self._clock)
            for pod in self.pods.values():
                if pod.node in batch and pod.phase == "failing":
                    self._give_network(pod, self.nodes[pod.node])
            for pod in self.pods.values():
                if pod.phase == "unscheduled":
                    self._place(pod)
            self._rewrite_all()
            if not rollout.pending:
                self.rollout = None
            return self.rollout is not None

    def set_aws_node_env(
        self, changes: dict[str, str | None], init_changes: dict[str, str | None] | None = None
    ) -> None:
        """Apply env changes (EKS UpdateAddon) to the aws-node container and to aws-vpc-cni-init: None resets a key to
        the manifest default (or removes it)."""
        with self.lock:
            env = _with_changes(self.env, changes, MANIFEST_ENV)
            ds = self.store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")
            init_spec = ds["spec"]["template"]["spec"]["initContainers"][0] if ds else {"env": []}
            old_init = {e["name"]: e["value"] for e in init_spec.get("env") or [] if "value" in e}
            init_env = _with_changes(old_init, init_changes or {}, MANIFEST_INIT_ENV)
            if env == self.env and init_env == old_init:
                return
            generation = self.generation + 1

            def patch(ds: JsonObject) -> None:
                template = ds["spec"]["template"]["spec"]
                for container in template["containers"]:
                    if container["name"] == "aws-node":
                        container["env"] = daemonset_objects.env_list(env)
                template["initContainers"][0]["env"] = [{"name": k, "value": v} for k, v in sorted(init_env.items())]

            self.store.update("apps/v1", "DaemonSet", "kube-system", "aws-node", patch)
            self.begin_rollout(env, generation)

    # --- ticking -----------------------------------------------------------------------------------------
    def _ensure_ticker(self) -> None:
        if self._ticker is not None and self._ticker.is_alive():
            return
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick_loop, name="sim-rollout", daemon=True)
        self._ticker.start()

    def _tick_loop(self) -> None:
        while not self._stop.is_set():
            rollout = self.rollout
            if rollout is None:
                return
            if self._stop.wait(max(rollout.interval, 0.01)):
                return
            self._clock += rollout.interval
            try:
                self.advance_rollout()
            except Exception:  # keep the simulator serving even if one step fails
                log.exception("rollout step failed")
                return

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)

    # --- writing back ------------------------------------------------------------------------------------
    def _write_daemonset_status(self) -> None:
        desired, ready, updated = self.daemonset_counts()
        status = daemonset_objects.daemonset_status(
            desired=desired, ready=ready, updated=updated, generation=self.generation
        )

        def patch(ds: JsonObject) -> None:
            ds["status"] = status
            ds["metadata"].setdefault("annotations", {})["deprecated.daemonset.template.generation"] = str(
                self.generation
            )

        if self.scenario.auto_mode:
            return  # no aws-node DaemonSet to write a status to
        try:
            self.store.update("apps/v1", "DaemonSet", "kube-system", "aws-node", patch)
        except KeyError:
            log.warning("aws-node DaemonSet is gone; status not written")

    def _rewrite_all(self) -> None:
        """Re-render nodes, aws-node pods and workload pods; replaced aws-node pods are deleted."""
        live_aws_node = {n.aws_node_pod for n in self.nodes.values()}
        for existing in self.store.list("v1", "Pod", "kube-system", label_selector="k8s-app=aws-node", copy=False):
            name = existing["metadata"]["name"]
            if name not in live_aws_node:
                self.store.delete("v1", "Pod", "kube-system", name)
        for node in self.nodes.values():
            for obj in self.node_objects(node):
                self.store.put(obj)
        for pod in self.pods.values():
            for obj in self.pod_objects(pod):
                self.store.put(obj)
        self._write_daemonset_status()


def _with_changes(env: dict[str, str], changes: dict[str, str | None], defaults: dict[str, str]) -> dict[str, str]:
    out = dict(env)
    for key, value in changes.items():
        if value is None:
            if key in defaults:
                out[key] = defaults[key]
            else:
                out.pop(key, None)
        else:
            out[key] = value
    return out
