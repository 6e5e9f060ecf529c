"""The chart grants exactly the Kubernetes access the bot uses: read-only by default, narrow writes opt-in."""

from __future__ import annotations

from typing import Any

from tests.deploy.chart import NAMESPACE, Chart, Rendered
from tests.deploy.values import DEFAULTS, NODE_ROLLOUT_RBAC, WRITE_RBAC

# (apiGroup, resource, verb, resourceName or None): one row per permission.
Grant = tuple[str, str, str, str | None]

WATCHED = [
    ("", "pods"),
    ("", "nodes"),
    ("", "events"),
    ("events.k8s.io", "events"),
    ("apps", "daemonsets"),
    ("crd.k8s.amazonaws.com", "eniconfigs"),
    ("vpcresources.k8s.aws", "cninodes"),
]
READ_CLUSTER_WIDE: set[Grant] = {(g, r, verb, None) for g, r in WATCHED for verb in ("get", "list", "watch")} | {
    ("authorization.k8s.io", "selfsubjectaccessreviews", "create", None)
}
READ_KUBE_SYSTEM: set[Grant] = {("", "pods/proxy", "get", None)}
WRITE_KUBE_SYSTEM: set[Grant] = {("apps", "daemonsets", verb, "aws-node") for verb in ("patch", "update")}
WRITE_CLUSTER_WIDE: set[Grant] = {
    ("crd.k8s.amazonaws.com", "eniconfigs", verb, None) for verb in ("create", "update", "patch", "delete")
}


def grants(role: dict[str, Any]) -> set[Grant]:
    found: set[Grant] = set()
    for rule in role["rules"]:
        names = rule.get("resourceNames") or [None]
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    for name in names:
                        found.add((group, resource, verb, name))
    return found


def granted(rendered: Rendered, kind: str) -> set[Grant]:
    return {g for role in rendered.of_kind(kind) for g in grants(role)}


def test_default_install_is_read_only_with_exactly_the_listed_permissions(chart: Chart) -> None:
    rendered = chart.render(DEFAULTS)

    assert granted(rendered, "ClusterRole") == READ_CLUSTER_WIDE
    assert granted(rendered, "Role") == READ_KUBE_SYSTEM
    assert rendered.one("Role")["metadata"]["namespace"] == "kube-system"


def test_write_rbac_adds_only_the_aws_node_daemonset_and_eniconfigs(chart: Chart) -> None:
    rendered = chart.render(WRITE_RBAC)

    assert granted(rendered, "ClusterRole") == READ_CLUSTER_WIDE | WRITE_CLUSTER_WIDE
    assert granted(rendered, "Role") == READ_KUBE_SYSTEM | WRITE_KUBE_SYSTEM
    write_role = rendered.one("Role", "cnibot-aws-node-write")
    assert write_role["metadata"]["namespace"] == "kube-system"
    assert write_role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["daemonsets"],
            "resourceNames": ["aws-node"],
            "verbs": ["patch", "update"],
        }
    ]


def test_node_rollout_rbac_is_opt_in_and_adds_only_cordon_eviction_and_nodeclaims(chart: Chart) -> None:
    assert not chart.render(DEFAULTS).of_kind("ClusterRole") or all(
        role["metadata"]["name"] != "cnibot-node-rollout" for role in chart.render(DEFAULTS).of_kind("ClusterRole")
    )
    rendered = chart.render(NODE_ROLLOUT_RBAC)
    assert granted(rendered, "ClusterRole") == READ_CLUSTER_WIDE | {
        ("", "nodes", "patch", None),
        ("", "pods/eviction", "create", None),
        ("karpenter.sh", "nodeclaims", "delete", None),
    }
    assert granted(rendered, "Role") == READ_KUBE_SYSTEM


def test_no_rule_uses_wildcards_or_touches_secrets(chart: Chart) -> None:
    rendered = chart.render(WRITE_RBAC)

    for group, resource, verb, _ in granted(rendered, "ClusterRole") | granted(rendered, "Role"):
        assert "*" not in (group, resource, verb)
        assert resource not in {"secrets", "configmaps", "serviceaccounts/token", "pods/exec"}
        assert verb not in {"escalate", "bind", "impersonate", "deletecollection"}


def test_every_role_is_bound_to_the_bots_service_account_only(chart: Chart) -> None:
    rendered = chart.render(WRITE_RBAC)
    service_account = rendered.one("ServiceAccount")["metadata"]["name"]
    bindings = rendered.of_kind("ClusterRoleBinding") + rendered.of_kind("RoleBinding")
    roles = {(r["kind"], r["metadata"]["name"]) for r in rendered.of_kind("ClusterRole") + rendered.of_kind("Role")}

    assert {(b["roleRef"]["kind"], b["roleRef"]["name"]) for b in bindings} == roles
    for binding in bindings:
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": service_account, "namespace": NAMESPACE}]
        if binding["kind"] == "RoleBinding":
            assert binding["metadata"]["namespace"] == "kube-system"


def test_extra_groups_are_bound_for_eks_access_entries(chart: Chart) -> None:
    rendered = chart.render({"rbac": {"extraGroups": ["cnibot-readers"]}})

    for binding in rendered.of_kind("ClusterRoleBinding") + rendered.of_kind("RoleBinding"):
        assert {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "cnibot-readers"} in binding[
            "subjects"
        ]


def test_rbac_can_be_left_to_the_admin(chart: Chart) -> None:
    rendered = chart.render({"rbac": {"create": False}})

    assert not {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} & set(rendered.kinds())
