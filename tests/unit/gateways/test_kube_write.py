"""The write gateway against the simulator's Kubernetes API over HTTP, through the official client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from bot.domain.changes import EniConfigState
from bot.gateways.kube import KubeGateway
from bot.gateways.kube_write import (
    PATCH_AWS_NODE,
    WRITE_ENICONFIGS,
    KubeWriter,
    WriteConflict,
    env_patch,
)
from simulator.kube import KubeApiServer, KubeStore


def _aws_node() -> dict[str, Any]:
    env = [
        {"name": "WARM_ENI_TARGET", "value": "1"},
        {"name": "ENABLE_IPv4", "value": "true"},
        {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "aws-node", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "aws-node"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "aws-node"}},
                "spec": {
                    "containers": [
                        {"name": "aws-node", "image": "cni:v1.19.2", "env": env},
                        {"name": "aws-eks-nodeagent", "image": "agent:v1", "env": [{"name": "X", "value": "1"}]},
                    ],
                    "initContainers": [
                        {
                            "name": "aws-vpc-cni-init",
                            "image": "init",
                            "env": [{"name": "ENABLE_IPv6", "value": "false"}],
                        }
                    ],
                },
            },
        },
    }


@pytest.fixture
def store() -> KubeStore:
    store = KubeStore()
    store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    store.put(_aws_node())
    return store


def _client(store: KubeStore, tmp_path: Path, *, read_only: bool) -> Iterator[client.ApiClient]:
    server = KubeApiServer(store, read_only=read_only)
    server.start()
    path = tmp_path / "kubeconfig"
    server.write_kubeconfig(path)
    api_client = config.new_client_from_config(config_file=str(path))
    yield api_client
    api_client.close()
    server.stop()


@pytest.fixture
def api(store: KubeStore, tmp_path: Path) -> Iterator[client.ApiClient]:
    yield from _client(store, tmp_path, read_only=False)


@pytest.fixture
def read_only_api(store: KubeStore, tmp_path: Path) -> Iterator[client.ApiClient]:
    yield from _client(store, tmp_path, read_only=True)


def test_access_review_allows_writes_on_a_writable_cluster(api: client.ApiClient) -> None:
    assert KubeWriter(api).denied((PATCH_AWS_NODE, *WRITE_ENICONFIGS)) == []


def test_access_review_names_each_denied_write(read_only_api: client.ApiClient) -> None:
    denied = KubeWriter(read_only_api).denied((PATCH_AWS_NODE, *WRITE_ENICONFIGS))
    assert [str(p) for p in denied] == [
        "patch daemonsets/aws-node.apps in kube-system",
        "create eniconfigs.crd.k8s.amazonaws.com",
        "patch eniconfigs.crd.k8s.amazonaws.com",
        "delete eniconfigs.crd.k8s.amazonaws.com",
    ]


def test_env_patch_touches_only_named_entries_and_records_manager(api: client.ApiClient) -> None:
    reader, writer = KubeGateway(api), KubeWriter(api)
    before = reader.aws_node_daemonset()
    assert before is not None
    stored = writer.patch_aws_node_env(
        {"aws-node": {"WARM_IP_TARGET": "5", "WARM_ENI_TARGET": None}, "aws-vpc-cni-init": {"ENABLE_IPv6": "false"}},
        before.resource_version,
    )
    after = reader.aws_node_daemonset()
    assert after is not None
    assert after.env == {"ENABLE_IPv4": "true", "WARM_IP_TARGET": "5"}
    assert after.env_from_refs == ("MY_NODE_NAME",)  # valueFrom entries untouched
    assert after.generation == before.generation + 1
    containers = stored["spec"]["template"]["spec"]["containers"]
    assert containers[1]["env"] == [{"name": "X", "value": "1"}]  # the other container is untouched
    assert stored["metadata"]["managedFields"][-1]["manager"] == "cnibot"


def test_env_patch_with_old_resource_version_conflicts(api: client.ApiClient) -> None:
    reader, writer = KubeGateway(api), KubeWriter(api)
    before = reader.aws_node_daemonset()
    assert before is not None
    writer.patch_aws_node_env({"aws-node": {"WARM_IP_TARGET": "5"}}, before.resource_version)
    with pytest.raises(WriteConflict):
        writer.patch_aws_node_env({"aws-node": {"WARM_IP_TARGET": "6"}}, before.resource_version)
    after = reader.aws_node_daemonset()
    assert after is not None and after.env["WARM_IP_TARGET"] == "5"


def test_eniconfig_create_update_delete_with_preconditions(api: client.ApiClient) -> None:
    writer = KubeWriter(api)
    assert writer.eniconfig_objects() == {}
    writer.create_eniconfig("us-east-1a", EniConfigState("subnet-1", ("sg-1", "sg-2")))
    created = writer.eniconfig_objects()["us-east-1a"]
    assert created.state == EniConfigState("subnet-1", ("sg-1", "sg-2"))
    writer.update_eniconfig("us-east-1a", EniConfigState("subnet-2"), created.resource_version)
    updated = writer.eniconfig_objects()["us-east-1a"]
    assert updated.state == EniConfigState("subnet-2")  # the security groups were removed
    with pytest.raises(WriteConflict):
        writer.delete_eniconfig("us-east-1a", created.resource_version)
    writer.delete_eniconfig("us-east-1a", updated.resource_version)
    assert writer.eniconfig_objects() == {}


def test_env_patch_document() -> None:
    patch = env_patch({"aws-node": {"B": None, "A": "1"}}, "42")
    assert patch == {
        "metadata": {"resourceVersion": "42"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "aws-node", "env": [{"name": "A", "value": "1"}, {"name": "B", "$patch": "delete"}]}
                    ]
                }
            }
        },
    }
    with pytest.raises(ValueError):
        KubeWriter(client.ApiClient()).patch_aws_node_env({"aws-eks-nodeagent": {"A": "1"}}, "1")
