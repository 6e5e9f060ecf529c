"""kubectl (the real binary) against the fake API server, through a kubeconfig the server writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.counters import RequestCounter
from simulator.kube import KubeApiServer, KubeStore
from tests.simulator.kube.objects import (
    involved_pod,
    make_aws_node_daemonset,
    make_aws_node_pod,
    make_eniconfig,
    make_event,
    make_node,
    make_pod,
)

NODE = "ip-10-0-1-17.us-west-2.compute.internal"
KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


class Kubectl:
    def __init__(self, kubeconfig: Path, home: Path) -> None:
        # A private HOME keeps kubectl's discovery cache per test module, warm across its calls.
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(home)}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        result = subprocess.run(
            [KUBECTL, "--request-timeout=10s", *args], env=self.env, capture_output=True, text=True, timeout=30
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KubeStore, RequestCounter, Kubectl]]:
    store, counter = KubeStore(), RequestCounter()
    pod = store.put(make_pod("web-1", node=NODE))
    store.put(make_pod("web-2", node="ip-10-0-2-9.us-west-2.compute.internal"))
    store.put(make_event("web-1.sandbox", involved=involved_pod(pod)))
    store.put(make_node(NODE))
    store.put(make_aws_node_daemonset())
    store.put(make_aws_node_pod("aws-node-x1", NODE))
    store.put(make_eniconfig("us-west-2a"))
    home = tmp_path_factory.mktemp("kubectl")
    with KubeApiServer(store, counter=counter) as server:
        server.write_kubeconfig(home / "kubeconfig")
        yield store, counter, Kubectl(home / "kubeconfig", home)


def _env(store: KubeStore) -> dict[str, str]:
    ds = store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")
    assert ds is not None
    container = ds["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def test_get_as_json(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    _, _, kubectl = cluster
    assert [p["metadata"]["name"] for p in kubectl.json("get", "pods")["items"]] == ["web-1", "web-2"]
    assert [n["metadata"]["name"] for n in kubectl.json("get", "nodes")["items"]] == [NODE]
    eniconfigs = kubectl.json("get", "eniconfigs")["items"]
    assert eniconfigs[0]["spec"]["subnet"] == "subnet-0a1b2c3d4e5f60718"
    events = kubectl.json("get", "events", "--field-selector", "involvedObject.name=web-1")["items"]
    assert [e["reason"] for e in events] == ["FailedCreatePodSandBox"]
    on_node = kubectl.run("get", "pods", "-A", "--field-selector", f"spec.nodeName={NODE}", "-o", "name").stdout
    assert on_node.split() == ["pod/web-1", "pod/aws-node-x1"]


def test_describe_pod_lists_its_events(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    store, counter, kubectl = cluster
    out = kubectl.run("describe", "pod", "web-1").stdout
    assert "Node:             " + NODE in out
    assert "FailedCreatePodSandBox" in out and "failed to assign an IP address to container" in out
    uid = store.get("v1", "Pod", "default", "web-1")["metadata"]["uid"]  # type: ignore[index]
    event_queries = [detail["query"] for _, op, detail in counter.calls("kube") if op == "LIST events"]
    assert any(f"involvedObject.uid%3D{uid}" in str(query) for query in event_queries)


def test_patch_daemonset_env(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    store, _, kubectl = cluster
    generation = store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")["metadata"]["generation"]  # type: ignore[index]
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "aws-node", "env": [{"name": "WARM_IP_TARGET", "value": "5"}]}]}
            }
        }
    }
    kubectl.run("patch", "ds", "aws-node", "-n", "kube-system", "-p", json.dumps(patch))
    ds = store.get("apps/v1", "DaemonSet", "kube-system", "aws-node")
    assert ds is not None and ds["metadata"]["generation"] == generation + 1
    assert _env(store)["WARM_IP_TARGET"] == "5" and _env(store)["ENABLE_PREFIX_DELEGATION"] == "false"
    assert "kubectl-patch" in [m["manager"] for m in ds["metadata"]["managedFields"]]


def test_set_env(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    store, _, kubectl = cluster
    out = kubectl.run("set", "env", "ds/aws-node", "-n", "kube-system", "WARM_ENI_TARGET=2").stdout
    assert "env updated" in out
    env = _env(store)
    assert env["WARM_ENI_TARGET"] == "2" and env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "false"
    assert "MY_NODE_NAME" in env


def test_patch_eniconfig(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    store, _, kubectl = cluster
    kubectl.run("patch", "eniconfig", "us-west-2a", "--type", "merge", "-p", '{"spec":{"subnet":"subnet-0f"}}')
    eni = store.get("crd.k8s.amazonaws.com/v1alpha1", "ENIConfig", None, "us-west-2a")
    assert eni is not None and eni["spec"]["subnet"] == "subnet-0f"
    refused = kubectl.run("patch", "eniconfig", "us-west-2a", "-p", '{"spec":{"subnet":"x"}}', check=False)
    assert refused.returncode != 0 and "the body of the request was in an unknown format" in refused.stderr


def test_logs_and_auth_can_i(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    _, _, kubectl = cluster
    logs = kubectl.run("logs", "-n", "kube-system", "aws-node-x1", "-c", "aws-node").stdout
    assert logs == "ipamd started\nwarm pool ok\n"
    assert kubectl.run("auth", "can-i", "patch", "daemonsets", "-n", "kube-system").stdout.strip() == "yes"


def test_delete_pod(cluster: tuple[KubeStore, RequestCounter, Kubectl]) -> None:
    store, _, kubectl = cluster
    kubectl.run("delete", "pod", "web-2", "--wait=false")
    assert store.get("v1", "Pod", "default", "web-2") is None


def test_read_only_cluster_refuses_kubectl_writes(tmp_path: Path) -> None:
    store = KubeStore()
    store.put(make_aws_node_daemonset())
    with KubeApiServer(store, read_only=True, user="cnibot") as server:
        server.write_kubeconfig(tmp_path / "kubeconfig")
        kubectl = Kubectl(tmp_path / "kubeconfig", tmp_path)
        assert kubectl.run("auth", "can-i", "patch", "ds", "-n", "kube-system", check=False).stdout.strip() == "no"
        refused = kubectl.run("set", "env", "ds/aws-node", "-n", "kube-system", "WARM_ENI_TARGET=2", check=False)
    assert refused.returncode != 0
    assert 'User "cnibot" cannot patch resource "daemonsets" in API group "apps"' in refused.stderr
