"""Karpenter NodeClaims (karpenter.sh/v1, cluster-scoped, plural nodeclaims) for the nodes Karpenter launched, and
what happens when one is deleted: the node and its instance go, and a new NodeClaim launches a new node.

Upstream facts (kubernetes-sigs/karpenter, commit 2266468): pkg/apis/v1/nodeclaim_status.go NodeClaimStatus carries
nodeName and providerID; pkg/apis/v1/nodeclaim.go is `scope=Cluster`, plural nodeclaims; the NodePool's name is the
node's and the NodeClaim's label karpenter.sh/nodepool (pkg/apis/v1/labels.go NodePoolLabelKey); a new NodeClaim is
named `<nodepool>-` + a random suffix (pkg/controllers/provisioning/scheduling/nodeclaimtemplate.go, GenerateName).
Deleting a NodeClaim (pkg/controllers/nodeclaim/lifecycle/controller.go `finalize`) deletes its registered Node and
then terminates the instance through the cloud provider. Karpenter launches a replacement for the pods that become
pending; the simulator launches one at once (after the rollout pace), with aws-node starting on it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from simulator import objects
from simulator.autoscaling import launch_node, remove_node
from simulator.kube.resources import ResourceType

if TYPE_CHECKING:
    from simulator.cluster import SimCluster
    from simulator.cluster_state import SimNode

NODEPOOL_LABEL = "karpenter.sh/nodepool"
NODECLAIM_TYPE = ResourceType(
    "karpenter.sh",
    "v1",
    "NodeClaim",
    "nodeclaims",
    "nodeclaim",
    namespaced=False,
    strategic_merge=False,
    tracks_generation=True,
    categories=("karpenter",),
)


class KarpenterNodeClaims:
    """Serves a NodeClaim per Karpenter node and replaces the node when its NodeClaim is deleted over HTTP."""

    def __init__(self, sim: SimCluster, *, launch_delay: float = 0.0) -> None:
        self.sim = sim
        self.launch_delay = launch_delay
        self.replacements_never_ready = False  # a fault: the replacement's aws-node never gets ready
        self.launched: list[str] = []  # names of the nodes launched as replacements
        sim.store.registry.register(NODECLAIM_TYPE)
        with sim.lock:
            for node in list(sim.nodes.values()):
                if NODEPOOL_LABEL in node.group.labels:
                    self._claim(node)

    def _claim(self, node: SimNode) -> None:
        pool = node.group.labels[NODEPOOL_LABEL]
        name = f"{pool}-{objects.name_suffix('nodeclaim', node.name)}"
        nodeclass = node.group.labels.get("karpenter.k8s.aws/ec2nodeclass", "default")
        self.sim.store.put(
            {
                "apiVersion": "karpenter.sh/v1",
                "kind": "NodeClaim",
                "metadata": {
                    "name": name,
                    "labels": {NODEPOOL_LABEL: pool, "node.kubernetes.io/instance-type": node.instance.type.name},
                },
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": nodeclass},
                    "requirements": [{"key": NODEPOOL_LABEL, "operator": "In", "values": [pool]}],
                },
                "status": {
                    "nodeName": node.name,
                    "providerID": f"aws:///{node.instance.az}/{node.instance.id}",
                    "conditions": [
                        {
                            "type": t,
                            "status": "True",
                            "reason": t,
                            "message": "",
                            "lastTransitionTime": objects.ts(self.sim.now),
                        }
                        for t in ("Launched", "Registered", "Initialized", "Ready")
                    ],
                },
            }
        )

    def on_store_write(self, verb: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        """Store listener: a NodeClaim deleted over HTTP takes its node down and launches a replacement."""
        if verb != "DELETE" or before is None or before.get("kind") != "NodeClaim":
            return
        node_name = (before.get("status") or {}).get("nodeName")
        node = self.sim.nodes.get(str(node_name))
        if node is None:
            return
        group_name = node.group.name
        pool = node.group.labels.get(NODEPOOL_LABEL, group_name)
        space, old_ip = node.instance.subnet.space, node.instance.private_ip
        remove_node(self.sim, node)
        with self.sim.model.lock:
            space.claim(old_ip)  # the replacement gets another address, so another node name
        held = (space, old_ip)
        if self.launch_delay > 0:
            threading.Timer(self.launch_delay, self._launch, (group_name, pool, held)).start()
        else:
            self._launch(group_name, pool, held)

    def _launch(self, group_name: str, pool: str, held: tuple[Any, int]) -> None:
        try:
            node = launch_node(
                self.sim, group_name, None, ready=not self.replacements_never_ready, tags={NODEPOOL_LABEL: pool}
            )
            with self.sim.lock:
                self._claim(node)
            self.launched.append(node.name)
        finally:
            with self.sim.model.lock:
                held[0].release(held[1])
