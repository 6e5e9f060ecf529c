"""The change flow: request, approve or reject (clicks), expire, auto-revert, node tracking.

Every decision is stored first (conditional updates in the database, so replicas and repeated clicks make
one transition), then told in Slack. Applying lives in `apply.py`.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.changes.apply import Applier
from bot.changes.apply_run import DEFAULT_TIMINGS, Timings
from bot.changes.drafts import ChangeRefused, Draft, apply_blocker, draft_rollback
from bot.changes.nodes import FOR_NODE_SETTINGS, remaining_nodes
from bot.changes.notify import SlackNotifier, slack_client_from
from bot.changes.policy import GroupDirectory, rules_for
from bot.changes.render import nodes_left_text, request_doc
from bot.config import ClusterConfig, NodeRolloutSettings
from bot.domain.access import Caller
from bot.domain.change_records import SYSTEM_ACTOR, ApprovalOutcome, AuditKind, ChangeRecord, NewChange
from bot.domain.changes import (
    ApprovalRules,
    ChangeKind,
    Click,
    Refusal,
    RequestState,
    Status,
    approvals_needed,
    decide_approval,
    decide_rejection,
    describe_duration,
    expiry_of,
    is_approver,
    rollback_preapproved,
    spec_hash,
)
from bot.errors import NotFound
from bot.services import Services

log = logging.getLogger("cnibot.changes")
_BUILDING = threading.Lock()
_FEATURE = "changes"


def change_service(services: Services) -> ChangeService:
    """The deployment's one change service: `serve` builds it at start (bot/app.py); `cnibot ask`, which may
    never need it, on first use."""
    with _BUILDING:
        built = services.features.get(_FEATURE)
        if not isinstance(built, ChangeService):
            if services.slack_client is None:
                services.slack_client = slack_client_from(services.settings)
            built = services.features[_FEATURE] = ChangeService(services, SlackNotifier(services.slack_client))
        return built


@dataclass(frozen=True)
class Requester:
    user_id: str
    user_name: str | None
    channel_id: str | None
    # The Slack identity the access rules are decided for; None: a local operator, not subject to them.
    caller: Caller | None = None


@dataclass(frozen=True)
class Submitted:
    record: ChangeRecord
    posted_in: str | None  # channel of the approval message
    link: str | None  # permalink of that message when Slack gives one


def with_rollout_settings(timings: Timings, rollout: NodeRolloutSettings) -> Timings:
    """The operator's node-rollout settings (batch size, eviction and node-ready bounds) over the built-in timings."""
    nodes = dataclasses.replace(
        timings.nodes,
        batch=rollout.batch_size,
        eviction_wait=rollout.eviction_wait_seconds,
        node_ready_timeout=rollout.node_ready_timeout_seconds,
    )
    return dataclasses.replace(timings, nodes=nodes)


