"""How the simulated cluster is laid out: the VPC, subnets and foreign ENIs, the nodes and their labels, the pods
declared by the scenario, and aws-node started on each node (the ipamd context it reads).

The first layer of `SimCluster` (simulator/cluster.py); placement, rollouts and reactions build on it.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import timedelta

from simulator import daemonset_objects, objects
from simulator.addresses import int_to_ip
from simulator.awsnode import MANIFEST_ENV, AwsNodeConfig, parse_env
from simulator.cluster_objects import ClusterObjects
from simulator.cluster_state import SimNode, SimPod, replicaset_name
from simulator.instance_types import InstanceType
from simulator.ipamd import CLUSTER_NAME_TAG, CREATED_AT_TAG, INSTANCE_ID_TAG, NodeContext, NodeIpamd
from simulator.karpenter import karpenter_max_pods
from simulator.model import Ec2Error, Ec2Model, Instance, Subnet
from simulator.scenarios import ForeignEniSpec, NodeGroupSpec, PodSpec, ScenarioError
from simulator.scheduler import NodeCapacity

log = logging.getLogger(__name__)
ENICONFIG_API = "crd.k8s.amazonaws.com/v1alpha1"
_CLUSTER_SG_DESCRIPTION = (
    "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any "
    "managed workloads."
)


class ClusterLayout(ClusterObjects):
    """Builds the VPC, nodes and declared pods. Mixed into `SimCluster`, which owns the state below."""

    model: Ec2Model
    vpc_id: str
    addon_env: dict[str, str]
    _scheduled: dict[str, NodeCapacity]  # node name -> what the scheduler sees of it
    _reserved_names: set[str]
    _uid_rng: random.Random
    _late_faults: bool  # NodeGroupSpec.ipamd_faults_later are on

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
        self.revision = daemonset_objects.revision_hash(self._aws_node_template())

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

    def _karpenter_max_pods(self, itype: InstanceType, labels: dict[str, str]) -> int | None:
        spec = self.scenario.karpenter
        nodeclass = spec.nodeclass_of(labels) if spec else None
        return karpenter_max_pods(itype, nodeclass, spec.reserved_enis) if spec and nodeclass else None

    def aws_node_nodes(self) -> list[SimNode]:
        return [n for n in self.nodes.values() if n.runs_aws_node]
