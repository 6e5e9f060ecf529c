"""Applying step 3, the writes: ENIConfigs created or updated first (so aws-node finds them), then the aws-node
env (a DaemonSet patch with a resourceVersion precondition, or UpdateAddon followed to the end), a VPC CNI
version, a node rollout, and ENIConfig deletions last. Each write renews the apply lease first.
"""

from __future__ import annotations

from typing import Any

from bot.changes.apply_run import ApplyFailed, ApplyRun, ApplySteps
from bot.changes.node_rollout import RolloutFailed, run_rollout
from bot.changes.state import ClusterState, addon_config_with, container_edits, eks_name, read_state, writer_for
from bot.changes.upgrade import wait_for_update, write_version
from bot.domain.change_records import AuditKind
from bot.domain.changes import Target
from bot.gateways.kube_write import WriteConflict

PATCH_RETRIES = 3  # a status update between our read and our patch bumps resourceVersion, not the spec


class ChangeWrites(ApplySteps):
    """Writes a change's diff to the cluster, recording in `run.written` what landed."""

    def _write(self, run: ApplyRun, state: ClusterState) -> None:
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

    def _write_env(self, run: ApplyRun, state: ClusterState) -> None:
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

    def _update_addon(self, run: ApplyRun, state: ClusterState) -> None:
        assert state.aws_node is not None and state.aws_node.addon_config is not None
        record = run.record
        config = addon_config_with(state.aws_node.addon_config, container_edits(record.spec))
        aws = run.conn.aws()
        name = eks_name(run.cluster)
        self._guarded(run, "UpdateAddon")
        update = aws.update_addon(name, config, request_token=f"cnibot-change-{record.id}")
        run.written.append(f"vpc-cni add-on configuration updated (update {update.get('id', '?')})")
        self._follow_update(run, update)

    def _follow_update(self, run: ApplyRun, update: dict[str, Any]) -> None:
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
