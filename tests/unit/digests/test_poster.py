from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import DigestSettings
from bot.digests.builder import DigestBuilder
from bot.digests.chart import free_ips_chart
from bot.digests.poster import (
    DONE,
    FAILED_NOW,
    LOST,
    NOT_DUE,
    POSTED_NOW,
    REFUSED,
    SKIPPED_NOW,
    TOO_LATE,
    DigestPoster,
)
from bot.digests.slack import Posted, PostError
from bot.digests.sources import NoSources
from bot.domain.capacity_samples import SubnetSample
from storage.capacity_samples import SampleRepository
from storage.digests import FAILED, POSTED, UNCERTAIN, DigestRepository
from tests.unit.digests.factories import NOW, digest_db, draining_history, sample, store_all, subscription


@dataclass
class FakeSender:
    posts: list[tuple[str, str]] = field(default_factory=list)
    charts: list[tuple[str, int]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> Posted:
        if self.failures:
            raise self.failures.pop(0)
        self.posts.append((channel, text))
        return Posted("C0DIGEST", f"{len(self.posts)}.0001")

    def attach_chart(self, posted: Posted, png: bytes, *, filename: str, title: str) -> None:
        assert png.startswith(b"\x89PNG")
        self.charts.append((posted.ts, len(png)))


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    poster: DigestPoster
    sender: FakeSender
    clock: Clock
    digests: DigestRepository
    samples: SampleRepository
    sub: int


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with digest_db(tmp_path) as (_, digests, samples):
        latest = sample([SubnetSample("subnet-a", "us-east-2a", 4091, 300, 10)])
        store_all(samples, draining_history(latest, {"subnet-a": 100}, days=3))
        sender, clock = FakeSender(), Clock(NOW + timedelta(seconds=5))
        poster = DigestPoster(
            digests=digests,
            builder=DigestBuilder(samples, NoSources()),
            sender=sender,
            settings=DigestSettings(grace_minutes=180),
            replica="test",
            clock=clock,
        )
        yield Rig(poster, sender, clock, digests, samples, subscription(digests))


def test_a_due_period_is_posted_once_with_its_chart(rig: Rig) -> None:
    first = rig.poster.run(rig.sub)
    assert (first.outcome, first.period, first.late) == (POSTED_NOW, NOW, False)
    assert rig.poster.run(rig.sub).outcome == LOST
    assert rig.poster.run(rig.sub, catching_up=True).outcome == DONE
    assert [c for c, _ in rig.sender.posts] == ["C0DIGEST"]
    assert rig.sender.posts[0][1].startswith(":red_circle: *prod is at risk: subnet-a (us-east-2a) runs out in about")
    assert [ts for ts, _ in rig.sender.charts] == ["1.0001"]
    claim = rig.digests.claim_for(rig.sub, NOW)
    assert claim is not None and (claim.status, claim.message_ts, claim.channel_id) == (POSTED, "1.0001", "C0DIGEST")
    assert claim.summary is not None and claim.summary["free"] == {"subnet-a": 300}


def test_a_missed_period_is_posted_late_within_the_grace_window_only(rig: Rig) -> None:
    rig.clock.now = NOW + timedelta(minutes=90)
    late = rig.poster.run(rig.sub, catching_up=True)
    assert (late.outcome, late.late) == (POSTED_NOW, True)
    # A late digest says when its figures are from (the newest sample here: 09:00).
    assert rig.sender.posts[0][1].endswith("(late: due 2026-03-02 09:00 UTC; figures from 09:00 UTC)")
    rig.clock.now = NOW + timedelta(days=1, minutes=181)
    assert rig.poster.run(rig.sub, catching_up=True).outcome == TOO_LATE
    assert len(rig.sender.posts) == 1 and len(rig.digests.claims(rig.sub)) == 1


def test_slack_refusing_the_post_lets_a_later_run_try_again(rig: Rig) -> None:
    rig.sender.failures.append(PostError("not_in_channel"))
    assert rig.poster.run(rig.sub).outcome == FAILED_NOW
    assert rig.digests.claim_for(rig.sub, NOW).status == FAILED  # type: ignore[union-attr]
    rig.clock.now += timedelta(seconds=30)
    retry = rig.poster.run(rig.sub, catching_up=True)
    assert (retry.outcome, retry.late) == (POSTED_NOW, True)
    assert rig.digests.claim_for(rig.sub, NOW).attempts == 2  # type: ignore[union-attr]
    assert len(rig.sender.posts) == 1


def test_an_uncertain_post_is_never_retried(rig: Rig) -> None:
    rig.sender.failures.append(TimeoutError("read timed out"))
    assert rig.poster.run(rig.sub).outcome == FAILED_NOW
    assert rig.digests.claim_for(rig.sub, NOW).status == UNCERTAIN  # type: ignore[union-attr]
    assert rig.poster.run(rig.sub, catching_up=True).outcome == DONE
    assert rig.sender.posts == []


def test_a_subscription_made_after_the_instant_waits_for_the_next_one(rig: Rig) -> None:
    later = subscription(rig.digests, channel="C0LATE", now=NOW + timedelta(seconds=1))
    assert rig.poster.run(later).outcome == NOT_DUE
    rig.clock.now = NOW + timedelta(days=1)
    assert rig.poster.run(later).outcome == POSTED_NOW


def test_nothing_to_post_before_the_first_sample(rig: Rig) -> None:
    empty = subscription(rig.digests, cluster="dev", channel="C0DEV")
    assert rig.poster.run(empty).outcome == SKIPPED_NOW
    assert rig.sender.posts == []


def test_an_unchanged_cluster_gets_one_line_and_no_chart(rig: Rig) -> None:
    rig.poster.run(rig.sub)
    steady = sample([SubnetSample("subnet-a", "us-east-2a", 4091, 300, 10)], at=NOW + timedelta(days=1))
    rig.samples.add(steady)
    rig.clock.now = NOW + timedelta(days=1, seconds=5)
    assert rig.poster.run(rig.sub).outcome == POSTED_NOW
    text = rig.sender.posts[1][1]
    assert text.startswith(":red_circle: prod is at risk") and text.endswith(
        "No change since the last digest (posted 24 h ago); figures from just now."
    )
    assert len(rig.sender.charts) == 1


def test_no_change_counts_from_when_the_last_digest_was_posted_not_its_period(rig: Rig) -> None:
    rig.clock.now = NOW + timedelta(minutes=150)  # no replica was up at 09:00: posted late, at 11:30
    assert rig.poster.run(rig.sub, catching_up=True).outcome == POSTED_NOW
    rig.samples.add(sample([SubnetSample("subnet-a", "us-east-2a", 4091, 300, 10)], at=NOW + timedelta(days=1)))
    rig.clock.now = NOW + timedelta(days=1, seconds=5)
    assert rig.poster.run(rig.sub).outcome == POSTED_NOW
    assert rig.sender.posts[1][1].endswith("No change since the last digest (posted 21 h ago); figures from just now.")


def test_the_chart_is_a_png_of_the_last_seven_days(rig: Rig) -> None:
    histories = rig.samples.histories("prod", since=NOW - timedelta(days=7))
    png = free_ips_chart(histories, NOW)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n") and 10_000 < len(png) < 200_000
    assert free_ips_chart(histories, NOW + timedelta(days=30)) is None  # nothing in that window


def test_without_grace_the_cron_job_still_posts_on_time(rig: Rig) -> None:
    rig.poster.settings = DigestSettings(grace_minutes=0)
    rig.clock.now = NOW + timedelta(minutes=30)
    assert rig.poster.run(rig.sub, catching_up=True).outcome == TOO_LATE
    rig.clock.now = NOW + timedelta(seconds=2)
    assert rig.poster.run(rig.sub).outcome == POSTED_NOW


def test_a_channel_the_access_rules_no_longer_allow_gets_nothing(rig: Rig) -> None:
    rig.poster.may_post = lambda cluster, channel: False
    assert rig.poster.run(rig.sub).outcome == REFUSED
    assert rig.sender.posts == [] and rig.digests.claim_for(rig.sub, NOW) is None
