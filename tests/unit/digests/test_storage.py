from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.domain.capacity_samples import FailedPod, SubnetSample
from bot.domain.digest_records import FAILED, POSTED
from tests.unit.digests.factories import NOW, digest_db, draining_history, node, sample, store_all, subscription


def test_subscribing_a_channel_again_reschedules_it(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, digests, _samples):
        first, created = digests.subscribe(
            cluster="prod", channel="C1", schedule="daily 09:00", timezone="UTC", user_id="U1", now=NOW
        )
        again, created_again = digests.subscribe(
            cluster="prod", channel="C1", schedule="weekly mon 08:00", timezone="Europe/Berlin", user_id="U2", now=NOW
        )
        assert (created, created_again) == (True, False)
        assert again.id == first.id
        assert [(s.schedule, s.timezone, s.created_by) for s in digests.subscriptions()] == [
            ("weekly mon 08:00", "Europe/Berlin", "U1")
        ]


def test_a_period_is_claimed_once(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, digests, _samples):
        sub = subscription(digests)
        won = digests.claim(subscription_id=sub, period=NOW, replica="a", now=NOW)
        lost = digests.claim(subscription_id=sub, period=NOW, replica="b", now=NOW)
        next_day = digests.claim(subscription_id=sub, period=NOW + timedelta(days=1), replica="b", now=NOW)
        assert won is not None and lost is None and next_day is not None
        assert digests.claim_for(sub, NOW) == won


def test_only_a_failed_claim_can_be_taken_again_and_only_by_one(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, digests, _samples):
        sub = subscription(digests)
        claim = digests.claim(subscription_id=sub, period=NOW, replica="a", now=NOW)
        assert claim is not None
        assert digests.retake_failed(claim_id=claim.id, replica="b", now=NOW) is None  # still in progress
        digests.finish(claim.id, status=FAILED, now=NOW, error="not_in_channel")
        retaken = digests.retake_failed(claim_id=claim.id, replica="b", now=NOW)
        assert retaken is not None and (retaken.attempts, retaken.claimed_by, retaken.late) == (2, "b", True)
        assert digests.retake_failed(claim_id=claim.id, replica="c", now=NOW) is None


def test_last_posted_and_unsubscribe(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, digests, _samples):
        sub = subscription(digests)
        for day in range(3):
            claim = digests.claim(subscription_id=sub, period=NOW + timedelta(days=day), replica="a", now=NOW)
            assert claim is not None
            if day < 2:
                digests.finish(claim.id, status=POSTED, now=NOW, summary={"level": "healthy"})
        last = digests.last_posted(sub, before=NOW + timedelta(days=2))
        assert last is not None and last.period == NOW + timedelta(days=1) and last.summary == {"level": "healthy"}
        removed = digests.unsubscribe(channel="C0DIGEST")
        assert [s.id for s in removed] == [sub] and digests.claims() == [] and digests.subscriptions() == []


def test_samples_round_trip_and_histories_are_oldest_first(tmp_path: Path) -> None:
    latest = sample(
        [SubnetSample("subnet-a", "us-east-2a", 1019, 300, 40), SubnetSample("subnet-b", "us-east-2b", 1019, 900, 10)],
        nodes=[node("ip-10-0-0-1"), node("ip-10-0-0-2", assigned=27, held=27, enis=3)],
    )
    with digest_db(tmp_path) as (_, _digests, samples):
        store_all(samples, draining_history(latest, {"subnet-a": 100}, days=2))
        back = samples.latest("prod")
        assert back is not None
        assert back.subnets == latest.subnets and back.nodes == latest.nodes
        assert back.limits == latest.limits and back.aws_node_env == latest.aws_node_env
        assert back.vpc_subnets == latest.vpc_subnets and back.settings_hash == latest.settings_hash
        histories = {h.subnet_id: h for h in samples.histories("prod", since=NOW - timedelta(days=1))}
        a = histories["subnet-a"].points
        assert [t for t, _ in a] == sorted(t for t, _ in a) and len(a) == 25
        assert a[0] == (NOW - timedelta(days=1), 400) and a[-1] == (NOW, 300)


def test_a_sampling_slot_is_taken_once(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, _digests, samples):
        assert samples.claim_slot(cluster="prod", slot=NOW, replica="a", now=NOW) is not None
        assert samples.claim_slot(cluster="prod", slot=NOW, replica="b", now=NOW) is None
        assert samples.claim_slot(cluster="dev", slot=NOW, replica="b", now=NOW) is not None


def test_thinning_keeps_failed_pods_and_strips_old_node_rows(tmp_path: Path) -> None:
    latest = sample([SubnetSample("subnet-a", "us-east-2a", 1019, 300)], nodes=[node("n1")])
    history = draining_history(latest, {"subnet-a": 10}, days=10, every=timedelta(minutes=15))
    failure_at = NOW - timedelta(days=5, minutes=10)
    history = [
        replace(s, failed_pods=(FailedPod("shop", "web-1", "no-ip", "failed to assign", failure_at),))
        if s.taken_at == NOW - timedelta(days=5)
        else replace(s, nodes=latest.nodes)
        for s in history
    ]
    with digest_db(tmp_path) as (_, _digests, samples):
        store_all(samples, history)
        before = samples.sample_count("prod")
        dropped = samples.thin("prod", now=NOW)
        assert dropped > 0 and samples.sample_count("prod") == before - dropped
        assert samples.thin("prod", now=NOW) == 0
        failed = samples.failed_pods("prod", since=NOW - timedelta(days=7), until=NOW)
        assert [(f.ref, f.last_seen) for f in failed] == [("shop/web-1", failure_at)]
        samples.strip_details("prod", keep=1)
        assert samples.latest("prod").nodes == latest.nodes  # type: ignore[union-attr]
        assert samples.failed_pods("prod", since=NOW - timedelta(days=4), until=NOW) == []
