"""Node replacement in the simulator: Auto Scaling groups over the Query API, evictions that honour
PodDisruptionBudgets over the Kubernetes API, replacements that join with the settings in force."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from simulator.runner import SimulatedCluster


def _kube(sim: SimulatedCluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(sim.kubeconfig_path))


def _asg(sim: SimulatedCluster):  # type: ignore[no-untyped-def]
    return boto3.client(
        "autoscaling",
        endpoint_url=sim.ec2_url,
        region_name=sim.region,
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )


def test_terminating_without_decrement_replaces_the_node_with_the_eniconfig_in_force() -> None:
    with SimulatedCluster.from_scenario("custom-networking") as sim:
        asg = _asg(sim)
        groups = asg.describe_auto_scaling_groups()["AutoScalingGroups"]
        assert len(groups) == 3 and all(g["DesiredCapacity"] == 1 for g in groups)
        group = next(g for g in groups if "ng-cn-a" in g["AutoScalingGroupName"])
        old_instance = group["Instances"][0]["InstanceId"]
        old_node = next(n for n in sim.cluster.nodes.values() if n.instance.id == old_instance)
        asg.terminate_instance_in_auto_scaling_group(InstanceId=old_instance, ShouldDecrementDesiredCapacity=False)
        after = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group["AutoScalingGroupName"]])
        (members,) = [g["Instances"] for g in after["AutoScalingGroups"]]
        assert len(members) == 1 and members[0]["InstanceId"] != old_instance
        core = client.CoreV1Api(_kube(sim))
        names = {n.metadata.name for n in core.list_node().items}
        assert old_node.name not in names and len(names) == 3
        new = next(n for n in sim.cluster.nodes.values() if n.instance.id == members[0]["InstanceId"])
        assert new.ipamd.ready and new.private_ip.startswith("10.0.")
        pods = core.list_namespaced_pod("kube-system", field_selector=f"spec.nodeName={new.name}").items
        assert any(p.metadata.labels.get("k8s-app") == "aws-node" and p.status.phase == "Running" for p in pods)
        added = sim.cluster.add_pod("shop", "web-new", node=new.name, owner="web")
        assert added.ip is not None and added.ip.startswith("100.64.")
        ec2 = boto3.client(
            "ec2", endpoint_url=sim.ec2_url, region_name=sim.region, aws_access_key_id="t", aws_secret_access_key="t"
        )
        state = ec2.describe_instances(InstanceIds=[old_instance])["Reservations"][0]["Instances"][0]["State"]["Name"]
        assert state == "terminated"


def test_unknown_instance_is_a_validation_error() -> None:
    with SimulatedCluster.from_scenario("healthy") as sim, pytest.raises(ClientError) as caught:
        _asg(sim).terminate_instance_in_auto_scaling_group(InstanceId="i-0000", ShouldDecrementDesiredCapacity=False)
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_eviction_honours_the_pod_disruption_budget() -> None:
    with SimulatedCluster.from_scenario("custom-networking-before") as sim:
        api = _kube(sim)
        core, policy = client.CoreV1Api(api), client.PolicyV1Api(api)
        web = sorted(p.metadata.name for p in core.list_namespaced_pod("shop").items)
        assert len(web) == 6
        pdb = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"minAvailable": 6, "selector": {"matchLabels": {"app": "web"}}},
        }
        policy.create_namespaced_pod_disruption_budget("shop", pdb)
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": web[0], "namespace": "shop"}}
        with pytest.raises(ApiException) as caught:
            core.create_namespaced_pod_eviction(web[0], "shop", body)
        assert caught.value.status == 429 and "disruption budget" in caught.value.body
        policy.patch_namespaced_pod_disruption_budget("web", "shop", {"spec": {"minAvailable": 5}})
        core.create_namespaced_pod_eviction(web[0], "shop", body)
        now = sorted(p.metadata.name for p in core.list_namespaced_pod("shop").items)
        assert web[0] not in now and len(now) == 6  # the ReplicaSet made another one
