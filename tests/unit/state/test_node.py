"""One node: IP capacity in each CNI mode against max-pods, its problems, and finding it by name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.facts import ContainerState, PodFact
from bot.domain.instance_limits import InstanceLimits
from bot.domain.ipamd_metrics import IpamdMetrics
from bot.domain.node_report import match_node, node_report
from bot.domain.state import (
    AWS_NODE_NOT_READY,
    MAX_PODS_ABOVE_IPS,
    MAX_PODS_FAR_BELOW,
    NODE_ENICONFIG_MISSING,
    NODE_IPS_EXHAUSTED,
    NODE_ON_PRIMARY_SUBNET,
    StateModel,
)
from tests.factories import (
    eniconfig,
    ips,
    placement,
    snapshot,
    snapshot_daemonset,
    snapshot_eni,
    snapshot_node,
    snapshot_subnet,
)

CUSTOM_NETWORKING = {
    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
    "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
}


def _model(max_pods: int | None, **env: str) -> StateModel:
    return StateModel(
        snapshot(
            nodes=[snapshot_node("n1", "i-1", max_pods=max_pods, pod_eni=9)],
            enis=[snapshot_eni("eni-1", "subnet-a", instance="i-1", device=0, primary="10.0.0.4")],
            daemonset=snapshot_daemonset(**env),
            eniconfigs=[eniconfig("us-east-2a", "subnet-pods")],
        )
    )


def _codes(model: StateModel) -> list[str]:
    return [p.code for p in model.node_problems(model.nodes["n1"])]


@pytest.mark.parametrize(
    "env, capacity, recommended",
    [
        ({}, 27, 29),  # 3 x 9
        (CUSTOM_NETWORKING, 18, 20),  # the primary ENI serves no pods
        ({"ENABLE_PREFIX_DELEGATION": "true"}, 432, 110),  # 3 x 9 x 16, max-pods capped at 110 (2 vCPUs)
        ({"MAX_ENI": "2"}, 18, 20),
        ({"ENABLE_POD_ENI": "true"}, 18, 29),  # the trunk takes a slot; EKS leaves max-pods alone
    ],
    ids=["secondary-ip", "custom-networking", "prefix-delegation", "max-eni", "sgp"],
)
def test_ip_capacity_and_formula_follow_the_cni_mode(env: dict[str, str], capacity: int, recommended: int) -> None:
    state = _model(29, **env).nodes["n1"]
    assert (state.ip_capacity, state.recommended_max_pods) == (capacity, recommended)


def test_max_pods_above_addressable_ips_warns_with_the_right_value() -> None:
    model = _model(29, **CUSTOM_NETWORKING)
    problem = next(p for p in model.node_problems(model.nodes["n1"]) if p.code == MAX_PODS_ABOVE_IPS)
    assert "max-pods is 29 but the node can address 20 pods" in problem.message
    assert "9 pods could be scheduled here and never get an IP" in problem.message
    assert "Set kubelet max-pods to 20" in problem.fix


def test_max_pods_matching_the_formula_is_quiet() -> None:
    assert _codes(_model(20, **CUSTOM_NETWORKING)) == []
    assert _codes(_model(29)) == []


def test_max_pods_far_below_the_capacity_is_noted() -> None:
    assert MAX_PODS_FAR_BELOW in _codes(_model(10))


def test_sgp_branch_enis_cover_the_trunk_slot() -> None:
    model = _model(29, ENABLE_POD_ENI="true")
    problems = model.node_problems(model.nodes["n1"])
    assert [(p.code, p.severity) for p in problems] == [(MAX_PODS_ABOVE_IPS, "info")]
    assert "fit only pods with security groups" in problems[0].message


def test_node_using_every_addressable_ip_is_flagged() -> None:
    enis = [
        snapshot_eni("eni-1", "subnet-a", instance="i-1", device=0, primary="10.0.0.4", secondary=ips("10.0.0", 5, 4))
    ]
    model = StateModel(
        snapshot(
            nodes=[snapshot_node("n1", "i-1", instance_type="t3.small", max_pods=6)],
            enis=enis,
            pods=[placement(f"p{i}", "n1", f"10.0.0.{5 + i}") for i in range(4)],
            limits={"t3.small": InstanceLimits("t3.small", 2, 3, vcpus=2, branch_enis=0)},
        )
    )
    assert NODE_IPS_EXHAUSTED in _codes(model)


def test_custom_networking_node_on_the_primary_subnet_and_missing_eniconfig() -> None:
    enis = [
        snapshot_eni("eni-1", "subnet-a", instance="i-1", device=0, primary="10.0.0.4", secondary=ips("10.0.0", 5, 9)),
        snapshot_eni(
            "eni-2", "subnet-pods", instance="i-1", device=1, primary="100.64.0.4", secondary=ips("100.64.0", 5, 9)
        ),
    ]
    old = StateModel(
        snapshot(
            nodes=[snapshot_node("n1", "i-1", max_pods=20)],
            enis=enis,
            pods=[placement("web", "n1", "10.0.0.5")],
            daemonset=snapshot_daemonset(**CUSTOM_NETWORKING),
            eniconfigs=[eniconfig("us-east-2a", "subnet-pods")],
        )
    )
    problem = next(p for p in old.node_problems(old.nodes["n1"]) if p.code == NODE_ON_PRIMARY_SUBNET)
    assert problem.message.startswith("9 pod addresses (1 in use) sit outside ENIConfig us-east-2a's subnet")
    # Without ENI_CONFIG_LABEL_DEF the node resolves to the ENIConfig "default", which does not exist.
    missing = _model(20, AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG="true")
    assert NODE_ENICONFIG_MISSING in _codes(missing)


def _aws_node(ready: bool, reason: str = "") -> PodFact:
    return PodFact(
        namespace="kube-system",
        name="aws-node-x1",
        uid="u",
        phase="Running",
        node_name="n1",
        host_network=True,
        pod_ip="10.0.0.4",
        created_at=None,
        containers=(ContainerState("aws-node", ready, 4, waiting_reason=reason),),
    )


def test_aws_node_status_is_judged_only_when_read() -> None:
    model = _model(29)
    state = model.nodes["n1"]
    assert AWS_NODE_NOT_READY not in [p.code for p in model.node_problems(state, None)]
    assert [p.code for p in model.node_problems(state, [])] == [AWS_NODE_NOT_READY]
    crashing = model.node_problems(state, [_aws_node(False, "CrashLoopBackOff")])
    assert "aws-node-x1 is not ready (CrashLoopBackOff), 4 restarts" in crashing[0].message
    assert model.node_problems(state, [_aws_node(True)]) == []


def test_report_prefers_the_version_ipamd_reports() -> None:
    model = _model(29)
    model.snapshot.ipamd["n1"] = IpamdMetrics(version="v1.18.5")
    assert node_report(model, "n1").cni_version == "1.18.5"
    model.snapshot.ipamd.clear()
    assert node_report(model, "n1").cni_version == "1.19.2"


NODES = [
    snapshot_node("ip-10-0-1-5.us-east-2.compute.internal", "i-0aaa"),
    snapshot_node("ip-10-0-1-6.us-east-2.compute.internal", "i-0bbb"),
    snapshot_node("ip-10-0-2-7.us-east-2.compute.internal", "i-0ccc"),
]


@pytest.mark.parametrize(
    "query, found",
    [
        ("ip-10-0-1-5.us-east-2.compute.internal", "ip-10-0-1-5.us-east-2.compute.internal"),
        ("i-0bbb", "ip-10-0-1-6.us-east-2.compute.internal"),
        ("ip-10-0-2", "ip-10-0-2-7.us-east-2.compute.internal"),
    ],
)
def test_a_node_is_found_by_name_instance_id_or_unique_prefix(query: str, found: str) -> None:
    match = match_node(NODES, query)
    assert match.node is not None and match.node.name == found


def test_ambiguous_prefix_and_typos_give_candidates() -> None:
    ambiguous = match_node(NODES, "ip-10-0-1")
    assert ambiguous.node is None and len(ambiguous.candidates) == 2
    typo = match_node(NODES, "ip-10-0-1-9")
    assert typo.node is None and "ip-10-0-1-5.us-east-2.compute.internal" in typo.candidates
    assert match_node(NODES, "zzz").candidates == ()


def test_subnet_discovery_sends_new_enis_to_the_tagged_subnet_with_most_free_ips() -> None:
    subnets = {
        "subnet-a": snapshot_subnet("subnet-a", "10.0.0.0/24", free=10),
        "subnet-tagged": snapshot_subnet(
            "subnet-tagged", "10.0.1.0/24", free=200, tags={"kubernetes.io/role/cni": "1"}
        ),
        "subnet-other-az": snapshot_subnet("subnet-other-az", "10.0.2.0/24", az="us-east-2b", free=250),
    }
    base = {
        "nodes": [snapshot_node("n1", "i-1")],
        "enis": [snapshot_eni("eni-1", "subnet-a", instance="i-1", device=0, primary="10.0.0.4")],
        "subnets": subnets,
    }
    assert StateModel(snapshot(**base)).nodes["n1"].allocation_subnet == "subnet-tagged"
    off = StateModel(snapshot(**base, daemonset=snapshot_daemonset(ENABLE_SUBNET_DISCOVERY="false")))
    assert off.nodes["n1"].allocation_subnet == "subnet-a"


@pytest.mark.parametrize(
    ("os_image", "setting"),
    [
        ("Bottlerocket OS 1.30.0 (aws-k8s-1.31)", "Bottlerocket `settings.kubernetes.max-pods = 29`"),
        ("Amazon Linux 2", "bootstrap.sh `--use-max-pods false --kubelet-extra-args '--max-pods=29'`"),
        ("Amazon Linux 2023.6.20250203", "nodeadm NodeConfig `spec.kubelet.config.maxPods: 29`"),
    ],
)
def test_raising_max_pods_names_the_setting_of_the_nodes_os(os_image: str, setting: str) -> None:
    """Issue 16 item 5: every remedy that mentions max-pods names the node's own setting (never the AL2 flag on
    Bottlerocket)."""
    model = StateModel(
        snapshot(
            nodes=[replace(snapshot_node("n1", "i-1", max_pods=10), os_image=os_image)],
            enis=[snapshot_eni("eni-1", "subnet-a", instance="i-1", device=0, primary="10.0.0.4")],
            daemonset=snapshot_daemonset(),
        )
    )
    (problem,) = [p for p in model.node_problems(model.nodes["n1"]) if p.code == MAX_PODS_FAR_BELOW]
    assert setting in problem.fix
    if "Bottlerocket" in os_image:
        assert "bootstrap" not in problem.fix and "--max-pods" not in problem.fix
