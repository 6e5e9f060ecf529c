"""/cni node, subnets, capacity and config end to end: signed Slack requests to the bot's HTTP endpoint, the
bot reading a simulated cluster over HTTP (EC2 Query API, Kubernetes API), answers on the response_url.

The JSON (CommandResult.data, what `--json` prints) is read through the same runner the CLI uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.gateways import aws
from bot.runner import new_correlation_id
from commands.base import CommandContext, CommandResult
from simulator.faults import FaultRule
from tests.support.simbot import SimBot


def run_json(sb: SimBot, text: str) -> CommandResult:
    """The command through the runner, as `cnibot ask --json` runs it."""
    services = sb.bot.cnibot.services
    ctx = CommandContext(
        services=services,
        user_id="cli:test",
        correlation_id=new_correlation_id(),
        source="cli",
        now=services.clock(),
    )
    return sb.bot.cnibot.runner.execute(text, ctx)


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.1)


def blocks_text(answer: dict[str, Any]) -> str:
    return str(answer["blocks"])


def node_names(sb: SimBot) -> list[str]:
    return sorted(n["metadata"]["name"] for n in sb.sim.store.list("v1", "Node"))


def test_healthy_cluster_capacity_subnets_node_config_within_budget(make_sim: Any) -> None:
    sb = make_sim("healthy")
    sim = sb.sim
    reply = sb.bot.slash("capacity")
    assert reply.status == 200 and "Adding up" in str(reply.ack)
    answer = sb.bot.answer(reply)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Room for ") and "more pods* in demo before the first limit" in answer["text"]
    assert "us-east-2a" in blocks_text(answer) and "What if" in blocks_text(answer)
    # The budget: one VPC sweep and one DescribeSubnets, never a call per node.
    assert sim.counter.count("ec2", "DescribeNetworkInterfaces") == 1
    assert sim.counter.count("ec2", "DescribeSubnets") == 1
    assert all("attachment.instance-id" not in str(detail) for _, _, detail in sim.counter.calls("ec2"))

    subnets = sb.ask("subnets")
    assert "subnets in use" in subnets["text"] and "Who holds the used IPs" in blocks_text(subnets)

    name = node_names(sb)[0]
    node = sb.ask(f"node {name.split('.')[0]}")  # a unique prefix is enough
    assert node["text"].startswith(f"*{name}* (m5.large") and "ENIs" in blocks_text(node)

    config = run_json(sb, "config")
    assert config.outcome == "ok" and config.data["cni_version"] == "1.19.2"
    assert config.data["managed_addon"] is None and config.data["addon_checked"] is True
    settings = {s["name"]: s for s in config.data["settings"]}
    assert settings["WARM_ENI_TARGET"]["value"] == "1" and not settings["WARM_ENI_TARGET"]["non_default"]
    history = sb.bot.cnibot.services.history.recent_commands()
    assert {(e.subcommand, e.outcome) for e in history} >= {("capacity", "ok"), ("subnets", "ok"), ("node", "ok")}


def test_unknown_node_gets_a_short_ephemeral_suggestion(make_sim: Any) -> None:
    sb = make_sim("healthy")
    name = node_names(sb)[0]
    typo = name.split(".")[0][:-1] + "9"
    answer = sb.ask(f"node {typo}")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(f":warning: No node named `{typo}`; did you mean ")
    assert run_json(sb, f"node {typo}").outcome == "user_error"


def test_subnet_exhausted_shows_the_full_subnet_and_its_leaked_enis(make_sim: Any) -> None:
    sb = make_sim("subnet-exhausted")
    leaked = sum(
        len(e.private_ips)
        for e in sb.sim.model.enis.values()
        if e.attachment is None and e.description.startswith("aws-K8S-")
    )
    answer = sb.ask("subnets")
    assert "at 100% used" in answer["text"] and "Leaked ENIs" in blocks_text(answer)
    data = run_json(sb, "subnets").data
    full = next(s for s in data["subnets"] if s["free_ips"] == 0)
    assert full["holders"]["leaked"] == leaked > 0 and full["percent_used"] == 100.0
    capacity = run_json(sb, "capacity").data
    zone = next(z for z in capacity["by_az"] if z["availability_zone"] == full["availability_zone"])
    assert zone["binding_limit"] == "subnet" and zone["subnet_free_ips"] == 0


def test_custom_networking_half_migrated_lists_nodes_to_replace(make_sim: Any) -> None:
    sb = make_sim("custom-networking-half-migrated")
    answer = sb.ask("config")
    text = blocks_text(answer)
    assert "custom networking on" in answer["text"]
    assert "still allocate from the primary subnet" in text and "replace them" in text
    migration = {m["node"]: m["status"] for m in run_json(sb, "config").data["migration"]}
    assert sorted(migration.values()) == ["migrated", "migrated", "primary-subnet", "primary-subnet"]
    old = next(n for n, status in migration.items() if status == "primary-subnet")
    node = run_json(sb, f"node {old}").data
    codes = {p["code"] for p in node["problems"]}
    assert {"NODE_ON_PRIMARY_SUBNET", "MAX_PODS_ABOVE_IPS"} <= codes
    assert node["pod_ip_capacity"] == 18 and node["recommended_max_pods"] == 20


def test_prefix_fragmentation_leaves_no_room_despite_free_ips(make_sim: Any) -> None:
    sb = make_sim("prefix-fragmentation")
    subnets = run_json(sb, "subnets").data["subnets"]
    blocks = subnets[0]["prefix_blocks"]
    assert subnets[0]["free_ips"] > 200 and blocks["free"] == 0 and blocks["fragmented"] > 0
    answer = sb.ask("capacity")
    assert answer["text"].startswith("Room for *0 more pods*") and "subnet IPs" in answer["text"]
    assert "free in /28s" in blocks_text(answer)


def test_sgp_branch_capacity_is_counted(make_sim: Any) -> None:
    sb = make_sim("sgp-branch-capacity")
    branches = run_json(sb, "capacity").data["branch_enis"]
    assert branches == {"used": 18, "allocatable": 18, "pods_waiting": 1}
    node = run_json(sb, f"node {node_names(sb)[0]}").data
    assert node["branch_eni_pods"] == 9 and [e["type"] for e in node["enis"]].count("branch") == 9


def test_nodes_aws_node_does_not_serve_are_left_out_of_capacity(make_sim: Any) -> None:
    """Fargate, Auto Mode and Windows nodes get their addresses elsewhere: no ipamd headroom or what-if for them."""
    sb = make_sim("cluster-shapes")
    data = run_json(sb, "capacity").data
    assert data["nodes_not_served_by_aws_node"] == {"auto": 1, "fargate": 1, "windows": 1}
    assert data["total"]["nodes"] == 1
    answer = sb.ask("capacity")
    assert "Left out: nodes aws-node does not serve (1 auto, 1 fargate, 1 windows)" in blocks_text(answer)
    # Windows pods take the VPC resource controller's PrivateIPv4Address: counted on their own.
    assert data["windows_private_ipv4"] == {"allocatable": 9, "in_use": 2}
    assert "room for 7 more Windows pods" in blocks_text(answer)


def test_ipv6_capacity_is_bounded_by_max_pods_and_the_nodes_prefix(make_sim: Any) -> None:
    """IPv6: each node's pods take addresses from its /80; a node whose /80 could not be assigned fits nothing."""
    sb = make_sim("ipv6")
    data = run_json(sb, "capacity").data
    assert data["ipv6"] is True and data["what_if"] is None
    assert [(r["availability_zone"], r["more_pods_fit"], r["binding_limit"]) for r in data["by_az"]] == [
        ("us-east-2a", 67, "max-pods"),
        ("us-east-2b", 0, "ipv6-prefix"),
    ]
    assert "IPv6 cluster: pods take IPv6 addresses" in blocks_text(sb.ask("capacity"))
    subnets = blocks_text(sb.ask("subnets"))
    assert "No IPv6 CIDR on node subnet(s)" in subnets and "2600:1f14:abc:1000::/64" in subnets
    assert "free /28" not in subnets  # no IPv4 prefix blocks: pods take no IPv4 /28s


