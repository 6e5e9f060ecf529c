"""In-process scheduling with APScheduler 3.11 (BackgroundScheduler, in-memory job store) in every replica.

Jobs must be safe to run in several replicas at once: each job claims its work in the database (a conditional
update or a row with a UNIQUE key) before acting, so a run that loses the claim does nothing. That is how
digests are posted exactly once and expiries or auto-reverts happen once, without a shared job store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.base import BaseTrigger

log = logging.getLogger("cnibot.scheduler")


class Scheduler:
    """APScheduler is imported and its scheduler built on first use: a terminal command (`cnibot ask`) never
    schedules anything, and should not pay for the import."""

    def __init__(self, timezone: str = "UTC") -> None:
        self._timezone = timezone
        self._scheduler: BackgroundScheduler | None = None

    @property
    def _aps(self) -> BackgroundScheduler:
        if self._scheduler is None:
            from apscheduler.schedulers.background import BackgroundScheduler

            self._scheduler = BackgroundScheduler(
                timezone=self._timezone,
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            )
        return self._scheduler

    def every(
        self,
        job_id: str,
        seconds: float,
        fn: Callable[[], Any],
        *,
        jitter: int | None = None,
        start: datetime | None = None,
        run_now: bool = False,
    ) -> None:
        """Run fn every `seconds` (replacing a job of the same id); with `run_now`, first as soon as the
        scheduler runs (an interval trigger alone first fires one interval after it starts)."""
        from apscheduler.triggers.interval import IntervalTrigger

        extra: dict[str, Any] = {"next_run_time": datetime.now(UTC)} if run_now else {}
        self._aps.add_job(
            self._guard(job_id, fn),
            IntervalTrigger(seconds=seconds, jitter=jitter, start_date=start),
            id=job_id,
            replace_existing=True,
            **extra,
        )

    def at(self, job_id: str, trigger: BaseTrigger, fn: Callable[[], Any]) -> None:
        """Run fn on any APScheduler trigger (cron, date ...), replacing a job of the same id."""
        self._aps.add_job(self._guard(job_id, fn), trigger, id=job_id, replace_existing=True)

    def remove(self, job_id: str) -> None:
        if self._scheduler is None:
            return
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    def job_ids(self) -> list[str]:
        if self._scheduler is None:
            return []
        return [job.id for job in self._aps.get_jobs()]

    def start(self) -> None:
        if not self._aps.running:
            self._aps.start()

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._aps.shutdown(wait=wait)

    @staticmethod
    def _guard(job_id: str, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:
                # A failing job must not stop the scheduler; the next run tries again.
                log.exception("scheduled job %s failed", job_id)

        return run
