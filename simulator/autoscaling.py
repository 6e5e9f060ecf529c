"""Auto Scaling groups for the simulated node groups: DescribeAutoScalingGroups and
TerminateInstanceInAutoScalingGroup (Query API, `autoscaling` 2011-01-01, shapes from botocore's service model).

Terminating without decrementing the desired capacity launches a replacement: a new instance (new id, new primary
ENI, so a new node name) in the group's subnet that joins as a new node, and aws-node starts on it with the env and
ENIConfigs in force, so under custom networking its pods take addresses from the ENIConfig subnet. Pods left on the
old node go with it; those a ReplicaSet owns come back elsewhere, as the ReplicaSet controller would make them.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from simulator import objects

if TYPE_CHECKING:
    from simulator.cluster import SimCluster
    from simulator.cluster_state import SimNode

NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
GROUP_TAG = "aws:autoscaling:groupName"


def esc(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def el(name: str, value: object) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{esc(value)}</{name}>"


def query_error(code: str, message: str) -> str:
    """The error body of the Query APIs other than EC2: ErrorResponse/Error."""
    return (
        f"<ErrorResponse><Error><Type>Sender</Type>{el('Code', code)}{el('Message', message)}</Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


class AutoScalingError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class AutoScaling:
    def __init__(self, sim: SimCluster, *, launch_delay: float = 0.0) -> None:
        self.sim = sim
        self.launch_delay = launch_delay  # seconds before the replacement joins (simulated time)
        self.replacements_never_ready = False  # a launch template whose nodes never get aws-node ready
        self.launched: list[str] = []  # names of the nodes launched as replacements
        self._names = {
            g.name: f"eks-{g.name}-{objects.uuid_like('asg', sim.scenario.cluster_name, g.name)}"
            for g in sim.scenario.node_groups
            if not g.compute_type
        }
        for node in sim.nodes.values():
            if node.group.name in self._names:
                node.instance.tags.setdefault(GROUP_TAG, self._names[node.group.name])

    # --- the API ----------------------------------------------------------------------------------------------
    def serve(self, action: str, params: dict[str, str]) -> tuple[int, str]:
        """(HTTP status, XML body) for one Query API call."""
        try:
            return 200, self.handle(action, params)
        except AutoScalingError as err:
            return err.status, query_error(err.code, err.message)

    def handle(self, action: str, params: dict[str, str]) -> str:
        if action == "DescribeAutoScalingGroups":
            wanted = {v for k, v in params.items() if k.startswith("AutoScalingGroupNames.member.")}
            return self._response(action, self._describe(wanted))
        if action == "TerminateInstanceInAutoScalingGroup":
            decrement = params.get("ShouldDecrementDesiredCapacity", "").lower() == "true"
            return self._response(action, self._terminate(params.get("InstanceId", ""), decrement))
        raise AutoScalingError("InvalidAction", f"Could not find operation {action}")

    def _response(self, action: str, body: str) -> str:
        return (
            f'<?xml version="1.0"?>\n<{action}Response xmlns="{NAMESPACE}"><{action}Result>{body}</{action}Result>'
            f"<ResponseMetadata>{el('RequestId', uuid.uuid4())}</ResponseMetadata></{action}Response>"
        )

    def _members(self, group_name: str) -> list[SimNode]:
        return [n for n in self.sim.nodes.values() if n.instance.tags.get(GROUP_TAG) == self._names[group_name]]

    def _describe(self, wanted: set[str]) -> str:
        sim = self.sim
        out = []
        with sim.lock:
            for group_name, asg in sorted(self._names.items()):
                if wanted and asg not in wanted:
                    continue
                group = next(g for g in sim.scenario.node_groups if g.name == group_name)
                subnet = sim.subnets[group.subnet]
                members = self._members(group_name)
                instances = "".join(
                    "<member>"
                    + el("InstanceId", n.instance.id)
                    + el("InstanceType", n.instance.type.name)
                    + el("AvailabilityZone", n.instance.az)
                    + el("LifecycleState", "InService")
                    + el("HealthStatus", "Healthy")
                    + el("ProtectedFromScaleIn", False)
                    + "</member>"
                    for n in members
                )
                tags = "".join(
                    f"<member>{el('Key', k)}{el('Value', v)}{el('ResourceId', asg)}"
                    f"{el('ResourceType', 'auto-scaling-group')}{el('PropagateAtLaunch', True)}</member>"
                    for k, v in (("eks:cluster-name", sim.scenario.cluster_name), ("eks:nodegroup-name", group_name))
                )
                out.append(
                    "<member>"
                    + el("AutoScalingGroupName", asg)
                    + el(
                        "AutoScalingGroupARN",
                        f"arn:aws:autoscaling:{sim.scenario.region}:{sim.model.account_id}:autoScalingGroup:"
                        f"{objects.uuid_like('asg-arn', asg)}:autoScalingGroupName/{asg}",
                    )
                    + el("MinSize", 0)
                    + el("MaxSize", max(group.count * 2, 1))
                    + el("DesiredCapacity", len(members))
                    + el("DefaultCooldown", 300)
                    + f"<AvailabilityZones><member>{esc(subnet.az)}</member></AvailabilityZones>"
                    + el("HealthCheckType", "EC2")
                    + el("CreatedTime", objects.ts(sim.now - timedelta(days=30)))
                    + el("VPCZoneIdentifier", subnet.id)
                    + f"<Instances>{instances}</Instances><Tags>{tags}</Tags>"
                    + "</member>"
                )
        return f"<AutoScalingGroups>{''.join(out)}</AutoScalingGroups>"

    def _terminate(self, instance_id: str, decrement: bool) -> str:
        sim = self.sim
        with sim.lock:
            node = next((n for n in sim.nodes.values() if n.instance.id == instance_id), None)
            if node is None or GROUP_TAG not in node.instance.tags:
                raise AutoScalingError(
                    "ValidationError",
                    f"Instance Id not found - No managed instance found for instance ID: {instance_id}",
                )
            group_name = node.group.name
            space, old_ip = node.instance.subnet.space, node.instance.private_ip
            remove_node(sim, node)
            # EC2 does not hand the address straight back: the replacement gets another one, so a new node name.
            with sim.model.lock:
                space.claim(old_ip)
        activity = objects.uuid_like("activity", instance_id)
        held = (space, old_ip)
        if not decrement:
            if self.launch_delay > 0:
                threading.Timer(self.launch_delay, self._launch, (group_name, held)).start()
            else:
                self._launch(group_name, held)
        else:
            with sim.model.lock:
                space.release(old_ip)
        cause = "an instance was taken out of service in response to a user request"
        return (
            "<Activity>"
            + el("ActivityId", activity)
            + el("AutoScalingGroupName", self._names[group_name])
            + el("Description", f"Terminating EC2 instance: {instance_id}")
            + el("Cause", f"At {objects.ts(sim.now)} {cause}.")
            + el("StartTime", objects.ts(sim.now))
            + el("StatusCode", "InProgress")
            + el("Progress", 0)
            + "</Activity>"
        )

    def _launch(self, group_name: str, held: tuple[Any, int]) -> None:
        try:
            node = launch_node(self.sim, group_name, self._names[group_name], ready=not self.replacements_never_ready)
            self.launched.append(node.name)
        finally:
            with self.sim.model.lock:
                held[0].release(held[1])


def remove_node(sim: SimCluster, node: SimNode) -> None:
    """The instance terminates: its node, daemon pods and CNINode go; its pods go, ReplicaSet pods come back."""
    with sim.lock, sim.model.lock:
        leftovers = [p for p in sim.pods.values() if p.node == node.name]
        for pod in leftovers:
            sim.delete_pod(pod.namespace, pod.name)
        sim.store.delete("v1", "Node", None, node.name)
        for pod_name in (node.aws_node_pod, node.kube_proxy_pod):
            if pod_name and sim.store.get("v1", "Pod", "kube-system", pod_name) is not None:
                sim.store.delete("v1", "Pod", "kube-system", pod_name)
        if sim.store.get("vpcresources.k8s.aws/v1alpha1", "CNINode", None, node.name) is not None:
            sim.store.delete("vpcresources.k8s.aws/v1alpha1", "CNINode", None, node.name)
        del sim.nodes[node.name]
        sim._scheduled.pop(node.name, None)
        sim.node_images.pop(node.name, None)
        sim.model.terminate_instance(node.instance.id)
        for pod in leftovers:
            if pod.spec.owner:
                sim.recreate_pod(pod, f"{pod.name.rsplit('-', 1)[0]}-{objects.name_suffix('replaced', pod.key)}")
        sim._write_daemonset_status()


def launch_node(sim: SimCluster, group_name: str, asg: str, *, ready: bool = True) -> SimNode:
    """A new instance of the group joins as a new node; aws-node starts on it with the settings in force."""
    with sim.lock, sim.model.lock:
        group = next(g for g in sim.scenario.node_groups if g.name == group_name)
        sim.model.clock = sim.now
        instance = sim.model.run_instance(
            group.instance_type,
            sim.subnets[group.subnet].id,
            groups=[sim.security_groups["nodes"], sim.security_groups["eks-cluster-sg"]],
            tags={
                "Name": f"{sim.scenario.cluster_name}-{group.name}-Node",
                "eks:cluster-name": sim.scenario.cluster_name,
                "eks:nodegroup-name": group.name,
                f"kubernetes.io/cluster/{sim.scenario.cluster_name}": "owned",
                GROUP_TAG: asg,
            },
        )
        index = sum(1 for n in sim.nodes.values() if n.group.name == group_name)
        node = sim._add_node(group, index, instance)
        node.created = sim.now
        node.cordoned = False
        sim._scheduled[node.name].unschedulable = False
        node.kube_proxy_pod = f"kube-proxy-{objects.name_suffix('kube-proxy', node.name)}"
        capacity = sim._scheduled[node.name]
        capacity.pods += 2
        capacity.cpu_requested += 25 + 25 + 100 + 25
        if ready:
            sim._start_aws_node(node, sim.config)
            node.aws_node_started = sim.now
        else:
            node.aws_node_pod = f"aws-node-{objects.name_suffix('aws-node', node.name, 'never')}"
            node.aws_node_uid = objects.uuid_like("aws-node", node.aws_node_pod)
        for pod in list(sim.pods.values()):
            if pod.phase == "unscheduled":
                sim._place(pod)
        sim._rewrite_all()
        return node
