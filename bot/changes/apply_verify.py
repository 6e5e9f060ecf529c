"""Applying step 4, after the writes: watch the aws-node rollout, verify that it took (env, images, no new IP
failures), then mark the change verified and, for custom networking, list the nodes still to replace.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.changes.apply_run import ApplyRun, ApplySteps
from bot.changes.drafts import CUSTOM_NETWORK_KNOB
from bot.changes.nodes import FOR_CUSTOM_NETWORKING, FOR_NODE_SETTINGS, nodes_serving_now, nodes_to_replace
from bot.changes.render import nodes_left_text
from bot.changes.rollout import Progress, ip_failure_counts, verify, watch_rollout
from bot.changes.upgrade import image_problems
from bot.domain.change_records import AuditKind
from bot.domain.changes import Status, Target
from bot.errors import UpstreamError
from bot.render.doc import Doc

log = logging.getLogger("cnibot.changes")


class ChangeVerification(ApplySteps):
    """Watches and verifies an applied change; a failure fails the change with what was seen."""

    def _finish(self, run: ApplyRun, failures_before: dict[str, int] | None) -> None:
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

    def _verified(self, run: ApplyRun) -> None:
        record = run.record
        enables_custom_networking = any(
            c.key == CUSTOM_NETWORK_KNOB and (c.new or "").lower() == "true" for c in record.spec.env
        )
        # Prefix delegation and the like: max-pods comes from each node's launch settings, so every node is old.
        for_settings = not enables_custom_networking and bool(record.detail.get("needs_node_replacement"))
        lists_nodes = enables_custom_networking or for_settings
        remaining: list[str] = []
        instances: dict[str, str] = {}
        if lists_nodes:
            try:
                if enables_custom_networking:
                    remaining = nodes_to_replace(run.conn)
                else:
                    instances = nodes_serving_now(run.conn)
                    remaining = sorted(instances)
            except UpstreamError as exc:
                log.warning("could not list nodes to replace for change %s: %s", record.id, exc)
                remaining = []
        result = "aws-node is ready on every node and no pod failed to get an IP since."
        values: dict[str, Any] = {"finished_at": self.svc.now()}
        if lists_nodes:
            values["tracking_nodes"] = bool(remaining)
            replace_for = FOR_NODE_SETTINGS if for_settings else FOR_CUSTOM_NETWORKING
            values["detail"] = {
                **record.detail,
                "nodes_to_replace": remaining,
                "replace_for": replace_for,
                **({"node_instances": instances} if for_settings else {}),
                "result": result,
            }
        else:
            values["detail"] = {**record.detail, "result": result}
        if not self._transition(record, Status.VERIFIED, AuditKind.VERIFIED, detail={"result": result}, values=values):
            return
        self.svc.thread(record, f":white_check_mark: Change #{record.id} verified: {result}")
        if remaining:
            self._event(record, AuditKind.NODES_TO_REPLACE, {"nodes": remaining})
            self.svc.thread(record, nodes_left_text(remaining, for_settings=for_settings))
        self.svc.refresh(record.id)

    def _progress(self, run: ApplyRun, progress: Progress) -> None:
        record = run.record
        text = f":hourglass: Rolling out change #{record.id}: {progress.text()}."
        if not record.channel_id or not record.message_ts:
            return
        if run.progress_ts is None:
            run.progress_ts = self.svc.thread(record, text)
        else:
            self.svc.notifier.update(record.channel_id, run.progress_ts, Doc(text))
