"""Apply an approved change: once, one at a time per cluster, only against the state it was approved for.

1. Take the cluster's apply lock (a lease row in the database, so applies never overlap across replicas),
   then claim the change (approved -> applying, a conditional update: exactly one caller wins).
2. Re-read what the change is bound to; if anything changed since the request, it is stale: nothing is
   written and the thread says what changed.
3. Write: ENIConfigs created or updated first (so aws-node finds them), then the aws-node env (DaemonSet
   patch with a resourceVersion precondition, or UpdateAddon), then ENIConfig deletions.
4. Watch the rollout, verify, and for custom networking list the nodes to replace and keep tracking them.

The steps live in their own modules: apply_run.py (one run's shared state and moves), apply_write.py (step 3),
apply_verify.py (step 4), manual.py (the same writes as commands, when cnibot may not write).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.changes.apply_run import ApplyFailed, ApplyRun, BecameStale, HandedOver
from bot.changes.apply_verify import ChangeVerification
from bot.changes.apply_write import ChangeWrites
from bot.changes.drafts import apply_blocker
from bot.changes.manual import manual_text
from bot.changes.rollout import ip_failure_counts
from bot.changes.state import ClusterState, read_state
from bot.config import ClusterConfig
from bot.domain.change_records import SYSTEM_ACTOR, AuditKind, ChangeRecord
from bot.domain.changes import ChangeKind, ChangeSpec, Status
from bot.errors import UpstreamError

log = logging.getLogger("cnibot.changes")


class Applier(ChangeWrites, ChangeVerification):
    """Runs one approved change through the steps above, under the cluster's apply lock."""

    def run(self, change_id: int) -> None:
        try:
            self._run(change_id)
        except Exception:
            log.exception("applying change %s failed unexpectedly", change_id)

    def _run(self, change_id: int) -> None:
        record = self.repo.get(change_id)
        if record is None or record.status not in (Status.APPROVED, Status.APPLYING, Status.APPLIED):
            return
        cluster = self.svc.cluster_of(record)
        if record.status is Status.APPROVED and not self._writable(record, cluster):
            return
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        if not self._lock(record, cluster, owner):
            return
        try:
            record = self.repo.get(change_id) or record  # re-read under the lock
            run = ApplyRun(record, cluster, self.svc.services.connections.get(cluster), owner)
            if record.status is Status.APPROVED:
                self._apply(run)
            elif record.status is Status.APPLYING:
                self._interrupted(run)
            elif record.status is Status.APPLIED:
                self._finish(run, failures_before=None)
        except HandedOver:
            # The status says where it stopped; a replica's apply-waiting job takes it from there.
            log.info("stopping: change %s left at %s for another replica", change_id, record.status.value)
        finally:
            self.repo.release_lock(cluster.name, owner)

    # --- before writing --------------------------------------------------------------------------------
    def _writable(self, record: ChangeRecord, cluster: ClusterConfig) -> bool:
        disabled = record.detail.get("apply_disabled")
        if not cluster.write_enabled or disabled:
            # An end state of its own, not "approved" forever: a person applies it and marks it applied.
            result = "Approved; cnibot may not write here, so apply it by hand, then click *Mark applied*."
            if self._transition(
                record,
                Status.BY_HAND,
                AuditKind.APPLY_DISABLED,
                detail={"reason": disabled},
                values={"detail": {**record.detail, "result": result}},
                only_from={Status.APPROVED},
            ):
                self.svc.thread(record, manual_text(record, disabled or "writes are off for this cluster", cluster))
                self.svc.refresh(record.id)
            return False
        return True

    def _lock(self, record: ChangeRecord, cluster: ClusterConfig, owner: str) -> bool:
        """Take the cluster's apply lock, waiting a little for another apply; else the job retries later."""
        deadline = time.monotonic() + (self.timings.lock_wait if record.status is Status.APPROVED else 0)
        told = False
        while True:
            if self.repo.acquire_lock(cluster.name, record.id, owner, self.svc.now(), self.timings.lock_lease):
                return True
            if time.monotonic() >= deadline:
                return False
            if not told:
                holder = self.repo.lock_holder(cluster.name, self.svc.now())
                if holder is not None and holder != record.id and record.detail.get("waiting_for") != holder:
                    self.repo.merge_detail(record.id, {"waiting_for": holder}, self.svc.now())
                    self.svc.thread(record, f"Waiting for change #{holder} to finish on `{cluster.name}`.")
                told = True
            time.sleep(0.5)

    # --- applying ---------------------------------------------------------------------------------------
    def _apply(self, run: ApplyRun) -> None:
        record = run.record
        if not self._transition(record, Status.APPLYING, AuditKind.APPLYING, only_from={Status.APPROVED}):
            return  # another caller claimed it
        blocker = apply_blocker(run.cluster, run.conn, record.spec, record.target)
        if blocker:
            self._fail(run, AuditKind.APPLY_FAILED, f"cannot write: {blocker}")
            return
        try:
            touches = {"aws_node": record.spec.touches_aws_node, "eniconfigs": bool(record.spec.eniconfigs)}
            state = read_state(run.conn, fresh=True, **touches)
            self._check_not_stale(record, state)
            failures_before = ip_failure_counts(run.conn.kube)
            self._write(run, state)
        except BecameStale as stale:
            self._stale(run, stale.reasons)
            return
        except ApplyFailed as failed:
            self._fail(run, AuditKind.APPLY_FAILED, failed.message, written=failed.written)
            return
        except UpstreamError as exc:
            self._fail(run, AuditKind.APPLY_FAILED, f"{exc.api} failed: {exc.reason}", written=run.written)
            return
        now = self.svc.now()
        values: dict[str, Any] = {"applied_at": now}
        if record.duration:
            values["revert_at"] = now + record.duration
        self.repo.transition(
            record.id,
            Status.APPLIED,
            actor=SYSTEM_ACTOR,
            at=now,
            event=AuditKind.APPLIED,
            detail={"written": run.written},
            values=values,
        )
        when = f" It reverts by itself at {values['revert_at']:%H:%M UTC}." if record.duration else ""
        self.svc.thread(record, f"Applied change #{record.id}: {'; '.join(run.written)}.{when}")
        self.svc.refresh(record.id)
        self._close_original(record)
        self._finish(run, failures_before=failures_before)

    def _close_original(self, record: ChangeRecord) -> None:
        """A rollback or revert that is applied closes the change it undoes."""
        if record.rollback_of is None or record.kind not in (ChangeKind.ROLLBACK, ChangeKind.REVERT):
            return
        rolled_back = record.kind is ChangeKind.ROLLBACK
        target, event = (
            (Status.ROLLED_BACK, AuditKind.ROLLED_BACK) if rolled_back else (Status.REVERTED, AuditKind.AUTO_REVERTED)
        )
        original = self.repo.get(record.rollback_of)
        if original is None:
            return
        if self.repo.transition(
            original.id,
            target,
            actor=record.requester_id,
            at=self.svc.now(),
            event=event,
            detail={"by_change": record.id},
            values={"revert_at": None, "tracking_nodes": False},
        ):
            verb = "rolled back" if rolled_back else "reverted (its time was up)"
            self.svc.thread(original, f"Change #{original.id} was {verb} by change #{record.id}.")
            self.svc.refresh(original.id)

    def _interrupted(self, run: ApplyRun) -> None:
        """A replica died while writing: read the live objects and record what is really there."""
        record = run.record
        try:
            touches = {"aws_node": record.spec.touches_aws_node, "eniconfigs": bool(record.spec.eniconfigs)}
            state = read_state(run.conn, fresh=True, **touches)
        except UpstreamError as exc:
            self._fail(
                run,
                AuditKind.APPLY_FAILED,
                f"the replica applying it stopped in the middle and the live objects could not be read "
                f"({exc.api}: {exc.reason}); check aws-node and the ENIConfigs, then roll back if needed",
            )
            return
        found = what_is_live(record.spec, state)
        if not found.other and not found.before:  # the write landed: carry on as applied
            self.repo.transition(
                record.id,
                Status.APPLIED,
                actor=SYSTEM_ACTOR,
                at=self.svc.now(),
                event=AuditKind.APPLIED,
                detail={"written": found.after, "found_live": True},
                values={"applied_at": self.svc.now()},
            )
            self.svc.thread(
                record, f"Applied change #{record.id} (found live after a replica stopped): {'; '.join(found.after)}."
            )
            self.svc.refresh(record.id)
            self._finish(run, failures_before=None)
        elif not found.other and not found.after:
            self._fail(
                run, AuditKind.APPLY_FAILED, "the replica applying it stopped before its write landed", written=[]
            )
        else:
            differs = "; ".join(found.other + [f"{line} not written" for line in found.before])
            self._fail(
                run,
                AuditKind.APPLY_FAILED,
                f"the replica applying it stopped in the middle: {differs}",
                written=found.after,
            )

    # --- outcomes -------------------------------------------------------------------------------------------
    def _stale(self, run: ApplyRun, reasons: list[str]) -> None:
        record = run.record
        # The approvers' message says why, not only the thread: that message is what most of them read.
        why = "; ".join(reasons)
        detail = {
            **record.detail,
            "stale": reasons,
            "result": f"What it was approved against changed: {why}. Nothing was applied.",
        }
        if self._transition(
            record,
            Status.STALE,
            AuditKind.STALE,
            detail={"reasons": reasons, "message": reasons[0]},
            values={"finished_at": self.svc.now(), "detail": detail},
        ):
            lines = "\n".join(f"• {r}" for r in reasons)
            self.svc.thread(
                record,
                f":warning: Change #{record.id} is stale and was not applied: what it was approved against "
                f"changed.\n{lines}\nRequest it again if it is still wanted.",
            )
            self.svc.refresh(record.id)


