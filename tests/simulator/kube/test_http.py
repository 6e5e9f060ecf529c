"""The fake API server at the HTTP level: discovery, error shapes, patch types, faults, concurrency."""

from __future__ import annotations

import http.client
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from simulator.counters import RequestCounter
from simulator.faults import FaultPlan, FaultRule
from simulator.kube import KubeApiServer, KubeStore
from tests.simulator.kube.objects import make_aws_node_daemonset, make_eniconfig, make_pod

DS_PATH = "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node"


class Http:
    """A keep-alive HTTP/1.1 connection to the server, answering (status, headers, decoded body)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)

    def request(
        self, method: str, path: str, body: Any = None, content_type: str | None = "application/json"
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Authorization": "Bearer anything", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        content = json.loads(raw) if response.getheader("Content-Type", "").startswith("application/json") else raw
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def web(server: KubeApiServer) -> Any:
    connection = Http(server.url)
    yield connection
    connection.close()


def test_discovery_documents(web: Http) -> None:
    status, _, version = web.request("GET", "/version/")
    assert status == 200 and version["gitVersion"].startswith("v1.31")
    _, _, api = web.request("GET", "/api")
    assert api["versions"] == ["v1"]
    _, _, groups = web.request("GET", "/apis")
    by_name = {g["name"]: g for g in groups["groups"]}
    assert {"apps", "events.k8s.io", "crd.k8s.amazonaws.com", "vpcresources.k8s.aws", "authorization.k8s.io"} <= set(
        by_name
    )
    assert by_name["vpcresources.k8s.aws"]["preferredVersion"]["version"] == "v1beta1"
    assert [v["version"] for v in by_name["vpcresources.k8s.aws"]["versions"]] == ["v1beta1", "v1alpha1"]
    _, _, core = web.request("GET", "/api/v1")
    resources = {r["name"]: r for r in core["resources"]}
    assert resources["pods"]["shortNames"] == ["po"] and resources["pods"]["namespaced"] is True
    assert resources["nodes"]["namespaced"] is False and "list" in resources["nodes"]["verbs"]
    assert resources["pods/proxy"]["kind"] == "PodProxyOptions"
    _, _, eni = web.request("GET", "/apis/crd.k8s.amazonaws.com/v1alpha1")
    assert eni["resources"][0] == {
        "name": "eniconfigs",
        "singularName": "eniconfig",
        "namespaced": False,
        "kind": "ENIConfig",
        "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    }
    assert web.request("GET", "/apis/apps")[2]["preferredVersion"]["groupVersion"] == "apps/v1"
    assert web.request("GET", "/apis/nothing.example/v1")[0] == 404
    assert web.request("GET", "/openapi/v2")[0] == 404
    for path in ("/healthz", "/livez", "/readyz"):
        assert web.request("GET", path)[2] == b"ok"


def test_post_without_content_type_is_json(web: Http, store: KubeStore) -> None:
    status, _, created = web.request(
        "POST", "/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs", make_eniconfig("us-west-2a"), content_type=None
    )
    assert status == 201 and created["metadata"]["uid"]
    assert store.get("crd.k8s.amazonaws.com/v1alpha1", "ENIConfig", None, "us-west-2a") is not None


def test_json_patch_with_test_operation(web: Http, store: KubeStore) -> None:
    store.put(make_aws_node_daemonset())
    path = "/spec/template/spec/containers/0/env/4"
    ok = [
        {"op": "test", "path": f"{path}/name", "value": "WARM_ENI_TARGET"},
        {"op": "replace", "path": f"{path}/value", "value": "0"},
    ]
    status, _, patched = web.request("PATCH", DS_PATH, ok, "application/json-patch+json")
    assert status == 200 and patched["spec"]["template"]["spec"]["containers"][0]["env"][4]["value"] == "0"
    failing = [{"op": "test", "path": f"{path}/value", "value": "5"}, {"op": "remove", "path": path}]
    status, _, error = web.request("PATCH", DS_PATH, failing, "application/json-patch+json")
    assert status == 422 and error["reason"] == "Invalid"
    stored = store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")
    assert stored is not None and len(stored["spec"]["template"]["spec"]["containers"][0]["env"]) == 6


def test_patch_media_types(web: Http, store: KubeStore) -> None:
    store.put(make_aws_node_daemonset())
    status, _, error = web.request("PATCH", DS_PATH, {"spec": {}}, "application/apply-patch+yaml")
    assert status == 415 and error["reason"] == "UnsupportedMediaType"
    status, _, error = web.request("PATCH", DS_PATH, {"spec": {}}, "text/plain")
    assert status == 415
    assert "application/strategic-merge-patch+json" in error["message"]
    status, _, merged = web.request(
        "PATCH", DS_PATH, {"metadata": {"labels": {"team": "net"}}}, "application/merge-patch+json"
    )
    assert status == 200 and merged["metadata"]["labels"] == {"k8s-app": "aws-node", "team": "net"}
    assert merged["metadata"]["generation"] == 1, "metadata changes do not bump generation"


def test_field_manager_is_recorded(web: Http, store: KubeStore) -> None:
    store.put(make_aws_node_daemonset())
    patch = {"spec": {"minReadySeconds": 3}}
    _, _, patched = web.request(
        "PATCH", DS_PATH + "?fieldManager=cnibot", patch, "application/strategic-merge-patch+json"
    )
    assert [(m["manager"], m["operation"]) for m in patched["metadata"]["managedFields"]] == [("cnibot", "Update")]


def test_status_subresource_is_separate(web: Http, store: KubeStore) -> None:
    store.put(make_aws_node_daemonset())
    status_patch = {"status": {"numberReady": 1}, "spec": {"minReadySeconds": 9}}
    status, _, patched = web.request("PATCH", DS_PATH + "/status", status_patch, "application/merge-patch+json")
    assert status == 200 and patched["status"]["numberReady"] == 1
    assert "minReadySeconds" not in patched["spec"] and patched["metadata"]["generation"] == 1
    _, _, main = web.request("PATCH", DS_PATH, {"status": {"numberReady": 0}}, "application/merge-patch+json")
    assert main["status"]["numberReady"] == 1, "writes to the main resource keep the status"
    assert web.request("GET", DS_PATH + "/status")[2]["status"]["numberReady"] == 1


def test_dry_run_patch_does_not_store(web: Http, store: KubeStore) -> None:
    before = store.put(make_aws_node_daemonset())
    status, _, dry = web.request(
        "PATCH", DS_PATH + "?dryRun=All", {"spec": {"minReadySeconds": 4}}, "application/merge-patch+json"
    )
    assert status == 200 and dry["spec"]["minReadySeconds"] == 4 and dry["metadata"]["generation"] == 2
    after = store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")
    assert after == before


def test_finalizers_hold_a_deletion(web: Http, store: KubeStore) -> None:
    eni = make_eniconfig("us-west-2a")
    eni["metadata"]["finalizers"] = ["example.com/keep"]
    store.put(eni)
    path = "/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs/us-west-2a"
    status, _, pending = web.request("DELETE", path)
    assert status == 200 and pending["metadata"]["deletionTimestamp"]
    assert web.request("GET", path)[0] == 200
    status, _, _ = web.request("PATCH", path, {"metadata": {"finalizers": None}}, "application/merge-patch+json")
    assert status == 200
    assert web.request("GET", path)[0] == 404


def test_delete_preconditions(web: Http, store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}}
    status, _, error = web.request("DELETE", "/api/v1/namespaces/default/pods/web-1", options)
    assert status == 409 and "Precondition failed: ResourceVersion in precondition: 1" in error["message"]


def test_put_creates_events_but_not_pods(web: Http) -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
        "reason": "Scheduled",
    }
    assert web.request("PUT", "/api/v1/namespaces/default/events/e1", event)[0] == 201
    status, _, error = web.request("PUT", "/api/v1/namespaces/default/pods/web-1", make_pod("web-1"))
    assert status == 404 and error["message"] == 'pods "web-1" not found'


def test_request_validation_errors(web: Http) -> None:
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    status, _, error = web.request("POST", "/api/v1/namespaces/default/configmaps", nameless)
    assert status == 422 and error["message"].startswith('ConfigMap "" is invalid: metadata.name: Required value')
    wrong_ns = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}
    assert web.request("POST", "/api/v1/namespaces/default/configmaps", wrong_ns)[0] == 400
    assert web.request("POST", "/api/v1/namespaces/default/configmaps", b"{not json")[0] == 400
    status, _, error = web.request("GET", "/api/v1/pods?fieldSelector=spec.image%3Dx")
    assert status == 400 and error["message"] == "field label not supported: spec.image"
    assert web.request("GET", "/api/v1/pods?labelSelector=a%20b")[0] == 400
    assert web.request("GET", "/api/v1/pods?watch=true&fieldSelector=spec.image%3Dx")[0] == 400
    assert web.request("DELETE", "/api/v1/namespaces")[0] == 405, "namespaces have no deletecollection"
    assert web.request("GET", "/api/v1/frobnicators")[0] == 404
    assert web.request("GET", "/api/v1/namespaces/default/nodes/x")[0] == 404


def test_injected_faults_use_real_status_shapes(web: Http, faults: FaultPlan, store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    faults.add(FaultRule(api="kube", operation="GET pods", status=403, times=1))
    faults.add(FaultRule(api="kube", operation="LIST events", status=429, times=1))
    faults.add(FaultRule(api="kube", operation="PATCH daemonsets", status=500, times=1))
    status, _, error = web.request("GET", "/api/v1/namespaces/default/pods/web-1")
    assert status == 403 and error["message"] == (
        'pods "web-1" is forbidden: User "kubernetes-admin" cannot get resource "pods" in API group "" '
        'in the namespace "default"'
    )
    status, headers, error = web.request("GET", "/api/v1/namespaces/default/events")
    assert status == 429 and headers["retry-after"] == "1" and error["reason"] == "TooManyRequests"
    status, _, error = web.request("PATCH", DS_PATH, {}, "application/merge-patch+json")
    assert status == 500 and error["reason"] == "InternalError"
    assert web.request("GET", "/api/v1/namespaces/default/pods/web-1")[0] == 200, "times=1 rules fire once"


def test_latency_and_hang(web: Http, faults: FaultPlan, store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    faults.base_latency = 0.05
    started = time.perf_counter()
    web.request("GET", "/api/v1/namespaces/default/pods/web-1")
    assert time.perf_counter() - started >= 0.05
    faults.base_latency = 0.0
    faults.add(FaultRule(api="kube", operation="LIST pods", hang=0.2, times=1))
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        web.request("GET", "/api/v1/pods")


def test_every_request_is_counted(web: Http, counter: RequestCounter, store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    web.request("GET", "/api/v1/namespaces/default/pods/web-1")
    web.request("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dx")
    web.request("GET", "/api/v1/namespaces/default/pods/web-1:61678/proxy/metrics")
    web.request("GET", "/api/v1/namespaces/default/pods/web-1/log")
    web.request("GET", "/api/v1")
    snapshot = counter.snapshot()
    assert snapshot["kube:GET pods"] == 1 and snapshot["kube:LIST pods"] == 1
    assert snapshot["kube:GET pods/proxy"] == 1 and snapshot["kube:GET pods/log"] == 1
    assert snapshot["kube:GET /api/v1"] == 1
    assert counter.calls("kube")[1][2]["query"] == "fieldSelector=spec.nodeName%3Dx"


def test_many_parallel_keep_alive_clients(server: KubeApiServer, store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    failures: list[BaseException] = []

    def worker() -> None:
        connection = Http(server.url)
        try:
            for _ in range(40):
                status, _, pod = connection.request("GET", "/api/v1/namespaces/default/pods/web-1")
                assert status == 200 and pod["metadata"]["name"] == "web-1"
        except BaseException as error:  # collected and re-raised by the test thread
            failures.append(error)
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not failures
    assert elapsed < 5, f"640 keep-alive GETs took {elapsed:.2f}s"


def test_sequential_keep_alive_requests_are_fast(web: Http, store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    started = time.perf_counter()
    for _ in range(200):
        web.request("GET", "/api/v1/namespaces/default/pods/web-1")
    elapsed = time.perf_counter() - started
    assert elapsed < 2, f"200 GETs took {elapsed:.2f}s (Nagle and delayed ACK would make it ~9 s)"


def test_pretty_output_and_datetimes(web: Http, store: KubeStore) -> None:
    pod = make_pod("web-1")
    pod["status"]["startTime"] = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    store.put(pod)
    web.conn.request("GET", "/api/v1/namespaces/default/pods/web-1?pretty=true")
    raw = web.conn.getresponse().read().decode()
    assert '\n  "kind": "Pod",\n' in raw
    assert json.loads(raw)["status"]["startTime"] == "2026-11-28T03:00:00Z"


def test_delete_collection_by_label(web: Http, store: KubeStore) -> None:
    store.bulk_load(
        [
            make_pod("a", labels={"app": "web"}),
            make_pod("b", labels={"app": "web"}),
            make_pod("c", labels={"app": "db"}),
        ]
    )
    status, _, deleted = web.request("DELETE", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")
    assert status == 200 and deleted["kind"] == "PodList"
    assert [p["metadata"]["name"] for p in deleted["items"]] == ["a", "b"]
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod", "default")] == ["c"]
