"""What digests read from other features' records: pods diagnosed by why-pending, change requests waiting for
approval, and the aws-node env the last approved change left. A narrow seam, so digests work (and are tested)
whether or not those records exist yet."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.digests.content import ApprovedSettings, PendingChange
from bot.domain.capacity_samples import FailedPod
from bot.domain.changes import Status
from bot.domain.diagnosis.catalogue import is_ip_failure
from storage.changes import ChangeRepository
from storage.diagnoses import DiagnosisRepository
from storage.repositories import Repositories


class DigestSources(Protocol):
    def diagnosed_failures(self, cluster: str, *, since: datetime, until: datetime) -> list[FailedPod]: ...

    def approved_settings(self, cluster: str) -> ApprovedSettings | None: ...

    def pending_changes(self, cluster: str) -> list[PendingChange]: ...


class NoSources:
    """No diagnoses or approvals recorded: digests leave those sections out."""

    def diagnosed_failures(self, cluster: str, *, since: datetime, until: datetime) -> list[FailedPod]:
        return []

    def approved_settings(self, cluster: str) -> ApprovedSettings | None:
        return None

    def pending_changes(self, cluster: str) -> list[PendingChange]:
        return []


MAX_DIAGNOSES = 500


# Changes whose writes went into the cluster and were not undone by a failure: the newest of them touching
# aws-node left the env the cluster should be running (a rollback is itself such a change).
APPLIED = frozenset({Status.APPLIED, Status.VERIFIED, Status.ROLLED_BACK, Status.REVERTED})


class StoredSources:
    """Reads what why-pending and the change workflow stored."""

    def __init__(self, diagnoses: DiagnosisRepository, changes: ChangeRepository) -> None:
        self._diagnoses = diagnoses
        self._changes = changes

    def diagnosed_failures(self, cluster: str, *, since: datetime, until: datetime) -> list[FailedPod]:
        entries = self._diagnoses.recent(cluster=cluster, since=since, limit=MAX_DIAGNOSES)
        return [
            FailedPod(
                namespace=e.namespace,
                name=e.pod,
                cause=e.primary_code,
                message="",
                last_seen=e.created_at,
                source="diagnosis",
            )
            for e in entries
            if e.created_at <= until and is_ip_failure(e.primary_code)
        ]

    def approved_settings(self, cluster: str) -> ApprovedSettings | None:
        applied = [
            c
            for c in self._changes.with_status(APPLIED, cluster=cluster)
            if c.spec.touches_aws_node and c.base.aws_node is not None and c.applied_at is not None
        ]
        if not applied:
            return None
        last = max(applied, key=lambda c: (c.applied_at, c.id))
        assert last.base.aws_node is not None
        env = dict(last.base.aws_node.env)
        for key, value in last.spec.env_updates().items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return ApprovedSettings(env, change_id=str(last.id), approved_at=last.applied_at)

    def pending_changes(self, cluster: str) -> list[PendingChange]:
        return [
            PendingChange(str(c.id), c.summary, c.requester_id, c.created_at)
            for c in self._changes.with_status({Status.PENDING}, cluster=cluster)
        ]


def sources_for(repos: Repositories) -> DigestSources:
    """The why-pending and change records of this deployment."""
    return StoredSources(repos.diagnoses, repos.changes)
