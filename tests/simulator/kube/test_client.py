"""The official kubernetes client 37 (pydantic models) against the fake API server, call by call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
from kubernetes import client, config

from simulator.kube import KubeApiServer, KubeStore
from tests.simulator.kube.objects import (
    involved_pod,
    make_aws_node_daemonset,
    make_aws_node_pod,
    make_cninode,
    make_eniconfig,
    make_event,
    make_node,
    make_pod,
    make_security_group_policy,
)

NODE = "ip-10-0-1-17.us-west-2.compute.internal"
ENI = ("crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs")


def _error(exc: pytest.ExceptionInfo[client.ApiException]) -> dict:
    return json.loads(exc.value.body)


def test_read_pod_and_node(store: KubeStore, api_client: client.ApiClient) -> None:
    stored = store.put(make_pod("web-1", node=NODE))
    store.put(make_node(NODE))
    core = client.CoreV1Api(api_client)
    pod = core.read_namespaced_pod("web-1", "default")
    assert pod.metadata.uid == stored["metadata"]["uid"]
    assert pod.spec.node_name == NODE and pod.status.phase == "Running"
    node = core.read_node(NODE)
    assert node.status.allocatable["pods"] == "29"
    assert [n.metadata.name for n in core.list_node(label_selector="topology.kubernetes.io/zone=us-west-2a").items] == [
        NODE
    ]


def test_events_of_one_pod_by_field_selector(store: KubeStore, api_client: client.ApiClient) -> None:
    web = store.put(make_pod("web-1"))
    other = store.put(make_pod("web-2"))
    store.put(make_event("web-1.a", involved=involved_pod(web)))
    store.put(make_event("web-2.a", involved=involved_pod(other), reason="Scheduled", event_type="Normal"))
    events = client.CoreV1Api(api_client).list_namespaced_event(
        "default", field_selector=f"involvedObject.name=web-1,involvedObject.uid={web['metadata']['uid']}"
    )
    assert [e.metadata.name for e in events.items] == ["web-1.a"]
    assert events.items[0].reason == "FailedCreatePodSandBox" and events.items[0].count == 3
    warnings = client.CoreV1Api(api_client).list_event_for_all_namespaces(field_selector="type=Warning")
    assert [e.metadata.name for e in warnings.items] == ["web-1.a"]


def test_pods_on_a_node_across_namespaces(store: KubeStore, api_client: client.ApiClient) -> None:
    store.bulk_load(
        [make_pod("a", node=NODE), make_aws_node_pod("aws-node-x1", NODE), make_pod("elsewhere", node="other")]
    )
    pods = client.CoreV1Api(api_client).list_pod_for_all_namespaces(field_selector=f"spec.nodeName={NODE}")
    assert sorted(p.metadata.name for p in pods.items) == ["a", "aws-node-x1"]
    assert pods.kind == "PodList" and pods.api_version == "v1"
    assert int(pods.metadata.resource_version) > 0


def test_strategic_merge_patch_of_aws_node_env(store: KubeStore, api_client: client.ApiClient) -> None:
    store.put(make_aws_node_daemonset())
    seen: list[tuple[str, dict | None, dict | None]] = []
    store.add_listener(lambda verb, before, after: seen.append((verb, before, after)))
    apps = client.AppsV1Api(api_client)
    assert apps.read_namespaced_daemon_set("aws-node", "kube-system").metadata.generation == 1
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "aws-node", "env": [{"name": "WARM_ENI_TARGET", "value": "2"}]}]}
            }
        }
    }
    ds = apps.patch_namespaced_daemon_set("aws-node", "kube-system", patch)
    containers = {c.name: c for c in ds.spec.template.spec.containers}
    env = {e.name: e.value for e in containers["aws-node"].env}
    assert env["WARM_ENI_TARGET"] == "2" and env["ENABLE_PREFIX_DELEGATION"] == "false"
    assert "MY_NODE_NAME" in env and "aws-eks-nodeagent" in containers
    assert [c.name for c in ds.spec.template.spec.init_containers] == ["aws-vpc-cni-init"]
    assert ds.metadata.generation == 2
    assert ds.status.number_ready == 3, "a patch of the main resource keeps the status"
    assert [verb for verb, _, _ in seen] == ["PATCH"]
    _, before, after = seen[0]
    assert before is not None and after is not None
    assert before["metadata"]["generation"] == 1 and after["metadata"]["generation"] == 2


def test_patch_with_stale_resource_version_conflicts(store: KubeStore, api_client: client.ApiClient) -> None:
    stale = store.put(make_aws_node_daemonset())["metadata"]["resourceVersion"]
    store.update("apps/v1", "DaemonSet", "kube-system", "aws-node", lambda ds: ds["spec"].update(minReadySeconds=5))
    with pytest.raises(client.ApiException) as exc:
        client.AppsV1Api(api_client).patch_namespaced_daemon_set(
            "aws-node", "kube-system", {"metadata": {"resourceVersion": stale}, "spec": {"minReadySeconds": 1}}
        )
    assert exc.value.status == 409
    assert _error(exc)["message"] == (
        'Operation cannot be fulfilled on daemonsets.apps "aws-node": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert _error(exc)["reason"] == "Conflict"


def test_eniconfig_custom_objects(store: KubeStore, api_client: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api_client)
    created = custom.create_cluster_custom_object(*ENI, make_eniconfig("us-west-2a"))
    assert created["metadata"]["generation"] == 1
    custom.create_cluster_custom_object(*ENI, make_eniconfig("us-west-2b", "subnet-0b"))
    listed = custom.list_cluster_custom_object(*ENI)
    assert listed["kind"] == "ENIConfigList"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["us-west-2a", "us-west-2b"]
    patched = custom.patch_cluster_custom_object(*ENI, "us-west-2a", {"spec": {"subnet": "subnet-0c"}})
    assert patched["spec"] == {"subnet": "subnet-0c", "securityGroups": ["sg-0123456789abcdef0"]}
    assert patched["metadata"]["generation"] == 2
    with pytest.raises(client.ApiException) as exc:
        custom.patch_cluster_custom_object(
            *ENI,
            "us-west-2a",
            {"spec": {"subnet": "subnet-0d"}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert exc.value.status == 415 and _error(exc)["reason"] == "UnsupportedMediaType"
    assert custom.get_cluster_custom_object(*ENI, "us-west-2a")["spec"]["subnet"] == "subnet-0c"
    deleted = custom.delete_cluster_custom_object(*ENI, "us-west-2b")
    assert deleted["status"] == "Success" and deleted["details"]["kind"] == "eniconfigs"
    with pytest.raises(client.ApiException) as exc:
        custom.get_cluster_custom_object(*ENI, "us-west-2b")
    assert exc.value.status == 404
    assert _error(exc)["message"] == 'eniconfigs.crd.k8s.amazonaws.com "us-west-2b" not found'


def test_cninodes_and_security_group_policies(store: KubeStore, api_client: client.ApiClient) -> None:
    store.put(make_cninode(NODE))
    store.put(make_security_group_policy("web-sgp"))
    custom = client.CustomObjectsApi(api_client)
    node = custom.get_cluster_custom_object("vpcresources.k8s.aws", "v1alpha1", "cninodes", NODE)
    assert node["spec"]["features"] == [{"name": "SecurityGroupsForPods"}]
    policies = custom.list_namespaced_custom_object(
        "vpcresources.k8s.aws", "v1beta1", "default", "securitygrouppolicies"
    )
    assert [p["metadata"]["name"] for p in policies["items"]] == ["web-sgp"]


def test_metrics_through_the_pod_proxy(store: KubeStore, tmp_path: Path) -> None:
    calls = []

    def proxy(namespace: str, pod: str, port: int, path: str, query: str) -> tuple[int, str, bytes]:
        calls.append((namespace, pod, port, path, query))
        return 200, "text/plain; version=0.0.4", b"awscni_total_ip_addresses 28\n"

    store.put(make_aws_node_pod("aws-node-x1", NODE))
    with KubeApiServer(store, proxy_handler=proxy) as server:
        server.write_kubeconfig(tmp_path / "kc")
        api = config.new_client_from_config(config_file=str(tmp_path / "kc"))
        text = client.CoreV1Api(api).connect_get_namespaced_pod_proxy_with_path(
            "aws-node-x1:61678", "kube-system", "metrics"
        )
        with pytest.raises(client.ApiException) as exc:
            client.CoreV1Api(api).connect_get_namespaced_pod_proxy_with_path("gone:61678", "kube-system", "metrics")
        api.close()
    assert text == "awscni_total_ip_addresses 28\n"
    assert calls == [("kube-system", "aws-node-x1", 61678, "metrics", "")]
    assert exc.value.status == 404


def test_proxy_without_a_handler_is_unreachable(store: KubeStore, api_client: client.ApiClient) -> None:
    store.put(make_aws_node_pod("aws-node-x1", NODE))
    with pytest.raises(client.ApiException) as exc:
        client.CoreV1Api(api_client).connect_get_namespaced_pod_proxy_with_path(
            "aws-node-x1:61678", "kube-system", "metrics"
        )
    assert exc.value.status == 503
    assert "error trying to reach service" in _error(exc)["message"]


def test_pod_logs(store: KubeStore, api_client: client.ApiClient) -> None:
    store.put(make_aws_node_pod("aws-node-x1", NODE))
    core = client.CoreV1Api(api_client)
    assert core.read_namespaced_pod_log("aws-node-x1", "kube-system", container="aws-node") == (
        "ipamd started\nwarm pool ok\n"
    )
    assert core.read_namespaced_pod_log("aws-node-x1", "kube-system", container="aws-node", tail_lines=1) == (
        "warm pool ok\n"
    )
    with pytest.raises(client.ApiException) as exc:
        core.read_namespaced_pod_log("aws-node-x1", "kube-system")
    assert exc.value.status == 400
    assert (
        "a container name must be specified for pod aws-node-x1, choose one of: [aws-node aws-eks-nodeagent]"
        in (_error(exc)["message"])
    )
    store.put(make_pod("quiet"))
    assert core.read_namespaced_pod_log("quiet", "default") == ""


def test_version(api_client: client.ApiClient) -> None:
    info = client.VersionApi(api_client).get_code()
    assert (info.major, info.minor) == ("1", "31")


def test_paging_with_limit(store: KubeStore, api_client: client.ApiClient) -> None:
    store.bulk_load(make_pod(f"web-{i}") for i in range(5))
    core = client.CoreV1Api(api_client)
    names, token, remaining = [], None, []
    while True:
        page = core.list_namespaced_pod("default", limit=2, _continue=token)
        names += [p.metadata.name for p in page.items]
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"web-{i}" for i in range(5)]
    assert remaining == [3, 1, None]


def test_create_conflicts_and_not_found(store: KubeStore, api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    body = make_pod("web-1")
    created = core.create_namespaced_pod("default", body)
    assert created.status.phase == "Pending", "the apiserver sets the status of a new pod"
    with pytest.raises(client.ApiException) as exc:
        core.create_namespaced_pod("default", body)
    assert exc.value.status == 409 and _error(exc)["message"] == 'pods "web-1" already exists'
    with pytest.raises(client.ApiException) as exc:
        core.create_namespaced_pod("nowhere", make_pod("web-2", namespace="nowhere"))
    assert exc.value.status == 404 and _error(exc)["message"] == 'namespaces "nowhere" not found'
    with pytest.raises(client.ApiException) as exc:
        core.read_namespaced_pod("web-9", "default")
    assert exc.value.status == 404
    assert _error(exc)["details"] == {"name": "web-9", "kind": "pods"}


def test_generate_name_and_dry_run(store: KubeStore, api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "amazon-vpc-cni-"}, "data": {"a": "1"}}
    created = core.create_namespaced_config_map("kube-system", cm)
    assert created.metadata.name.startswith("amazon-vpc-cni-") and len(created.metadata.name) == 20
    dry = core.create_namespaced_config_map("kube-system", {**cm, "metadata": {"name": "dry"}}, dry_run="All")
    assert dry.metadata.name == "dry"
    assert store.get("v1", "ConfigMap", "kube-system", "dry") is None


def test_replace_with_stale_version_conflicts(store: KubeStore, api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    cm = store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"}})
    cm["data"] = {"k": "v"}
    replaced = core.replace_namespaced_config_map("cfg", "default", cm)
    assert replaced.data == {"k": "v"}
    with pytest.raises(client.ApiException) as exc:
        core.replace_namespaced_config_map("cfg", "default", cm)
    assert exc.value.status == 409


def test_delete_answers_like_the_apiserver(store: KubeStore, api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    store.put(make_pod("web-1"))
    store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "default"}})
    pod = core.delete_namespaced_pod("web-1", "default")
    assert pod.metadata.name == "web-1", "pods answer DELETE with the object"
    deleted = core.delete_namespaced_config_map("cfg", "default")
    assert deleted["status"] == "Success", "most kinds answer DELETE with a Status"
    with pytest.raises(client.ApiException) as exc:
        core.delete_namespaced_pod("web-1", "default")
    assert exc.value.status == 404


def test_events_api_view(store: KubeStore, api_client: client.ApiClient) -> None:
    pod = store.put(make_pod("web-1"))
    events_api = client.EventsV1Api(api_client)
    created = events_api.create_namespaced_event(
        "default",
        {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web-1.iam"},
            "eventTime": "2026-11-28T03:00:00.000000Z",
            "reportingController": "aws-node",
            "reportingInstance": "aws-node-x1",
            "action": "Attach",
            "reason": "MissingIAMPermissions",
            "note": "Unauthorized operation",
            "type": "Warning",
            "regarding": involved_pod(pod),
            "series": {"count": 2, "lastObservedTime": "2026-11-28T03:01:00.000000Z"},
        },
    )
    assert created.reporting_controller == "aws-node"
    core_event = client.CoreV1Api(api_client).read_namespaced_event("web-1.iam", "default")
    assert core_event.reporting_component == "aws-node" and core_event.count is None
    assert core_event.series.count == 2 and core_event.message == "Unauthorized operation"
    # A kubelet-style core event has eventTime null: the typed events.k8s.io model refuses it, as with EKS.
    store.put(make_event("web-1.sandbox", involved=involved_pod(pod)))
    with pytest.raises(pydantic.ValidationError):
        events_api.list_namespaced_event("default")
    raw = events_api.list_namespaced_event("default", _preload_content=False)
    items = {i["metadata"]["name"]: i for i in json.loads(raw.data)["items"]}
    assert items["web-1.sandbox"]["eventTime"] is None and items["web-1.sandbox"]["deprecatedCount"] == 3


@pytest.fixture
def read_only_client(store: KubeStore, tmp_path: Path) -> Iterator[client.ApiClient]:
    with KubeApiServer(store, read_only=True, user="cnibot") as server:
        server.write_kubeconfig(tmp_path / "ro")
        api = config.new_client_from_config(config_file=str(tmp_path / "ro"))
        yield api
        api.close()


def test_read_only_server_forbids_writes(store: KubeStore, read_only_client: client.ApiClient) -> None:
    store.put(make_aws_node_daemonset())
    apps = client.AppsV1Api(read_only_client)
    assert apps.read_namespaced_daemon_set("aws-node", "kube-system").metadata.name == "aws-node"
    with pytest.raises(client.ApiException) as exc:
        apps.patch_namespaced_daemon_set("aws-node", "kube-system", {"spec": {"minReadySeconds": 3}})
    assert exc.value.status == 403
    assert _error(exc)["message"] == (
        'daemonsets.apps "aws-node" is forbidden: User "cnibot" cannot patch resource "daemonsets" '
        'in API group "apps" in the namespace "kube-system"'
    )
    authz = client.AuthorizationV1Api(read_only_client)

    def allowed(verb: str) -> bool:
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "verb": verb,
                    "group": "apps",
                    "resource": "daemonsets",
                    "namespace": "kube-system",
                    "name": "aws-node",
                }
            },
        }
        return authz.create_self_subject_access_review(review).status.allowed

    assert allowed("get") and not allowed("patch")
