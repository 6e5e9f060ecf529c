"""Digests that never call a cluster healthy blind: the Kubernetes API down, EC2 throttled for whole sampling
slots, pod failures on both sides of a digest's cut-off, and the first sample after a restart. Against the
simulated cluster over HTTP, driven by an injected clock; two replicas share one Postgres where it matters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from bot.app import build_cnibot
from bot.config import load_settings
from bot.digests.poster import POSTED_NOW
from bot.digests.service import DigestJobs, install_digests
from bot.digests.slack import SlackDigestSender
from bot.digests.sources import sources_for
from bot.gateways.pool import Connections
from simulator.cluster_state import NO_IP, sandbox_message
from simulator.fake_slack import FakeSlack
from simulator.faults import FaultRule
from simulator.kube.server import KUBECONFIG_TOKEN
from simulator.runner import SimulatedCluster
from storage.capacity_samples import PARTIAL, SAMPLE_FAILED
from tests.e2e.test_digests import blocks_text
from tests.support.simbot import SimBot, cluster_config_for, sim_bot

# A Monday 09:00 UTC, the period of a "daily 09:00" subscription; slots of 15 minutes start on the quarter.
PERIOD = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def jobs_for(sb: SimBot, fake_slack: FakeSlack, clock: Clock, replica: str = "e2e") -> DigestJobs:
    services = sb.bot.cnibot.services
    services.clock = clock
    sender = SlackDigestSender(WebClient(token="xoxb-test-token", base_url=fake_slack.api_url))
    return DigestJobs(services, sender, sources=sources_for(services.repos), replica=replica)


def subscribe_daily_9(jobs: DigestJobs, cluster: str) -> int:
    sub, _ = jobs.stores.digests.subscribe(
        cluster=cluster,
        channel="C0CAPACITY",
        schedule="daily 09:00",
        timezone="UTC",
        user_id="U0ALICE",
        now=PERIOD - timedelta(days=3),
    )
    return sub.id


def post_sandbox_failure(sim: SimulatedCluster, namespace: str, pod: str, at: datetime) -> None:
    """What the kubelet writes when the CNI could not give a pod an IP, through the Kubernetes API."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{pod}.{int(at.timestamp())}", "namespace": namespace},
        "involvedObject": {"kind": "Pod", "namespace": namespace, "name": pod, "apiVersion": "v1"},
        "reason": "FailedCreatePodSandBox",
        "message": sandbox_message(f"{namespace}/{pod}", NO_IP),
        "type": "Warning",
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "source": {"component": "kubelet", "host": "ip-10-0-1-5.us-east-2.compute.internal"},
    }
    resp = httpx.post(
        f"{sim.kube_url}/api/v1/namespaces/{namespace}/events",
        json=event,
        headers={"Authorization": f"Bearer {KUBECONFIG_TOKEN}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text


def posted_texts(fake_slack: FakeSlack) -> list[str]:
    return [blocks_text(call.args) for call in fake_slack.api_calls("chat.postMessage")]


# --- item 6: the Kubernetes API down ---------------------------------------------------------------------


def test_a_digest_built_while_the_kubernetes_api_is_down_says_so_and_never_healthy(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    with sim_bot("healthy", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url) as sb:
        clock = Clock(PERIOD - timedelta(minutes=10))
        jobs = jobs_for(sb, fake_slack, clock)
        subscribe_daily_9(jobs, sb.sim.cluster_name)
        sb.sim.faults.add(FaultRule(api="kube", operation="*", status=503, message="apiserver is down"))

        sample = jobs.sampling.sample(sb.sim.cluster_name)
        assert sample is not None and not sample.complete and not sample.events_read
        (attempt,) = jobs.stores.samples.attempts_since(sb.sim.cluster_name, after=None)
        assert attempt.status == PARTIAL  # not "ok": nodes, ENIConfigs and events are missing

        clock.now = PERIOD + timedelta(seconds=5)
        assert [r.outcome for r in jobs.sync()] == [POSTED_NOW]
        (text,) = posted_texts(fake_slack)
        headline = text.splitlines()[0]
        assert "healthy" not in headline.replace("health unknown", "")
        assert f"{sb.sim.cluster_name}: health unknown: the newest sample could not read nodes" in headline
        assert "pod sandbox events" in headline
        assert "Pods that failed to get an IP in the 24 h before this digest: none seen, but" in text
        assert "the pod events could not be read at the cut-off (kube:LIST events" in text
        # The footer lists everything that could not be checked, the events included: never cut.
        footer = text.split("could not check: ", 1)[1]
        for what in ("nodes (", "ENIConfigs (", "aws-node DaemonSet (", "pod sandbox events ("):
            assert what in footer


# --- item 7: failed samples show, with the age of the data -----------------------------------------------


@pytest.fixture
def sim_and_two_replicas(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, pg_url: str
) -> Iterator[tuple[SimulatedCluster, list[DigestJobs], Clock]]:
    sim = SimulatedCluster.from_scenario("healthy")
    sim.start()
    for key, value in sim.env().items():
        if key != "KUBECONFIG":
            monkeypatch.setenv(key, value)
    settings = load_settings(
        database_url=pg_url,
        slack_signing_secret="s",
        slack_bot_token="xoxb-test-token",
        slack_api_url=fake_slack.api_url,
        auto_migrate=True,
        clusters=[cluster_config_for(sim)],
    )
    clock = Clock(PERIOD)
    bots, replicas = [], []
    for name in ("replica-a", "replica-b"):
        bot = build_cnibot(settings)
        bots.append(bot)
        bot.services.clock = clock
        sender = SlackDigestSender(WebClient(token="xoxb-test-token", base_url=fake_slack.api_url))
        replicas.append(DigestJobs(bot.services, sender, sources=sources_for(bot.services.repos), replica=name))
    try:
        yield sim, replicas, clock
    finally:
        for bot in bots:
            bot.services.connections.close()
            bot.services.repos.dispose()
        sim.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_samples_failed_by_ec2_throttling_show_in_the_next_digest_with_the_age_of_its_data(
    sim_and_two_replicas: tuple[SimulatedCluster, list[DigestJobs], Clock], fake_slack: FakeSlack
) -> None:
    sim, (a, b), clock = sim_and_two_replicas
    cluster = sim.cluster_name
    sub_id = subscribe_daily_9(a, cluster)

    # Yesterday: a good sample and a digest, so that "no change" would be the easy answer today.
    clock.now = PERIOD - timedelta(days=1, minutes=5)
    assert a.sample_subscribed()
    clock.now = PERIOD - timedelta(days=1) + timedelta(seconds=2)
    assert [r.outcome for r in b.sync()] == [POSTED_NOW]

    clock.now = PERIOD - timedelta(minutes=44)
    assert a.sample_subscribed() and not b.sample_subscribed()  # one replica per slot
    sim.faults.add(FaultRule(api="ec2", operation="DescribeSubnets", code="RequestLimitExceeded", status=503))
    # Slots are 15 minutes apart but this test runs in seconds: new connections, so the 10 s EC2 caches
    # cannot answer for the throttled API.
    for replica in (a, b):
        replica.services.connections = Connections()
    for minutes in (29, 14):  # two whole slots throttled, each sampled by one replica
        clock.now = PERIOD - timedelta(minutes=minutes)
        assert a.sample_subscribed() == [] and b.sample_subscribed() == []
    attempts = a.stores.samples.attempts_since(cluster, after=None)
    assert [x.status for x in attempts[:2]] == [SAMPLE_FAILED, SAMPLE_FAILED]

    clock.now = PERIOD + timedelta(seconds=3)
    outcomes = [a.poster.run(sub_id).outcome, b.poster.run(sub_id).outcome]
    assert sorted(outcomes) == ["lost", POSTED_NOW]
    today = posted_texts(fake_slack)[-1]
    headline = today.splitlines()[0]
    assert "No change" not in today
    assert "health unknown: the last 2 samples failed" in headline and "RequestLimitExceeded" in headline
    assert "its figures are from 44 min ago" in headline
    assert "from the sample taken 2026-03-02 08:16 UTC (44 min ago)" in today


# --- item 8: pod-failure windows tile time -----------------------------------------------------------------


def test_pod_failures_before_the_first_sample_and_after_the_newest_one_are_each_reported_once(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    with sim_bot("healthy", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url) as sb:
        sim = sb.sim
        clock = Clock(PERIOD - timedelta(minutes=40))
        jobs = jobs_for(sb, fake_slack, clock)
        sub_id = subscribe_daily_9(jobs, sim.cluster_name)

        # Before the first sample ever, then between the newest sample and the cut-off, then after the cut-off.
        for pod, minutes in (("early-1", -55), ("early-2", -50), ("early-3", -45)):
            post_sandbox_failure(sim, "shop", pod, PERIOD + timedelta(minutes=minutes))
        assert jobs.sampling.sample(sim.cluster_name) is not None  # 08:20: the first sample
        post_sandbox_failure(sim, "shop", "between", PERIOD - timedelta(minutes=4))
        post_sandbox_failure(sim, "shop", "after-cutoff", PERIOD + timedelta(minutes=1))

        clock.now = PERIOD + timedelta(minutes=2)  # the cron job fires a little late
        assert [r.outcome for r in [jobs.poster.run(sub_id)]] == [POSTED_NOW]
        first = posted_texts(fake_slack)[-1]
        assert "4 pods failed to get an IP" in first.splitlines()[0]
        for pod in ("early-1", "early-2", "early-3", "between"):
            assert f"shop/{pod}" in first
        assert "shop/after-cutoff" not in first

        # The next day: only what happened after the first digest's cut-off.
        clock.now = PERIOD + timedelta(days=1) - timedelta(minutes=10)
        assert jobs.sampling.sample(sim.cluster_name) is not None
        clock.now = PERIOD + timedelta(days=1, seconds=1)
        assert jobs.poster.run(sub_id).outcome == POSTED_NOW
        second = posted_texts(fake_slack)[-1]
        assert "1 pod failed to get an IP" in second.splitlines()[0]
        assert "shop/after-cutoff" in second
        for pod in ("early-1", "early-2", "early-3", "between"):
            assert f"shop/{pod}" not in second


# --- item 9: sampling starts at once after a restart ---------------------------------------------------------


def test_serve_samples_subscribed_clusters_at_start_not_one_interval_later(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    sim = SimulatedCluster.from_scenario("healthy")
    sim.start()
    try:
        for key, value in sim.env().items():
            if key != "KUBECONFIG":
                monkeypatch.setenv(key, value)
        settings: dict[str, Any] = {
            "database_url": sqlite_url,
            "slack_signing_secret": "s",
            "slack_bot_token": "xoxb-test-token",
            "slack_api_url": fake_slack.api_url,
            "clusters": [cluster_config_for(sim)],
        }
        bot = build_cnibot(load_settings(**settings))
        jobs = install_digests(bot.services)
        assert jobs is not None
        jobs.stores.digests.subscribe(
            cluster=sim.cluster_name,
            channel="C0CAPACITY",
            schedule="daily 09:00",
            timezone="UTC",
            user_id="U0ALICE",
            now=datetime.now(UTC),
        )
        bot.services.scheduler.start()  # what `cnibot serve` does after building the bot
        try:
            deadline = time.monotonic() + 20
            while jobs.stores.samples.latest_taken_at(sim.cluster_name) is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert jobs.stores.samples.latest_taken_at(sim.cluster_name) is not None
        finally:
            bot.services.scheduler.shutdown(wait=True)
            bot.services.connections.close()
            bot.services.repos.dispose()
    finally:
        sim.stop()


# --- item 10: the smaller things ------------------------------------------------------------------------------


def test_a_post_left_unfinished_by_a_dead_replica_is_closed_and_listed_as_uncertain(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    with sim_bot("healthy", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url) as sb:
        clock = Clock(PERIOD - timedelta(days=1, minutes=10))
        jobs = jobs_for(sb, fake_slack, clock)
        sub_id = subscribe_daily_9(jobs, sb.sim.cluster_name)
        assert jobs.sampling.sample(sb.sim.cluster_name) is not None
        clock.now = PERIOD - timedelta(days=1) + timedelta(seconds=2)
        assert jobs.poster.run(sub_id).outcome == POSTED_NOW  # yesterday's went out
        # Today a replica claims the period and dies before posting.
        clock.now = PERIOD + timedelta(seconds=2)
        assert jobs.stores.digests.claim(subscription_id=sub_id, period=PERIOD, replica="dead", now=clock.now)

        clock.now = PERIOD + timedelta(minutes=20)
        jobs.sync()  # another replica's periodic sync
        claim = jobs.stores.digests.claim_for(sub_id, PERIOD)
        assert claim is not None and claim.status == "uncertain" and "stopped" in (claim.error or "")
        assert len(fake_slack.api_calls("chat.postMessage")) == 1  # never posted twice

        listed = blocks_text(sb.ask("digest list"))
        assert "Sun 2026-03-01 09:00; Mon 2026-03-02 09:00 may not have been posted" in listed


def test_a_preview_of_the_demo_cluster_names_the_cni_cause_and_the_leaked_enis(
    monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    with sim_bot("demo", monkeypatch=monkeypatch, slack=fake_slack, database_url=sqlite_url) as sb:
        text = blocks_text(sb.ask("digest now"))
        subnet_2a = sb.sim.cluster.subnets["private-us-east-2a"].id
        # The CNI's own words, not only the kubelet's "Failed to create pod sandbox" prefix.
        assert "`shop/checkout-7`: no-ip" in text and "(add cmd: failed to assign an IP address to container)" in text
        assert "Delete the leaked ENIs" in text
        assert f"3 in {subnet_2a} (us-east-2a) hold 30 of its 123 addresses" in text
        assert f"{subnet_2a}: 0 -> 30 free addresses" in text