def test_a_failing_ec2_call_gives_a_partial_answer(make_sim: Any) -> None:
    sb = make_sim("healthy")
    sb.sim.faults.add(
        FaultRule(api="ec2", operation="DescribeNetworkInterfaces", code="UnauthorizedOperation", status=403)
    )
    result = run_json(sb, "subnets")
    assert result.outcome == "partial"
    assert [u["what"] for u in result.data["could_not_check"]] == ["ENIs of the VPC"]
    answer = sb.ask("capacity")
    assert "Could not check ENIs of the VPC (ec2:DescribeNetworkInterfaces: not permitted" in blocks_text(answer)
    # Issue 14: the headline says first that an input of it could not be read.
    assert answer["text"].startswith(":warning: Could not read the ENIs of the VPC")


def test_what_if_and_bad_arguments(make_sim: Any) -> None:
    sb = make_sim("healthy")
    answer = sb.ask("capacity --what-if WARM_IP_TARGET=5 MINIMUM_IP_TARGET=20")
    assert "What if* WARM_IP_TARGET=5, MINIMUM_IP_TARGET=20" in blocks_text(answer)
    bad = sb.bot.slash("capacity --what-if MAX_ENI=1")
    assert "not a warm-pool setting" in str(bad.ack) and "Usage" in str(bad.ack)
    zone = sb.ask("subnets --az us-west-1a")
    assert zone["text"].startswith(":warning: No zone `us-west-1a` in this cluster")


