"""Capacity digests end to end: Slack commands against a simulated cluster, a subnet draining at a known rate
forecast from stored samples and posted with its chart, and exactly one post per period from two replicas
sharing one Postgres, driven by an injected clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.app import build_cnibot
from bot.config import load_settings
from bot.digests.poster import POSTED_NOW
from bot.digests.service import DigestJobs, post_job_id
from bot.digests.slack import SlackDigestSender
from bot.domain.capacity_samples import CapacitySample, SubnetSample
from bot.domain.digest_records import POSTED
from bot.render.doc import plain
from simulator.fake_slack import FakeSlack
from tests.support.simbot import sim_bot

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def blocks_text(message: dict[str, Any]) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                parts.append(str(element["text"]))
    return plain("\n".join(parts))


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def draining_history(latest: CapacitySample, per_day: float, days: int = 7) -> list[CapacitySample]:
    """Hourly samples before `latest`, every subnet `per_day` addresses fuller each day (oldest first)."""
    history = []
    for hours in range(days * 24, 0, -1):
        age = hours / 24
        subnets = tuple(replace(s, free=round(s.free + per_day * age)) for s in latest.subnets)
        history.append(replace(latest, taken_at=latest.taken_at - timedelta(hours=hours), subnets=subnets, nodes=()))
    return history


# --- Slack commands on a simulated cluster -----------------------------------------------------------------


@pytest.mark.slow
def test_subscribe_list_preview_and_unsubscribe_over_slack(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    with sim_bot("healthy", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url) as sb:
        name = sb.sim.cluster_name

        subscribed = blocks_text(sb.ask("digest subscribe weekly mon 08:00 --tz Europe/Berlin"))
        assert f"<#C0GENERAL> gets the capacity digest of `{name}` weekly on mon at 08:00 (Europe/Berlin)" in subscribed

        listed = blocks_text(sb.ask("digest list"))
        assert "weekly on mon at 08:00 Europe/Berlin" in listed and "not yet" in listed

        preview = sb.ask("digest now")
        assert preview["response_type"] == "ephemeral"
        text = blocks_text(preview)
        assert text.startswith(f"● {name} is healthy:")
        for subnet in sb.sim.model.subnets.values():
            assert f"{subnet.id}" in text and f"{subnet.available_ip_count:,}" in text
        assert "Preview, only you can see it" in text
        assert fake_slack.api_calls("chat.postMessage") == []  # a preview is never posted to the channel

        bad = blocks_text(sb.ask("digest subscribe daily 25:00"))
        assert "`25:00` is not a time" in bad

        gone = blocks_text(sb.ask("digest unsubscribe"))
        assert f"Unsubscribed <#C0GENERAL> from the digest of `{name}`" in gone
        assert "No digest subscriptions yet" in blocks_text(sb.ask("digest list"))


# --- content: a subnet draining at a known rate ------------------------------------------------------------


def test_a_subnet_draining_at_a_known_rate_is_forecast_and_posted_with_its_chart(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    with sim_bot("healthy", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url) as sb:
        services = sb.bot.cnibot.services
        clock = Clock(datetime.now(UTC).replace(second=0, microsecond=0))
        services.clock = clock
        sender = SlackDigestSender(WebClient(token="xoxb-test-token", base_url=fake_slack.api_url))
        jobs = DigestJobs(services, sender, replica="e2e")

        # A real sample of the simulated cluster, then the week before it: 2,000 addresses a day in every subnet.
        jobs.stores.digests.subscribe(
            cluster=sb.sim.cluster_name,
            channel="C0CAPACITY",
            schedule=f"daily {clock.now:%H:%M}",
            timezone="UTC",
            user_id="U0ALICE",
            now=clock.now - timedelta(days=1),
        )
        latest = jobs.sampling.sample(sb.sim.cluster_name)
        assert latest is not None
        jobs.stores.samples.add_many(draining_history(latest, per_day=2000))

        results = jobs.sync()
        assert [r.outcome for r in results] == [POSTED_NOW]
        (message,) = fake_slack.api_calls("chat.postMessage")
        assert message.args["channel"] == "C0CAPACITY"
        text = blocks_text(message.args)
        fullest = min(latest.subnets, key=lambda s: s.free)
        days = fullest.free / 2000
        assert f"runs out in about {round(days)} days" in text.splitlines()[0]
        for subnet in latest.subnets:
            row = f"{subnet.subnet_id} !  {subnet.free:,}"
            assert row in text and f"-2,000  -14,000        {subnet.free / 2000:.1f}" in text

        # The chart went up through the files upload v2 flow, into the digest's thread.
        (complete,) = fake_slack.api_calls("files.completeUploadExternal")
        assert complete.args["channel_id"] == "C0CAPACITY"
        assert complete.args["thread_ts"]  # under the digest message
        (upload_url,) = fake_slack.api_calls("files.getUploadURLExternal")
        assert int(upload_url.args["length"]) > 10_000
        assert len(fake_slack.deliveries("/upload/")) == 1


# --- exactly once: two replicas, one Postgres, 100 periods -------------------------------------------------


@pytest.fixture
def two_replicas(pg_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[list[DigestJobs], Clock]]:
    settings = load_settings(
        database_url=pg_url,
        slack_signing_secret="s",
        slack_bot_token="xoxb-test-token",
        slack_api_url=fake_slack.api_url,
        auto_migrate=True,
    )
    clock = Clock(T0)
    replicas = []
    bots = []
    for name in ("replica-a", "replica-b"):
        bot = build_cnibot(settings)
        bots.append(bot)
        bot.services.clock = clock
        sender = SlackDigestSender(WebClient(token="xoxb-test-token", base_url=fake_slack.api_url))
        replicas.append(DigestJobs(bot.services, sender, replica=name))
    try:
        yield replicas, clock
    finally:
        for bot in bots:
            bot.services.repos.dispose()


def run_together(*calls: Callable[[], object]) -> None:
    """Start every call at the same moment on its own thread, as two replicas' schedulers would."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def go(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.slow