class ChangeService:
    def __init__(self, services: Services, notifier: SlackNotifier, timings: Timings | None = None) -> None:
        self.services = services
        self.notifier = notifier
        self.timings = timings or with_rollout_settings(DEFAULT_TIMINGS, services.settings.node_rollout)
        self.repo = services.repos.changes
        self.groups = GroupDirectory(notifier.client)

    def answering_with(self, respond: Callable[[str, dict[str, Any]], bool] | None) -> ChangeService:
        """This service, answering clicks through the Slack edge's ``respond``; it shares everything else."""
        view = copy.copy(self)
        view.notifier = SlackNotifier(self.notifier.client, respond=respond)
        return view

    def now(self) -> datetime:
        return self.services.clock()

    def cluster_of(self, record: ChangeRecord) -> ClusterConfig:
        cluster = self.services.clusters.get(record.cluster)
        if cluster is None:
            raise NotFound(f"Cluster `{record.cluster}` of change #{record.id} is no longer configured.")
        return cluster

    def get(self, change_id: int) -> ChangeRecord:
        record = self.repo.get(change_id)
        if record is None:
            raise NotFound(f"There is no change #{change_id}.")
        return record

    # --- requesting ------------------------------------------------------------------------------------
    def submit(self, draft: Draft, cluster: ClusterConfig, requester: Requester, reason: str) -> Submitted:
        """Store the request, post it for approval, and (a rollback by an original approver, when the
        policy allows it) approve it at once."""
        now = self.now()
        rules = rules_for(cluster)
        conn = self.services.connections.get(cluster)
        detail = {**draft.detail, "apply_disabled": apply_blocker(cluster, conn, draft.spec, draft.target)}
        record = self.repo.create(
            NewChange(
                cluster=cluster.name,
                kind=draft.kind,
                requester_id=requester.user_id,
                requester_name=requester.user_name,
                reason=reason.strip(),
                risk=draft.risk,
                approvals_needed=approvals_needed(draft.risk, rules),
                spec=draft.spec,
                diff_hash=spec_hash(draft.spec),
                base=draft.base,
                target=draft.target,
                summary=draft.summary,
                created_at=now,
                expires_at=expiry_of(now, rules),
                detail=detail,
                duration=draft.duration,
                rollback_of=draft.rollback_of,
                origin_channel_id=requester.channel_id,
            )
        )
        channel = cluster.approvals.approvers_channel or requester.channel_id
        link = None
        if channel:
            ts = self.notifier.post(channel, request_doc(record, [], now))
            if ts:
                self.repo.set_message(record.id, channel, ts)
                link = self.notifier.permalink(channel, ts)
            else:
                channel = None
        if draft.kind is ChangeKind.ROLLBACK and draft.rollback_of is not None:
            original_approvers = {a.user_id for a in self.repo.approvals(draft.rollback_of)}
            if rollback_preapproved(requester.user_id, original_approvers, rules) and self.repo.transition(
                record.id,
                Status.APPROVED,
                actor=requester.user_id,
                at=now,
                event=AuditKind.APPROVED,
                detail={"preapproved": "requested by an approver of the original change"},
            ):
                self.refresh(record.id)
                self.start_apply(record.id)
        return Submitted(self.get(record.id), channel, link)

    # --- clicks ----------------------------------------------------------------------------------------
    def approve(self, change_id: int, user_id: str, response_url: str | None) -> None:
        """An Approve click, authorised from the clicking user's id (the payload only names the request)."""
        clicked = self._clicked(change_id, user_id, response_url)
        if clicked is None:
            return
        record, rules, click = clicked
        now = click.at
        # Who approved already is checked where it counts: in the approval's transaction.
        state = RequestState(record.requester_id, record.status, record.expires_at)
        decision = decide_approval(click, state, rules)
        if decision.refusal is Refusal.EXPIRED:
            self.expire(change_id)
        if not decision.allowed:
            self._refused(record, user_id, "approve", decision.refusal, decision.message, response_url)
            return
        result = self.repo.approve(change_id, user_id, now)
        if result.outcome is ApprovalOutcome.RECORDED:
            missing = result.needed - len(result.approvers)
            self.thread(record, f"<@{user_id}> approved ({len(result.approvers)}/{result.needed}); {missing} more.")
            self._answer(response_url, f"Approved. Change #{change_id} needs {missing} more approver(s).")
            self.refresh(change_id)
        elif result.outcome is ApprovalOutcome.APPROVED:
            self.thread(record, f"<@{user_id}> approved: change #{change_id} is approved.")
            self.refresh(change_id)
            self.start_apply(change_id)
        else:  # refused, and recorded as such by the repository
            if result.outcome is ApprovalOutcome.EXPIRED:
                self.expire(change_id)
            status = result.status.value if result.status else "gone"
            self._answer(response_url, _APPROVAL_REFUSED.get(result.outcome, f"This request is already {status}."))

    def reject(self, change_id: int, user_id: str, response_url: str | None) -> None:
        clicked = self._clicked(change_id, user_id, response_url)
        if clicked is None:
            return
        record, rules, click = clicked
        now = click.at
        decision = decide_rejection(click, RequestState(record.requester_id, record.status, record.expires_at), rules)
        if not decision.allowed:
            self._refused(record, user_id, "reject", decision.refusal, decision.message, response_url)
            return
        withdrawn = user_id == record.requester_id
        if self.repo.transition(
            change_id,
            Status.REJECTED,
            actor=user_id,
            at=now,
            event=AuditKind.REJECTED,
            detail={"withdrawn": withdrawn},
        ):
            verb = "withdrew" if withdrawn else "rejected"
            self.thread(record, f"<@{user_id}> {verb} change #{change_id}; nothing is applied.")
            self.refresh(change_id)
        else:
            message = f"This request is already {self.get(change_id).status}."
            self._refused(record, user_id, "reject", Refusal.NOT_PENDING, message, response_url)

    def mark_applied(self, change_id: int, user_id: str, response_url: str | None) -> None:
        """A person applied a by-hand change: record who said so, then verify it as if cnibot had written it.
        The requester or an approver may say so (the same people who asked for it or decided it)."""
        clicked = self._clicked(change_id, user_id, response_url)
        if clicked is None:
            return
        record, rules, click = clicked
        now = click.at
        allowed = user_id == record.requester_id or is_approver(user_id, click.user_groups, rules)
        if not allowed:
            self._answer(response_url, "Only the requester or an approver can mark this change applied.")
            return
        if not self.repo.transition(
            change_id,
            Status.APPLIED,
            actor=user_id,
            at=now,
            event=AuditKind.MARKED_APPLIED,
            values={"applied_at": now},
            only_from={Status.BY_HAND},
        ):
            self._answer(
                response_url, f"Change #{change_id} is {self.get(change_id).status}, not waiting to be applied by hand."
            )
            return
        self.thread(record, f"<@{user_id}> marked change #{change_id} applied by hand; checking that it took.")
        self.refresh(change_id)
        self.start_apply(change_id)

    def _clicked(
        self, change_id: int, user_id: str, response_url: str | None
    ) -> tuple[ChangeRecord, ApprovalRules, Click] | None:
        """The request a button names, its cluster's rules and the click (the user's groups resolved), or None
        when there is no such request (the clicker is told)."""
        record = self.repo.get(change_id)
        if record is None:
            self._answer(response_url, f"There is no change #{change_id}.")
            return None
        rules = rules_for(self.cluster_of(record))
        return record, rules, Click(user_id, self.groups.groups_of(user_id, rules.usergroups), self.now())

    def _refused(
        self,
        record: ChangeRecord,
        user_id: str,
        action: str,
        refusal: Refusal | None,
        message: str,
        response_url: str | None,
    ) -> None:
        self.repo.record(
            record.id,
            AuditKind.REFUSED_CLICK,
            actor=user_id,
            at=self.now(),
            detail={"action": action, "refusal": refusal.value if refusal else "", "message": message},
        )
        self._answer(response_url, message)

    def _answer(self, response_url: str | None, text: str) -> None:
        if response_url:
            self.notifier.respond(response_url, text)

    # --- time-driven ------------------------------------------------------------------------------------
    def expire(self, change_id: int) -> bool:
        record = self.repo.get(change_id)
        if record is None:
            return False
        if not self.repo.transition(
            change_id,
            Status.EXPIRED,
            actor=SYSTEM_ACTOR,
            at=self.now(),
            event=AuditKind.EXPIRED,
            only_from={Status.PENDING},
        ):
            return False
        hours = (record.expires_at - record.created_at).total_seconds() / 3600
        self.thread(record, f"Change #{change_id} expired: not approved within {hours:g}h. Nothing was applied.")
        self.refresh(change_id)
        return True

    def expire_due(self) -> int:
        return sum(self.expire(change_id) for change_id in self.repo.due_expiries(self.now()))

    def revert_due(self) -> int:
        """`--for` changes whose time is up: one replica claims each and applies its revert."""
        started = 0
        for change_id in self.repo.due_reverts(self.now()):
            started += self._revert(change_id)
        return started

    def _revert(self, change_id: int) -> bool:
        original = self.get(change_id)
        cluster = self.cluster_of(original)
        conn = self.services.connections.get(cluster)
        now = self.now()
        try:
            draft = draft_rollback(conn, original, automatic=True)
        except ChangeRefused as refused:
            if self.repo.skip_revert(change_id, now, refused.message):
                self.thread(original, f"Change #{change_id} did not revert by itself: {refused.message}")
            return False
        new = NewChange(
            cluster=cluster.name,
            kind=ChangeKind.REVERT,
            requester_id=SYSTEM_ACTOR,
            requester_name=None,
            reason=f"the --for {describe_duration(original.duration or timedelta())} of #{change_id} is up",
            risk=draft.risk,
            approvals_needed=0,
            spec=draft.spec,
            diff_hash=spec_hash(draft.spec),
            base=draft.base,
            target=draft.target,
            summary=draft.summary,
            created_at=now,
            expires_at=now,
            detail=draft.detail,
            rollback_of=change_id,
            status=Status.APPROVED,  # approved together with the original, for that long
        )
        revert = self.repo.create_revert(change_id, new, now)
        if revert is None:
            return False  # another replica claimed it
        channel = cluster.approvals.approvers_channel or original.channel_id
        if channel:  # the revert reports in its own thread, like any change
            ts = self.notifier.post(channel, request_doc(revert, [], now))
            if ts:
                self.repo.set_message(revert.id, channel, ts)
        self.thread(original, f"Time is up for change #{change_id}: reverting it as change #{revert.id}.")
        self.start_apply(revert.id)
        return True

    def track_nodes(self) -> None:
        """Re-list the nodes a change still has to replace (custom networking: those on the old subnets; prefix
        delegation and the like: those that predate it); stop when none are left."""
        for record in self.repo.tracking():
            for_settings = record.detail.get("replace_for") == FOR_NODE_SETTINGS
            try:
                remaining = remaining_nodes(self.services.connections.get(self.cluster_of(record)), record.detail)
            except Exception as exc:
                log.warning("node tracking of change %s failed: %s", record.id, exc)
                continue
            if not remaining:
                if self.repo.stop_tracking(
                    record.id, record.version, self.now(), actor=SYSTEM_ACTOR, kind=AuditKind.NODES_REPLACED
                ):
                    self.repo.merge_detail(record.id, {"nodes_to_replace": []}, self.now())
                    done = (
                        "Every node that predates the change is replaced. Done."
                        if for_settings
                        else "Every node now takes pod addresses from the ENIConfig subnets. Done."
                    )
                    self.thread(record, done)
                    self.refresh(record.id)
            elif remaining != list(record.detail.get("nodes_to_replace") or []):
                updated = self.repo.merge_detail(
                    record.id, {"nodes_to_replace": remaining}, self.now(), expected_version=record.version
                )
                if updated is not None:
                    self.thread(record, nodes_left_text(remaining, for_settings=for_settings))
                    self.refresh(record.id)

    # --- applying ------------------------------------------------------------------------------------------
    def start_apply(self, change_id: int) -> threading.Thread:
        """Apply in the background: a rollout can take many minutes and must not hold a Slack worker."""
        threads = self.services.apply_threads

        def run() -> None:
            try:
                Applier(self).run(change_id)
            finally:
                threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"apply-change-{change_id}", daemon=True)
        threads.add(thread)
        thread.start()
        return thread

    def apply_waiting(self) -> None:
        """Approved changes that waited for their cluster's lock, and applies a dead replica left behind
        (its lease ran out). Several replicas may start the same one: the lock and the claim let one through."""
        waiting = self.repo.with_status({Status.APPROVED, Status.APPLYING, Status.APPLIED})
        # One per cluster and tick (only one can hold the lock): unfinished work first, then the oldest.
        first: dict[str, ChangeRecord] = {}
        for record in sorted(waiting, key=lambda r: (r.status is Status.APPROVED, r.id)):
            first.setdefault(record.cluster, record)
        for cluster, record in first.items():
            if self.repo.lock_holder(cluster, self.now()) is None:
                self.start_apply(record.id)

    # --- Slack ---------------------------------------------------------------------------------------------
    def refresh(self, change_id: int) -> None:
        """Re-render the approval message from the stored state. Two refreshes may race (threads, replicas):
        each re-renders until the version it rendered is still the stored one after posting, so the last
        message posted always shows the latest state."""
        for _ in range(3):
            record = self.repo.get(change_id)
            if record is None or not record.channel_id or not record.message_ts:
                return
            doc = request_doc(record, self.repo.approvals(change_id), self.now())
            self.notifier.update(record.channel_id, record.message_ts, doc)
            again = self.repo.get(change_id)
            if again is None or again.version == record.version:
                return

    def thread(self, record: ChangeRecord, text: str) -> str | None:
        """A line in the request's thread, naming the requester so they are notified."""
        fresh = self.repo.get(record.id) or record
        if not fresh.channel_id or not fresh.message_ts:
            return None
        person = not fresh.requester_id.startswith("cli:") and fresh.requester_id != SYSTEM_ACTOR
        mention = f"<@{fresh.requester_id}> " if person else ""
        return self.notifier.reply(fresh.channel_id, fresh.message_ts, mention + text)


_APPROVAL_REFUSED = {
    ApprovalOutcome.ALREADY: "You already approved this; it needs another approver.",
    ApprovalOutcome.EXPIRED: "This request has expired; ask for the change again.",
    ApprovalOutcome.GONE: "This change no longer exists.",
}
