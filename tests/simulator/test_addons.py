"""The vpc-cni add-on catalogue and version updates over the EKS API, and image patches of a self-managed aws-node."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from kubernetes import client, config

from simulator.addons import images_for, registry
from simulator.runner import SimulatedCluster


def _kube(sim: SimulatedCluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(sim.kubeconfig_path))


def _eks(sim: SimulatedCluster):  # type: ignore[no-untyped-def]
    return boto3.client(
        "eks", endpoint_url=sim.ec2_url, region_name=sim.region, aws_access_key_id="t", aws_secret_access_key="t"
    )


def _aws_node_images(sim: SimulatedCluster) -> set[tuple[str, ...]]:
    pods = client.CoreV1Api(_kube(sim)).list_namespaced_pod("kube-system", label_selector="k8s-app=aws-node").items
    return {tuple(sorted(c.image for c in [*p.spec.containers, *p.spec.init_containers])) for p in pods}


def test_describe_addon_versions_filters_by_kubernetes_version_and_flags_one_default() -> None:
    with SimulatedCluster.from_scenario("warm-target-misconfig") as sim:
        answer = _eks(sim).describe_addon_versions(addonName="vpc-cni", kubernetesVersion="1.31")
        (addon,) = answer["addons"]
        assert addon["addonName"] == "vpc-cni" and addon["owner"] == "aws"
        versions = [v["addonVersion"] for v in addon["addonVersions"]]
        assert "v1.19.2-eksbuild.1" in versions and "v1.21.1-eksbuild.1" in versions
        defaults = [
            v["addonVersion"]
            for v in addon["addonVersions"]
            for c in v["compatibilities"]
            if c["clusterVersion"] == "1.31" and c["defaultVersion"]
        ]
        assert defaults == ["v1.19.6-eksbuild.1"]
        older = _eks(sim).describe_addon_versions(addonName="vpc-cni", kubernetesVersion="1.33")["addons"][0]
        assert "v1.18.6-eksbuild.1" not in [v["addonVersion"] for v in older["addonVersions"]]


def test_update_addon_version_keeps_configuration_and_rolls_aws_node_images_in_simulated_time() -> None:
    with SimulatedCluster.from_scenario("warm-target-misconfig", rollout_seconds=0.3) as sim:
        eks = _eks(sim)
        update = eks.update_addon(
            clusterName="demo", addonName="vpc-cni", addonVersion="v1.20.0-eksbuild.1", resolveConflicts="PRESERVE"
        )["update"]
        assert update["status"] == "InProgress"
        assert eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]["status"] in ("UPDATING", "ACTIVE")
        deadline = time.monotonic() + 5
        status = update["status"]
        while status == "InProgress" and time.monotonic() < deadline:
            time.sleep(0.05)
            status = eks.describe_update(name="demo", updateId=update["id"], addonName="vpc-cni")["update"]["status"]
        assert status == "Successful"
        addon = eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]
        assert addon["addonVersion"] == "v1.20.0-eksbuild.1" and addon["status"] == "ACTIVE"
        assert json.loads(addon["configurationValues"]) == {"env": {"MINIMUM_IP_TARGET": "10"}}
        expected = images_for("v1.20.0-eksbuild.1", "us-east-2")
        assert _aws_node_images(sim) == {tuple(sorted(expected.values()))}
        assert expected["aws-eks-nodeagent"].endswith("aws-network-policy-agent:v1.2.3-eksbuild.1")
        ds = client.AppsV1Api(_kube(sim)).read_namespaced_daemon_set("aws-node", "kube-system")
        env = {e.name: e.value for e in ds.spec.template.spec.containers[0].env if e.value is not None}
        assert env["VPC_CNI_VERSION"] == "v1.20.0" and env["MINIMUM_IP_TARGET"] == "10"
        assert sim.cluster.pods["shop/web-5"].phase in ("running", "failing")  # the pool setting still binds


def test_update_addon_refuses_a_version_not_offered_for_the_cluster() -> None:
    with SimulatedCluster.from_scenario("warm-target-misconfig") as sim, pytest.raises(ClientError) as caught:
        _eks(sim).update_addon(clusterName="demo", addonName="vpc-cni", addonVersion="v1.99.0-eksbuild.1")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_self_managed_image_patch_rolls_every_aws_node_pod() -> None:
    with SimulatedCluster.from_scenario("healthy") as sim:
        new = images_for("v1.20.0", sim.region)
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "aws-node", "image": new["aws-node"]},
                            {"name": "aws-eks-nodeagent", "image": new["aws-eks-nodeagent"]},
                        ],
                        "initContainers": [{"name": "aws-vpc-cni-init", "image": new["aws-vpc-cni-init"]}],
                    }
                }
            }
        }
        before = _aws_node_images(sim)
        client.AppsV1Api(_kube(sim)).patch_namespaced_daemon_set("aws-node", "kube-system", patch)
        assert _aws_node_images(sim) == {tuple(sorted(new.values()))} != before
        status = client.AppsV1Api(_kube(sim)).read_namespaced_daemon_set_status("aws-node", "kube-system").status
        assert status.updated_number_scheduled == status.number_ready == status.desired_number_scheduled


def test_registry_account_follows_the_region() -> None:
    assert registry("us-east-2") == "602401143452.dkr.ecr.us-east-2.amazonaws.com"
    assert registry("af-south-1") == "877085696533.dkr.ecr.af-south-1.amazonaws.com"
    assert registry("cn-north-1") == "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn"
