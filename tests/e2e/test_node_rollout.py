"""The custom-networking lab end to end, through signed Slack requests only, and node rollouts' refusal paths:
`/cni custom-networking enable` -> two approvals -> nodes to replace listed -> `/cni nodes replace --pending-from`
-> two approvals -> cordon, drain (Eviction API), terminate in the Auto Scaling group, replacement Ready -> the
tracking reports every node replaced -> pods on 100.64.x.x -> `/cni config` shows custom networking in effect.
A Karpenter node is replaced by deleting its NodeClaim."""

from __future__ import annotations

import dataclasses
import ipaddress
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.changes import service as service_module
from bot.changes.node_rollout import RolloutTimings
from bot.domain.changes import Status
from simulator.fake_slack import FakeSlack
from simulator.runner import SimulatedCluster
from tests.e2e.test_changes import (
    FINAL,
    approval_message,
    ask,
    click,
    request,
    running,
    service,
    text_of,
    wait_for,
    wait_status,
    wait_thread,
)
from tests.support.simbot import SimBot

FAST = RolloutTimings(poll=0.05)
# The operator's settings (config node_rollout), here through the environment as JSON: the bounds tests wait for.
FAST_SETTINGS = '{"batch_size": 1, "eviction_wait_seconds": 1, "node_ready_timeout_seconds": 3}'


@pytest.fixture
def make_bot(
    fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SimBot]]:
    monkeypatch.setattr(
        service_module, "DEFAULT_TIMINGS", dataclasses.replace(service_module.DEFAULT_TIMINGS, nodes=FAST)
    )
    monkeypatch.setenv("CNIBOT_NODE_ROLLOUT", FAST_SETTINGS)
    with ExitStack() as stack:

        def make(scenario: str = "custom-networking-before", **kwargs: float) -> SimBot:
            sim = SimulatedCluster.from_scenario(scenario, **kwargs)  # type: ignore[arg-type]
            return stack.enter_context(running(sim, fake_slack, sqlite_url, monkeypatch))

        yield make


def _core(sb: SimBot) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path)))


def _approve(sb: SimBot, change_id: int) -> Status:
    click(sb, change_id, "U0BOB")
    click(sb, change_id, "U0CAROL")
    return wait_status(sb, change_id, FINAL, timeout=60).status


