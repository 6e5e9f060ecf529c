"""Builds a cluster's digest from what is stored: the newest sample, eight days of subnet history, the pods
that failed since the last digest, and the approval records."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.digests.content import Digest, DigestInputs, DigestSummary, build_digest
from bot.digests.sources import DigestSources
from storage.digests import SampleRepository

HISTORY_DAYS = 8  # forecasts fit 7 days; one more so "7 days ago" has a sample to compare with


class DigestBuilder:
    def __init__(self, samples: SampleRepository, sources: DigestSources) -> None:
        self.samples = samples
        self.sources = sources

    def build(
        self,
        cluster: str,
        now: datetime,
        *,
        since: datetime | None,
        previous: DigestSummary | None = None,
    ) -> Digest:
        """`since`: when the last digest went out (failures are counted from there; a day when None)."""
        window_start = since or now - timedelta(days=1)
        failed = self.samples.failed_pods(cluster, since=window_start, until=now)
        failed += self.sources.diagnosed_failures(cluster, since=window_start, until=now)
        return build_digest(
            DigestInputs(
                cluster=cluster,
                now=now,
                latest=self.samples.latest(cluster),
                histories=self.samples.histories(cluster, since=now - timedelta(days=HISTORY_DAYS)),
                failed_pods=failed,
                since=since,
                approved=self.sources.approved_settings(cluster),
                pending=self.sources.pending_changes(cluster),
                previous=previous,
            )
        )
