"""Every scenario builds, serves and validates; each expectation arises from the model as declared."""

from __future__ import annotations

import pytest
from kubernetes import client, config

from simulator.addresses import ip_to_int
from simulator.cluster import SimCluster
from simulator.cluster_state import GRPC_ERROR, NO_IP
from simulator.ipamd import CNI_ROLE_TAG
from simulator.runner import SimulatedCluster
from simulator.scenarios import Scenario, ScenarioError, list_scenarios, load_scenario, parse_scenario
from tests.simulator.conftest import validate_with_official_client

REQUIRED = {
    "healthy", "custom-networking", "custom-networking-half-migrated", "not-scheduled", "max-pods-reached",
    "sgp-branch-capacity", "aws-node-not-ready", "subnet-exhausted", "prefix-fragmentation", "node-ip-capacity",
    "attachment-limit", "iam-permission-missing", "ec2-throttled", "eniconfig-missing", "eniconfig-invalid",
    "subnet-excluded", "warm-target-misconfig", "ip-cooldown", "node-cordoned", "network-policy-agent",
    "unknown", "demo",
}  # fmt: skip
SCHEDULER_TEXT = {
    "NOT_SCHEDULED": "Insufficient cpu",
    "MAX_PODS_REACHED": "Too many pods",
    "SGP_BRANCH_CAPACITY": "Insufficient vpc.amazonaws.com/pod-eni",
}
UNREACHABLE = {"AWS_NODE_NOT_READY", "ENICONFIG_MISSING", "ENICONFIG_INVALID"}


@pytest.fixture(scope="module")
def built() -> dict[str, SimCluster]:
    clusters = {}
    for name in list_scenarios():
        cluster = SimCluster(load_scenario(name))
        cluster.build()
        clusters[name] = cluster
    return clusters


def test_all_required_scenarios_exist() -> None:
    assert set(list_scenarios()) >= REQUIRED
    assert 6 <= sum(g.count for g in load_scenario("demo").node_groups) <= 10


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_object_validates_with_the_official_client(built: dict[str, SimCluster], name: str) -> None:
    store = built[name].store
    kinds = [("v1", "Pod"), ("v1", "Node"), ("apps/v1", "DaemonSet"), ("v1", "Event"), ("v1", "Namespace")]
    for api_version, kind in kinds:
        for obj in store.list(api_version, kind, copy=False):
            validate_with_official_client(obj)
    assert store.get("apps/v1", "DaemonSet", "kube-system", "aws-node") is not None


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_expectations_arise_from_the_model(built: dict[str, SimCluster], name: str) -> None:
    cluster = built[name]
    assert cluster.scenario.expect, f"{name} declares no expectation"
    for expectation in cluster.scenario.expect:
        pod = cluster.pods[expectation.pod]
        check_cause(cluster, pod.key, expectation.cause)
        for contributing in expectation.contributing:
            check_cause(cluster, pod.key, contributing)


