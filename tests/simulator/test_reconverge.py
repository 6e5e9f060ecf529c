"""Changes made over HTTP re-converge the model: aws-node rollouts, ENIConfigs, the managed add-on."""

from __future__ import annotations

import json
import time

import boto3
from kubernetes import client, config

from simulator.addresses import ip_to_int
from simulator.runner import SimulatedCluster


def kube(sim: SimulatedCluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(sim.kubeconfig_path))


def aws(sim: SimulatedCluster, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=sim.ec2_url,
        region_name=sim.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_daemonset_patch_fixes_crashing_aws_node_and_rolls_pods() -> None:
    with SimulatedCluster.from_scenario("aws-node-not-ready") as sim:
        api = kube(sim)
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        before = {
            p.metadata.name for p in core.list_namespaced_pod("kube-system", label_selector="k8s-app=aws-node").items
        }
        crashing = core.read_namespaced_pod(sorted(before)[0], "kube-system").status.container_statuses[0]
        assert crashing.state.waiting.reason == "CrashLoopBackOff" and crashing.restart_count > 0
        # aws-node writes no termination message; the entrypoint's exit code 1 (validateEnvVars) is all there is.
        assert crashing.last_state.terminated.message is None and crashing.last_state.terminated.exit_code == 1
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "aws-node", "env": [{"name": "WARM_PREFIX_TARGET", "value": "1"}]}]
                    }
                }
            }
        }
        apps.patch_namespaced_daemon_set("aws-node", "kube-system", patch)
        ds = apps.read_namespaced_daemon_set("aws-node", "kube-system")
        assert ds.metadata.generation == 2 and ds.status.observed_generation == 2
        assert ds.status.updated_number_scheduled == ds.status.number_ready == 2
        env = {e.name: e.value for e in ds.spec.template.spec.containers[0].env}
        assert env["ENABLE_PREFIX_DELEGATION"] == "true" and env["WARM_PREFIX_TARGET"] == "1"
        after = core.list_namespaced_pod("kube-system", label_selector="k8s-app=aws-node").items
        assert {p.metadata.name for p in after}.isdisjoint(before)
        assert all(p.status.container_statuses[0].ready for p in after)
        assert len({p.metadata.labels["controller-revision-hash"] for p in after}) == 1
        web = core.read_namespaced_pod("web-5", "shop")
        assert web.status.phase == "Running" and web.status.pod_ip
        # prefix delegation is now live in EC2: the nodes' ENIs carry /28 prefixes
        enis = aws(sim, "ec2").describe_network_interfaces(
            Filters=[{"Name": "tag-key", "Values": ["node.k8s.amazonaws.com/instance_id"]}]
        )["NetworkInterfaces"]
        primary = [e for e in aws(sim, "ec2").describe_network_interfaces()["NetworkInterfaces"] if e.get("Attachment")]
        assert any(e.get("Ipv4Prefixes") for e in primary + enis)
        node = sim.cluster.node_by_group("ng-general", 0)
        assert node.ipamd.metrics.total_ipv4_prefixes > 0


def test_rollout_progresses_over_rollout_seconds() -> None:
    with SimulatedCluster.from_scenario("healthy", rollout_seconds=0.4) as sim:
        apps = client.AppsV1Api(kube(sim))
        free_before = sim.cluster.subnet_free("private-us-east-2a")
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "aws-node",
                                "env": [
                                    {"name": "WARM_IP_TARGET", "value": "3"},
                                    {"name": "MINIMUM_IP_TARGET", "value": "5"},
                                ],
                            }
                        ]
                    }
                }
            }
        }
        apps.patch_namespaced_daemon_set("aws-node", "kube-system", patch)
        first = apps.read_namespaced_daemon_set_status("aws-node", "kube-system").status
        assert first.updated_number_scheduled < first.desired_number_scheduled
        deadline = time.monotonic() + 5
        status = first
        while time.monotonic() < deadline and status.updated_number_scheduled < status.desired_number_scheduled:
            time.sleep(0.05)
            status = apps.read_namespaced_daemon_set_status("aws-node", "kube-system").status
        assert status.updated_number_scheduled == status.desired_number_scheduled == 3
        # warm IP targets replaced the whole spare ENI: pools shrank, the subnet got addresses back
        for node in sim.cluster.nodes.values():
            assert node.ipamd.available() <= 3
            assert node.ipamd.total_ips() >= 5
        assert sim.cluster.subnet_free("private-us-east-2a") > free_before


