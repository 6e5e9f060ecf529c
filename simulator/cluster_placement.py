"""Where pods go and how they get network: the scheduler's choice, then CNI ADD through the node's ipamd (or the
branch-ENI, egress-cni and not-aws-node paths), and the retries kubelet makes for pods still without network.
"""

from __future__ import annotations

import json

from simulator import objects
from simulator.addresses import int_to_ip
from simulator.cluster_layout import ClusterLayout
from simulator.cluster_state import GRPC_ERROR, NO_IP, SimNode, SimPod, sandbox_message
from simulator.egress_v4 import EGRESS_PLUGIN, EgressV4Store, egress_v4_enabled
from simulator.ipamd import INSTANCE_ID_TAG
from simulator.model import Ec2Error
from simulator.scenarios import ScenarioError
from simulator.scheduler import PodRequest, parse_cpu, parse_memory, place

MULTI_NIC_ANNOTATION = "k8s.amazonaws.com/nicConfig"


class PodPlacement(ClusterLayout):
    """Schedules pods and gives them addresses. Mixed into `SimCluster`."""

    egress_v4: dict[str, EgressV4Store]  # node name -> egress-cni's host-local store (IPv6)

    def _place_pods(self, *, created_after: bool) -> None:
        explicit = {f"{p.namespace}/{p.name}" for p in self.scenario.pods}
        for pod in self.pods.values():
            if pod.phase == "running":
                continue
            if (pod.key in explicit) != created_after:
                continue
            self._place(pod)

    def _place(self, pod: SimPod) -> None:
        spec = pod.spec
        if pod.node is None and spec.scheduler_name != "default-scheduler" and not spec.node:
            pod.phase = "unscheduled"  # another scheduler's pod (fargate-scheduler): its events come from the scenario
            return
        if pod.node is None:
            if spec.node:
                node = self._resolve_node(spec.node)
                capacity = self._scheduled[node.name]
                capacity.pods += 1
                capacity.cpu_requested += parse_cpu(spec.cpu)
                capacity.memory_requested += parse_memory(spec.memory)
                pod.node = node.name
            else:
                selector = (("eks.amazonaws.com/nodegroup", spec.node_group),) if spec.node_group else ()
                request = PodRequest(parse_cpu(spec.cpu), parse_memory(spec.memory), spec.pod_eni, selector)
                chosen, message = place(self._scheduled.values(), request)
                if chosen is None:
                    pod.phase, pod.reason, pod.message = "unscheduled", "FailedScheduling", message
                    pod.attempts += 1
                    return
                pod.node = chosen.name
        self._give_network(pod, self.nodes[pod.node])

    def _egress_v4_add(self, pod: SimPod, node: SimNode) -> str | None:
        """The chained egress-cni after aws-cni (IPv6 clusters): one 169.254.172.0/22 address per pod."""
        if not egress_v4_enabled(self.env):
            return None
        store = self.egress_v4.setdefault(node.name, EgressV4Store(leaked=node.group.egress_v4_leaked))
        return store.add(pod.key)

    def _resolve_node(self, ref: str) -> SimNode:
        if ref in self.nodes:
            return self.nodes[ref]
        group, _, index = ref.partition("/")
        members = [n for n in self.nodes.values() if n.group.name == group]
        try:
            return members[int(index or 0)]
        except (ValueError, IndexError):
            raise ScenarioError(f"pod pinned to unknown node {ref!r}") from None

    def _give_network(self, pod: SimPod, node: SimNode) -> None:
        """CNI ADD for the pod on its node, through ipamd (or the branch-ENI path for SGP pods)."""
        spec = pod.spec
        pod.attempts += 1
        if spec.host_network:
            self._running(pod, node.private_ip)
            return
        if not node.runs_aws_node:
            self._give_network_elsewhere(pod, node)
            return
        if not node.cni_config_written:
            self._failing(pod, "NetworkNotReady", f"network is not ready: {objects.NETWORK_NOT_READY}")
            return
        if not node.ipamd.ready:
            self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, GRPC_ERROR))
            return
        if spec.sandbox_error:
            # ipamd assigned an address, the rest of CNI ADD failed, and CNI DEL gave the address back.
            self._failing(
                pod, "FailedCreatePodSandBox", sandbox_message(pod.key, spec.sandbox_error, spec.sandbox_plugin)
            )
            return
        if spec.pod_eni:
            self._give_branch_eni(pod, node)
            return
        if pod.annotations.get(MULTI_NIC_ANNOTATION) == "multi-nic-attachment" and not self.config.multi_nic:
            # rpc_handler.go AddNetwork: "enable multi-nic feature on CNI for creating multi-nic-attachment pods"
            self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, NO_IP))
            return
        if node.ipamd.ipv6_prefix is not None:
            v6 = node.ipamd.assign_ipv6(pod.key)
            if v6 is None:
                self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, NO_IP))
            elif (egress_error := self._egress_v4_add(pod, node)) is not None:
                node.ipamd.ipv6_pods.pop(pod.key, None)  # libcni runs DEL on the chain: aws-cni frees the address
                self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, egress_error, EGRESS_PLUGIN))
            else:
                self._running(pod, v6)
            return
        address = node.ipamd.assign(pod.key)
        if address is None:
            node.ipamd.converge()
            address = node.ipamd.assign(pod.key)
        if address is None:
            self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, NO_IP))
            return
        node.ipamd.converge()  # ipamd's pool loop refills the warm pool behind every assignment
        self._running(pod, int_to_ip(address))

    def _give_network_elsewhere(self, pod: SimPod, node: SimNode) -> None:
        """Nodes aws-node does not serve: Fargate's pod owns the node's ENI; Auto Mode and the VPC resource controller
        (Windows) put a secondary IP on the node's ENI; a Hybrid node's CNI is not modelled (the node's IP)."""
        if pod.spec.sandbox_error:
            message = sandbox_message(pod.key, pod.spec.sandbox_error, pod.spec.sandbox_plugin)
            self._failing(pod, "FailedCreatePodSandBox", message)
            return
        if node.group.compute_type in ("fargate", "hybrid"):
            self._running(pod, node.private_ip)
            return
        primary = self.model.enis_of_instance(node.instance.id)[0]
        try:
            added, _ = self.model.assign_private_ip_addresses(primary.id, count=1)
        except Ec2Error as err:
            self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, str(err)))
            return
        self._running(pod, int_to_ip(added[0]))

    def _give_branch_eni(self, pod: SimPod, node: SimNode) -> None:
        trunk = self.model.enis.get(node.trunk_eni or "")
        if trunk is None:
            self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, NO_IP))
            return
        vlan = node.next_vlan
        tags = {
            "vpcresources.k8s.aws/vlan-id": str(vlan),
            "vpcresources.k8s.aws/trunk-eni-id": trunk.id,
            INSTANCE_ID_TAG: node.instance.id,
            f"kubernetes.io/cluster/{self.scenario.cluster_name}": "owned",
            "eks:eni:owner": "eks-vpc-resource-controller",
        }
        groups = [self.security_groups.get("pod-sg", self.security_groups["nodes"])]
        try:
            branch = self.model.create_network_interface(
                trunk.subnet.id, description="aws-k8s-branch-eni", interface_type="branch", groups=groups, tags=tags
            )
        except Ec2Error as err:
            self._failing(pod, "FailedCreatePodSandBox", sandbox_message(pod.key, NO_IP))
            pod.annotations["simulator/branch-error"] = str(err)
            return
        node.next_vlan += 1
        pod.branch_eni = branch.id
        pod.annotations["vpc.amazonaws.com/pod-eni"] = json.dumps(
            [
                {
                    "eniId": branch.id,
                    "ifAddress": branch.mac,
                    "privateIp": int_to_ip(branch.primary_ip),
                    "vlanId": vlan,
                    "subnetCidr": branch.subnet.cidr,
                }
            ]
        )
        self._running(pod, int_to_ip(branch.primary_ip))

    @staticmethod
    def _running(pod: SimPod, ip: str) -> None:
        pod.phase, pod.ip, pod.reason, pod.message = "running", ip, "", ""

    @staticmethod
    def _failing(pod: SimPod, reason: str, message: str) -> None:
        pod.phase, pod.ip, pod.reason, pod.message = "failing", None, reason, message

    def _apply_churn(self) -> None:
        for churn in self.scenario.churn:
            node = self._resolve_node(churn.node)
            ghosts = [f"default/deleted-{objects.name_suffix('churn', node.name, i)}" for i in range(churn.released)]
            for key in ghosts:
                if node.ipamd.assign(key) is None:
                    node.ipamd.converge()
                    node.ipamd.assign(key)
            for key in ghosts:
                node.ipamd.release(key)

    def _converge_pools(self) -> None:
        for node in self.aws_node_nodes():
            if node.ipamd.ready:
                node.ipamd.converge()

    def retry_failing_pods(self) -> list[SimPod]:
        """kubelet retries the sandbox of every pod still without network (after a config change)."""
        changed = []
        for pod in self.pods.values():
            if pod.phase == "failing" and pod.node is not None:
                self._give_network(pod, self.nodes[pod.node])
                changed.append(pod)
            elif pod.phase == "unscheduled":
                self._place(pod)
                changed.append(pod)
        return changed