def test_custom_networking_lab_end_to_end(make_bot: Callable[..., SimBot], capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    sb = make_bot(rollout_seconds=0.2)
    before = {n.metadata.name for n in _core(sb).list_node().items}
    enable_id, answer = request(sb, 'custom-networking enable --reason "pods on 100.64.0.0/16"')
    assert "it needs 2 different approvers" in answer
    assert _approve(sb, enable_id) is Status.VERIFIED
    wait_thread(sb.bot.slack, "3 node(s) still take pod addresses from the old subnets")
    assert len(service(sb).get(enable_id).detail["nodes_to_replace"]) == 3

    rollout_id, answer = request(sb, f'nodes replace --pending-from {enable_id} --reason "finish the lab"')
    assert "(high risk)" in answer and "cordon, drain, terminate" in answer
    assert "Auto Scaling group" in text_of(approval_message(sb.bot.slack, rollout_id).args)
    assert _approve(sb, rollout_id) is Status.VERIFIED
    for name in sorted(before):
        wait_thread(sb.bot.slack, f"`{name}` replaced by")
    after = {n.metadata.name for n in _core(sb).list_node().items}
    assert len(after) == 3 and not after & before
    replaced = [e.detail for e in service(sb).repo.events(rollout_id) if e.kind == "node-replaced"]
    assert {d["node"] for d in replaced} == before and {d["replacement"] for d in replaced} == after

    def tracked_to_the_end() -> bool:  # the tracking job's pass; its ENI sweep may be up to one cache TTL old
        service(sb).track_nodes()
        return not service(sb).get(enable_id).tracking_nodes

    wait_for(tracked_to_the_end, timeout=30, what="the tracking to report every node replaced")
    wait_thread(sb.bot.slack, "Every node now takes pod addresses from the ENIConfig subnets. Done.")
    assert not service(sb).get(enable_id).tracking_nodes
    secondary = ipaddress.ip_network("100.64.0.0/16")
    pods = [p for p in _core(sb).list_namespaced_pod("shop").items if p.status.pod_ip]
    assert len(pods) == 6 and all(ipaddress.ip_address(p.status.pod_ip) in secondary for p in pods)
    config = ask(sb, "config")
    assert "custom networking on" in config and "3 of 3 nodes take pod IPs from their ENIConfig subnet" in config
    wall = time.monotonic() - started
    with capsys.disabled():
        print(f"\nlab: wall {wall:.1f} s, simulated rollout clock {sb.sim.cluster._clock:.1f} s")


def test_pdb_blocking_a_drain_stops_the_rollout_and_says_each_nodes_state(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    policy = k8s.PolicyV1Api(k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path)))
    pdb = {"metadata": {"name": "web"}, "spec": {"minAvailable": 6, "selector": {"matchLabels": {"app": "web"}}}}
    policy.create_namespaced_pod_disruption_budget("shop", pdb)
    nodes = sorted(p.spec.node_name for p in _core(sb).list_namespaced_pod("shop").items)
    rollout_id, _ = request(sb, f'nodes replace --nodes {nodes[0]} --reason "drain test"')
    approval = text_of(approval_message(sb.bot.slack, rollout_id).args)
    assert "retried for 1 s" in approval and "(at most 3 s)" in approval  # the operator's bounds, as configured
    assert _approve(sb, rollout_id) is Status.FAILED
    result = service(sb).get(rollout_id).detail.get("result", "")
    text = wait_thread(sb.bot.slack, "PodDisruptionBudget blocks evicting")
    assert f"`{nodes[0]}` cordoned; `shop/" in text + result
    node = _core(sb).read_node(nodes[0])
    assert node.spec.unschedulable  # left cordoned, as said


def test_replacement_that_never_gets_ready_fails_the_rollout(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    sb.sim.autoscaling.replacements_never_ready = True
    name = sorted(n.metadata.name for n in _core(sb).list_node().items)[0]
    rollout_id, _ = request(sb, f'nodes replace --nodes {name} --reason "replacement test"')
    assert _approve(sb, rollout_id) is Status.FAILED
    wait_thread(sb.bot.slack, f"the replacement of `{name}` was not ready within 3 s")


def test_a_second_rollout_while_one_runs_is_refused(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot()
    names = sorted(n.metadata.name for n in _core(sb).list_node().items)
    hostile = ask(sb, 'nodes replace --nodes "<!channel>" --reason "ping everyone"')
    assert "&lt;!channel&gt;" in hostile and "<!channel>" not in hostile
    first, _ = request(sb, 'nodes replace --nodegroup ng-a --reason "first"')
    assert service(sb).get(first).status is Status.PENDING
    second = ask(sb, f'nodes replace --nodes {names[1]} --reason "second"')
    assert "Not requested" in second and f"Node rollout #{first} is still open" in second
    usage = ask(sb, 'nodes replace --reason "which?"')
    assert "exactly one of --nodes, --nodegroup or --pending-from" in usage


# --- Karpenter nodes: the NodeClaim is deleted, Karpenter launches the replacement ------------------------------
def _nodeclaims(sb: SimBot) -> dict[str, str]:
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path)))
    items = api.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]
    return {i["status"]["nodeName"]: i["metadata"]["name"] for i in items}


