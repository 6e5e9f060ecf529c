"""What digests read from other features' records: pods diagnosed by why-pending, change requests waiting for
approval, and the aws-node env the last approved change left. A narrow seam, so digests work (and are tested)
whether or not those records exist yet."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from bot.digests.content import ApprovedSettings, PendingChange
from bot.digests.model import FailedPod
from bot.domain.diagnosis.model import CauseCode
from storage.db import make_session_factory
from storage.diagnoses import DiagnosisRepository


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


# Diagnoses that are not "this pod has no IP": it has one, it was never scheduled, or the cause is elsewhere.
NOT_IP_FAILURES = frozenset(
    {
        CauseCode.POD_HAS_IP,
        CauseCode.HOST_NETWORK,
        CauseCode.POD_NOT_FOUND,
        CauseCode.NOT_SCHEDULED,
        CauseCode.MAX_PODS_REACHED,
        CauseCode.SGP_BRANCH_CAPACITY,
        CauseCode.NETWORK_POLICY_AGENT,
        CauseCode.UNKNOWN,
    }
)
MAX_DIAGNOSES = 500


class StoredSources(NoSources):
    """Reads what why-pending stored; approvals are added when their records exist."""

    def __init__(self, diagnoses: DiagnosisRepository) -> None:
        self._diagnoses = diagnoses

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
            if e.created_at <= until and e.primary_code not in NOT_IP_FAILURES
        ]


def sources_for(engine: Engine) -> DigestSources:
    """The why-pending and approval records of this deployment."""
    return StoredSources(DiagnosisRepository(make_session_factory(engine)))
