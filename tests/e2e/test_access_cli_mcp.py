"""The same access decision for the terminal and the MCP server when they act for a Slack user: a real `cnibot`
process, a simulated cluster over HTTP, and its request log showing that a refusal read nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from simulator.runner import SimulatedCluster
from tests.e2e.test_mcp import session_calls


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatedCluster]:
    cluster = SimulatedCluster.from_scenario("healthy")
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def env(sim: SimulatedCluster, tmp_path: Path) -> dict[str, str]:
    config = {
        "clusters": [
            {
                "name": sim.cluster_name,
                "region": sim.region,
                "auth": {"mode": "kubeconfig", "kubeconfig": str(sim.kubeconfig_path)},
                "access": {"reads": {"channels": ["C0OPS"], "users": ["U0ALICE"]}, "admins": ["U0ADMIN"]},
            }
        ]
    }
    path = tmp_path / "cnibot.yaml"
    path.write_text(yaml.safe_dump(config))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CNIBOT_", "SLACK_"))}
    return {**clean, **sim.env(), "CNIBOT_CONFIG": str(path), "CNIBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}


def ask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_ask_as_a_slack_user_is_decided_as_their_slash_command(sim: SimulatedCluster, env: dict[str, str]) -> None:
    before = sim.counter.snapshot()
    refused = ask(env, "--as-user", "U0BOB", "--channel", "C0RANDOM", "--json", "capacity")
    assert refused.returncode == 3, refused.stderr
    data = json.loads(refused.stdout)
    assert data["outcome"] == "refused" and data["rule"] == "access.reads.channels"
    dm = ask(env, "--as-user", "U0BOB", "capacity")  # no channel: a DM; Bob is not named
    assert dm.returncode == 3 and "`access.reads.users`" in dm.stdout and "<@U0ADMIN>" in dm.stdout
    assert sim.counter.snapshot() == before  # neither read anything from the cluster

    allowed = ask(env, "--as-user", "U0ALICE", "--json", "capacity")
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["outcome"] in ("ok", "partial")
    operator = ask(env, "capacity")  # a local operator with their own kubeconfig: no Slack identity, no rules
    assert operator.returncode == 0, operator.stdout


def test_as_user_takes_ids_only(env: dict[str, str]) -> None:
    bad = ask(env, "--as-user", "alice", "capacity")
    assert bad.returncode == 2 and "not a Slack user id" in bad.stderr
    lone = ask(env, "--channel", "C0OPS", "capacity")
    assert lone.returncode == 2 and "go with --as-user" in lone.stderr


def test_mcp_acting_for_its_configured_slack_user(sim: SimulatedCluster, env: dict[str, str]) -> None:
    before = sim.counter.snapshot()
    _, (refused,), _ = session_calls({**env, "CNIBOT_MCP_REQUESTER": "U0BOB"}, [("capacity", {})])
    assert refused.is_error and "access.reads.users" in str(refused.content)
    assert sim.counter.snapshot() == before
    _, (answered,), _ = session_calls({**env, "CNIBOT_MCP_REQUESTER": "U0ALICE"}, [("capacity", {})])
    assert not answered.is_error, answered.content
