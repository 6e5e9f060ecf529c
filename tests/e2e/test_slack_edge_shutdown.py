"""Shutdown during a rollout watch (issue 13, item 7): the apply lease is released at once, so another
replica takes the change over instead of waiting for the lease (2 minutes) to run out."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.changes import service as service_module
from bot.changes.service import ChangeService
from bot.domain.changes import Status
from bot.server import hand_over_applies
from simulator.fake_slack import FakeSlack
from tests.e2e.test_changes import (
    bot_settings,
    click,
    make_bot,  # noqa: F401  (the fixture)
    request,
    service,
    wait_for,
    wait_status,
)
from tests.support.bot import start_bot
from tests.support.simbot import SIGNING_SECRET, SimBot


def test_stopping_during_a_rollout_watch_hands_the_change_over(
    make_bot: Callable[..., SimBot],  # noqa: F811
    fake_slack: FakeSlack,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_module, "DEFAULT_TIMINGS", service_module.Timings(rollout_timeout=60.0))
    sb = make_bot("aws-node-not-ready")  # the rollout never gets ready: the watch goes on
    change_id, _ = request(sb, 'set IP_COOLDOWN_PERIOD=20 --reason "shorter cooldown"')
    click(sb, change_id, "U0BOB")
    wait_status(sb, change_id, {Status.APPLIED})
    repo = service(sb).repo
    cluster = sb.sim.cluster_name
    assert repo.lock_holder(cluster, service(sb).now()) == change_id

    started = time.monotonic()
    hand_over_applies(sb.bot.cnibot.services)  # what the SIGTERM drain runs
    assert time.monotonic() - started < 5.0
    assert repo.lock_holder(cluster, service(sb).now()) is None
    record = repo.get(change_id)
    assert record is not None and record.status is Status.APPLIED  # left as it is, not marked failed

    other = start_bot(bot_settings(sb.sim, fake_slack, sqlite_url), fake_slack, SIGNING_SECRET)
    try:
        ChangeService.for_services(other.cnibot.services).apply_waiting()
        wait_for(lambda: repo.lock_holder(cluster, service(sb).now()) == change_id, 10, "the other replica")
    finally:
        hand_over_applies(other.cnibot.services)
        other.stop()
