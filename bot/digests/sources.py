"""What digests read from other features' records: pods diagnosed by why-pending, change requests waiting for
approval, and the aws-node env the last approved change left. A narrow seam, so digests work (and are tested)
whether or not those records exist yet."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from bot.digests.content import ApprovedSettings, PendingChange
from bot.digests.model import FailedPod


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


def sources_for(engine: Engine) -> DigestSources:
    """The why-pending and approval records of this deployment."""
    return NoSources()
