"""The Kubernetes objects of the simulated cluster, rendered from its state: the read side of `SimCluster`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simulator import daemonset_objects, objects
from simulator.awsnode import AwsNodeConfig
from simulator.awsnode_logs import aws_node_log
from simulator.cluster_state import EVENT_TTL, SimNode, SimPod, replicaset_name
from simulator.karpenter import karpenter_objects
from simulator.kube.store import KubeStore
from simulator.model import Subnet
from simulator.scenarios import NodeGroupSpec, Scenario

JsonObject = dict[str, Any]
EXTERNAL_ENICONFIG_LABEL = "vpc.amazonaws.com/externalEniConfig"
APP_IMAGE = "public.ecr.aws/nginx/nginx:1.27"


class ClusterObjects:
    """Renders nodes, pods, DaemonSets, events and CRs. Mixed into `SimCluster`, which owns the state below."""

    scenario: Scenario
    store: KubeStore
    now: datetime
    nodes: dict[str, SimNode]
    pods: dict[str, SimPod]
    subnets: dict[str, Subnet]
    security_groups: dict[str, str]
    env: dict[str, str]
    config: AwsNodeConfig
    revision: str
    generation: int
    # Container name -> image, once the DaemonSet's images were changed (UpdateAddon, a patch); {} = the scenario's.
    aws_node_images: dict[str, str]
    node_images: dict[str, dict[str, str]]  # node name -> the images its aws-node pod started with

    def _aws_node_template(self, images: dict[str, str] | None = None) -> JsonObject:
        template = daemonset_objects.aws_node_template(self.env, f"{self.scenario.cni_version}-eksbuild.1")
        return daemonset_objects.with_images(template, self.aws_node_images if images is None else images)

    def _eniconfig_name(self, node: SimNode, config: AwsNodeConfig) -> str:
        """ipamd's order: external label, annotation, label, then the literal "default"."""
        return (
            node.labels.get(EXTERNAL_ENICONFIG_LABEL)
            or node.annotations.get(config.eniconfig_annotation_key)
            or node.labels.get(config.eniconfig_label_key)
            or "default"
        )

    def _all_objects(self, groups: dict[str, NodeGroupSpec]) -> list[JsonObject]:
        out: list[JsonObject] = []
        namespaces = {"default", "kube-system", "kube-public", "kube-node-lease", *self.scenario.namespaces}
        namespaces |= {p.namespace for p in self.pods.values()}
        for name in sorted(namespaces):
            out.append(objects.namespace(name, self.now - timedelta(days=30)))
        if not self.scenario.auto_mode:  # Auto Mode clusters have no aws-node DaemonSet at all
            out.append(self._daemonset_object())
        out.append(self._kube_proxy_daemonset())
        if self.scenario.karpenter is not None:
            out.extend(karpenter_objects(self.scenario.karpenter, self.now))
        for node in self.nodes.values():
            out.extend(self.node_objects(node))
        for pod in self.pods.values():
            out.extend(self.pod_objects(pod))
        out.extend(self._scenario_events())
        return out

    def _eniconfig_object(self, name: str, subnet: str, groups: list[str]) -> JsonObject:
        subnet_id = self.subnets[subnet].id if subnet in self.subnets else subnet
        group_ids = [self.security_groups.get(g, g) for g in groups]
        return objects.eniconfig(name, subnet_id, group_ids, self.now - timedelta(hours=4))

    def daemonset_counts(self) -> tuple[int, int, int]:
        served = [n for n in self.nodes.values() if n.runs_aws_node]
        desired = len(served)
        ready = sum(1 for n in served if n.ipamd.ready)
        updated = sum(1 for n in served if n.aws_node_revision == self.revision)
        return desired, ready, updated

    def _daemonset_object(self) -> JsonObject:
        desired, ready, updated = self.daemonset_counts()
        annotations = {}
        if self.scenario.managed_addon is not None:
            annotations["eks.amazonaws.com/managed-by"] = "eks"
        ds = daemonset_objects.daemonset(
            "aws-node",
            self._aws_node_template(),
            created=self.now - timedelta(days=30),
            desired=desired,
            ready=ready,
            updated=updated,
            generation=self.generation,
            labels={
                "app.kubernetes.io/instance": "aws-vpc-cni",
                "app.kubernetes.io/name": "aws-node",
                "app.kubernetes.io/version": self.scenario.cni_version,
                "k8s-app": "aws-node",
            },
            annotations=annotations,
        )
        return ds

    def _kube_proxy_daemonset(self) -> JsonObject:
        n = len(self.nodes)
        return daemonset_objects.daemonset(
            "kube-proxy",
            daemonset_objects.kube_proxy_template(),
            created=self.now - timedelta(days=30),
            desired=n,
            ready=n,
            updated=n,
        )

    def node_objects(self, node: SimNode) -> list[JsonObject]:
        itype = node.instance.type
        pod_eni = itype.branch_enis if node.trunk_eni else 0
        node_obj = objects.node(
            name=node.name,
            instance_id=node.instance.id,
            az=node.instance.az,
            instance_type=itype.name,
            private_ip=node.private_ip,
            vcpus=itype.vcpus,
            memory_mib=itype.memory_mib,
            max_pods=node.max_pods,
            labels=node.labels,
            annotations=node.annotations,
            taints=node.taints,
            unschedulable=node.cordoned,
            network_ready=node.cni_config_written or not node.runs_aws_node,
            pod_eni_capacity=pod_eni,
            created=node.created,
            now=self.now,
            os_image=node.group.os_image,
            windows_ips=itype.ipv4_per_eni - 1 if node.group.os == "windows" else 0,
        )
        node_obj["metadata"]["uid"] = node.uid
        if not node.runs_aws_node:
            # Neither aws-node nor kube-proxy runs on Fargate; only kube-proxy elsewhere (their nodeAffinity).
            return [node_obj] if node.group.compute_type == "fargate" else [node_obj, self._kube_proxy_pod(node)]
        out = [node_obj, self._aws_node_pod(node), self._kube_proxy_pod(node), self._cninode(node)]
        out.extend(self._aws_node_events(node))
        return out

    def _cninode(self, node: SimNode) -> JsonObject:
        features: list[JsonObject] = []
        if self.config.pod_eni:
            features.append({"name": "SecurityGroupsForPods"})
        if self.config.custom_networking:
            features.append({"name": "CustomNetworking", "value": self._eniconfig_name(node, self.config)})
        return objects.cninode(node.name, features, node.uid, node.created + timedelta(minutes=1))

    def _aws_node_pod(self, node: SimNode) -> JsonObject:
        template = self._aws_node_template(self.node_images.get(node.name, {}))
        spec = template["spec"]
        spec["nodeName"] = node.name
        started = node.aws_node_started or node.created
        ipamd = node.ipamd
        containers = spec["containers"]
        entrypoint_exit = bool(ipamd.context and ipamd.context.config.entrypoint_exit)
        if ipamd.ready:
            statuses = [objects.running_status(c, started) for c in containers]
        else:
            restarts = 4 + ipamd.restarts
            code = objects.ENTRYPOINT_EXIT_CODE if entrypoint_exit else objects.LIVENESS_KILL_EXIT_CODE
            statuses = [
                objects.crashloop_status(containers[0], node.aws_node_pod, node.aws_node_uid, restarts, self.now, code),
                objects.running_status(containers[1], started),
            ]
        init = spec["initContainers"][0]
        init_status = objects.running_status(init, started)
        init_status.update(
            ready=True,
            started=False,
            state={
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": objects.ts(started),
                    "finishedAt": objects.ts(started + timedelta(seconds=2)),
                    "containerID": init_status["containerID"],
                }
            },
        )
        ready = ipamd.ready
        log = aws_node_log(ipamd, self.env, started, entrypoint_exit=entrypoint_exit)
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": node.aws_node_pod,
                "namespace": "kube-system",
                "uid": node.aws_node_uid,
                "generateName": "aws-node-",
                "labels": {
                    **template["metadata"]["labels"],
                    "controller-revision-hash": node.aws_node_revision,
                    "pod-template-generation": str(self.generation),
                },
                "ownerReferences": [objects.owner_reference("DaemonSet", "aws-node")],
                "creationTimestamp": objects.ts(started - timedelta(seconds=5)),
            },
            "spec": objects.pod_spec_defaults(spec),
            "status": {
                "phase": "Running",
                "conditions": objects.pod_conditions(
                    scheduled=True, initialized=True, ready=ready, sandbox=True, since=started
                ),
                "hostIP": node.private_ip,
                "hostIPs": [{"ip": node.private_ip}],
                "podIP": node.private_ip,
                "podIPs": [{"ip": node.private_ip}],
                "qosClass": "Burstable",
                "startTime": objects.ts(started),
                "containerStatuses": statuses,
                "initContainerStatuses": [init_status],
            },
            # Served by the API server's log subresource, never in the object itself.
            "_log": {"aws-node": log, "aws-eks-nodeagent": "", "aws-vpc-cni-init": ""},
            "_previous_log": {"aws-node": log} if not ready else {},
        }

    def _kube_proxy_pod(self, node: SimNode) -> JsonObject:
        template = daemonset_objects.kube_proxy_template()
        spec = template["spec"]
        spec["nodeName"] = node.name
        started = node.created + timedelta(seconds=20)
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": node.kube_proxy_pod,
                "namespace": "kube-system",
                "uid": objects.uuid_like("kube-proxy", node.name),
                "generateName": "kube-proxy-",
                "labels": {
                    "k8s-app": "kube-proxy",
                    "controller-revision-hash": "5c7d8f9b6d",
                    "pod-template-generation": "1",
                },
                "ownerReferences": [objects.owner_reference("DaemonSet", "kube-proxy")],
                "creationTimestamp": objects.ts(started - timedelta(seconds=5)),
            },
            "spec": objects.pod_spec_defaults(spec),
            "status": {
                "phase": "Running",
                "conditions": objects.pod_conditions(
                    scheduled=True, initialized=True, ready=True, sandbox=True, since=started
                ),
                "hostIP": node.private_ip,
                "hostIPs": [{"ip": node.private_ip}],
                "podIP": node.private_ip,
                "podIPs": [{"ip": node.private_ip}],
                "qosClass": "Burstable",
                "startTime": objects.ts(started),
                "containerStatuses": [objects.running_status(spec["containers"][0], started)],
            },
        }

    def _aws_node_events(self, node: SimNode) -> list[JsonObject]:
        out = []
        if node.trunk_eni:
            out.append(
                objects.core_event(
                    namespace_name="default",
                    involved=objects.involved("Node", node.name, "", node.uid),
                    reason="NodeTrunkInitiated",
                    message="The node has trunk interface initialized successfully",
                    component="vpc-resource-controller",
                    event_type="Normal",
                    first=node.created + timedelta(minutes=1),
                    last=node.created + timedelta(minutes=1),
                )
            )
        ref = objects.involved("Pod", node.aws_node_pod, "kube-system", node.aws_node_uid)
        for event in node.ipamd.events:
            out.append(
                objects.series_event(
                    namespace_name="kube-system",
                    involved=ref,
                    reason=event.reason,
                    message=event.message,
                    reporting_controller="aws-node",
                    reporting_instance=node.aws_node_pod,
                    action=event.action,
                    first=self.now - timedelta(minutes=15),
                    last=self.now - timedelta(seconds=30),
                    count=6,
                )
            )
        return out

    def pod_objects(self, pod: SimPod) -> list[JsonObject]:
        metadata, pod_spec = self._pod_metadata_and_spec(pod)
        containers: list[JsonObject] = pod_spec["containers"]
        started = pod.created + timedelta(seconds=3)
        status: JsonObject = {"qosClass": "Burstable"}
        node = self.nodes.get(pod.node or "")
        if pod.phase == "unscheduled" or node is None:
            status.update(
                phase="Pending",
                conditions=objects.pod_conditions(
                    scheduled=False,
                    initialized=False,
                    ready=False,
                    sandbox=False,
                    since=pod.created,
                    unschedulable_message=pod.message,
                ),
            )
        else:
            pod_spec["nodeName"] = node.name
            status.update(hostIP=node.private_ip, hostIPs=[{"ip": node.private_ip}], startTime=objects.ts(started))
            if pod.phase == "running":
                running = started + timedelta(seconds=4)
                status.update(
                    phase="Running",
                    podIP=pod.ip,
                    podIPs=[{"ip": pod.ip}],
                    conditions=objects.pod_conditions(
                        scheduled=True, initialized=True, ready=True, sandbox=True, since=started
                    ),
                    containerStatuses=[objects.running_status(c, running, 0, pod.uid) for c in containers],
                )
            else:
                status.update(
                    phase="Pending",
                    conditions=objects.pod_conditions(
                        scheduled=True, initialized=True, ready=False, sandbox=False, since=started
                    ),
                    containerStatuses=[objects.creating_status(c) for c in containers],
                )
        obj = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec, "status": status}
        return [obj, *self._pod_events(pod, node)]

    def _pod_metadata_and_spec(self, pod: SimPod) -> tuple[JsonObject, JsonObject]:
        """A pod created over HTTP keeps its own metadata and spec; scenario pods get a synthetic app container."""
        annotations = {k: v for k, v in pod.annotations.items() if not k.startswith("simulator/")}
        if pod.source is not None:
            own = dict(pod.source.get("metadata") or {})
            if annotations:
                own["annotations"] = {**(own.get("annotations") or {}), **annotations}
            return own, objects.pod_spec_defaults(dict(pod.source.get("spec") or {}))
        spec = pod.spec
        requests = {"cpu": spec.cpu, "memory": spec.memory}
        limits: dict[str, str] = {}
        if spec.pod_eni:
            requests[objects.POD_ENI_RESOURCE] = limits[objects.POD_ENI_RESOURCE] = "1"
        container = objects.container_spec("app", APP_IMAGE, requests, limits)
        pod_spec: JsonObject = {"containers": [container]}
        if spec.host_network:
            pod_spec["hostNetwork"] = True
        if spec.node_group:
            pod_spec["nodeSelector"] = {"eks.amazonaws.com/nodegroup": spec.node_group}
        if spec.scheduler_name != "default-scheduler":
            pod_spec["schedulerName"] = spec.scheduler_name
        metadata: JsonObject = {
            "name": pod.name,
            "namespace": pod.namespace,
            "uid": pod.uid,
            "labels": dict(spec.labels) or {"app": spec.owner or pod.name},
            "creationTimestamp": objects.ts(pod.created),
        }
        if annotations:
            metadata["annotations"] = annotations
        if spec.owner:
            rs = replicaset_name(pod.namespace, spec.owner)
            metadata["generateName"] = f"{rs}-"
            metadata["ownerReferences"] = [objects.owner_reference("ReplicaSet", rs)]
            metadata["labels"]["pod-template-hash"] = rs.rsplit("-", 1)[-1]
        return metadata, objects.pod_spec_defaults(pod_spec)

    def _pod_events(self, pod: SimPod, node: SimNode | None) -> list[JsonObject]:
        ref = objects.involved("Pod", pod.name, pod.namespace, pod.uid)
        first = pod.created + timedelta(seconds=5)
        last = self.now - timedelta(seconds=12)
        # kubelet and scheduler retry with back-off: roughly one attempt per 5 minutes after the first few.
        count = max(3, int((self.now - pod.created).total_seconds() // 300) + 2 * pod.attempts)
        out: list[JsonObject] = []
        if pod.phase == "unscheduled":
            out.append(
                objects.series_event(
                    namespace_name=pod.namespace,
                    involved=ref,
                    reason="FailedScheduling",
                    message=pod.message,
                    reporting_controller="default-scheduler",
                    reporting_instance="default-scheduler-ip-10-0-0-10",
                    action="Scheduling",
                    first=first,
                    last=last,
                    count=count,
                )
            )
            return out
        if node is None:
            return out
        if self.now - pod.created < EVENT_TTL:  # the Scheduled event of older pods has expired
            out.append(
                objects.core_event(
                    namespace_name=pod.namespace,
                    involved=ref,
                    reason="Scheduled",
                    message=f"Successfully assigned {pod.namespace}/{pod.name} to {node.name}",
                    component="default-scheduler",
                    event_type="Normal",
                    first=pod.created + timedelta(seconds=1),
                    last=pod.created + timedelta(seconds=1),
                )
            )
        if pod.spec.pod_eni and pod.branch_eni:
            group = self.security_groups.get("pod-sg", self.security_groups["nodes"])
            for reason, message in [
                ("SecurityGroupRequested", f"Pod will get the following Security Groups [{group}]"),
                ("ResourceAllocated", f"Allocated {pod.annotations.get('vpc.amazonaws.com/pod-eni', '')} to the pod"),
            ]:
                out.append(
                    objects.core_event(
                        namespace_name=pod.namespace,
                        involved=ref,
                        reason=reason,
                        message=message,
                        component="vpc-resource-controller",
                        event_type="Normal",
                        first=first,
                        last=first,
                    )
                )
        if pod.phase == "failing":
            out.append(
                objects.core_event(
                    namespace_name=pod.namespace,
                    involved=ref,
                    reason=pod.reason,
                    message=pod.message,
                    component="kubelet",
                    host=node.name,
                    count=count,
                    first=first,
                    last=last,
                )
            )
        return out

    def _scenario_events(self) -> list[JsonObject]:
        out = []
        for spec in self.scenario.events:
            pod = self.pods.get(spec.pod)
            namespace_name, _, name = spec.pod.partition("/")
            uid = pod.uid if pod else objects.uuid_like("pod", spec.pod)
            host = pod.node if pod and pod.node and spec.component == "kubelet" else ""
            out.append(
                objects.core_event(
                    namespace_name=namespace_name,
                    involved=objects.involved("Pod", name, namespace_name, uid),
                    reason=spec.reason,
                    message=spec.message,
                    component=spec.component,
                    host=host or "",
                    event_type=spec.type,
                    count=spec.count,
                    first=self.now - timedelta(minutes=10),
                    last=self.now - timedelta(seconds=20),
                    key=spec.reason + spec.message,
                )
            )
        return out

    # --- changes over HTTP -------------------------------------------------------------------------------
