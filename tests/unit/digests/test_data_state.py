"""A digest admits failed, partial and stale samples before anything else, and is never "healthy" on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.digests.builder import DigestBuilder
from bot.digests.content import DataState, DigestInputs, build_digest
from bot.digests.outlook import Level
from bot.digests.render import digest_doc
from bot.digests.sources import NoSources
from bot.domain.capacity_samples import SubnetSample
from bot.render.doc import render_text
from storage.capacity_samples import OK, PARTIAL, SAMPLE_FAILED
from tests.unit.digests.factories import NOW, digest_db, sample

ROOMY = SubnetSample("subnet-a", "us-east-2a", 4091, 3000, 20)
UNREAD = (
    "nodes (kube:LIST nodes: API server error 503)",
    "ENIConfigs (kube:LIST eniconfigs: API server error 503)",
    "aws-node DaemonSet (kube:GET daemonsets: API server error 503)",
    "pods (kube:LIST pods: API server error 503)",
    "pod sandbox events (kube:LIST events: API server error 503)",
)


def test_a_partial_sample_is_stored_as_partial_and_its_digest_is_not_healthy(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, _digests, samples):
        partial = replace(sample([]), could_not_check=UNREAD, events_read=False)
        samples.add(partial)
        (attempt,) = samples.attempts_since("prod", after=None)
        assert attempt.status == PARTIAL
        digest = DigestBuilder(samples, NoSources()).build("prod", NOW, since=None)
    assert digest.level == Level.UNKNOWN
    assert digest.headline == (
        "prod: health unknown: the newest sample could not read nodes, ENIConfigs, aws-node DaemonSet, "
        "pod sandbox events, pods"
    )
    text = render_text(digest_doc(digest))
    assert "healthy" not in text.replace("health unknown", "")
    assert "none seen, but 1 sample in this window could not read the pod events" in text
    assert "could not check: " + "; ".join(UNREAD) in text  # all five, not the first three
    assert "The newest sample could not read nodes, ENIConfigs, aws-node DaemonSet" in text
    assert "Subnets: none could be attributed to the cluster in this sample." in text  # no empty table


def test_a_complete_sample_is_ok_and_healthy(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, _digests, samples):
        samples.add(sample([ROOMY]))
        assert [a.status for a in samples.attempts_since("prod", after=None)] == [OK]
        digest = DigestBuilder(samples, NoSources()).build("prod", NOW, since=None)
    assert digest.level == Level.HEALTHY and digest.caveats == ()


def test_a_slot_failed_after_the_newest_sample_shows_in_a_preview_with_the_age_of_the_data(tmp_path: Path) -> None:
    with digest_db(tmp_path) as (_, _digests, samples):
        samples.add(sample([ROOMY], at=NOW - timedelta(minutes=17)))
        slot = samples.claim_slot(cluster="prod", slot=NOW - timedelta(minutes=2), replica="a", now=NOW)
        assert slot is not None
        samples.fail(slot, "UpstreamError: ec2:DescribeSubnets: throttled (RequestLimitExceeded)")
        digest = DigestBuilder(samples, NoSources(), stale_after=timedelta(minutes=30)).build("prod", NOW, since=None)
        assert [a.status for a in samples.attempts_since("prod", after=None)] == [SAMPLE_FAILED, OK]
    assert digest.level == Level.UNKNOWN
    assert digest.headline == (
        "prod: health unknown: the last sample failed (UpstreamError: ec2:DescribeSubnets: throttled "
        "(RequestLimitExceeded)); its figures are from 17 min ago"
    )


def test_a_stale_sample_is_called_stale() -> None:
    latest = sample([ROOMY], at=NOW - timedelta(hours=2))
    digest = build_digest(DigestInputs("prod", NOW, latest, (), data=DataState(stale_after=timedelta(minutes=30))))
    assert digest.level == Level.UNKNOWN
    assert digest.headline == "prod: health unknown: its figures are from 2 h ago"


def test_a_subnet_at_risk_stays_at_risk_on_a_partial_sample_and_says_what_is_missing() -> None:
    tight = SubnetSample("subnet-a", "us-east-2a", 59, 0, 0)
    latest = replace(sample([tight]), could_not_check=UNREAD[4:], events_read=False)
    digest = build_digest(DigestInputs("prod", NOW, latest, ()))
    assert digest.level == Level.AT_RISK
    assert digest.headline == (
        "prod is at risk: subnet-a (us-east-2a) has no free IPs left "
        "(data incomplete: the newest sample could not read pod sandbox events)"
    )


def test_a_complete_sample_without_any_subnet_is_not_called_healthy() -> None:
    digest = build_digest(DigestInputs("prod", NOW, sample([]), ()))
    assert digest.level == Level.UNKNOWN
    assert digest.headline == (
        "prod: health unknown: the sample found no subnet that the cluster's nodes or ENIConfigs use"
    )
