"""`cnibot mcp` end to end: the MCP SDK's own client talks to a real `cnibot mcp` process over stdio, which reads a
simulated cluster over HTTP; every tool's structured result equals `cnibot ask --json` for the same input."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from simulator.runner import SimulatedCluster

VOLATILE = {"read_seconds", "duration_ms", "correlation_id", "seconds"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedCluster]:
    cluster = SimulatedCluster.from_scenario("demo")
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def env(sim: SimulatedCluster, tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    return {**clean, **sim.env(), "CNIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'mcp.db'}"}


def ask_json(env: dict[str, str], *words: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", *words],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return json.loads(done.stdout)


def session_calls(env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any], str]:
    """Open one MCP session over stdio: the tool names, each call's result, and the causes resource."""

    async def run() -> tuple[list[str], list[Any], str]:
        params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp"], env=env)
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                names = [t.name for t in (await session.list_tools()).tools]
                results = [await session.call_tool(name, arguments) for name, arguments in calls]
                resource = await session.read_resource("cnibot://causes")
                text = "".join(getattr(c, "text", "") for c in resource.contents)
                return names, results, text

    return asyncio.run(asyncio.wait_for(run(), timeout=120))


def _aged(value: Any) -> str:
    return re.sub(r"\d+ ?(s|sec|min|m|h) ago|just now", "<age>", json.dumps(value, sort_keys=True))


def stable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in VOLATILE}


def test_tools_answer_as_ask_json_does_and_bad_input_is_a_tool_error(
    env: dict[str, str], sim: SimulatedCluster
) -> None:
    node = next(iter(sim.cluster.nodes))
    calls = [
        ("why_pending", {"pod": "shop/checkout-7"}),
        ("node", {"name": node}),
        ("subnets", {}),
        ("capacity", {"what_if": ["WARM_IP_TARGET=2", "MINIMUM_IP_TARGET=10"]}),
        ("config", {}),
        ("changes", {"open": True}),
        ("why_pending", {"pod": "../namespaces/shop/pods/web-0"}),
    ]
    names, results, causes = session_calls(env, calls)
    assert sorted(names) == sorted(
        ["why_pending", "node", "subnets", "capacity", "config", "changes", "change", "history"]
    )
    why, node_result, subnets, capacity, config, changes, hostile = results
    assert not why.is_error and why.structured_content["causes"][0]["code"] == "SUBNET_EXHAUSTED"
    expected = ask_json(env, "why-pending", "shop/checkout-7")
    # The same causes, evidence and remedy (ages such as "12s ago" move on between the two reads).
    assert _aged(why.structured_content["causes"]) == _aged(expected["causes"])
    assert stable(node_result.structured_content) == stable(ask_json(env, "node", node))
    assert stable(subnets.structured_content)["subnets"] == stable(ask_json(env, "subnets"))["subnets"]
    what_if = ask_json(env, "capacity", "--what-if", "WARM_IP_TARGET=2", "MINIMUM_IP_TARGET=10")
    assert capacity.structured_content["what_if"] == what_if["what_if"]
    assert config.structured_content["subcommand"] == "config" and changes.structured_content["outcome"] == "ok"
    # A name outside the Kubernetes grammar: a tool error with the usage answer, never a request.
    assert hostile.is_error and "why-pending" in hostile.content[0].text
    assert "`SUBNET_EXHAUSTED`" in causes and "`FARGATE_POD`" in causes


def test_history_records_the_mcp_source(env: dict[str, str]) -> None:
    _, (first, history), _ = session_calls(env, [("subnets", {}), ("history", {"limit": 5})])
    rows = history.structured_content["commands"]
    assert not first.is_error and rows[0]["subcommand"] == "subnets" and rows[0]["source"] == "mcp"


def test_request_change_files_a_request_for_the_configured_requester_only(env: dict[str, str]) -> None:
    enabled = {**env, "CNIBOT_MCP_REQUESTER": "U0ALICE"}
    request = ("request_change", {"settings": ["WARM_IP_TARGET=2"], "reason": "fewer idle IPs in 2a"})
    names, (filed,), _ = session_calls(enabled, [request])
    assert "request_change" in names and not filed.is_error, filed.content
    change = filed.structured_content["change"]
    assert change["status"] == "pending" and change["posted_in"] is None  # approval is Slack's, never MCP's
    stored = ask_json(enabled, "change", str(change["id"]))
    assert "U0ALICE" in json.dumps(stored), stored


def test_streamable_http_on_loopback(env: dict[str, str]) -> None:
    """`cnibot mcp --http`: the same tools over streamable HTTP, bound to 127.0.0.1."""
    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "mcp", "--http", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    async def run() -> Any:
        url = f"http://127.0.0.1:{port}/mcp"
        for _ in range(100):  # wait for the port
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        async with streamable_http_client(url) as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            return await session.call_tool("subnets", {})

    try:
        result = asyncio.run(asyncio.wait_for(run(), timeout=60))
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert not result.is_error and result.structured_content["subcommand"] == "subnets"
