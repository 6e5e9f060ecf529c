"""Conformance: where a Karpenter node's NodeClaim lives and how it names its node, for the bot and the simulator.

kubernetes-sigs/karpenter at 2266468: pkg/apis/v1/nodeclaim.go (`+kubebuilder:resource:path=nodeclaims,scope=Cluster`,
group karpenter.sh, version v1), pkg/apis/v1/nodeclaim_status.go NodeClaimStatus (`nodeName`, `providerID`),
pkg/apis/v1/labels.go NodePoolLabelKey (karpenter.sh/nodepool).
"""

from __future__ import annotations

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.changes.node_rollout import KARPENTER_LABEL
from bot.gateways.kube_write import NODECLAIM_GROUP, NODECLAIM_PLURAL, NODECLAIM_VERSION, KubeWriter
from simulator import karpenter_nodeclaims as sim
from simulator.runner import SimulatedCluster


def test_the_nodeclaim_resource_and_the_nodepool_label_agree() -> None:
    rtype = sim.NODECLAIM_TYPE
    assert (rtype.group, rtype.version, rtype.plural) == (NODECLAIM_GROUP, NODECLAIM_VERSION, NODECLAIM_PLURAL)
    assert (rtype.group, rtype.version, rtype.plural) == ("karpenter.sh", "v1", "nodeclaims")
    assert not rtype.namespaced  # scope=Cluster
    assert KARPENTER_LABEL == sim.NODEPOOL_LABEL == "karpenter.sh/nodepool"


def test_the_bot_finds_each_karpenter_nodes_nodeclaim_through_status_node_name() -> None:
    cluster = SimulatedCluster.from_scenario("karpenter-max-pods").start()
    try:
        api = k8s_config.new_client_from_config(config_file=str(cluster.kubeconfig_path))
        writer = KubeWriter(api)
        nodes = k8s.CoreV1Api(api).list_node().items
        karpenter = [n for n in nodes if KARPENTER_LABEL in (n.metadata.labels or {})]
        assert len(karpenter) == 2
        for node in karpenter:
            claim = writer.nodeclaim_of(node.metadata.name)
            pool = node.metadata.labels[KARPENTER_LABEL]
            assert claim is not None and claim.startswith(f"{pool}-")  # GenerateName `<nodepool>-`
            stored = k8s.CustomObjectsApi(api).get_cluster_custom_object("karpenter.sh", "v1", "nodeclaims", claim)
            assert stored["status"]["providerID"] == node.spec.provider_id
        managed = next(n for n in nodes if KARPENTER_LABEL not in (n.metadata.labels or {}))
        assert writer.nodeclaim_of(managed.metadata.name) is None
    finally:
        cluster.stop()