@pytest.mark.postgres
def test_two_replicas_on_one_postgres_post_exactly_once_per_period(
    two_replicas: tuple[list[DigestJobs], Clock], fake_slack: FakeSlack
) -> None:
    (a, b), clock = two_replicas
    clock.now = T0 - timedelta(hours=1)
    sub, _ = a.stores.digests.subscribe(
        cluster="default", channel="C0DIGEST", schedule="daily 09:00", timezone="UTC", user_id="U0ALICE", now=clock.now
    )
    steady = SubnetSample("subnet-a", "us-east-2a", 4091, 3000, 5)
    a.services.repos.samples.add(CapacitySample("default", T0, (steady,), aws_node_env={}))
    # Subscriptions reach every replica through the periodic sync: each now has the cron job.
    run_together(a.sync, b.sync)
    assert post_job_id(sub) in a.services.scheduler.job_ids() and post_job_id(sub) in b.services.scheduler.job_ids()
    assert fake_slack.api_calls("chat.postMessage") == []  # nothing due yet

    for day in range(100):
        period = T0 + timedelta(days=day)
        if day % 10 == 9:
            # Both replicas were down at the scheduled time: the sync after the restart posts it late.
            clock.now = period + timedelta(minutes=70)
            run_together(a.sync, b.sync, a.sync, b.sync)
        else:
            # Both cron jobs fire, and the syncs run over them.
            clock.now = period + timedelta(seconds=1)
            run_together(lambda: a.poster.run(sub.id), lambda: b.poster.run(sub.id), a.sync, b.sync)

    posts = fake_slack.api_calls("chat.postMessage")
    assert len(posts) == 100
    claims = a.stores.digests.claims(sub.id)
    assert [c.period for c in claims] == [T0 + timedelta(days=d) for d in range(100)]
    assert all(c.status == POSTED for c in claims)
    assert sum(c.late for c in claims) == 10
    assert {c.claimed_by for c in claims} <= {"replica-a", "replica-b"}
