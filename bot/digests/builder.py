"""Builds a cluster's digest from what is stored: the newest sample, eight days of subnet history, the pods
that failed in the digest's window, how the last sampling slots went, and the approval records.

A digest's window runs from the previous digest's cut-off to its own, so consecutive digests tile time: a
failure seen after the newest sample but before the cut-off is read from the cluster's events at build time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.digests.content import DataState, Digest, DigestInputs, DigestSummary, build_digest
from bot.digests.sources import DigestSources
from bot.domain.capacity_samples import FailedPod
from bot.domain.versions import VersionReport
from bot.errors import UpstreamError
from storage.capacity_samples import SAMPLE_FAILED, SampleRepository

HISTORY_DAYS = 8  # forecasts fit 7 days; one more so "7 days ago" has a sample to compare with
FIRST_WINDOW = timedelta(days=1)  # what a first digest (or a preview) looks back over

# (cluster, since, until) -> pods whose sandbox failed for lack of an IP in (since, until]; raises UpstreamError.
RecentFailures = Callable[[str, datetime, datetime], list[FailedPod]]


class DigestBuilder:
    def __init__(
        self,
        samples: SampleRepository,
        sources: DigestSources,
        *,
        recent_failures: RecentFailures | None = None,
        stale_after: timedelta | None = None,
        versions: Callable[[str], VersionReport | None] | None = None,
    ) -> None:
        self.versions = versions  # cluster -> the VPC CNI version report (EKS asked); None = skip
        self.samples = samples
        self.sources = sources
        self.recent_failures = recent_failures
        self.stale_after = stale_after  # a sample older than this at build time is called stale

    def build(
        self,
        cluster: str,
        now: datetime,
        *,
        since: datetime | None,
        until: datetime | None = None,
        previous: DigestSummary | None = None,
        previous_posted_at: datetime | None = None,
        first_window: timedelta = FIRST_WINDOW,
    ) -> Digest:
        """The window of failures is (since, until]: `since` is the previous digest's cut-off (None for a
        first digest, which looks back `first_window`), `until` this digest's (the scheduled instant; now)."""
        until = until or now
        window_start = since or until - first_window
        latest = self.samples.latest(cluster)
        failed = self.samples.failed_pods(cluster, since=window_start, until=until)
        failed += self.sources.diagnosed_failures(cluster, since=window_start, until=until)
        fresh, fresh_problem = self._failures_after_samples(cluster, window_start, until)
        failed += fresh
        attempts = self.samples.attempts_since(cluster, after=latest.taken_at if latest else None)
        failed_slots = [a for a in attempts if a.status == SAMPLE_FAILED]
        return build_digest(
            DigestInputs(
                cluster=cluster,
                now=now,
                latest=latest,
                histories=self.samples.histories(cluster, since=now - timedelta(days=HISTORY_DAYS)),
                failed_pods=failed,
                since=since,
                window_start=window_start,
                until=until,
                approved=self.sources.approved_settings(cluster),
                pending=self.sources.pending_changes(cluster),
                previous=previous,
                previous_posted_at=previous_posted_at,
                version=self._version(cluster),
                data=DataState(
                    failed_slots=len(failed_slots),
                    last_error=failed_slots[0].error if failed_slots else None,
                    stale_after=self.stale_after,
                    events_unread=tuple(self.samples.events_unread(cluster, since=window_start, until=until)),
                    fresh_events_problem=fresh_problem,
                ),
            )
        )

    def _version(self, cluster: str) -> VersionReport | None:
        if self.versions is None:
            return None
        try:
            return self.versions(cluster)
        except UpstreamError:
            return None  # the version line is extra: a digest never fails for it

    def _failures_after_samples(
        self, cluster: str, window_start: datetime, until: datetime
    ) -> tuple[list[FailedPod], str | None]:
        """Failures between the newest sample that read the events and the cut-off, read now."""
        if self.recent_failures is None:
            return [], None
        read_at = self.samples.events_read_at(cluster)
        if read_at is not None and read_at >= until:
            return [], None  # a sample after the cut-off has them all
        try:
            return self.recent_failures(cluster, window_start, until), None
        except UpstreamError as exc:
            return [], f"{exc.api}: {exc.reason}"
