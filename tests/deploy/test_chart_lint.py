"""`helm lint --strict` and an API-type check of every object, for every supported value combination."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy import k8s_schema
from tests.deploy.chart import Chart, lint
from tests.deploy.values import ALL

WARNING = 2


@pytest.mark.parametrize("values", ALL.values(), ids=ALL.keys())
def test_helm_lint_strict_finds_nothing_above_info(values: dict[str, Any]) -> None:
    report = lint(values)

    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= WARNING] == []


@pytest.mark.parametrize("values", ALL.values(), ids=ALL.keys())
def test_every_object_matches_its_kubernetes_api_type(chart: Chart, values: dict[str, Any]) -> None:
    rendered = chart.render(values)

    assert [p for obj in rendered for p in k8s_schema.problems(obj)] == []


def test_schema_check_catches_a_misspelt_field_and_a_wrong_type() -> None:
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {},
            "template": {
                "spec": {
                    "containers": [
                        {"name": "c", "readinesProbe": {}, "lifecycle": {"preStop": {"exec": {"command": [5]}}}}
                    ]
                }
            },
        },
    }

    assert k8s_schema.problems(broken) == [
        "Deployment/x.spec.template.spec.containers[0].readinesProbe: no such field in V1Container",
        "Deployment/x.spec.template.spec.containers[0].lifecycle.preStop.exec.command[0]: expected str, got 5",
    ]


def test_every_object_is_namespaced_to_the_release_or_kube_system(chart: Chart) -> None:
    rendered = chart.render(ALL["write-rbac"])
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding"}

    for obj in rendered:
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] in cluster_scoped:
            assert namespace is None, obj["metadata"]["name"]
        elif obj["kind"] in {"Role", "RoleBinding"}:
            assert namespace == "kube-system", obj["metadata"]["name"]
        else:
            # Helm installs namespace-less objects into the release namespace.
            assert namespace is None, obj["metadata"]["name"]
