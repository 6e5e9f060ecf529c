"""/cni upgrade end to end: signed slash commands and approve clicks, the bot calling the simulator's EKS
(UpdateAddon, DescribeUpdate) or patching aws-node's images, then verifying and rolling back through approvals."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import boto3
import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.domain.changes import Status
from simulator.fake_slack import FakeSlack
from simulator.runner import SimulatedCluster
from simulator.scenarios import ManagedAddonSpec, load_scenario
from tests.e2e.test_changes import (
    FINAL,
    approval_message,
    ask,
    click,
    request,
    running,
    service,
    text_of,
    wait_status,
)
from tests.support.simbot import SimBot


@pytest.fixture
def make_bot(
    fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SimBot]]:
    with ExitStack() as stack:

        def make(scenario: str | SimulatedCluster = "healthy") -> SimBot:
            sim = scenario if isinstance(scenario, SimulatedCluster) else SimulatedCluster.from_scenario(scenario)
            return stack.enter_context(running(sim, fake_slack, sqlite_url, monkeypatch))

        yield make


def _pod_images(sb: SimBot) -> set[str]:
    api = k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path))
    try:
        pods = k8s.CoreV1Api(api).list_namespaced_pod("kube-system", label_selector="k8s-app=aws-node").items
    finally:
        api.close()
    return {c.image for p in pods for c in [*p.spec.containers, *p.spec.init_containers]}


def test_self_managed_upgrade_one_minor_then_roll_back(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot("healthy")
    before = _pod_images(sb)
    change_id, answer = request(sb, 'upgrade --reason "keep the CNI current"')
    assert "(high risk)" in answer and "it needs 2 different approvers" in answer
    assert "VPC CNI version: `v1.19.2-eksbuild.1` -> `v1.20.5-eksbuild.1`" in answer
    posted = text_of(approval_message(sb.bot.slack, change_id).args)
    assert "releases/tag/v1.20.5" in posted and "Kept:" in posted and "aws-network-policy-agent:v1.2.7" in posted
    click(sb, change_id, "U0BOB")
    click(sb, change_id, "U0CAROL")
    assert wait_status(sb, change_id, FINAL).status is Status.VERIFIED
    images = _pod_images(sb)
    registry = "602401143452.dkr.ecr.us-east-2.amazonaws.com"
    assert {
        f"{registry}/amazon-k8s-cni:v1.20.5",
        f"{registry}/amazon-k8s-cni-init:v1.20.5",
        f"{registry}/amazon/aws-network-policy-agent:v1.2.7",
    } == images - {i for i in images if "kube-proxy" in i}

    rollback_id, answer = request(sb, f'rollback {change_id} --reason "new version misbehaves"')
    assert "VPC CNI version: `v1.20.5` -> `v1.19.2-eksbuild.1`" in answer
    assert service(sb).get(rollback_id).approvals_needed == 2
    click(sb, rollback_id, "U0BOB")
    click(sb, rollback_id, "U0CAROL")
    assert wait_status(sb, rollback_id, FINAL).status is Status.VERIFIED
    assert wait_status(sb, change_id, {Status.ROLLED_BACK}).status is Status.ROLLED_BACK
    assert _pod_images(sb) == before


def test_refuses_a_minor_skip_and_proposes_the_next_minor(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot("healthy")
    answer = ask(sb, 'upgrade --to v1.21.1-eksbuild.1 --reason "latest please"')
    assert "Not requested" in answer and "one minor version at a time" in answer
    assert "request v1.20.5-eksbuild.1 first" in answer
    bad = ask(sb, 'upgrade --to latest --reason "x y z"')
    assert "is not a VPC CNI version" in bad


def test_managed_addon_upgrade_keeps_configuration_and_follows_the_update(make_bot: Callable[..., SimBot]) -> None:
    scenario = dataclasses.replace(
        load_scenario("healthy"), managed_addon=ManagedAddonSpec(configuration_values={"env": {"WARM_IP_TARGET": "5"}})
    )
    sb = make_bot(SimulatedCluster(scenario))
    change_id, answer = request(sb, 'upgrade --to v1.20.0 --reason "one minor at a time"')
    assert "`v1.19.2-eksbuild.1` -> `v1.20.0-eksbuild.1`" in answer
    click(sb, change_id, "U0BOB")
    click(sb, change_id, "U0CAROL")
    final = wait_status(sb, change_id, FINAL)
    assert final.status is Status.VERIFIED, final.detail.get("result")
    eks = boto3.client("eks", region_name=sb.sim.region)
    addon = eks.describe_addon(clusterName=sb.sim.cluster_name, addonName="vpc-cni")["addon"]
    assert addon["addonVersion"] == "v1.20.0-eksbuild.1"
    assert addon["configurationValues"] == '{"env": {"WARM_IP_TARGET": "5"}}'
    assert sb.sim.counter.count("eks", "DescribeUpdate") >= 1
    assert "602401143452.dkr.ecr.us-east-2.amazonaws.com/amazon-k8s-cni:v1.20.0-eksbuild.1" in _pod_images(sb)
