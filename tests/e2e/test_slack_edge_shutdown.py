"""A replica that stops mid-apply (issue 13, items 6 and 7): on shutdown during a rollout watch the apply lease
is released at once, so another replica takes the change over instead of waiting for the lease (2 minutes) to
run out; after a crash mid-write, the replica that picks the change up records what is live."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.changes import service as service_module
from bot.changes.service import change_service
from bot.domain.changes import Status
from bot.server import hand_over_applies
from simulator.fake_slack import FakeSlack
from tests.e2e.test_changes import (
    bot_settings,
    click,
    make_bot,  # noqa: F401  (the fixture)
    request,
    service,
    set_env_outside_cnibot,
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
        change_service(other.cnibot.services).apply_waiting()
        wait_for(lambda: repo.lock_holder(cluster, service(sb).now()) == change_id, 10, "the other replica")
    finally:
        hand_over_applies(other.cnibot.services)
        other.stop()


def test_after_a_crash_mid_apply_the_audit_says_what_is_live(make_bot: Callable[..., SimBot]) -> None:  # noqa: F811
    from bot.domain.change_records import AuditKind

    sb = make_bot()
    svc = service(sb)
    landed, _ = request(sb, 'set WARM_IP_TARGET=5 --reason "replica dies after its patch landed"')
    lost, _ = request(sb, 'set MINIMUM_IP_TARGET=7 --reason "replica dies before its patch landed"')
    now = svc.now()
    for change_id in (landed, lost):  # approved and claimed by a replica that then died
        assert svc.repo.transition(change_id, Status.APPROVED, actor="U0BOB", at=now, event=AuditKind.APPROVED)
        assert svc.repo.transition(change_id, Status.APPLYING, actor="U0BOB", at=now, event=AuditKind.APPLYING)
    set_env_outside_cnibot(sb, "WARM_IP_TARGET", "5")  # the first one's PATCH was in flight, and landed

    svc.apply_waiting()
    assert wait_status(sb, landed, {Status.VERIFIED, Status.FAILED}).status is Status.VERIFIED
    applied = [e for e in svc.repo.events(landed) if e.kind == AuditKind.APPLIED]
    assert applied and applied[0].detail["found_live"] is True
    wait_for(lambda: svc.repo.lock_holder(sb.sim.cluster_name, svc.now()) is None, what="the lock")
    svc.apply_waiting()
    failed = wait_status(sb, lost, {Status.VERIFIED, Status.FAILED})
    assert failed.status is Status.FAILED and "before its write landed" in failed.detail["result"]
