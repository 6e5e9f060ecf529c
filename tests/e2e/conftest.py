"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.fake_slack import FakeSlack
from tests.support.simbot import SimBot, sim_bot


@pytest.fixture
def make_sim(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str) -> Iterator[Any]:
    """Start a simulated cluster per scenario, with the bot against it; all stopped at the end."""
    stack: list[Any] = []

    def make(scenario: str) -> SimBot:
        manager = sim_bot(scenario, monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url)
        sb = manager.__enter__()
        stack.append((manager, sb))
        return sb

    yield make
    for manager, sb in reversed(stack):
        sb.bot.cnibot.services.connections.close()  # stop the watches before the simulator goes
        manager.__exit__(None, None, None)
