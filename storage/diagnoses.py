"""Every why-pending diagnosis: what was found for which pod, for whom, and how long it took.

Read back by history views and digests ("pods that failed to get an IP"); written once per answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_scope
from storage.models import DiagnosisRecord


@dataclass(frozen=True)
class DiagnosisEntry:
    created_at: datetime
    cluster: str
    namespace: str
    pod: str
    node: str | None
    codes: list[str]
    primary_code: str
    requester: str
    duration_ms: int
    correlation_id: str
    could_not_check: list[dict[str, str]]


class DiagnosisRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(
        self,
        *,
        cluster: str,
        namespace: str,
        pod: str,
        node: str | None,
        codes: Sequence[str],
        requester: str,
        duration_ms: int,
        correlation_id: str,
        could_not_check: Sequence[dict[str, str]] = (),
        created_at: datetime | None = None,
    ) -> int:
        if not codes:
            raise ValueError("a diagnosis has at least one cause code")
        row = DiagnosisRecord(
            cluster=cluster,
            namespace=namespace,
            pod=pod,
            node=node,
            codes=list(codes),
            primary_code=codes[0],
            requester=requester,
            duration_ms=duration_ms,
            correlation_id=correlation_id,
            could_not_check=[dict(u) for u in could_not_check],
        )
        if created_at is not None:
            row.created_at = created_at
        with session_scope(self._sessions) as session:
            session.add(row)
            session.flush()
            return row.id

    def recent(
        self,
        *,
        cluster: str | None = None,
        primary_code: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[DiagnosisEntry]:
        query = select(DiagnosisRecord).order_by(DiagnosisRecord.created_at.desc(), DiagnosisRecord.id.desc())
        if cluster is not None:
            query = query.where(DiagnosisRecord.cluster == cluster)
        if primary_code is not None:
            query = query.where(DiagnosisRecord.primary_code == primary_code)
        if since is not None:
            query = query.where(DiagnosisRecord.created_at >= since)
        with self._sessions() as session:
            return [_entry(r) for r in session.scalars(query.limit(limit)).all()]

    def count_by_primary_code(self, *, cluster: str | None = None, since: datetime | None = None) -> dict[str, int]:
        query = select(DiagnosisRecord.primary_code, func.count()).group_by(DiagnosisRecord.primary_code)
        if cluster is not None:
            query = query.where(DiagnosisRecord.cluster == cluster)
        if since is not None:
            query = query.where(DiagnosisRecord.created_at >= since)
        with self._sessions() as session:
            return {code: int(n) for code, n in session.execute(query).all()}


def _entry(r: DiagnosisRecord) -> DiagnosisEntry:
    return DiagnosisEntry(
        created_at=r.created_at,
        cluster=r.cluster,
        namespace=r.namespace,
        pod=r.pod,
        node=r.node,
        codes=list(r.codes),
        primary_code=r.primary_code,
        requester=r.requester,
        duration_ms=r.duration_ms,
        correlation_id=r.correlation_id,
        could_not_check=list(r.could_not_check),
    )
