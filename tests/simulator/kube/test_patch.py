from __future__ import annotations

import copy

import pytest

from simulator.kube.patch import PatchError, json_patch, merge_patch, strategic_merge
from tests.simulator.kube.objects import make_aws_node_daemonset


def _aws_node(ds: dict) -> dict:
    return next(c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == "aws-node")


def _env(ds: dict) -> dict[str, str | None]:
    return {e["name"]: e.get("value") for e in _aws_node(ds)["env"]}


def test_strategic_merge_of_one_env_var_keeps_the_rest() -> None:
    ds = make_aws_node_daemonset()
    original = copy.deepcopy(ds)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "aws-node",
                            "env": [
                                {"name": "WARM_ENI_TARGET", "value": "2"},
                                {"name": "WARM_PREFIX_TARGET", "value": "1"},
                            ],
                        }
                    ]
                }
            }
        }
    }
    patched = strategic_merge(ds, patch)
    env = _env(patched)
    assert env["WARM_ENI_TARGET"] == "2"
    assert env["WARM_PREFIX_TARGET"] == "1"
    assert env["ENABLE_PREFIX_DELEGATION"] == "false"
    assert "MY_NODE_NAME" in env
    assert _aws_node(patched)["image"] == _aws_node(ds)["image"]
    assert [c["name"] for c in patched["spec"]["template"]["spec"]["containers"]] == ["aws-node", "aws-eks-nodeagent"]
    assert patched["spec"]["template"]["spec"]["initContainers"] == ds["spec"]["template"]["spec"]["initContainers"]
    assert ds == original, "the input must not be mutated"


def test_strategic_merge_delete_directive_and_null() -> None:
    ds = make_aws_node_daemonset()
    patch = {
        "metadata": {"labels": {"k8s-app": None}},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "aws-node", "env": [{"name": "WARM_ENI_TARGET", "$patch": "delete"}]}]}
            }
        },
    }
    patched = strategic_merge(ds, patch)
    assert "WARM_ENI_TARGET" not in _env(patched)
    assert "k8s-app" not in patched["metadata"]["labels"]


def test_strategic_merge_replaces_lists_without_a_merge_key() -> None:
    ds = make_aws_node_daemonset()
    tolerations = [{"key": "dedicated", "operator": "Equal", "value": "cni", "effect": "NoSchedule"}]
    patched = strategic_merge(ds, {"spec": {"template": {"spec": {"tolerations": tolerations}}}})
    assert patched["spec"]["template"]["spec"]["tolerations"] == tolerations


def test_strategic_merge_ports_merge_on_container_port_and_mounts_on_path() -> None:
    container = {
        "name": "c",
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "volumeMounts": [{"name": "a", "mountPath": "/a"}],
    }
    patched = strategic_merge(
        {"spec": {"containers": [container]}},
        {
            "spec": {
                "containers": [
                    {
                        "name": "c",
                        "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                        "volumeMounts": [{"name": "b", "mountPath": "/a"}],
                    }
                ]
            }
        },
    )
    merged = patched["spec"]["containers"][0]
    assert merged["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}]
    assert merged["volumeMounts"] == [{"name": "b", "mountPath": "/a"}]


def test_strategic_merge_honours_set_element_order_as_kubectl_sends_it() -> None:
    original = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    patch = {
        "$setElementOrder/env": [{"name": "B"}, {"name": "A"}, {"name": "C"}],
        "env": [{"name": "C", "value": "3"}],
    }
    assert [e["name"] for e in strategic_merge(original, patch)["env"]] == ["B", "A", "C"]


def test_strategic_merge_replace_directive_and_primitive_lists() -> None:
    original = {"metadata": {"finalizers": ["a"], "labels": {"x": "1", "y": "2"}}}
    patched = strategic_merge(
        original,
        {"metadata": {"finalizers": ["b"], "labels": {"$patch": "replace", "z": "3"}}},
    )
    assert patched["metadata"] == {"finalizers": ["a", "b"], "labels": {"z": "3"}}
    removed = strategic_merge(patched, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert removed["metadata"]["finalizers"] == ["b"]


def test_strategic_merge_item_without_merge_key_is_an_error() -> None:
    with pytest.raises(PatchError, match="merge key"):
        strategic_merge({"containers": []}, {"containers": [{"image": "x"}]})


def test_merge_patch_follows_rfc7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]}
    patched = merge_patch(target, {"a": "z", "c": {"f": None}, "list": [3]})
    assert patched == {"a": "z", "c": {"d": "e"}, "list": [3]}
    assert target["c"] == {"d": "e", "f": "g"}


def test_json_patch_operations() -> None:
    doc = {"metadata": {"labels": {"a": "1"}}, "spec": {"items": ["x", "y"]}}
    patched = json_patch(
        doc,
        [
            {"op": "test", "path": "/metadata/labels/a", "value": "1"},
            {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
            {"op": "replace", "path": "/spec/items/0", "value": "w"},
            {"op": "add", "path": "/spec/items/-", "value": "z"},
            {"op": "copy", "from": "/spec/items/1", "path": "/spec/first"},
            {"op": "move", "from": "/metadata/labels/a", "path": "/metadata/labels/moved"},
            {"op": "remove", "path": "/spec/items/1"},
        ],
    )
    assert patched == {"metadata": {"labels": {"b/c": "2", "moved": "1"}}, "spec": {"items": ["w", "z"], "first": "y"}}
    assert doc == {"metadata": {"labels": {"a": "1"}}, "spec": {"items": ["x", "y"]}}


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/a", "value": 2}],
        [{"op": "test", "path": "/t", "value": 1}],
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/missing/deeper", "value": 1}],
        [{"op": "frobnicate", "path": "/a"}],
    ],
)
def test_json_patch_failures(operations: list) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": 1, "t": True}, operations)
