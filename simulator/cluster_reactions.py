"""How the simulated cluster answers writes and reads that arrive over HTTP: the aws-node DaemonSet, ENIConfigs,
Nodes and Pods written through the API server, the metrics proxy, and the pod helpers tests call.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from simulator import daemonset_objects, objects
from simulator.awsnode import render_metrics
from simulator.cluster_rollout import AwsNodeRollout
from simulator.cluster_state import SimPod, pod_spec_from_object
from simulator.scenarios import PodSpec
from simulator.scheduler import parse_cpu, parse_memory

JsonObject = dict[str, Any]


class StoreReactions(AwsNodeRollout):
    """Reacts to store writes and serves the metrics proxy. Mixed into `SimCluster`."""

    def on_store_write(self, verb: str, before: JsonObject | None, after: JsonObject | None) -> None:
        """Store listener: reconverge on aws-node DaemonSet, ENIConfig and Node changes made over HTTP."""
        obj = after or before or {}
        kind = obj.get("kind")
        name = obj.get("metadata", {}).get("name")
        if kind == "DaemonSet" and name == "aws-node" and after is not None:
            # Any change of the pod template rolls the pods (e.g. `kubectl rollout restart`), not only env edits.
            env = daemonset_objects.env_from_daemonset(after)
            template_changed = (before or {}).get("spec", {}).get("template") != after.get("spec", {}).get("template")
            images = daemonset_objects.images_of(after.get("spec", {}).get("template"))
            if images != daemonset_objects.images_of(self._aws_node_template()):
                with self.lock:
                    self.aws_node_images = images  # a new image rolls like any template change
            if env != self.env or template_changed:
                generation = int(after.get("metadata", {}).get("generation", self.generation + 1))
                self.begin_rollout(env, generation, after.get("spec", {}).get("template"))
        elif kind == "Pod":
            self._pod_over_http(before, after)
        elif kind == "ENIConfig":
            self.reconverge()
        elif kind == "Node" and after is not None and before is not None:
            node = self.nodes.get(str(name))
            if node is None:
                return
            labels = after.get("metadata", {}).get("labels") or {}
            annotations = after.get("metadata", {}).get("annotations") or {}
            cordoned = bool((after.get("spec") or {}).get("unschedulable"))
            if cordoned != node.cordoned:  # kubectl cordon / uncordon: the scheduler sees it at once
                with self.lock:
                    node.cordoned = cordoned
                    self._scheduled[node.name].unschedulable = cordoned
            if labels != before.get("metadata", {}).get("labels") or annotations != before.get("metadata", {}).get(
                "annotations"
            ):
                with self.lock:
                    node.labels = dict(labels)
                    node.annotations = {k: v for k, v in annotations.items() if k not in _KUBELET_ANNOTATIONS}
                self.reconverge()

    def _pod_over_http(self, before: JsonObject | None, after: JsonObject | None) -> None:
        """A pod created over HTTP is scheduled and given network; one deleted over HTTP frees its address."""
        meta = (after or before or {}).get("metadata") or {}
        namespace_name, name = meta.get("namespace") or "default", str(meta.get("name", ""))
        key = f"{namespace_name}/{name}"
        with self.lock, self.model.lock:
            if after is None:
                if key in self.pods:
                    self.delete_pod(namespace_name, name, in_store=False)
                return
            if before is not None or key in self.pods or self._is_daemon_pod(after):
                return
            pod = self._new_pod(pod_spec_from_object(after), age=timedelta(0))
            pod.uid = str(meta.get("uid") or pod.uid)
            pod.source = after
            self._place(pod)
            for obj in self.pod_objects(pod):
                self.store.put(obj)

    def _is_daemon_pod(self, obj: JsonObject) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return labels.get("k8s-app") in ("aws-node", "kube-proxy")

    def proxy(self, namespace_name: str, pod_name: str, port: int, path: str, query: str) -> tuple[int, str, bytes]:
        node = next((n for n in self.nodes.values() if n.aws_node_pod == pod_name), None)
        if namespace_name != "kube-system" or node is None or port != objects.METRICS_PORT:
            return 404, "text/plain", b"404 page not found\n"
        if not node.ipamd.ready:
            message = f"error trying to reach service: dial tcp {node.private_ip}:{port}: connect: connection refused"
            return 503, "text/plain", message.encode()
        if path.strip("/") != "metrics":
            return 404, "text/plain", b"404 page not found\n"
        with self.model.lock:
            image = self.node_images.get(node.name, {}).get("aws-node", "")
            version = image.rsplit(":", 1)[-1].split("-", 1)[0] if ":" in image else self.scenario.cni_version
            text = render_metrics(node.ipamd.metrics, version)
        return 200, "text/plain; version=0.0.4; charset=utf-8", text.encode()

    # --- model API for tests -------------------------------------------------------------------------------
    def add_pod(self, namespace_name: str, name: str, **fields: Any) -> SimPod:
        """Create a pod (scheduled and given network at once) and write it to the store."""
        with self.lock, self.model.lock:
            pod = self._new_pod(PodSpec(name=name, namespace=namespace_name, **fields))
            pod.created = self.now
            self._place(pod)
            for obj in self.pod_objects(pod):
                self.store.put(obj)
            return pod

    def recreate_pod(self, old: SimPod, new_name: str) -> SimPod:
        """What a ReplicaSet does for a pod that went away: the same spec under a new name, placed afresh."""
        with self.lock, self.model.lock:
            spec = dataclasses.replace(old.spec, name=new_name, node=None)  # the scheduler places it, group kept
            pod = self._new_pod(spec, age=timedelta(0))
            self._place(pod)
            for obj in self.pod_objects(pod):
                self.store.put(obj)
            return pod

    def delete_pod(self, namespace_name: str, name: str, *, in_store: bool = True) -> None:
        """Delete a pod: its IP goes into cooldown, its branch ENI is deleted, capacity is freed."""
        with self.lock, self.model.lock:
            pod = self.pods.pop(f"{namespace_name}/{name}")
            if pod.node:
                node = self.nodes[pod.node]
                node.ipamd.release(pod.key)
                if (egress := self.egress_v4.get(node.name)) is not None:
                    egress.delete(pod.key)  # CNI DEL reaches egress-cni: host-local frees the reservation
                capacity = self._scheduled[node.name]
                capacity.pods -= 1
                capacity.cpu_requested -= parse_cpu(pod.spec.cpu)
                capacity.memory_requested -= parse_memory(pod.spec.memory)
                if pod.branch_eni:
                    capacity.pod_eni_used -= 1
                    self.model.delete_network_interface(pod.branch_eni)
            if in_store:
                self.store.delete("v1", "Pod", namespace_name, name)


_KUBELET_ANNOTATIONS = {
    "alpha.kubernetes.io/provided-node-ip",
    "node.alpha.kubernetes.io/ttl",
    "volumes.kubernetes.io/controller-managed-attach-detach",
}
