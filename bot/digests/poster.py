"""Posting a subscription's digest for one period, exactly once across replicas.

Every run first claims (subscription, period) by inserting a row under a UNIQUE key; only the run whose insert
succeeded builds and posts. A period is posted on time by the cron job, or late (once) by the catch-up pass
while within the grace window; never after it. When Slack answered with an error nothing was posted, so the
claim may be taken again (a few times, within the window). When the outcome is unknown (a timeout after
Slack may have accepted the message), it is not retried: never twice beats always.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.config import DigestSettings
from bot.digests.builder import DigestBuilder
from bot.digests.chart import CHART_DAYS, free_ips_chart
from bot.digests.content import Digest, DigestSummary
from bot.digests.render import digest_doc
from bot.digests.schedule import Schedule, schedule_from_text
from bot.digests.slack import DigestSender, Posted, PostError
from bot.domain.digest_records import FAILED, POSTED, SKIPPED, UNCERTAIN, Claim, Subscription
from bot.render.doc import render_blocks
from storage.digests import DigestRepository

log = logging.getLogger("cnibot.digests")

MAX_ATTEMPTS = 3
ON_TIME = timedelta(minutes=5)  # later than this after the scheduled instant counts as a late post

# Outcomes of one run.
POSTED_NOW = "posted"
LOST = "lost"  # another run holds the claim: it posts, this one does not
TOO_LATE = "too-late"
NOT_DUE = "not-due"
GONE = "gone"  # unsubscribed meanwhile
FAILED_NOW = "failed"
SKIPPED_NOW = "skipped"  # claimed, nothing to say (no sample yet)
DONE = "done"  # catch-up found the period already handled
REFUSED = "refused"  # the cluster's access rules no longer let its digests go to this channel


@dataclass(frozen=True)
class RunResult:
    subscription_id: int
    period: datetime | None
    outcome: str
    late: bool = False
    detail: str = ""


class DigestPoster:
    def __init__(
        self,
        *,
        digests: DigestRepository,
        builder: DigestBuilder,
        sender: DigestSender,
        settings: DigestSettings,
        replica: str,
        clock: Callable[[], datetime],
        may_post: Callable[[str, str], bool] = lambda _cluster, _channel: True,
    ) -> None:
        # (cluster, channel) -> whether the cluster's digests rule accepts that channel now: a subscription made
        # before the rules (or before they changed) posts nothing where the rules no longer allow it.
        self.may_post = may_post
        self.digests = digests
        self.builder = builder
        self.sender = sender
        self.settings = settings
        self.replica = replica
        self.clock = clock

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.settings.grace_minutes)

    def run(self, subscription_id: int, *, catching_up: bool = False) -> RunResult:
        """Post the subscription's current period if it is due and nobody has: what cron jobs call, and the
        periodic catch-up (`catching_up`: look before claiming, as the period is usually done by then)."""
        now = self.clock()
        sub = self.digests.subscription(subscription_id)
        if sub is None:
            return RunResult(subscription_id, None, GONE)
        if not self.may_post(sub.cluster, sub.channel):
            log.warning("digest %s of %s not posted: access.digests does not allow its channel", sub.id, sub.cluster)
            return RunResult(sub.id, None, REFUSED)
        schedule = schedule_from_text(sub.schedule, sub.timezone)
        period = schedule.period_at(now)
        if period < sub.updated_at:
            # Subscribed (or rescheduled) after this instant: its first period is the next one.
            return RunResult(sub.id, period, NOT_DUE)
        if now - period > max(self.grace, ON_TIME):  # a grace of 0 still lets the cron job post on time
            return RunResult(sub.id, period, TOO_LATE)
        if catching_up:
            existing = self.digests.claim_for(sub.id, period)
            if existing is not None and not _retryable(existing):
                return RunResult(sub.id, period, DONE)
        late = now - period > ON_TIME
        claim = self.digests.claim(subscription_id=sub.id, period=period, replica=self.replica, now=now, late=late)
        if claim is None:
            claim = self._retake(sub.id, period, now)
            if claim is None:
                metrics.DIGESTS_SENT.labels("skipped").inc()
                return RunResult(sub.id, period, LOST)
        return self._post(sub, schedule, claim, now)

    def _retake(self, subscription_id: int, period: datetime, now: datetime) -> Claim | None:
        existing = self.digests.claim_for(subscription_id, period)
        if existing is None or not _retryable(existing):
            return None
        return self.digests.retake_failed(claim_id=existing.id, replica=self.replica, now=now)

    def _post(self, sub: Subscription, schedule: Schedule, claim: Claim, now: datetime) -> RunResult:
        # The window runs from the last posted digest's cut-off to this one's, so failures are reported once;
        # a first digest looks back one schedule period.
        previous = self.digests.last_posted(sub.id, before=claim.period)
        summary = DigestSummary.from_json(previous.summary) if previous and previous.summary else None
        try:
            digest = self.builder.build(
                sub.cluster,
                now,
                since=previous.period if previous else None,
                until=claim.period,
                previous=summary,
                previous_posted_at=previous.finished_at if previous else None,
                first_window=claim.period - schedule.previous_before(claim.period),
            )
        except Exception as exc:
            log.exception("building the digest of subscription %s failed", sub.id)
            return self._finish_failed(sub, claim, now, f"build: {type(exc).__name__}: {exc}", FAILED)
        if not digest.has_data:
            self.digests.finish(claim.id, status=SKIPPED, now=self.clock(), error="no capacity sample yet")
            metrics.DIGESTS_SENT.labels("skipped").inc()
            return RunResult(sub.id, claim.period, SKIPPED_NOW, claim.late, "no capacity sample yet")
        doc = digest_doc(digest, one_line_when_unchanged=self.settings.one_line_when_unchanged)
        if claim.late:
            sampled = f"; figures from {digest.sampled_at:%H:%M} UTC" if digest.sampled_at else ""
            doc.summary += f" (late: due {claim.period:%Y-%m-%d %H:%M} UTC{sampled})"
        try:
            posted = self.sender.post(sub.channel, doc.summary, render_blocks(doc))
        except PostError as exc:
            return self._finish_failed(sub, claim, now, str(exc), FAILED)
        except Exception as exc:
            log.exception("posting the digest of subscription %s: outcome unknown", sub.id)
            return self._finish_failed(sub, claim, now, f"{type(exc).__name__}: {exc}", UNCERTAIN)
        chart_error = None
        one_line = not doc.elements
        if not one_line:
            chart_error = self._attach_chart(sub.cluster, digest, posted_at=now, posted=posted)
        self.digests.finish(
            claim.id,
            status=POSTED,
            now=self.clock(),
            channel_id=posted.channel_id,
            message_ts=posted.ts,
            error=chart_error,
            summary=digest.summary.to_json(),
        )
        metrics.DIGESTS_SENT.labels("posted").inc()
        return RunResult(sub.id, claim.period, POSTED_NOW, claim.late, "one line" if one_line else "")

    def _finish_failed(self, sub: Subscription, claim: Claim, now: datetime, error: str, status: str) -> RunResult:
        log.warning("digest of subscription %s for %s not posted: %s", sub.id, claim.period.isoformat(), error)
        self.digests.finish(claim.id, status=status, now=now, error=error)
        metrics.DIGESTS_SENT.labels("failed").inc()
        return RunResult(sub.id, claim.period, FAILED_NOW, claim.late, error)

    def _attach_chart(self, cluster: str, digest: Digest, *, posted_at: datetime, posted: Posted) -> str | None:
        histories = self.builder.samples.histories(cluster, since=posted_at - timedelta(days=CHART_DAYS))
        try:
            png = free_ips_chart(
                histories,
                digest.now,
                title=f"{cluster}: share of each subnet's IPs in use",
                levels={o.subnet_id: o.level for o in digest.subnets},  # the chart agrees with the text
            )
            if png is None:
                return None
            name = f"cnibot-{cluster}-{digest.now:%Y%m%d-%H%M}.png"
            self.sender.attach_chart(posted, png, filename=name, title=f"{cluster}: IPs in use per subnet")
        except (SlackApiError, OSError, ValueError) as exc:
            log.warning("chart for %s not attached: %s", cluster, exc)
            return f"chart: {exc}"
        return None


def _retryable(claim: Claim) -> bool:
    return claim.status == FAILED and claim.attempts < MAX_ATTEMPTS