@dataclass
class LiveEdits:
    """Each edit of a change as found live: as after it, as before it, or neither (with what is there)."""

    after: list[str] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


def what_is_live(spec: ChangeSpec, state: ClusterState) -> LiveEdits:
    found = LiveEdits()
    env = state.aws_node.env if state.aws_node is not None else {}
    for c in spec.env:
        now = env.get(c.key)
        if now == c.new:
            found.after.append(f"`{c.key}` = `{c.new}`" if c.new is not None else f"`{c.key}` unset")
        elif now == c.old:
            found.before.append(f"`{c.key}`")
        else:
            found.other.append(f"`{c.key}` is `{now}` (neither `{c.old}` before nor `{c.new}` wanted)")
    if spec.version is not None and state.aws_node is not None:
        image = state.aws_node.daemonset.image
        if image.endswith(f":{spec.version.new}") or image == dict(spec.version.new_images).get("aws-node"):
            found.after.append(f"VPC CNI {spec.version.new}")
        elif image == dict(spec.version.old_images).get("aws-node"):
            found.before.append("the VPC CNI version")
        else:
            found.other.append(f"aws-node runs `{image}`, neither {spec.version.old} nor {spec.version.new}")
    for edit in spec.eniconfigs:
        live = state.eniconfig_state(edit.name)
        if live == edit.new:
            found.after.append(f"ENIConfig `{edit.name}` {edit.verb}d")
        elif live == edit.old:
            found.before.append(f"ENIConfig `{edit.name}`")
        else:
            found.other.append(f"ENIConfig `{edit.name}` is neither as before nor as wanted")
    return found
