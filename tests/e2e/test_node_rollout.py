"""The custom-networking lab end to end, through signed Slack requests only, and node rollouts' refusal paths:
`/cni custom-networking enable` -> two approvals -> nodes to replace listed -> `/cni nodes replace --pending-from`
-> two approvals -> cordon, drain (Eviction API), terminate in the Auto Scaling group, replacement Ready -> the
tracking reports every node replaced -> pods on 100.64.x.x -> `/cni config` shows custom networking in effect."""

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

FAST = RolloutTimings(eviction_wait=1.0, node_ready_timeout=3.0, poll=0.05)


@pytest.fixture
def make_bot(
    fake_slack: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SimBot]]:
    monkeypatch.setattr(
        service_module, "DEFAULT_TIMINGS", dataclasses.replace(service_module.DEFAULT_TIMINGS, nodes=FAST)
    )
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
