"""A simulated cluster with a bot pointed at it over HTTP: the end-to-end test harness.

The bot reaches the simulator only through HTTP (boto3 via AWS_ENDPOINT_URL, the kubernetes client via the
simulator's kubeconfig), exactly as it would reach AWS and EKS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bot.config import ClusterAuth, ClusterConfig
from simulator.fake_slack import FakeSlack
from simulator.runner import SimulatedCluster
from tests.support.bot import RunningBot, start_bot

SIGNING_SECRET = "test-signing-secret"


@dataclass
class SimBot:
    sim: SimulatedCluster
    bot: RunningBot

    def ask(self, text: str, **fields: Any) -> dict[str, Any]:
        """Send /cni <text> as a signed Slack request; return the message delivered to response_url."""
        reply = self.bot.slash(text, **fields)
        assert reply.status == 200, reply
        return self.bot.answer(reply)


def cluster_config_for(sim: SimulatedCluster, **overrides: Any) -> ClusterConfig:
    fields: dict[str, Any] = {
        "name": sim.cluster_name,
        "region": sim.region,
        "auth": ClusterAuth(mode="kubeconfig", kubeconfig=str(sim.kubeconfig_path)),
    }
    fields.update(overrides)
    return ClusterConfig(**fields)


@contextmanager
def sim_bot(
    scenario: str,
    *,
    monkeypatch: pytest.MonkeyPatch,
    slack: FakeSlack,
    database_url: str,
    nodes: int | None = None,
    settings: dict[str, Any] | None = None,
    cluster: dict[str, Any] | None = None,
    clusters: Callable[[ClusterConfig], Sequence[ClusterConfig]] | None = None,
    **sim_kwargs: Any,
) -> Iterator[SimBot]:
    """`clusters` builds the bot's cluster list from the simulator's (e.g. several names with access rules)."""
    sim = SimulatedCluster.from_scenario(scenario, nodes=nodes, **sim_kwargs)
    sim.start()
    try:
        for key, value in sim.env().items():
            if key != "KUBECONFIG":
                monkeypatch.setenv(key, value)
        all_settings: dict[str, Any] = {
            "database_url": database_url,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_bot_token": "xoxb-test-token",
            "slack_api_url": slack.api_url,
            "clusters": list(clusters(cluster_config_for(sim, **(cluster or {}))))
            if clusters
            else [cluster_config_for(sim, **(cluster or {}))],
        }
        all_settings.update(settings or {})
        bot = start_bot(all_settings, slack, SIGNING_SECRET)
        try:
            yield SimBot(sim, bot)
        finally:
            bot.stop()
    finally:
        sim.stop()