def check_cause(cluster: SimCluster, key: str, cause: str) -> None:  # noqa: C901 - one branch per cause
    pod = cluster.pods[key]
    node = cluster.nodes.get(pod.node or "")
    ipamd = node.ipamd if node else None
    errors = {code for (_, code) in ipamd.metrics.aws_api_errors} if ipamd else set()
    if cause == "POD_HAS_IP":
        assert pod.phase == "running" and pod.ip and node and pod.ip != node.private_ip
    elif cause == "HOST_NETWORK":
        assert pod.phase == "running" and node and pod.ip == node.private_ip
    elif cause in SCHEDULER_TEXT:
        assert pod.phase == "unscheduled" and SCHEDULER_TEXT[cause] in pod.message
        assert pod.message.startswith("0/")
    elif cause in UNREACHABLE:
        assert pod.phase == "failing" and ipamd and not ipamd.ready
        # A node whose ipamd never initialised has no CNI config (main.go copies it after waitForIPAM).
        assert (GRPC_ERROR if ipamd.started else "cni plugin not initialized") in pod.message
        if cause == "ENICONFIG_MISSING":
            assert cluster.store.get("crd.k8s.amazonaws.com/v1alpha1", "ENIConfig", None, node.instance.az) is None
        if cause == "ENICONFIG_INVALID":
            spec = cluster.store.get("crd.k8s.amazonaws.com/v1alpha1", "ENIConfig", None, node.instance.az)
            assert spec and cluster.model.subnet(spec["spec"]["subnet"]).az != node.instance.az
    elif cause == "NETWORK_POLICY_AGENT":
        assert pod.phase == "failing" and "failed to setup network policy" in pod.message
    elif cause == "UNKNOWN":
        assert pod.phase == "failing" and NO_IP not in pod.message and GRPC_ERROR not in pod.message
    else:
        assert pod.phase == "failing" and NO_IP in pod.message, (key, pod.message)
        assert node and ipamd
        subnet = node.instance.subnet
        if cause == "SUBNET_EXHAUSTED":
            assert "InsufficientFreeAddressesInSubnet" in errors and subnet.available_ip_count < 10
        elif cause == "LEAKED_ENIS":
            leaked = [
                e for e in cluster.model.enis.values()
                if e.subnet is subnet and e.status == "available" and e.description.startswith("aws-K8S-")
            ]  # fmt: skip
            assert leaked
        elif cause == "PREFIX_FRAGMENTATION":
            assert "InsufficientCidrBlocks" in errors
            assert subnet.available_ip_count >= 16 and subnet.space.aligned_free_prefixes() == 0
        elif cause == "NODE_IP_CAPACITY":
            assert len(ipamd.attached_enis()) == node.instance.type.default_card_enis and not errors
            assert node.max_pods - 2 > ipamd.total_ips()
        elif cause == "ATTACHMENT_LIMIT":
            assert "AttachmentLimitExceeded" in errors
        elif cause == "IAM_PERMISSION_MISSING":
            assert "UnauthorizedOperation" in errors and ipamd.events[0].reason == "MissingIAMPermissions"
        elif cause == "EC2_THROTTLED":
            assert "RequestLimitExceeded" in errors
            assert ipamd.metrics.action_inprogress.get("increaseDatastorePool") == 1
        elif cause == "SUBNET_EXCLUDED":
            assert subnet.tags.get(CNI_ROLE_TAG) == "0" and ipamd.total_ips() == 0
        elif cause == "WARM_TARGET_MISCONFIG":
            config = ipamd.context.config if ipamd.context else None
            assert config and config.minimum_ip_target and not config.warm_ip_target
            assert ipamd.total_ips() == config.minimum_ip_target
        elif cause == "IP_COOLDOWN":
            assert ipamd.cooldown_ips() > 0 and ipamd.available() == ipamd.cooldown_ips()
        elif cause == "NODE_CORDONED":
            assert node.cordoned and ipamd.total_ips() < node.instance.type.standard_max_pods() - 2
        else:
            raise AssertionError(f"no check for cause {cause}")


def test_custom_networking_pods_use_the_secondary_cidr(built: dict[str, SimCluster]) -> None:
    cluster = built["custom-networking"]
    secondary = ip_to_int("100.64.0.0")
    workload = [p for p in cluster.pods.values() if not p.spec.host_network and p.ip]
    assert workload and all(ip_to_int(p.ip or "") & 0xFFFF0000 == secondary for p in workload)
    half = built["custom-networking-half-migrated"]
    assert (half.pods["shop/web-old-0"].ip or "").startswith("10.0.")
    assert (half.pods["shop/web-new-0"].ip or "").startswith("100.64.")


def test_unknown_keys_and_bad_references_are_rejected() -> None:
    with pytest.raises(ScenarioError, match="unknown keys"):
        parse_scenario({"name": "x", "node_group": []})
    with pytest.raises(ScenarioError, match="unknown subnet"):
        parse_scenario({"name": "x", "node_groups": [{"name": "a", "instance_type": "m5.large", "subnet": "nope"}]})
    assert isinstance(parse_scenario({"name": "empty"}), Scenario)


def test_a_scenario_serves_to_the_official_client() -> None:
    with SimulatedCluster.from_scenario("subnet-exhausted") as sim:
        api = config.new_client_from_config(config_file=str(sim.kubeconfig_path))
        core = client.CoreV1Api(api)
        pod = core.read_namespaced_pod("web-5", "shop")
        assert pod.status.phase == "Pending"
        assert pod.status.container_statuses[0].state.waiting.reason == "ContainerCreating"
        events = core.list_namespaced_event("shop", field_selector="involvedObject.name=web-5").items
        sandbox = [e for e in events if e.reason == "FailedCreatePodSandBox"]
        assert sandbox and sandbox[0].count > 1 and sandbox[0].source.component == "kubelet"
        assert "add cmd: failed to assign an IP address to container" in sandbox[0].message
        node = core.read_node(pod.spec.node_name)
        assert node.spec.provider_id.startswith("aws:///us-east-2a/i-")
        ds = client.AppsV1Api(api).read_namespaced_daemon_set("aws-node", "kube-system")
        assert ds.spec.template.spec.containers[0].image.endswith("amazon-k8s-cni:v1.19.2-eksbuild.1")
        env = {e.name: e.value for e in ds.spec.template.spec.containers[0].env}
        assert env["WARM_ENI_TARGET"] == "1" and env["CLUSTER_NAME"] == "demo" and env["ENABLE_IPv4"] == "true"
        assert [c.name for c in ds.spec.template.spec.init_containers] == ["aws-vpc-cni-init"]
        assert sim.counter.count("kube") >= 4
