"""Watch: the store's change stream, the official client's Watch, and kubectl rollout status."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from kubernetes import client, watch

from simulator.kube import KubeApiServer, KubeStore
from simulator.kube.selectors import parse_field_selector, parse_label_selector
from tests.simulator.kube.objects import make_aws_node_daemonset, make_pod


def _watch(store: KubeStore, resource_version: str | None, *, fields: str = "", labels: str = "", timeout: float = 0.2):
    return store.watch(
        store.registry.by_kind("v1", "Pod"),
        None,
        parse_label_selector(labels),
        parse_field_selector(fields),
        resource_version=resource_version,
        timeout=timeout,
        stopped=threading.Event(),
    )


def _names(events) -> list[tuple[str, str]]:
    return [(kind, obj["metadata"]["name"]) for kind, obj in events]


def test_watch_from_now_replays_current_objects_then_changes(store: KubeStore) -> None:
    store.put(make_pod("a"))
    events = _watch(store, None)
    store.put(make_pod("b"))
    store.delete("v1", "Pod", "default", "a")
    assert _names(events) == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_watch_from_a_version_sees_only_later_changes(store: KubeStore) -> None:
    version = store.put(make_pod("a"))["metadata"]["resourceVersion"]
    store.update("v1", "Pod", "default", "a", lambda pod: pod["status"].update(phase="Failed"))
    events = list(_watch(store, version))
    assert [(kind, obj["status"]["phase"]) for kind, obj in events] == [("MODIFIED", "Failed")]


def test_objects_leaving_a_selection_are_deleted_from_the_watch(store: KubeStore) -> None:
    version = store.put(make_pod("a", node="n1"))["metadata"]["resourceVersion"]
    store.update("v1", "Pod", "default", "a", lambda pod: pod["spec"].update(nodeName="n2"))
    store.update("v1", "Pod", "default", "a", lambda pod: pod["spec"].update(nodeName="n1"))
    store.put(make_pod("other", node="n3"))
    assert _names(_watch(store, version, fields="spec.nodeName=n1")) == [("DELETED", "a"), ("ADDED", "a")]


def test_a_version_older_than_the_log_has_expired() -> None:
    store = KubeStore(change_log_size=3)
    version = store.put(make_pod("a"))["metadata"]["resourceVersion"]
    for name in "bcde":
        store.put(make_pod(name))
    (kind, status), *_ = list(_watch(store, version))
    assert kind == "ERROR" and status["code"] == 410 and status["reason"] == "Expired"


def test_official_client_watch_stream(store: KubeStore, api_client: client.ApiClient) -> None:
    store.put(make_pod("a"))

    def churn() -> None:
        store.put(make_pod("b"))
        store.update("v1", "Pod", "default", "a", lambda pod: pod["status"].update(phase="Failed"))

    seen = []
    for event in watch.Watch().stream(client.CoreV1Api(api_client).list_namespaced_pod, "default", timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.name, event["object"].status.phase))
        if len(seen) == 1:
            threading.Thread(target=churn).start()  # changes made while the watch is open
        if len(seen) == 3:
            break
    assert seen == [("ADDED", "a", "Running"), ("ADDED", "b", "Running"), ("MODIFIED", "a", "Failed")]


def test_stopping_the_server_ends_open_watches(store: KubeStore, tmp_path: Path) -> None:
    server = KubeApiServer(store)
    api = client.ApiClient(client.Configuration(host=server.start()))
    ended = threading.Event()

    def follow() -> None:
        try:
            for _ in watch.Watch().stream(client.CoreV1Api(api).list_namespaced_pod, "default", timeout_seconds=60):
                pass
        except Exception:  # the connection closing is the expected end
            pass
        ended.set()

    threading.Thread(target=follow, daemon=True).start()
    time.sleep(0.2)
    server.stop()
    assert ended.wait(5)
    api.close()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_rollout_status_follows_the_daemonset(store: KubeStore, server: KubeApiServer, tmp_path: Path) -> None:
    store.put(make_aws_node_daemonset())
    store.update("apps/v1", "DaemonSet", "kube-system", "aws-node", lambda ds: ds["spec"].update(minReadySeconds=1))

    def roll_out() -> None:
        time.sleep(0.3)

        def observed(ds: dict) -> None:
            ds["status"].update(observedGeneration=ds["metadata"]["generation"], updatedNumberScheduled=3)

        store.update("apps/v1", "DaemonSet", "kube-system", "aws-node", observed)

    server.write_kubeconfig(tmp_path / "kubeconfig")
    threading.Thread(target=roll_out).start()
    result = subprocess.run(
        ["kubectl", "rollout", "status", "ds/aws-node", "-n", "kube-system", "--timeout=10s"],
        env={**os.environ, "KUBECONFIG": str(tmp_path / "kubeconfig"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert 'daemon set "aws-node" successfully rolled out' in result.stdout
