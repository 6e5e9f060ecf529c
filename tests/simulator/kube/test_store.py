from __future__ import annotations

import pytest

from simulator.kube import KubeStore
from simulator.kube.selectors import LabelSelector, SelectorError, parse_field_selector
from tests.simulator.kube.objects import (
    involved_pod,
    make_aws_node_daemonset,
    make_eniconfig,
    make_event,
    make_node,
    make_pod,
)


def test_put_fills_server_metadata(store: KubeStore) -> None:
    pod = store.put(make_pod("web-1"))
    meta = pod["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert "generation" not in meta, "pods do not track generation (Kubernetes 1.31)"
    again = store.put(make_pod("web-1"))
    assert again["metadata"]["uid"] == meta["uid"]
    assert int(again["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])


def test_generation_moves_only_when_the_spec_changes(store: KubeStore) -> None:
    ds = store.put(make_aws_node_daemonset())
    assert ds["metadata"]["generation"] == 1
    ds["status"]["numberReady"] = 2
    ds["metadata"]["labels"]["extra"] = "x"
    assert store.put(ds)["metadata"]["generation"] == 1
    ds["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = '{"team":"net"}'
    assert store.put(ds)["metadata"]["generation"] == 2
    eni = store.put(make_eniconfig("us-west-2a"))
    changed = store.update(
        eni["apiVersion"], "ENIConfig", None, "us-west-2a", lambda obj: obj["spec"].update(subnet="subnet-2")
    )
    assert changed["metadata"]["generation"] == 2


def test_reads_are_copies(store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    got = store.get("v1", "Pod", "default", "web-1")
    assert got is not None
    got["spec"]["nodeName"] = "elsewhere"
    store.list("v1", "Pod")[0]["status"]["phase"] = "Failed"
    fresh = store.get("v1", "Pod", "default", "web-1")
    assert fresh is not None
    assert fresh["spec"]["nodeName"] != "elsewhere"
    assert fresh["status"]["phase"] == "Running"


def test_update_mutates_under_the_lock_and_bumps_the_version(store: KubeStore) -> None:
    before = store.put(make_pod("web-1"))
    after = store.update("v1", "Pod", "default", "web-1", lambda pod: pod["status"].update(phase="Failed"))
    assert after["status"]["phase"] == "Failed"
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    with pytest.raises(KeyError):
        store.update("v1", "Pod", "default", "missing", lambda pod: None)


def test_delete_returns_the_object(store: KubeStore) -> None:
    store.put(make_pod("web-1"))
    deleted = store.delete("v1", "Pod", "default", "web-1")
    assert deleted is not None and deleted["metadata"]["name"] == "web-1"
    assert store.get("v1", "Pod", "default", "web-1") is None
    assert store.delete("v1", "Pod", "default", "web-1") is None


def test_list_by_namespace_labels_and_fields(store: KubeStore) -> None:
    store.bulk_load(
        [
            make_pod("a", namespace="default", node="n1", labels={"app": "web"}),
            make_pod("b", namespace="default", node="n2", labels={"app": "api"}),
            make_pod("c", namespace="team", node="n1", labels={"app": "web"}),
            make_pod("pending", namespace="team", node=None, phase="Pending", labels={"app": "batch"}),
        ]
    )
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod", "default")] == ["a", "b"]
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod", field_selector="spec.nodeName=n1")] == ["a", "c"]
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod", label_selector="app=web")] == ["a", "c"]
    unscheduled = store.list("v1", "Pod", field_selector="spec.nodeName=")
    assert [p["metadata"]["name"] for p in unscheduled] == ["pending"]
    assert [p["metadata"]["name"] for p in store.list("v1", "Pod", field_selector="spec.hostNetwork=false")] == [
        "a",
        "b",
        "c",
        "pending",
    ]


def test_node_index_follows_updates(store: KubeStore) -> None:
    store.put(make_pod("a", node="n1"))
    store.update("v1", "Pod", "default", "a", lambda pod: pod["spec"].update(nodeName="n2"))
    assert store.list("v1", "Pod", field_selector="spec.nodeName=n1") == []
    assert len(store.list("v1", "Pod", field_selector="spec.nodeName=n2")) == 1
    store.delete("v1", "Pod", "default", "a")
    assert store.list("v1", "Pod", field_selector="spec.nodeName=n2") == []


def test_unsupported_field_label_is_refused(store: KubeStore) -> None:
    with pytest.raises(SelectorError, match="field label not supported: spec.containers"):
        store.list("v1", "Pod", field_selector="spec.containers=x")


def test_paging_walks_every_object_once(store: KubeStore) -> None:
    store.bulk_load(make_pod(f"web-{i:02d}") for i in range(7))
    rtype = store.registry.by_kind("v1", "Pod")
    seen, start, remaining = [], None, []
    while True:
        page = store.query(rtype, "default", LabelSelector(), parse_field_selector(""), start_after=start, limit=3)
        seen += [item["metadata"]["name"] for item in page.items]
        remaining.append(page.remaining)
        if page.last_key is None:
            break
        start = page.last_key
    assert seen == [f"web-{i:02d}" for i in range(7)]
    assert remaining == [4, 1, None]


def test_events_view_over_core_events(store: KubeStore) -> None:
    pod = store.put(make_pod("web-1"))
    store.put(make_event("web-1.1", involved=involved_pod(pod)))
    store.put(
        {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "iam.1", "namespace": "default"},
            "eventTime": "2026-11-28T03:00:00.000000Z",
            "series": {"count": 4, "lastObservedTime": "2026-11-28T03:04:00.000000Z"},
            "reportingController": "aws-node",
            "reportingInstance": "aws-node-abcde",
            "action": "Attach",
            "reason": "MissingIAMPermissions",
            "note": "Unauthorized operation: failed to call ec2:CreateTags",
            "type": "Warning",
            "regarding": involved_pod(pod),
        }
    )
    core = {e["metadata"]["name"]: e for e in store.list("v1", "Event", "default")}
    assert core["web-1.1"]["eventTime"] is None and core["web-1.1"]["count"] == 3
    assert core["iam.1"]["reportingComponent"] == "aws-node"
    assert core["iam.1"]["message"].startswith("Unauthorized")
    assert "count" not in core["iam.1"] and "lastTimestamp" not in core["iam.1"]
    v1 = {e["metadata"]["name"]: e for e in store.list("events.k8s.io/v1", "Event", "default")}
    assert v1["web-1.1"]["eventTime"] is None
    assert v1["web-1.1"]["deprecatedCount"] == 3 and v1["web-1.1"]["regarding"]["name"] == "web-1"
    assert v1["iam.1"]["series"]["count"] == 4 and v1["iam.1"]["reportingController"] == "aws-node"
    by_regarding = store.list(
        "events.k8s.io/v1", "Event", field_selector="regarding.name=web-1,reason=MissingIAMPermissions"
    )
    assert [e["metadata"]["name"] for e in by_regarding] == ["iam.1"]


def test_cluster_scoped_kinds_ignore_namespaces(store: KubeStore) -> None:
    store.put(make_node("n1"))
    assert store.get("v1", "Node", None, "n1") is not None
    assert store.get("v1", "Node", "default", "n1") is not None
    assert "namespace" not in store.list("v1", "Node")[0]["metadata"]


def test_a_new_store_has_the_system_namespaces(store: KubeStore) -> None:
    names = {ns["metadata"]["name"] for ns in store.list("v1", "Namespace")}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


def test_unknown_kinds_are_refused(store: KubeStore) -> None:
    with pytest.raises(KeyError, match="no resource type registered"):
        store.put({"apiVersion": "v1", "kind": "Frobnicator", "metadata": {"name": "x"}})


def test_listeners_are_not_called_for_internal_writes(store: KubeStore) -> None:
    calls: list[str] = []
    store.add_listener(lambda verb, before, after: calls.append(verb))
    store.put(make_pod("web-1"))
    store.update("v1", "Pod", "default", "web-1", lambda pod: None)
    store.delete("v1", "Pod", "default", "web-1")
    assert calls == []


def test_bulk_load_takes_ownership_without_copying(store: KubeStore) -> None:
    pods = [make_pod(f"p{i}", node=f"n{i % 3}") for i in range(30)]
    assert store.bulk_load(pods) == 30
    assert len(store.list("v1", "Pod", field_selector="spec.nodeName=n1")) == 10
    assert pods[0]["metadata"]["uid"], "bulk_load fills metadata in the given dicts"