def test_eniconfig_created_over_http_lets_the_new_node_start() -> None:
    with SimulatedCluster.from_scenario("eniconfig-missing") as sim:
        co = client.CustomObjectsApi(kube(sim))
        subnet = sim.cluster.subnets["pods-us-east-2c"]
        co.create_cluster_custom_object(
            "crd.k8s.amazonaws.com",
            "v1alpha1",
            "eniconfigs",
            {
                "apiVersion": "crd.k8s.amazonaws.com/v1alpha1",
                "kind": "ENIConfig",
                "metadata": {"name": "us-east-2c"},
                "spec": {"subnet": subnet.id},
            },
        )
        pod = client.CoreV1Api(kube(sim)).read_namespaced_pod("web-5", "shop")
        assert pod.status.phase == "Running" and pod.status.pod_ip.startswith("100.64.128.")
        node = sim.cluster.node_by_group("ng-c", 0)
        assert node.ipamd.ready
        # existing ENIs stay where they were: the a/b nodes did not move
        a_node = sim.cluster.node_by_group("ng-a", 0)
        assert all(e.subnet.az == "us-east-2a" for e in sim.model.enis_of_instance(a_node.instance.id))


def test_managed_addon_update_applies_env_and_reconverges() -> None:
    with SimulatedCluster.from_scenario("warm-target-misconfig") as sim:
        eks = aws(sim, "eks")
        addon = eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]
        assert json.loads(addon["configurationValues"]) == {"env": {"MINIMUM_IP_TARGET": "10"}}
        values = json.dumps({"env": {"MINIMUM_IP_TARGET": "10", "WARM_IP_TARGET": "2"}})
        eks.update_addon(
            clusterName="demo", addonName="vpc-cni", configurationValues=values, resolveConflicts="PRESERVE"
        )
        ds = client.AppsV1Api(kube(sim)).read_namespaced_daemon_set("aws-node", "kube-system")
        env = {e.name: e.value for e in ds.spec.template.spec.containers[0].env}
        assert env["WARM_IP_TARGET"] == "2" and env["WARM_ENI_TARGET"] == "1" and env["ENABLE_IPv4"] == "true"
        assert sim.cluster.pods["shop/web-5"].phase == "running"


def test_ipamd_metrics_through_the_pod_proxy_match_the_model() -> None:
    with SimulatedCluster.from_scenario("eniconfig-missing") as sim:
        core = client.CoreV1Api(kube(sim))
        for node in sim.cluster.nodes.values():
            name = f"{node.aws_node_pod}:61678"
            if not node.ipamd.ready:
                try:
                    core.connect_get_namespaced_pod_proxy_with_path(name, "kube-system", "metrics")
                except client.ApiException as err:
                    assert err.status == 503
                else:
                    raise AssertionError("a crash-looping aws-node must not serve metrics")
                continue
            text = core.connect_get_namespaced_pod_proxy_with_path(name, "kube-system", "metrics")
            values = dict(
                line.split(" ", 1)
                for line in text.splitlines()
                if line and not line.startswith("#") and "{" not in line
            )
            assert int(values["awscni_total_ip_addresses"]) == node.ipamd.total_ips()
            assert int(values["awscni_assigned_ip_addresses"]) == len(node.ipamd.assigned)
            assert int(values["awscni_eni_max"]) == 3 and int(values["awscni_ip_max"]) == 27
            assert 'awscni_build_info{goversion="go1.23.6",version="v1.19.2"} 1' in text


