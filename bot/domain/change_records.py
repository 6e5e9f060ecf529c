"""What a change request is once stored: its record, approvals, audit entries, and approval outcomes.

Plain values (no database types): storage returns them, the change flow and renderers read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.changes import OPEN_STATUSES, BaseRevision, ChangeKind, ChangeSpec, Status, Target
from bot.domain.knobs import Risk

SYSTEM_ACTOR = "cnibot"  # the actor of what cnibot does by itself (expiry, revert, apply)


class AuditKind(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REFUSED_CLICK = "refused-click"
    EXPIRED = "expired"
    STALE = "stale"
    APPLY_DISABLED = "apply-disabled"
    MARKED_APPLIED = "marked-applied"  # a person applied a by-hand change and said so
    APPLYING = "applying"
    APPLIED = "applied"
    APPLY_FAILED = "apply-failed"
    ROLLOUT_DONE = "rollout-done"
    ROLLOUT_FAILED = "rollout-failed"
    VERIFIED = "verified"
    VERIFY_FAILED = "verify-failed"
    ROLLED_BACK = "rolled-back"
    AUTO_REVERTED = "auto-reverted"
    AUTO_REVERT_SKIPPED = "auto-revert-skipped"
    NODES_TO_REPLACE = "nodes-to-replace"
    NODES_REPLACED = "nodes-replaced"
    NODE_REPLACED = "node-replaced"  # one node of a `/cni nodes replace` rollout, with its replacement


@dataclass(frozen=True)
class ChangeRecord:
    id: int
    cluster: str
    kind: ChangeKind
    status: Status
    version: int
    requester_id: str
    requester_name: str | None
    reason: str
    risk: Risk
    approvals_needed: int
    spec: ChangeSpec
    diff_hash: str
    base: BaseRevision
    target: Target
    summary: str
    detail: Mapping[str, Any]
    duration: timedelta | None
    rollback_of: int | None
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    applied_at: datetime | None
    revert_at: datetime | None
    finished_at: datetime | None
    origin_channel_id: str | None
    channel_id: str | None
    message_ts: str | None
    tracking_nodes: bool

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class ApprovalEntry:
    user_id: str
    at: datetime


@dataclass(frozen=True)
class AuditEntry:
    id: int
    change_id: int
    cluster: str
    at: datetime
    actor: str
    kind: str
    detail: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "change_id": self.change_id,
            "cluster": self.cluster,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "event": self.kind,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True)
class NewChange:
    cluster: str
    kind: ChangeKind
    requester_id: str
    requester_name: str | None
    reason: str
    risk: Risk
    approvals_needed: int
    spec: ChangeSpec
    diff_hash: str
    base: BaseRevision
    target: Target
    summary: str
    created_at: datetime
    expires_at: datetime
    detail: Mapping[str, Any] | None = None
    duration: timedelta | None = None
    rollback_of: int | None = None
    origin_channel_id: str | None = None
    status: Status = Status.PENDING


class ApprovalOutcome(StrEnum):
    RECORDED = "recorded"  # counted; more approvals needed
    APPROVED = "approved"  # this approval completed the request: the caller applies it
    ALREADY = "already"  # this person had approved already
    NOT_PENDING = "not-pending"
    EXPIRED = "expired"
    GONE = "gone"


@dataclass(frozen=True)
class ApprovalResult:
    outcome: ApprovalOutcome
    status: Status | None
    approvers: tuple[str, ...] = ()
    needed: int = 0
