"""What every step of applying a change shares: its timings, what it needs of the change flow (`ApplyHost`),
one run's state (lock owner, what was written so far, the progress message), and the steps' common moves
(keep the lease, record an event, fail the change, back off between polls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.changes.node_rollout import RolloutTimings
from bot.changes.notify import SlackNotifier
from bot.changes.rollout import Backoff
from bot.changes.state import ClusterState
from bot.config import ClusterConfig
from bot.domain.change_records import SYSTEM_ACTOR, AuditKind, ChangeRecord
from bot.domain.changes import Status, what_changed
from bot.gateways.connections import ClusterConnection
from bot.services import Services
from storage.changes import ChangeRepository


@dataclass(frozen=True)
class Timings:
    lock_lease: timedelta = timedelta(minutes=2)  # renewed while a rollout is watched
    lock_wait: float = 20.0  # seconds an approval waits for another apply on its cluster before the job takes over
    rollout_timeout: float = 1800.0
    addon_update_timeout: float = 600.0
    poll_first: float = 0.1
    poll_longest: float = 5.0
    nodes: RolloutTimings = RolloutTimings()  # node rollouts: batch size, eviction and node-ready bounds


DEFAULT_TIMINGS = Timings()


class ApplyHost(Protocol):
    """What applying needs of the change flow (ChangeService gives it; applying does not import the flow)."""

    services: Services
    notifier: SlackNotifier
    repo: ChangeRepository
    timings: Timings

    def now(self) -> datetime: ...

    def cluster_of(self, record: ChangeRecord) -> ClusterConfig: ...

    def refresh(self, change_id: int) -> None: ...

    def thread(self, record: ChangeRecord, text: str) -> str | None: ...


class HandedOver(Exception):
    """This process is stopping: the change is left as it is, and its lease released, for another replica."""


class ApplyFailed(Exception):
    def __init__(self, message: str, written: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.written = written


class BecameStale(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class ApplyRun:
    record: ChangeRecord
    cluster: ClusterConfig
    conn: ClusterConnection
    owner: str
    written: list[str] = field(default_factory=list)
    progress_ts: str | None = None


class ApplySteps:
    """The base of the apply steps (writing, verifying, the run itself): one host, its repository and timings."""

    def __init__(self, service: ApplyHost) -> None:
        self.svc = service
        self.repo = service.repo
        self.timings = service.timings

    def _check_not_stale(self, record: ChangeRecord, state: ClusterState) -> None:
        reasons = what_changed(record.base, state.revision(record.spec))
        if record.spec.touches_aws_node and state.aws_node and state.aws_node.target is not record.target:
            reasons.append(f"aws-node is now managed through {state.aws_node.target.value}, not {record.target.value}")
        if reasons:
            raise BecameStale(reasons)

    def _guarded(self, run: ApplyRun, what: str) -> None:
        """Keep the lease while writing (a slow API server must not let another replica in)."""
        if not self.repo.renew_lock(run.cluster.name, run.owner, self.svc.now(), self.timings.lock_lease):
            raise ApplyFailed(f"lost the apply lock before: {what}", run.written)

    def _renew(self, run: ApplyRun) -> None:
        if self.svc.services.stopping.is_set():
            raise HandedOver  # between polls of the rollout watch: nothing half-written
        self.repo.renew_lock(run.cluster.name, run.owner, self.svc.now(), self.timings.lock_lease)

    def _fail(self, run: ApplyRun, event: AuditKind, message: str, *, written: list[str] | None = None) -> None:
        record = self.repo.get(run.record.id) or run.record  # keep what was merged into detail meanwhile
        written = written if written is not None else run.written
        detail = {"message": message, "written": written}
        if self._transition(
            record,
            Status.FAILED,
            event,
            detail=detail,
            values={"finished_at": self.svc.now(), "detail": {**record.detail, "result": message}},
        ):
            done = f" Written before it stopped: {'; '.join(written)}." if written else " Nothing was written."
            hint = f" `/cni rollback {record.id}` restores the previous state." if written else ""
            self.svc.thread(record, f":x: Change #{record.id} failed: {message}.{done}{hint}")
            self.svc.refresh(record.id)

    def _transition(
        self,
        record: ChangeRecord,
        target: Status,
        event: AuditKind,
        *,
        detail: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        only_from: set[Status] | None = None,
    ) -> bool:
        return self.repo.transition(
            record.id,
            target,
            actor=SYSTEM_ACTOR,
            at=self.svc.now(),
            event=event,
            detail=detail,
            values=values,
            only_from=only_from,
        )

    def _event(self, record: ChangeRecord, kind: AuditKind, detail: dict[str, Any]) -> None:
        self.repo.record(record.id, kind, actor=SYSTEM_ACTOR, at=self.svc.now(), detail=detail)

    def _backoff(self) -> Backoff:
        stopping = self.svc.services.stopping

        def nap(seconds: float) -> None:
            stopping.wait(seconds)  # ends early on shutdown, so the watch hands over at once

        return Backoff(self.timings.poll_first, self.timings.poll_longest, sleep=nap)
