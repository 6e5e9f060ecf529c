"""The simulated EKS cluster: the EC2 model, one ipamd per node, the scheduler and the Kubernetes objects,
kept consistent with each other.

`SimCluster.build()` lays out the VPC, launches the nodes, starts aws-node on each, schedules the pods and
gives them addresses through ipamd, then writes every Kubernetes object into the `KubeStore`. Writes that
arrive over HTTP (the aws-node DaemonSet, ENIConfigs, node labels) re-converge the model.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import math
import random
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator import objects
from simulator.addresses import int_to_ip, ip_to_int
from simulator.awsnode import MANIFEST_ENV, AwsNodeConfig, parse_env, render_metrics
from simulator.cluster_objects import ClusterObjects
from simulator.cluster_state import (
    GRPC_ERROR,
    NO_IP,
    Rollout,
    SimNode,
    SimPod,
    pod_spec_from_object,
    replicaset_name,
    sandbox_message,
)
from simulator.egress_v4 import EGRESS_PLUGIN, EgressV4Store, egress_v4_enabled
from simulator.instance_types import InstanceType
from simulator.ipamd import (
    CLUSTER_NAME_TAG,
    CREATED_AT_TAG,
    CUSTOM_NETWORKING_INIT_ERROR,
    INSTANCE_ID_TAG,
    NodeContext,
    NodeIpamd,
)
from simulator.karpenter import EC2NODECLASS_TYPE, NODEPOOL_TYPE, karpenter_max_pods
from simulator.kube.store import KubeStore
from simulator.model import Ec2Error, Ec2Model, Instance, NetworkInterface, Subnet
from simulator.scenarios import ForeignEniSpec, NodeGroupSpec, PodSpec, Scenario, ScenarioError
from simulator.scheduler import NodeCapacity, PodRequest, parse_cpu, parse_memory, place

log = logging.getLogger(__name__)
JsonObject = dict[str, Any]
ENICONFIG_API = "crd.k8s.amazonaws.com/v1alpha1"
__all__ = ["GRPC_ERROR", "NO_IP", "SimCluster", "SimNode", "SimPod"]
MULTI_NIC_ANNOTATION = "k8s.amazonaws.com/nicConfig"
_CLUSTER_SG_DESCRIPTION = (
    "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any "
    "managed workloads."
)


class SimCluster(ClusterObjects):
    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 0,
        store: KubeStore | None = None,
        rollout_seconds: float = 2.0,
        now: datetime | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.rollout_seconds = rollout_seconds
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.model = Ec2Model(region=scenario.region, seed=seed)
        self.model.clock = self.now - timedelta(days=3)
        self.store = store or KubeStore()
        self.nodes: dict[str, SimNode] = {}
        self.egress_v4: dict[str, EgressV4Store] = {}  # node name -> egress-cni's host-local store (IPv6)
        if scenario.karpenter is not None:  # Karpenter's CRDs are served only where it is installed
            self.store.registry.register(NODEPOOL_TYPE)
            self.store.registry.register(EC2NODECLASS_TYPE)
        self.pods: dict[str, SimPod] = {}
        self.subnets: dict[str, Subnet] = {}
        self.security_groups: dict[str, str] = {}  # name -> id
        self.env: dict[str, str] = {}
        self.config: AwsNodeConfig = parse_env({})
        self.generation = 1
        self.revision = ""
        self.rollout: Rollout | None = None
        self.lock = threading.RLock()
        self._clock = 0.0  # seconds of rollout time that have passed (ticker-driven)
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.addon_env: dict[str, str] = {}
        self.aws_node_images: dict[str, str] = {}
        self.node_images: dict[str, dict[str, str]] = {}
        self.node_events: list[JsonObject] = []
        self._scheduled: dict[str, NodeCapacity] = {}
        self._reserved_names: set[str] = set()
        self._uid_rng = random.Random(seed)
        self._late_faults = False  # NodeGroupSpec.ipamd_faults_later are on

    # --- build -------------------------------------------------------------------------------------------
    def build(self) -> None:
        with self.lock, self.model.lock, _gc_paused(freeze=self._large()):
            self._build_vpc()
            self._set_env(self._initial_env())
            # ENIConfigs exist before the nodes start: ipamd reads them from the API server.
            for spec in self.scenario.eniconfigs:
                self.store.put(self._eniconfig_object(spec.name, spec.subnet, spec.security_groups))
            groups = self._launch_nodes()
            self._declare_pods()
            self._bind_daemon_pods()
            # Phase 1: nodes start aws-node with the env they first had, then take the pods that predate changes.
            for node in self.aws_node_nodes():
                self._start_aws_node(node, self._config_for_start(node), first=True)
            self._attach_trunks()
            self._place_pods(created_after=False)
            # Phase 2: nodes that predate the current settings restart aws-node with them (and get cordoned).
            for node in self.aws_node_nodes():
                if node.group.previous_env is not None:
                    self._start_aws_node(node, self.config)
            self._apply_churn()
            self._converge_pools()
            self._late_faults = True
            self._place_pods(created_after=True)
            self._converge_pools()
            self.store.bulk_load(self._all_objects(groups))

    def _large(self) -> bool:
        return sum(g.count * max(g.pods_per_node, 1) for g in self.scenario.node_groups) > 2_000

    def _build_vpc(self) -> None:
        sc = self.scenario
        vpc = self.model.create_vpc(sc.vpc_cidr, tags={"Name": f"eksctl-{sc.cluster_name}-cluster/VPC"})
        self.vpc_id = vpc.id
        for cidr in sc.secondary_cidrs:
            self.model.associate_vpc_cidr(vpc.id, cidr)
        groups = [
            ("eks-cluster-sg", f"eks-cluster-sg-{sc.cluster_name}", _CLUSTER_SG_DESCRIPTION),
            ("nodes", f"eksctl-{sc.cluster_name}-nodegroup-sg", "Communication between all nodes in the cluster"),
        ] + [(g.name, g.name, g.description) for g in sc.security_groups]
        for key, name, description in groups:
            self.security_groups[key] = self.model.create_security_group(vpc.id, name, description).id
        for spec in sc.subnets:
            subnet = self.model.create_subnet(
                vpc.id, spec.cidr, spec.az, tags={"Name": spec.name, **spec.tags}, ipv6_cidr=spec.ipv6_cidr
            )
            self.subnets[spec.name] = subnet
            for res in spec.reservations:
                self.model.create_subnet_cidr_reservation(subnet.id, res.cidr, res.type, res.description)
            self._add_foreign_enis(subnet, spec.foreign_enis)
        for leaked in sc.leaked_enis:
            for _ in range(leaked.count):
                self._add_leaked_eni(self.subnets[leaked.subnet], leaked.secondary_ips)

    def _add_foreign_enis(self, subnet: Subnet, specs: list[ForeignEniSpec]) -> None:
        """ENIs of load balancers, Lambda and the like: they hold subnet addresses the CNI cannot use."""
        for spec in specs:
            for i in range(spec.count):
                address = None
                if spec.scatter_every:
                    address = int_to_ip(subnet.space.base + spec.scatter_offset + i * spec.scatter_every)
                self.model.create_network_interface(
                    subnet.id,
                    description=spec.description,
                    private_ip=address,
                    secondary_count=spec.secondary_ips,
                    interface_type=spec.interface_type,
                    requester_managed=spec.requester_managed,
                    requester_id="amazon-elb" if spec.requester_managed else "",
                    groups=[self.security_groups["nodes"]],
                )

    def _add_leaked_eni(self, subnet: Subnet, secondary_ips: int) -> None:
        """A CNI ENI left `available` when its node was terminated: tagged as ipamd tagged it, still holding IPs."""
        gone = self.model.new_id("i")
        tags = {
            INSTANCE_ID_TAG: gone,
            CREATED_AT_TAG: (self.now - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            CLUSTER_NAME_TAG: self.scenario.cluster_name,
            "eks:eni:owner": "amazon-vpc-cni",
        }
        self.model.create_network_interface(
            subnet.id,
            description=f"aws-K8S-{gone}",
            secondary_count=secondary_ips,
            groups=[self.security_groups["nodes"]],
            tags=tags,
        )

    def _initial_env(self) -> dict[str, str]:
        env = {**MANIFEST_ENV, "CLUSTER_NAME": self.scenario.cluster_name, **self.scenario.aws_node_env}
        addon = self.scenario.managed_addon
        if addon is not None:
            configured = addon.configuration_values.get("env", {}) if addon.configuration_values else {}
            self.addon_env = {str(k): str(v) for k, v in configured.items()}
            env.update(self.addon_env)
        return env

    def _set_env(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.config = parse_env(self.env)
        self.revision = objects.revision_hash(self._aws_node_template())

    def _config_for_start(self, node: SimNode) -> AwsNodeConfig:
        previous = node.group.previous_env
        if previous is None:
            return self.config
        return parse_env({**MANIFEST_ENV, "CLUSTER_NAME": self.scenario.cluster_name, **previous})

    def _launch_nodes(self) -> dict[str, NodeGroupSpec]:
        sc = self.scenario
        groups: dict[str, NodeGroupSpec] = {}
        for group in sc.node_groups:
            groups[group.name] = group
            subnet = self.subnets[group.subnet]
            for index in range(group.count):
                self.model.clock = self.now - (
                    timedelta(days=12) if group.previous_env is not None else timedelta(hours=3)
                )
                instance = self.model.run_instance(
                    group.instance_type,
                    subnet.id,
                    groups=[self.security_groups["nodes"], self.security_groups["eks-cluster-sg"]],
                    tags={
                        "Name": f"{sc.cluster_name}-{group.name}-Node",
                        "eks:cluster-name": sc.cluster_name,
                        "eks:nodegroup-name": group.name,
                        f"kubernetes.io/cluster/{sc.cluster_name}": "owned",
                    },
                )
                self._add_node(group, index, instance)
                for device, extra in enumerate(group.extra_enis, start=1):
                    eni = self.model.create_network_interface(
                        self.subnets[extra.subnet or group.subnet].id,
                        description=extra.description,
                        secondary_count=extra.secondary_ips,
                        groups=[self.security_groups["nodes"]],
                        tags=dict(extra.tags),
                    )
                    self.model.attach_network_interface(eni.id, instance.id, device)
        self.model.clock = self.now - timedelta(minutes=30)
        return groups

    def _add_node(self, group: NodeGroupSpec, index: int, instance: Instance) -> SimNode:
        name = instance.private_dns_name
        itype = instance.type
        az = instance.az
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/instance-type": itype.name,
            "beta.kubernetes.io/os": "linux",
            "eks.amazonaws.com/capacityType": "ON_DEMAND",
            "eks.amazonaws.com/nodegroup": group.name,
            "eks.amazonaws.com/nodegroup-image": instance.image_id,
            "failure-domain.beta.kubernetes.io/region": self.scenario.region,
            "failure-domain.beta.kubernetes.io/zone": az,
            "k8s.io/cloud-provider-aws": objects.digest("cloud", self.scenario.cluster_name, length=32),
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": itype.name,
            "topology.k8s.aws/zone-id": instance.subnet.az_id,
            "topology.kubernetes.io/region": self.scenario.region,
            "topology.kubernetes.io/zone": az,
            **group.labels,
        }
        if group.compute_type:
            labels["eks.amazonaws.com/compute-type"] = group.compute_type
        if group.os != "linux":
            labels["kubernetes.io/os"] = labels["beta.kubernetes.io/os"] = group.os
        max_pods = group.max_pods or self._karpenter_max_pods(itype, labels) or itype.calculator_max_pods()
        created = (
            self.now
            - (timedelta(days=12) if group.previous_env is not None else timedelta(hours=3))
            + timedelta(minutes=index)
        )
        node = SimNode(
            name=name,
            group=group,
            instance=instance,
            ipamd=NodeIpamd(self.model, instance.id, name),
            max_pods=max_pods,
            labels=labels,
            annotations=dict(group.annotations),
            taints=[dict(t) for t in group.taints],
            cordoned=group.cordoned,
            created=created,
            uid=objects.uuid_like("node", instance.id),
        )
        self.nodes[name] = node
        memory = int(itype.memory_mib * 0.88)
        self._scheduled[name] = NodeCapacity(
            name=name,
            labels=labels,
            max_pods=max_pods,
            cpu_millis=objects.allocatable_millicpu(itype.vcpus),
            memory_mib=memory,
            unschedulable=group.cordoned,
            taints=node.taints,
        )
        return node

    def _declare_pods(self) -> None:
        sc = self.scenario
        by_group: dict[str, list[SimNode]] = {}
        for node in self.nodes.values():
            by_group.setdefault(node.group.name, []).append(node)
        specs: list[PodSpec] = []
        for group in sc.node_groups:
            for i, node in enumerate(by_group.get(group.name, [])):
                for j in range(group.pods_per_node):
                    owner = f"{group.name}-app"
                    spec = PodSpec(
                        name=self._unique_name("default", replicaset_name("default", owner), group.name, i, j),
                        namespace="default",
                        node=node.name,
                        owner=owner,
                        labels={"app": owner},
                    )
                    specs.append(spec)
        for workload in sc.workloads:
            rs = replicaset_name(workload.namespace, workload.name)
            for i in range(workload.replicas):
                spec = PodSpec(
                    name=self._unique_name(workload.namespace, rs, workload.name, i),
                    namespace=workload.namespace,
                    node_group=workload.node_group,
                    cpu=workload.cpu,
                    memory=workload.memory,
                    host_network=workload.host_network,
                    pod_eni=workload.pod_eni,
                    owner=workload.name,
                    labels={"app": workload.name, **workload.labels},
                )
                specs.append(spec)
        # Workload pods have run for hours (their Scheduled events expired); named pods are recent.
        for spec in specs:
            self._new_pod(spec, age=timedelta(hours=2))
        for spec in sc.pods:
            self._new_pod(spec)

    def _unique_name(self, namespace_name: str, prefix: str, *seed: object) -> str:
        """`<prefix>-<5 chars>` as the ReplicaSet controller names pods; rehashed on the rare collision."""
        salt = 0
        while True:
            name = f"{prefix}-{objects.name_suffix(*seed, salt)}"
            key = f"{namespace_name}/{name}"
            if key not in self.pods and key not in self._reserved_names:
                self._reserved_names.add(key)
                return name
            salt += 1

    def _new_pod(self, spec: PodSpec, *, age: timedelta = timedelta(minutes=20)) -> SimPod:
        key = f"{spec.namespace}/{spec.name}"
        if key in self.pods:
            raise ScenarioError(f"duplicate pod {key}")
        pod = SimPod(
            namespace=spec.namespace,
            name=spec.name,
            spec=spec,
            uid=str(uuid.UUID(int=self._uid_rng.getrandbits(128), version=4)),
            created=self.now - age,
            annotations=dict(spec.annotations),
        )
        self.pods[key] = pod
        return pod

    def _bind_daemon_pods(self) -> None:
        for node in self.nodes.values():
            node.kube_proxy_pod = f"kube-proxy-{objects.name_suffix('kube-proxy', node.name)}"
            capacity = self._scheduled[node.name]
            if not node.runs_aws_node:  # no aws-node there; no kube-proxy on Fargate either
                capacity.pods += 0 if node.group.compute_type == "fargate" else 1
                continue
            capacity.pods += 2  # aws-node and kube-proxy
            capacity.cpu_requested += 25 + 25 + 100 + 25  # aws-node, nodeagent, kube-proxy (init excluded)

    # --- aws-node / ipamd --------------------------------------------------------------------------------
    def _context(self, node: SimNode, config: AwsNodeConfig, *, cordoned: bool | None = None) -> NodeContext:
        name = self._eniconfig_name(node, config)
        spec = None
        if config.custom_networking:
            found = self._eniconfig_spec(name)
            spec = found
        faults, later = node.group.ipamd_faults, node.group.ipamd_faults_later
        return NodeContext(
            config=config,
            max_pods=node.max_pods,
            cordoned=node.cordoned if cordoned is None else cordoned,
            eniconfig_name=name,
            eniconfig=spec,
            eni_limit_override=node.group.eni_limit_override,
            fault=lambda api: faults.get(api) or (later.get(api) if self._late_faults else None),
        )

    def _eniconfig_spec(self, name: str) -> dict[str, object] | None:
        found = self.store.get(ENICONFIG_API, "ENIConfig", None, name)
        if found is None:
            return None
        spec = found.get("spec") or {}
        return dict(spec) if isinstance(spec, dict) else None

    def _start_aws_node(self, node: SimNode, config: AwsNodeConfig, *, first: bool = False) -> None:
        # Nodes that predate the current settings were cordoned only later (after their first start).
        cordoned = False if first and node.group.previous_env is not None else None
        node.ipamd.start(self._context(node, config, cordoned=cordoned))
        node.aws_node_pod = f"aws-node-{objects.name_suffix('aws-node', node.name, self.revision, self.generation)}"
        node.aws_node_uid = objects.uuid_like("aws-node", node.aws_node_pod)
        node.aws_node_revision = self.revision
        if self.aws_node_images:
            self.node_images[node.name] = dict(self.aws_node_images)
        node.aws_node_started = (
            self.now - timedelta(minutes=2) if self.generation > 1 else node.created + timedelta(seconds=30)
        )

    def _attach_trunks(self) -> None:
        """The VPC Resource Controller attaches a trunk ENI to trunking-capable nodes with ENABLE_POD_ENI."""
        if not self.config.pod_eni:
            return
        for node in self.aws_node_nodes():
            if node.trunk_eni or not node.instance.type.trunking_compatible:
                continue
            primary = self.model.enis_of_instance(node.instance.id)[0]
            tags = {
                INSTANCE_ID_TAG: node.instance.id,
                f"kubernetes.io/cluster/{self.scenario.cluster_name}": "owned",
                "eks:eni:owner": "eks-vpc-resource-controller",
            }
            try:
                eni = self.model.create_network_interface(
                    primary.subnet.id,
                    description="aws-k8s-trunk-eni",
                    interface_type="trunk",
                    groups=primary.groups,
                    tags=tags,
                )
                device = self.model.next_device_index(node.instance.id)
                self.model.attach_network_interface(eni.id, node.instance.id, device, delete_on_termination=True)
            except Ec2Error as err:
                log.debug("trunk attach failed on %s: %s", node.name, err)
                continue
            node.trunk_eni = eni.id
            self._scheduled[node.name].pod_eni = node.instance.type.branch_enis
            node.ipamd.converge()

    # --- pods --------------------------------------------------------------------------------------------
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

    def _karpenter_max_pods(self, itype: InstanceType, labels: dict[str, str]) -> int | None:
        spec = self.scenario.karpenter
        nodeclass = spec.nodeclass_of(labels) if spec else None
        return karpenter_max_pods(itype, nodeclass, spec.reserved_enis) if spec and nodeclass else None

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

    def aws_node_nodes(self) -> list[SimNode]:
        return [n for n in self.nodes.values() if n.runs_aws_node]

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

    # --- objects -----------------------------------------------------------------------------------------
    def on_store_write(self, verb: str, before: JsonObject | None, after: JsonObject | None) -> None:
        """Store listener: reconverge on aws-node DaemonSet, ENIConfig and Node changes made over HTTP."""
        obj = after or before or {}
        kind = obj.get("kind")
        name = obj.get("metadata", {}).get("name")
        if kind == "DaemonSet" and name == "aws-node" and after is not None:
            # Any change of the pod template rolls the pods (e.g. `kubectl rollout restart`), not only env edits.
            env = objects.env_from_daemonset(after)
            template_changed = (before or {}).get("spec", {}).get("template") != after.get("spec", {}).get("template")
            images = objects.images_of(after.get("spec", {}).get("template"))
            if images != objects.images_of(self._aws_node_template()):
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
                self.revision = objects.revision_hash(template)
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
                        container["env"] = objects.env_list(env)
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
        status = objects.daemonset_status(desired=desired, ready=ready, updated=updated, generation=self.generation)

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

    # --- metrics through the API server proxy --------------------------------------------------------------
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

    def pod(self, key: str) -> SimPod:
        return self.pods[key]

    def node_by_group(self, group: str, index: int = 0) -> SimNode:
        return self._resolve_node(f"{group}/{index}")

    def subnet_free(self, name: str) -> int:
        return self.subnets[name].available_ip_count

    def eni(self, eni_id: str) -> NetworkInterface:
        return self.model.eni(eni_id)

    @staticmethod
    def ip(value: str) -> int:
        return ip_to_int(value)


@contextlib.contextmanager
def _gc_paused(*, freeze: bool) -> Iterator[None]:
    """Building allocates millions of long-lived objects: with the cyclic GC on, each full collection rescans
    them all and the build turns quadratic. Freezing afterwards keeps later collections from scanning them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


_KUBELET_ANNOTATIONS = {
    "alpha.kubernetes.io/provided-node-ip",
    "node.alpha.kubernetes.io/ttl",
    "volumes.kubernetes.io/controller-managed-attach-detach",
}


MANIFEST_INIT_ENV = {"DISABLE_TCP_EARLY_DEMUX": "false", "ENABLE_IPv6": "false"}  # the manifest's aws-vpc-cni-init env


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
