"""The digest jobs of one replica: sampling, posting, and keeping both in step with the database.

Every replica runs the same APScheduler jobs with an in-memory store and lets the database decide who acts:
- `digests:sample` every `sample_interval_minutes`: each subscribed cluster's sampling slot is claimed by one
  replica (the EC2 budget is shared), which samples, stores, thins and trims;
- one cron job per subscription (`digest:<id>:<schedule>:<tz>`), which claims and posts the period;
- `digests:sync` every 30 s: re-reads the subscriptions so that one added or removed in Slack reaches every
  replica without a restart, and posts (late, once) any period missed while no replica was up.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.triggers.cron import CronTrigger

from bot.config import ClusterConfig
from bot.digests.builder import DigestBuilder
from bot.digests.observe import recent_failed_pods, take_sample
from bot.digests.poster import DigestPoster, RunResult
from bot.digests.schedule import schedule_from_text
from bot.digests.slack import DigestSender, SlackDigestSender
from bot.digests.sources import DigestSources, NoSources, sources_for
from bot.domain.capacity_samples import CapacitySample, FailedPod
from bot.domain.digest_records import Subscription
from bot.domain.versions import VersionReport
from bot.errors import UpstreamError
from bot.gather.versions import gather_versions
from bot.services import Services
from storage.capacity_samples import SampleRepository

log = logging.getLogger("cnibot.digests")

SYNC_JOB = "digests:sync"
SAMPLE_JOB = "digests:sample"
POST_JOB_PREFIX = "digest:"
SYNC_SECONDS = 30
PENDING_SAMPLE_TIMEOUT = timedelta(minutes=30)
CLAIM_TIMEOUT = timedelta(minutes=15)  # a post (build, message, chart) takes seconds; longer means its replica died
# The first sample of a cluster reads the sandbox failures of this long before it (Kubernetes keeps events
# for an hour by default, so in practice: all there are).
FIRST_LOOKBACK = timedelta(hours=24)

# (cluster, now, failures since) -> sample; raises UpstreamError when nothing useful could be read.
Sampler = Callable[[ClusterConfig, datetime, datetime], CapacitySample]


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:96]


class Sampling:
    """Capacity samples of the configured clusters, one replica per slot."""

    def __init__(
        self, services: Services, samples: SampleRepository, *, sampler: Sampler | None = None, replica: str = ""
    ) -> None:
        self.services = services
        self.samples = samples
        self.replica = replica or replica_id()
        self._sampler = sampler or self._take_sample

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.services.settings.digests.sample_interval_minutes)

    def sample(self, cluster_name: str) -> CapacitySample | None:
        """Sample the cluster for the current slot unless another replica has. None when not sampled here."""
        return self.try_sample(cluster_name)[0]

    def try_sample(self, cluster_name: str) -> tuple[CapacitySample | None, str | None]:
        """(the sample, None), or (None, why not) when it failed; (None, None) when another replica has the slot."""
        cluster = self.services.clusters.get(cluster_name)
        if cluster is None:
            log.warning("digest subscriptions name cluster %s, which is not configured", cluster_name)
            return None, f"cluster {cluster_name} is not configured"
        now = self.services.clock()
        slot = _slot(now, self.interval)
        # From the last time the events were read, so no failure falls between two samples.
        previous = self.samples.events_read_at(cluster_name)
        sample_id = self.samples.claim_slot(cluster=cluster_name, slot=slot, replica=self.replica, now=now)
        if sample_id is None:
            return None, None
        try:
            sample = self._sampler(cluster, now, previous or now - FIRST_LOOKBACK)
        except Exception as exc:
            log.warning("capacity sample of %s failed: %s", cluster_name, exc, exc_info=not _expected(exc))
            self.samples.fail(sample_id, f"{type(exc).__name__}: {exc}")
            return None, str(exc) if _expected(exc) else f"internal error ({type(exc).__name__})"
        self.samples.store(sample_id, sample)
        if not sample.complete:
            missing = "; ".join(sample.could_not_check)
            log.warning("capacity sample of %s is partial: could not check %s", cluster_name, missing)
        self._housekeeping(cluster_name, now)
        return sample, None

    def ensure_recent(self, cluster_name: str) -> str | None:
        """Sample now when the newest sample is older than one interval (`/cni digest now` on a new cluster).
        Returns why sampling failed, if it did."""
        latest = self.samples.latest_taken_at(cluster_name)
        if latest is not None and self.services.clock() - latest <= self.interval:
            return None
        return self.try_sample(cluster_name)[1]

    def _housekeeping(self, cluster_name: str, now: datetime) -> None:
        dropped = self.samples.thin(cluster_name, now=now)
        self.samples.strip_details(cluster_name)
        self.samples.expire_pending(older_than=now - PENDING_SAMPLE_TIMEOUT)
        if dropped:
            log.info("thinned %d old samples of %s", dropped, cluster_name)

    def _take_sample(self, cluster: ClusterConfig, now: datetime, since: datetime) -> CapacitySample:
        return take_sample(self.services.connections.get(cluster), now=now, since=since)


class DigestJobs:
    def __init__(
        self,
        services: Services,
        sender: DigestSender,
        *,
        sources: DigestSources | None = None,
        sampler: Sampler | None = None,
        replica: str = "",
    ) -> None:
        self.services = services
        self.replica = replica or replica_id()
        self.stores = services.repos
        self.sampling = Sampling(services, self.stores.samples, sampler=sampler, replica=self.replica)
        self.builder = digest_builder(services, self.stores.samples, sources or NoSources())
        self.poster = DigestPoster(
            digests=self.stores.digests,
            builder=self.builder,
            sender=sender,
            settings=services.settings.digests,
            replica=self.replica,
            # Late-bound, so the clock can be swapped (tests drive periods with an injected clock).
            clock=lambda: self.services.clock(),
            may_post=self._may_post,
        )

    def _may_post(self, cluster_name: str, channel: str) -> bool:
        from bot.access import rules_of
        from bot.domain.access import Action, allows_channel

        cluster = self.services.clusters.get(cluster_name)
        return cluster is None or allows_channel(rules_of(cluster), Action.DIGEST, channel)

    def install(self) -> None:
        """Register the jobs; they run once `cnibot serve` starts the scheduler, both at once (a restart must
        not leave a cluster unsampled, or a missed period unposted, for a whole interval)."""
        scheduler = self.services.scheduler
        scheduler.every(SYNC_JOB, SYNC_SECONDS, self.sync, run_now=True)
        interval = self.sampling.interval.total_seconds()
        scheduler.every(SAMPLE_JOB, interval, self.sample_subscribed, jitter=int(min(30, interval / 10)), run_now=True)

    def sync(self) -> list[RunResult]:
        """Match this replica's jobs to the subscriptions in the database, close claims a dead replica left
        in progress, then post any missed period."""
        now = self.services.clock()
        abandoned = self.stores.digests.abandon_claimed(older_than=now - CLAIM_TIMEOUT, now=now)
        if abandoned:
            log.warning("%d digest post(s) were left unfinished by a stopped replica; marked uncertain", abandoned)
        subscriptions = self.stores.digests.subscriptions()
        self.reconcile(subscriptions)
        return [self.poster.run(sub.id, catching_up=True) for sub in subscriptions]

    def reconcile(self, subscriptions: list[Subscription]) -> None:
        scheduler = self.services.scheduler
        wanted = {post_job_id(sub): sub for sub in subscriptions}
        for job_id in scheduler.job_ids():
            if job_id.startswith(POST_JOB_PREFIX) and job_id not in wanted:
                scheduler.remove(job_id)
        present = set(scheduler.job_ids())
        for job_id, sub in wanted.items():
            if job_id in present:
                continue
            schedule = schedule_from_text(sub.schedule, sub.timezone)
            trigger = CronTrigger(timezone=schedule.timezone, **schedule.cron_fields())
            scheduler.at(job_id, trigger, partial(self.poster.run, sub.id))

    def sample_subscribed(self) -> list[CapacitySample]:
        """Sample every cluster someone subscribed to (no subscription, no EC2 calls)."""
        clusters = sorted({sub.cluster for sub in self.stores.digests.subscriptions()})
        taken = [self.sampling.sample(name) for name in clusters]
        return [s for s in taken if s is not None]


def digest_builder(services: Services, samples: SampleRepository, sources: DigestSources) -> DigestBuilder:
    """A builder that reads the failures after the newest sample from the cluster, and calls a sample older
    than two intervals stale."""

    def recent_failures(cluster_name: str, since: datetime, until: datetime) -> list[FailedPod]:
        cluster = services.clusters.get(cluster_name)
        if cluster is None:
            raise UpstreamError("cnibot", f"cluster {cluster_name} is not configured")
        return recent_failed_pods(services.connections.get(cluster), since, until)

    def versions(cluster_name: str) -> VersionReport | None:

        cluster = services.clusters.get(cluster_name)
        if cluster is None:
            return None
        facts = gather_versions(services.connections.get(cluster))
        return facts.report if facts.report.offered is not None else None

    interval = timedelta(minutes=services.settings.digests.sample_interval_minutes)
    return DigestBuilder(samples, sources, recent_failures=recent_failures, stale_after=2 * interval, versions=versions)


def install_digests(services: Services) -> DigestJobs | None:
    """The one call of the composition root: digest jobs posting through the Slack client (none without)."""
    if services.slack_client is None:
        return None
    jobs = DigestJobs(services, SlackDigestSender(services.slack_client), sources=sources_for(services.repos))
    jobs.install()
    return jobs


def post_job_id(sub: Subscription) -> str:
    return f"{POST_JOB_PREFIX}{sub.id}:{sub.schedule}:{sub.timezone}"


def _slot(now: datetime, interval: timedelta) -> datetime:
    seconds = int(interval.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def _expected(exc: Exception) -> bool:
    return isinstance(exc, UpstreamError)
