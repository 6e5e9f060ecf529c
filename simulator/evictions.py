"""The Eviction API (POST pods/{name}/eviction) honouring PodDisruptionBudgets, and the ReplicaSet's answer to an
evicted pod: a new pod with a new name, placed by the scheduler on a schedulable node.

Kubernetes behaviour (pkg/registry/core/pod/storage/eviction.go): a PDB that selects the pod and allows no more
disruptions makes the eviction fail with 429 TooManyRequests ("Cannot evict pod as it would violate the pod's
disruption budget.", a cause with reason DisruptionBudget); otherwise the pod is deleted and 201 answers with a
Status of Success. Allowed disruptions follow the disruption controller: healthy pods minus minAvailable, or
maxUnavailable minus the pods already unhealthy (integers and percentages of the expected pods).
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from simulator.cluster_state import SimPod
from simulator.kube.store import KubeStore
from simulator.objects import name_suffix

JsonObject = dict[str, Any]


class EvictionRefused(Exception):
    def __init__(self, status: int, reason: str, message: str, causes: list[JsonObject] | None = None) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.causes = status, reason, message, causes or []


class _Cluster(Protocol):
    store: KubeStore
    pods: dict[str, SimPod]
    lock: Any

    def delete_pod(self, namespace_name: str, name: str, *, in_store: bool = True) -> None: ...
    def recreate_pod(self, old: SimPod, new_name: str) -> SimPod: ...


def _selects(pdb: JsonObject, labels: dict[str, str]) -> bool:
    selector = (pdb.get("spec") or {}).get("selector") or {}
    wanted = selector.get("matchLabels") or {}
    if not all(labels.get(k) == v for k, v in wanted.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        value, values = labels.get(expr.get("key", "")), expr.get("values") or []
        op = expr.get("operator")
        if (op == "In" and value not in values) or (op == "NotIn" and value in values):
            return False
        if (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return bool(wanted or selector.get("matchExpressions"))


def _count(value: Any, expected: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = expected * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def allowed_disruptions(pdb: JsonObject, matching: list[JsonObject]) -> int:
    spec = pdb.get("spec") or {}
    expected = len(matching)
    healthy = sum(1 for p in matching if _ready(p))
    if "minAvailable" in spec:
        return healthy - _count(spec["minAvailable"], expected, round_up=True)
    if "maxUnavailable" in spec:
        return _count(spec["maxUnavailable"], expected, round_up=True) - (expected - healthy)
    return healthy


def _ready(pod: JsonObject) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def evict(cluster: _Cluster, namespace: str, name: str) -> JsonObject:
    """Evict a pod or raise EvictionRefused; returns the Status body of a successful eviction."""
    with cluster.lock:
        pod_obj = cluster.store.get("v1", "Pod", namespace, name)
        if pod_obj is None:
            raise EvictionRefused(404, "NotFound", f'pods "{name}" not found')
        labels = (pod_obj.get("metadata") or {}).get("labels") or {}
        for pdb in cluster.store.list("policy/v1", "PodDisruptionBudget", namespace):
            if not _selects(pdb, labels):
                continue
            matching = [
                p
                for p in cluster.store.list("v1", "Pod", namespace)
                if _selects(pdb, p["metadata"].get("labels") or {})
            ]
            allowed = allowed_disruptions(pdb, matching)
            if allowed <= 0:
                pdb_name = pdb["metadata"]["name"]
                healthy = sum(1 for p in matching if _ready(p))
                raise EvictionRefused(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    [
                        {
                            "reason": "DisruptionBudget",
                            "message": f"The disruption budget {pdb_name} needs "
                            f"{healthy - allowed} healthy pods and has {healthy} currently",
                        }
                    ],
                )
        key = f"{namespace}/{name}"
        old = cluster.pods.get(key)
        cluster.delete_pod(namespace, name)
        if old is not None and old.spec.owner:
            stem = name.rsplit("-", 1)[0] if "-" in name else name
            cluster.recreate_pod(old, f"{stem}-{name_suffix('evicted', key)}")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