def test_a_karpenter_node_is_replaced_by_deleting_its_nodeclaim(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot("karpenter-max-pods", rollout_seconds=0.2)
    nodes = {n.metadata.name: n.metadata.labels for n in _core(sb).list_node().items}
    general = next(name for name, labels in nodes.items() if labels.get("karpenter.sh/nodepool") == "general")
    claims = _nodeclaims(sb)
    assert set(claims) == {n for n, labels in nodes.items() if "karpenter.sh/nodepool" in labels}
    rollout_id, answer = request(sb, f'nodes replace --nodes {general} --reason "new EC2NodeClass settings"')
    assert "(high risk)" in answer
    assert "delete its NodeClaim" in text_of(approval_message(sb.bot.slack, rollout_id).args)
    assert _approve(sb, rollout_id) is Status.VERIFIED
    wait_thread(sb.bot.slack, f"NodeClaim `{claims[general]}` deleted")
    wait_thread(sb.bot.slack, f"`{general}` replaced by")
    after = {n.metadata.name: n.metadata.labels for n in _core(sb).list_node().items}
    assert general not in after and len(after) == len(nodes)
    (new,) = set(after) - set(nodes)
    assert after[new]["karpenter.sh/nodepool"] == "general"
    new_claims = _nodeclaims(sb)
    assert claims[general] not in new_claims.values() and new_claims[new].startswith("general-")
    aws_node = _core(sb).list_namespaced_pod("kube-system", field_selector=f"spec.nodeName={new}").items
    assert any(p.metadata.name.startswith("aws-node") for p in aws_node)
    assert sb.sim.autoscaling.launched == []  # no Auto Scaling group took part
    replaced = [e.detail for e in service(sb).repo.events(rollout_id) if e.kind == "node-replaced"]
    assert [(d["node"], d["replacement"]) for d in replaced] == [(general, new)]


def test_a_karpenter_node_without_a_nodeclaim_stops_the_rollout(make_bot: Callable[..., SimBot]) -> None:
    sb = make_bot("karpenter-max-pods")
    api = k8s.CustomObjectsApi(k8s_config.new_client_from_config(config_file=str(sb.sim.kubeconfig_path)))
    claims = _nodeclaims(sb)
    spot = next(n for n, c in claims.items() if c.startswith("spot-"))
    sb.sim.store.delete("karpenter.sh/v1", "NodeClaim", None, claims[spot])  # gone behind Karpenter's back
    rollout_id, _ = request(sb, f'nodes replace --nodes {spot} --reason "orphan"')
    assert _approve(sb, rollout_id) is Status.FAILED
    wait_thread(sb.bot.slack, f"no NodeClaim has status.nodeName `{spot}`")
    assert api.list_cluster_custom_object("karpenter.sh", "v1", "nodeclaims")["items"]


# --- prefix delegation: the nodes that predate the change are listed, replaced with --pending-from, tracked ------


def test_prefix_delegation_lists_the_nodes_to_replace_and_nodes_replace_takes_them(
    make_bot: Callable[..., SimBot],
) -> None:
    sb = make_bot("healthy", rollout_seconds=0.2)
    before = {n.metadata.name for n in _core(sb).list_node().items}
    instances_before = {n.spec.provider_id for n in _core(sb).list_node().items}
    change_id, _ = request(sb, 'set ENABLE_PREFIX_DELEGATION=true --reason "more pods per node"')
    assert _approve(sb, change_id) is Status.VERIFIED
    wait_thread(sb.bot.slack, f"{len(before)} node(s) predate the change and keep their old max-pods")
    record = service(sb).get(change_id)
    assert sorted(record.detail["nodes_to_replace"]) == sorted(before) and record.tracking_nodes

    rollout_id, answer = request(sb, f'nodes replace --pending-from {change_id} --reason "new max-pods"')
    approval = text_of(approval_message(sb.bot.slack, rollout_id).args)
    assert f"(the nodes change #{change_id} left to replace)" in approval
    assert _approve(sb, rollout_id) is Status.VERIFIED
    after = {n.spec.provider_id for n in _core(sb).list_node().items}  # EC2 may reuse an address, so a name
    assert len(after) == len(before) and not after & instances_before

    service(sb).track_nodes()
    wait_thread(sb.bot.slack, "Every node that predates the change is replaced. Done.")
    assert not service(sb).get(change_id).tracking_nodes
    assert service(sb).get(change_id).detail["nodes_to_replace"] == []
    again = ask(sb, f'nodes replace --pending-from {change_id} --reason "again"')
    assert "That change lists no node still to replace." in again
