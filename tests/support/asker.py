"""The `cnibot ask` path in process: the runner and real services (SQLite history) against a simulated cluster
reached over HTTP, and the simulator's request log to check what left the gateways."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from bot.app import build_runner, build_services
from bot.config import load_settings
from bot.runner import CommandRunner
from bot.services import Services
from commands.base import CommandContext, CommandResult
from simulator.runner import SimulatedCluster
from tests.support.simbot import cluster_config_for


@dataclass
class Asker:
    sim: SimulatedCluster
    services: Services
    runner: CommandRunner

    def ask(self, text: str, user: str = "U0TEST") -> CommandResult:
        ctx = CommandContext(
            services=self.services,
            user_id=user,
            correlation_id="c0ffee",
            source="cli",
            now=datetime.now(UTC),
            channel_id="C0TEST",
        )
        return self.runner.execute(text, ctx)

    def requests(self) -> list[str]:
        """Every request the simulator served since the last reset, decoded: kube `METHOD path?query`, EC2 and
        EKS `api:Action param=value ...`."""
        out = []
        for api, operation, detail in self.sim.counter.calls():
            if api == "kube":
                path, query = unquote(str(detail.get("path"))), unquote(str(detail.get("query")))
                out.append(f"{detail.get('method')} {path}?{query}")
            else:
                params: dict[str, Any] = dict(detail.get("params") or {})  # type: ignore[call-overload]
                out.append(f"{api}:{operation} " + " ".join(f"{k}={v}" for k, v in sorted(params.items())))
        return out


@contextmanager
def asker(
    scenario: str,
    tmp: Path,
    *,
    env: dict[str, str] | None = None,
    cluster: dict[str, Any] | None = None,
    **settings: Any,
) -> Iterator[Asker]:
    """`env` and `cluster` override what points the bot at the simulator (e.g. a closed port: a dependency
    down)."""
    sim = SimulatedCluster.from_scenario(scenario)
    sim.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key, value in {**sim.env(), **(env or {})}.items():
                if key != "KUBECONFIG":
                    mp.setenv(key, value)
            all_settings: dict[str, Any] = {
                "database_url": f"sqlite:///{tmp / 'cnibot.db'}",
                "clusters": [cluster_config_for(sim, **(cluster or {}))],
            }
            all_settings.update(settings)
            services = build_services(load_settings(**all_settings))
            try:
                yield Asker(sim, services, build_runner())
            finally:
                services.connections.close()
                services.repos.dispose()
    finally:
        sim.stop()
