"""Apply an approved change: once, one at a time per cluster, only against the state it was approved for.

1. Take the cluster's apply lock (a lease row in the database, so applies never overlap across replicas),
   then claim the change (approved -> applying, a conditional update: exactly one caller wins).
2. Re-read what the change is bound to; if anything changed since the request, it is stale: nothing is
   written and the thread says what changed.
3. Write: ENIConfigs created or updated first (so aws-node finds them), then the aws-node env (DaemonSet
   patch with a resourceVersion precondition, or UpdateAddon), then ENIConfig deletions.
4. Watch the rollout, verify, and for custom networking list the nodes to replace and keep tracking them.

Over 500 lines on purpose: the steps above share one run's state (lock, written so far, progress message);
the rollout watch and the live-state reads already live in rollout.py and state.py.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.changes.containers import edits_by_container
from bot.changes.drafts import CUSTOM_NETWORK_KNOB, apply_blocker
from bot.changes.node_rollout import RolloutFailed, RolloutTimings, run_rollout
from bot.changes.nodes import nodes_to_replace
from bot.changes.notify import SlackNotifier
from bot.changes.render import nodes_left_text
from bot.changes.rollout import Backoff, Progress, ip_failure_counts, verify, watch_rollout
from bot.changes.state import ClusterState, addon_config_with, container_edits, eks_name, read_state, writer_for
from bot.changes.upgrade import image_problems, version_commands, wait_for_update, write_version
from bot.config import ClusterConfig
from bot.domain.change_records import SYSTEM_ACTOR, AuditKind, ChangeRecord
from bot.domain.changes import (
    ChangeKind,
    ChangeSpec,
    Status,
    Target,
    what_changed,
)
from bot.errors import UpstreamError
from bot.gateways.connections import ClusterConnection
from bot.gateways.kube_write import WriteConflict
from bot.render.doc import Doc
from bot.services import Services
from storage.changes import ChangeRepository

log = logging.getLogger("cnibot.changes")

PATCH_RETRIES = 3  # a status update between our read and our patch bumps resourceVersion, not the spec


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
class _Run:
    record: ChangeRecord
    cluster: ClusterConfig
    conn: ClusterConnection
    owner: str
    written: list[str] = field(default_factory=list)
    progress_ts: str | None = None


class Applier:
    def __init__(self, service: ApplyHost) -> None:
        self.svc = service
        self.repo = service.repo
        self.timings = service.timings

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
            run = _Run(record, cluster, self.svc.services.connections.get(cluster), owner)
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
    def _apply(self, run: _Run) -> None:
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

    def _check_not_stale(self, record: ChangeRecord, state: ClusterState) -> None:
        reasons = what_changed(record.base, state.revision(record.spec))
        if record.spec.touches_aws_node and state.aws_node and state.aws_node.target is not record.target:
            reasons.append(f"aws-node is now managed through {state.aws_node.target.value}, not {record.target.value}")
        if reasons:
            raise BecameStale(reasons)

    def _write(self, run: _Run, state: ClusterState) -> None:
        spec = run.record.spec
        writer = writer_for(run.conn)
        deletes = [e for e in spec.eniconfigs if e.new is None]
        for edit in spec.eniconfigs:
            if edit.new is None:
                continue
            current = state.eniconfigs.get(edit.name)
            self._guarded(run, f"ENIConfig {edit.name} {edit.verb}d")
            if current is None:
                writer.create_eniconfig(edit.name, edit.new)
            else:
                writer.update_eniconfig(edit.name, edit.new, current.resource_version)
            run.written.append(f"ENIConfig `{edit.name}` {edit.verb}d")
        if spec.env:
            self._write_env(run, state)
        if spec.version is not None:
            assert state.aws_node is not None
            written, generation = write_version(
                run.conn,
                state.aws_node,
                spec.version,
                run.record.target,
                change_id=run.record.id,
                guard=lambda what: self._guarded(run, what),
                follow=lambda update: self._follow_update(run, update),
            )
            run.written.append(written)
            if generation is not None:
                self.repo.merge_detail(run.record.id, {"generation": generation}, self.svc.now())
        if spec.replace_nodes:
            try:
                run.written += run_rollout(
                    run.conn,
                    spec.replace_nodes,
                    self.timings.nodes,
                    say=lambda text: None if self.svc.thread(run.record, text) else None,
                    guard=lambda what: self._guarded(run, what),
                    replaced=lambda old, new: self._event(
                        run.record, AuditKind.NODE_REPLACED, {"node": old, "replacement": new}
                    ),
                )
            except RolloutFailed as failed:
                raise ApplyFailed(failed.text(), run.written) from failed
        for edit in deletes:
            current = state.eniconfigs.get(edit.name)
            if current is not None:
                writer.delete_eniconfig(edit.name, current.resource_version)
                run.written.append(f"ENIConfig `{edit.name}` deleted")

    def _guarded(self, run: _Run, what: str) -> None:
        """Keep the lease while writing (a slow API server must not let another replica in)."""
        if not self.repo.renew_lock(run.cluster.name, run.owner, self.svc.now(), self.timings.lock_lease):
            raise ApplyFailed(f"lost the apply lock before: {what}", run.written)

    def _write_env(self, run: _Run, state: ClusterState) -> None:
        record = run.record
        assert state.aws_node is not None
        if record.target is Target.ADDON:
            self._update_addon(run, state)
            return
        edits = container_edits(record.spec)
        resource_version = state.aws_node.daemonset.resource_version
        for attempt in range(PATCH_RETRIES):
            self._guarded(run, "aws-node patch")
            try:
                stored = writer_for(run.conn).patch_aws_node_env(edits, resource_version)
            except WriteConflict:
                # Something wrote aws-node since we read it: a status update is fine, a spec edit is not.
                fresh = read_state(run.conn, eniconfigs=False, fresh=True)
                self._check_not_stale(record, fresh)
                assert fresh.aws_node is not None
                resource_version = fresh.aws_node.daemonset.resource_version
                if attempt == PATCH_RETRIES - 1:
                    raise
                continue
            generation = int((stored.get("metadata") or {}).get("generation") or 0)
            run.written.append(f"aws-node env patched (generation {generation})")
            self.repo.merge_detail(record.id, {"generation": generation}, self.svc.now())
            return

    def _update_addon(self, run: _Run, state: ClusterState) -> None:
        assert state.aws_node is not None and state.aws_node.addon_config is not None
        record = run.record
        config = addon_config_with(state.aws_node.addon_config, container_edits(record.spec))
        aws = run.conn.aws()
        name = eks_name(run.cluster)
        self._guarded(run, "UpdateAddon")
        update = aws.update_addon(name, config, request_token=f"cnibot-change-{record.id}")
        run.written.append(f"vpc-cni add-on configuration updated (update {update.get('id', '?')})")
        self._follow_update(run, update)

    def _follow_update(self, run: _Run, update: dict[str, Any]) -> None:
        """Follow an add-on update (DescribeUpdate) to Successful; anything else fails the change."""
        aws, name = run.conn.aws(), eks_name(run.cluster)
        backoff = self._backoff()

        def poll() -> dict[str, Any]:
            self._guarded(run, "DescribeUpdate")
            return aws.describe_update(name, str(update["id"]))

        update = wait_for_update(poll, update, timeout=self.timings.addon_update_timeout, wait=backoff.wait)
        if str(update.get("status")) == "InProgress":
            raise ApplyFailed("the add-on update did not finish in time", run.written)
        if str(update.get("status")) != "Successful":
            errors = "; ".join(str(e.get("errorMessage", e)) for e in update.get("errors") or [])
            raise ApplyFailed(f"the add-on update ended {update.get('status')}: {errors}", run.written)

    # --- after writing -----------------------------------------------------------------------------------
    def _finish(self, run: _Run, failures_before: dict[str, int] | None) -> None:
        record = self.repo.get(run.record.id) or run.record
        run.record = record
        kube = run.conn.kube
        if failures_before is None:  # resumed after a restart: judge from now on
            failures_before = ip_failure_counts(kube)
        if record.spec.touches_aws_node:
            generation = record.detail.get("generation") if record.target is Target.DAEMONSET else None
            result = watch_rollout(
                kube,
                wanted_env=record.spec.env_updates(),
                generation=int(generation) if generation else None,
                timeout=self.timings.rollout_timeout,
                backoff=self._backoff(),
                on_progress=lambda progress: self._progress(run, progress),
                heartbeat=lambda: self._renew(run),
            )
            if not result.done:
                self._fail(run, AuditKind.ROLLOUT_FAILED, f"aws-node rollout {result.message}")
                return
            self._event(record, AuditKind.ROLLOUT_DONE, {"message": result.message})
        problems = verify(
            kube,
            wanted_env=record.spec.env_updates(),
            failures_before=failures_before,
            check_env=bool(record.spec.env),
        )
        if record.spec.version is not None:
            problems = image_problems(kube, record.spec.version) + problems
        if problems:
            self._fail(run, AuditKind.VERIFY_FAILED, "; ".join(problems))
            return
        self._verified(run)

    def _verified(self, run: _Run) -> None:
        record = run.record
        enables_custom_networking = any(
            c.key == CUSTOM_NETWORK_KNOB and (c.new or "").lower() == "true" for c in record.spec.env
        )
        remaining: list[str] = []
        if enables_custom_networking:
            try:
                remaining = nodes_to_replace(run.conn)
            except UpstreamError as exc:
                log.warning("could not list nodes to replace for change %s: %s", record.id, exc)
                remaining = []
        result = "aws-node is ready on every node and no pod failed to get an IP since."
        values: dict[str, Any] = {"finished_at": self.svc.now()}
        if enables_custom_networking:
            values["tracking_nodes"] = bool(remaining)
            values["detail"] = {**record.detail, "nodes_to_replace": remaining, "result": result}
        else:
            values["detail"] = {**record.detail, "result": result}
        if not self._transition(record, Status.VERIFIED, AuditKind.VERIFIED, detail={"result": result}, values=values):
            return
        self.svc.thread(record, f":white_check_mark: Change #{record.id} verified: {result}")
        if remaining:
            self._event(record, AuditKind.NODES_TO_REPLACE, {"nodes": remaining})
            self.svc.thread(record, nodes_left_text(remaining))
        self.svc.refresh(record.id)

    def _renew(self, run: _Run) -> None:
        if self.svc.services.stopping.is_set():
            raise HandedOver  # between polls of the rollout watch: nothing half-written
        self.repo.renew_lock(run.cluster.name, run.owner, self.svc.now(), self.timings.lock_lease)

    def _progress(self, run: _Run, progress: Progress) -> None:
        record = run.record
        text = f":hourglass: Rolling out change #{record.id}: {progress.text()}."
        if not record.channel_id or not record.message_ts:
            return
        if run.progress_ts is None:
            run.progress_ts = self.svc.thread(record, text)
        else:
            self.svc.notifier.update(record.channel_id, run.progress_ts, Doc(text))

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

    def _interrupted(self, run: _Run) -> None:
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
    def _stale(self, run: _Run, reasons: list[str]) -> None:
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

    def _fail(self, run: _Run, event: AuditKind, message: str, *, written: list[str] | None = None) -> None:
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


def manual_text(record: ChangeRecord, why: str, cluster: ClusterConfig | None = None) -> str:
    """How to apply an approved change by hand on an install that may not write."""
    lines = [f":lock: Change #{record.id} is approved, but cnibot does not apply it here: {why}. To apply it by hand:"]
    addon_config = record.base.aws_node.addon_config if record.base.aws_node else None
    commands = manual_commands(
        record.spec,
        target=record.target,
        addon_config=addon_config,
        eks_cluster=eks_name(cluster) if cluster else record.cluster,
        region=cluster.region if cluster else None,
    )
    lines += [f"```{command}```" for command in commands]
    lines.append("When it is done, click *Mark applied* on the request: cnibot then checks that it took.")
    return "\n".join(lines)


def manual_commands(
    spec: ChangeSpec,
    *,
    target: Target = Target.DAEMONSET,
    addon_config: str | None = None,
    eks_cluster: str = "",
    region: str | None = None,
) -> list[str]:
    """The writes cnibot would make, as commands: the same containers, the same add-on configuration."""
    commands = []
    updates = spec.env_updates()
    if updates and target is Target.ADDON:
        # EKS overwrites hand edits of a managed add-on's DaemonSet: change its configuration instead.
        config = addon_config_with(addon_config or "", container_edits(spec))
        where = f" --region {shlex.quote(region)}" if region else ""
        commands.append(
            f"aws eks update-addon --cluster-name {shlex.quote(eks_cluster)} --addon-name vpc-cni{where} "
            f"--resolve-conflicts PRESERVE --configuration-values {shlex.quote(config)}"
        )
    elif updates:
        for container, edits in edits_by_container(updates).items():
            words = [shlex.quote(f"{k}={v}") for k, v in edits.items() if v is not None]
            words += [f"{k}-" for k, v in edits.items() if v is None]
            commands.append(f"kubectl -n kube-system set env daemonset/aws-node -c {container} {' '.join(words)}")
    if spec.version is not None:
        commands += version_commands(spec.version, target, eks_cluster, region)
    for edit in spec.eniconfigs:
        if edit.new is None:
            commands.append(f"kubectl delete eniconfig {edit.name}")
        else:
            groups = "".join(f"\n    - {sg}" for sg in edit.new.security_groups)
            sg_block = f"\n  securityGroups:{groups}" if groups else ""
            commands.append(
                "kubectl apply -f - <<EOF\napiVersion: crd.k8s.amazonaws.com/v1alpha1\nkind: ENIConfig\n"
                f"metadata:\n  name: {edit.name}\nspec:\n  subnet: {edit.new.subnet}{sg_block}\nEOF"
            )
    return commands