def test_pods_and_nodes_are_listed_once_then_watched(make_sim: Any) -> None:
    sb = make_sim("healthy")
    first = run_json(sb, "capacity").data["total"]
    assert sb.sim.counter.count("kube", "LIST pods") == 1
    victim = next(p["metadata"] for p in sb.sim.store.list("v1", "Pod") if p["metadata"]["namespace"] != "kube-system")
    deleted = httpx.delete(f"{sb.sim.kube_url}/api/v1/namespaces/{victim['namespace']}/pods/{victim['name']}")
    assert deleted.status_code == 200
    wait_until(lambda: run_json(sb, "capacity").data["total"]["pods"] == first["pods"] - 1)
    # Served from the watch: still one LIST of pods and of nodes, however many commands ran.
    assert sb.sim.counter.count("kube", "LIST pods") == 1 and sb.sim.counter.count("kube", "LIST nodes") == 1


def test_serve_keeps_the_vpc_eni_sweep_fresh_while_commands_read_it(
    make_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 item 2: `serve`'s background job sweeps the VPC's ENIs again, so a command finds the sweep
    fresh instead of waiting for one; nothing is swept for a VPC no command read, nor again right after a
    command's own sweep."""
    sb = make_sim("healthy")
    services = sb.bot.cnibot.services
    assert "live:vpc-enis" in services.scheduler.job_ids()
    services.connections.refresh_live_state()  # nothing read yet: no call
    assert sb.sim.counter.count("ec2", "DescribeNetworkInterfaces") == 0
    run_json(sb, "capacity")
    assert sb.sim.counter.count("ec2", "DescribeNetworkInterfaces") == 1
    services.connections.refresh_live_state()  # the command's sweep is seconds old: not repeated
    assert sb.sim.counter.count("ec2", "DescribeNetworkInterfaces") == 1
    monkeypatch.setattr(aws, "LIVE_REFRESH_MIN_AGE", 0.0)  # as if the job ran a few seconds later
    services.connections.refresh_live_state()  # what the job does every few seconds
    assert sb.sim.counter.count("ec2", "DescribeNetworkInterfaces") == 2
    run_json(sb, "subnets")  # finds the refreshed sweep
    assert sb.sim.counter.count("ec2", "DescribeNetworkInterfaces") == 2