def test_model_api_adds_and_deletes_pods() -> None:
    sim = SimulatedCluster.from_scenario("warm-target-misconfig")
    cluster = sim.cluster
    node = cluster.node_by_group("ng-general")
    subnet_free = node.instance.subnet.available_ip_count
    pod = cluster.add_pod("shop", "extra", node=node.name)
    assert pod.phase == "failing"  # the pool is frozen at MINIMUM_IP_TARGET
    cluster.delete_pod("shop", "web-5")
    cluster.delete_pod("default", next(k for k in cluster.pods if k.startswith("default/")).split("/")[1])
    assert node.ipamd.cooldown_ips() == 1
    node.ipamd.advance(31)
    cluster.retry_failing_pods()
    assert cluster.pods["shop/extra"].phase == "running"
    assert node.instance.subnet.available_ip_count == subnet_free
    assert sim.store.get("v1", "Pod", "shop", "web-5") is None
    assert ip_to_int(cluster.pods["shop/extra"].ip or "0.0.0.0") > 0


def test_pods_created_and_deleted_over_http_get_and_free_addresses() -> None:
    with SimulatedCluster.from_scenario("healthy") as sim:
        core = client.CoreV1Api(kube(sim))
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "probe", "namespace": "shop", "labels": {"run": "probe"}},
            "spec": {
                "containers": [{"name": "probe", "image": "busybox:1.36", "resources": {"requests": {"cpu": "50m"}}}]
            },
        }
        core.create_namespaced_pod("shop", body)
        pod = core.read_namespaced_pod("probe", "shop")
        assert pod.status.phase == "Running" and pod.status.pod_ip and pod.spec.node_name
        assert pod.spec.containers[0].image == "busybox:1.36" and pod.metadata.labels == {"run": "probe"}
        node = sim.cluster.nodes[pod.spec.node_name]
        assert ip_to_int(pod.status.pod_ip) in node.ipamd.assigned
        core.delete_namespaced_pod("probe", "shop")
        assert "shop/probe" not in sim.cluster.pods and node.ipamd.cooldown_ips() == 1


def test_aws_node_logs_show_the_startup_failure() -> None:
    with SimulatedCluster.from_scenario("aws-node-not-ready") as sim:
        core = client.CoreV1Api(kube(sim))
        name = sim.cluster.node_by_group("ng-general").aws_node_pod
        text = core.read_namespaced_pod_log(name, "kube-system", container="aws-node", previous=True)
        # The entrypoint's logrus text line, and nothing else: it exits before starting ipamd.
        (line,) = text.splitlines()
        assert line.startswith('time="') and " level=error " in line
        assert 'msg="Setting WARM_PREFIX_TARGET = 0 is not supported' in line
    with SimulatedCluster.from_scenario("healthy") as sim:
        core = client.CoreV1Api(kube(sim))
        name = next(iter(sim.cluster.nodes.values())).aws_node_pod
        text = core.read_namespaced_pod_log(name, "kube-system", container="aws-node")
        assert "Successfully copied CNI plugin binary and config file." in text


def test_rollout_restart_replaces_every_aws_node_pod() -> None:
    with SimulatedCluster.from_scenario("healthy") as sim:
        api = kube(sim)
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        selector = "k8s-app=aws-node"
        before = {
            p.metadata.name: p.metadata.labels["controller-revision-hash"]
            for p in core.list_namespaced_pod("kube-system", label_selector=selector).items
        }
        restart = {
            "spec": {
                "template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-28T04:00:00Z"}}}
            }
        }
        apps.patch_namespaced_daemon_set("aws-node", "kube-system", restart)
        after = {
            p.metadata.name: p.metadata.labels["controller-revision-hash"]
            for p in core.list_namespaced_pod("kube-system", label_selector=selector).items
        }
        assert set(after).isdisjoint(before) and len(after) == 3
        assert set(after.values()).isdisjoint(set(before.values()))
        assert all(p.status.phase == "Running" for p in core.list_namespaced_pod("shop").items)
