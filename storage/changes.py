"""Change requests, their approvals, the append-only audit, and the per-cluster apply lock.

Every status change is a conditional UPDATE (`... WHERE id = :id AND status IN (:allowed)`): of two replicas,
two approvers or a Slack retry racing for one transition, exactly one sees a row updated and goes on; the
audit event of a transition is written in the same transaction, so there is one event per transition.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.change_records import (
    SYSTEM_ACTOR,
    ApprovalEntry,
    ApprovalOutcome,
    ApprovalResult,
    AuditEntry,
    AuditKind,
    ChangeRecord,
    NewChange,
)
from bot.domain.changes import (
    IN_EFFECT,
    OPEN_STATUSES,
    BaseRevision,
    ChangeKind,
    ChangeSpec,
    Status,
    Target,
    sources_of,
)
from bot.domain.knobs import Risk
from storage.change_tables import ApplyLockRow, ChangeApprovalRow, ChangeEventRow, ChangeRequestRow
from storage.db import session_scope

_REFUSAL_CODES = {
    ApprovalOutcome.ALREADY: "already-approved",
    ApprovalOutcome.NOT_PENDING: "not-pending",
    ApprovalOutcome.EXPIRED: "expired",
}
# Columns a transition may set besides the status.
_TRANSITION_FIELDS = frozenset({"applied_at", "revert_at", "finished_at", "tracking_nodes", "detail"})


class ChangeRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # --- requests --------------------------------------------------------------------------------------
    def create(self, new: NewChange, *, actor: str | None = None) -> ChangeRecord:
        """Store a request and its `requested` event in one transaction."""
        with session_scope(self._sessions) as session:
            row = _new_row(new)
            session.add(row)
            session.flush()
            _add_event(
                session,
                row,
                actor or new.requester_id,
                AuditKind.REQUESTED,
                new.created_at,
                {"kind": new.kind.value, "diff_hash": new.diff_hash, "reason": new.reason, "changes": new.spec.lines()},
            )
            return _record(row)

    def create_revert(self, original_id: int, new: NewChange, now: datetime) -> ChangeRecord | None:
        """Claim the automatic revert of a `--for` change and store it, once: the replica that clears
        ``revert_at`` creates the revert; every other replica gets None."""
        with session_scope(self._sessions) as session:
            if not _claim_revert(session, original_id, now):
                return None
            row = _new_row(new)
            session.add(row)
            session.flush()
            _add_event(
                session,
                row,
                SYSTEM_ACTOR,
                AuditKind.REQUESTED,
                now,
                {"kind": new.kind.value, "diff_hash": new.diff_hash, "reverts": original_id},
            )
            return _record(row)

    def skip_revert(self, original_id: int, now: datetime, reason: str) -> bool:
        """Claim a due revert that must not happen (the settings changed again since): recorded once."""
        with session_scope(self._sessions) as session:
            if not _claim_revert(session, original_id, now):
                return False
            row = session.get(ChangeRequestRow, original_id)
            assert row is not None
            _add_event(session, row, SYSTEM_ACTOR, AuditKind.AUTO_REVERT_SKIPPED, now, {"reason": reason})
            return True

    def get(self, change_id: int) -> ChangeRecord | None:
        with self._sessions() as session:
            row = session.get(ChangeRequestRow, change_id)
            return _record(row) if row else None

    def recent(self, *, cluster: str | None = None, open_only: bool = False, limit: int = 20) -> list[ChangeRecord]:
        query = select(ChangeRequestRow).order_by(ChangeRequestRow.id.desc()).limit(limit)
        if cluster:
            query = query.where(ChangeRequestRow.cluster == cluster)
        if open_only:
            query = query.where(ChangeRequestRow.status.in_([s.value for s in OPEN_STATUSES]))
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    def with_status(self, statuses: Collection[Status], *, cluster: str | None = None) -> list[ChangeRecord]:
        query = (
            select(ChangeRequestRow)
            .where(ChangeRequestRow.status.in_([s.value for s in statuses]))
            .order_by(ChangeRequestRow.id)
        )
        if cluster:
            query = query.where(ChangeRequestRow.cluster == cluster)
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    def due_expiries(self, now: datetime) -> list[int]:
        query = select(ChangeRequestRow.id).where(
            ChangeRequestRow.status == Status.PENDING.value, ChangeRequestRow.expires_at <= now
        )
        with self._sessions() as session:
            return list(session.scalars(query))

    def due_reverts(self, now: datetime) -> list[int]:
        query = select(ChangeRequestRow.id).where(
            ChangeRequestRow.revert_at.is_not(None),
            ChangeRequestRow.revert_at <= now,
            ChangeRequestRow.status.in_([s.value for s in IN_EFFECT]),
        )
        with self._sessions() as session:
            return list(session.scalars(query))

    def tracking(self) -> list[ChangeRecord]:
        query = select(ChangeRequestRow).where(ChangeRequestRow.tracking_nodes.is_(True))
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(query)]

    def set_message(self, change_id: int, channel_id: str, ts: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(ChangeRequestRow)
                .where(ChangeRequestRow.id == change_id)
                .values(channel_id=channel_id, message_ts=ts)
                .execution_options(synchronize_session=False)
            )

    def merge_detail(
        self, change_id: int, patch: Mapping[str, Any], now: datetime, *, expected_version: int | None = None
    ) -> ChangeRecord | None:
        """Merge keys into the request's detail. With ``expected_version``, only if nobody wrote the request
        since that version was read (None returned otherwise): jobs in several replicas write once."""
        with session_scope(self._sessions) as session:
            row = session.get(ChangeRequestRow, change_id, with_for_update=True)
            if row is None or (expected_version is not None and row.version != expected_version):
                return None
            row.detail = {**(row.detail or {}), **patch}
            row.version += 1
            row.updated_at = now
            session.flush()
            return _record(row)

    def stop_tracking(self, change_id: int, version: int, now: datetime, *, actor: str, kind: AuditKind) -> bool:
        """Stop tracking node replacement, once (conditional on the version the caller read)."""
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(ChangeRequestRow)
                .where(
                    ChangeRequestRow.id == change_id,
                    ChangeRequestRow.version == version,
                    ChangeRequestRow.tracking_nodes.is_(True),
                )
                .values(tracking_nodes=False, version=ChangeRequestRow.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) != 1:
                return False
            row = session.get(ChangeRequestRow, change_id)
            assert row is not None
            _add_event(session, row, actor, kind, now, None)
            return True

    # --- transitions -----------------------------------------------------------------------------------
    def transition(
        self,
        change_id: int,
        target: Status,
        *,
        actor: str,
        at: datetime,
        event: AuditKind,
        detail: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        only_from: Collection[Status] | None = None,
    ) -> bool:
        """Move the request to ``target`` if its status allows it; True for the one caller that did."""
        allowed = set(sources_of(target))
        if only_from is not None:
            allowed &= set(only_from)
        extra = dict(values or {})
        unknown = set(extra) - _TRANSITION_FIELDS
        if unknown:
            raise ValueError(f"a transition cannot set {sorted(unknown)}")
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(ChangeRequestRow)
                .where(ChangeRequestRow.id == change_id, ChangeRequestRow.status.in_([s.value for s in allowed]))
                .values(status=target.value, version=ChangeRequestRow.version + 1, updated_at=at, **extra)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) != 1:
                return False
            row = session.get(ChangeRequestRow, change_id)
            assert row is not None
            _add_event(session, row, actor, event, at, {"status": target.value, **(detail or {})})
            return True

    def approve(self, change_id: int, user_id: str, at: datetime) -> ApprovalResult:
        """Record one person's approval; the approval that reaches the count moves the request to approved.
        A click that cannot count (already approved, request decided or expired) is recorded as refused.

        The first statement updates the request row, which locks it (Postgres) or the database (SQLite)
        until commit: approvals of one request are serialised, so counting them is exact.
        """
        with session_scope(self._sessions) as session:
            bumped = session.execute(
                update(ChangeRequestRow)
                .where(
                    ChangeRequestRow.id == change_id,
                    ChangeRequestRow.status == Status.PENDING.value,
                    ChangeRequestRow.expires_at > at,
                )
                .values(version=ChangeRequestRow.version + 1, updated_at=at)
                .execution_options(synchronize_session=False)
            )
            row = session.get(ChangeRequestRow, change_id)
            if row is None:
                return ApprovalResult(ApprovalOutcome.GONE, None)
            approvers = list(
                session.scalars(
                    select(ChangeApprovalRow.user_id)
                    .where(ChangeApprovalRow.change_id == change_id)
                    .order_by(ChangeApprovalRow.id)
                )
            )
            status = Status(row.status)
            refused: ApprovalOutcome | None = None
            if _rowcount(bumped) != 1:
                refused = ApprovalOutcome.EXPIRED if status is Status.PENDING else ApprovalOutcome.NOT_PENDING
            elif user_id in approvers:
                refused = ApprovalOutcome.ALREADY
            if refused is not None:
                # Every click leaves a trace: a refused one in the same transaction that refused it.
                why = {"action": "approve", "refusal": _REFUSAL_CODES[refused], "status": status.value}
                _add_event(session, row, user_id, AuditKind.REFUSED_CLICK, at, why)
                return ApprovalResult(refused, status, tuple(approvers), row.approvals_needed)
            session.add(ChangeApprovalRow(change_id=change_id, user_id=user_id, created_at=at))
            approvers.append(user_id)
            final = len(approvers) >= row.approvals_needed
            detail: dict[str, Any] = {"approvals": len(approvers), "needed": row.approvals_needed}
            if final:
                row.status = Status.APPROVED.value
                detail["status"] = Status.APPROVED.value
            session.flush()
            _add_event(session, row, user_id, AuditKind.APPROVED, at, detail)
            outcome = ApprovalOutcome.APPROVED if final else ApprovalOutcome.RECORDED
            return ApprovalResult(outcome, Status(row.status), tuple(approvers), row.approvals_needed)

    def approvals(self, change_id: int) -> list[ApprovalEntry]:
        query = select(ChangeApprovalRow).where(ChangeApprovalRow.change_id == change_id).order_by(ChangeApprovalRow.id)
        with self._sessions() as session:
            return [ApprovalEntry(r.user_id, r.created_at) for r in session.scalars(query)]

    # --- audit -----------------------------------------------------------------------------------------
    def record(
        self,
        change_id: int,
        kind: AuditKind,
        *,
        actor: str,
        at: datetime,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """An audit event that is not a transition (a refused click, rollout progress, nodes to replace)."""
        with session_scope(self._sessions) as session:
            row = session.get(ChangeRequestRow, change_id)
            if row is None:
                raise LookupError(f"no change {change_id}")
            _add_event(session, row, actor, kind, at, detail)

    def events(self, change_id: int) -> list[AuditEntry]:
        query = select(ChangeEventRow).where(ChangeEventRow.change_id == change_id).order_by(ChangeEventRow.id)
        with self._sessions() as session:
            return [_audit(r) for r in session.scalars(query)]

    def events_since(self, since: datetime, *, batch: int = 1000) -> Iterator[AuditEntry]:
        """Every audit event at or after ``since``, oldest first, read in batches."""
        last_id = 0
        while True:
            query = (
                select(ChangeEventRow)
                .where(ChangeEventRow.at >= since, ChangeEventRow.id > last_id)
                .order_by(ChangeEventRow.id)
                .limit(batch)
            )
            with self._sessions() as session:
                rows = [_audit(r) for r in session.scalars(query)]
            yield from rows
            if len(rows) < batch:
                return
            last_id = rows[-1].id

    # --- the per-cluster apply lock ------------------------------------------------------------------
    def acquire_lock(self, cluster: str, change_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        """Take the cluster's apply lock if it is free, expired, or already this owner's."""
        with session_scope(self._sessions) as session:
            session.execute(_insert_ignore(session, ApplyLockRow, {"cluster": cluster}))
            result = session.execute(
                update(ApplyLockRow)
                .where(
                    ApplyLockRow.cluster == cluster,
                    or_(
                        ApplyLockRow.owner.is_(None),
                        ApplyLockRow.expires_at <= now,
                        ApplyLockRow.owner == owner,
                    ),
                )
                .values(change_id=change_id, owner=owner, acquired_at=now, expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1

    def renew_lock(self, cluster: str, owner: str, now: datetime, lease: timedelta) -> bool:
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(ApplyLockRow)
                .where(ApplyLockRow.cluster == cluster, ApplyLockRow.owner == owner)
                .values(expires_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            return _rowcount(result) == 1

    def release_lock(self, cluster: str, owner: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(ApplyLockRow)
                .where(ApplyLockRow.cluster == cluster, ApplyLockRow.owner == owner)
                .values(change_id=None, owner=None, acquired_at=None, expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def lock_holder(self, cluster: str, now: datetime) -> int | None:
        """The change holding the cluster's lock, or None when it is free or its lease ran out."""
        with self._sessions() as session:
            row = session.get(ApplyLockRow, cluster)
            if row is None or row.owner is None or row.expires_at is None or row.expires_at <= now:
                return None
            return row.change_id


def _claim_revert(session: Session, original_id: int, now: datetime) -> bool:
    """Clear a due revert_at: the one transaction that does it owns the revert."""
    claimed = session.execute(
        update(ChangeRequestRow)
        .where(
            ChangeRequestRow.id == original_id,
            ChangeRequestRow.revert_at.is_not(None),
            ChangeRequestRow.revert_at <= now,
            ChangeRequestRow.status.in_([s.value for s in IN_EFFECT]),
        )
        .values(revert_at=None, version=ChangeRequestRow.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(claimed) == 1


def _insert_ignore(session: Session, table: type[ApplyLockRow], values: Mapping[str, Any]) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).values(**values).on_conflict_do_nothing()


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _new_row(new: NewChange) -> ChangeRequestRow:
    return ChangeRequestRow(
        cluster=new.cluster,
        kind=new.kind.value,
        status=new.status.value,
        version=0,
        requester_id=new.requester_id,
        requester_name=new.requester_name,
        reason=new.reason,
        risk=new.risk.value,
        approvals_needed=new.approvals_needed,
        spec=new.spec.to_json(),
        diff_hash=new.diff_hash,
        base=new.base.to_json(),
        target=new.target.value,
        summary=new.summary,
        detail=dict(new.detail or {}),
        duration_seconds=int(new.duration.total_seconds()) if new.duration else None,
        rollback_of=new.rollback_of,
        created_at=new.created_at,
        expires_at=new.expires_at,
        updated_at=new.created_at,
        origin_channel_id=new.origin_channel_id,
        tracking_nodes=False,
    )


def _add_event(
    session: Session,
    row: ChangeRequestRow,
    actor: str,
    kind: AuditKind,
    at: datetime,
    detail: Mapping[str, Any] | None,
) -> None:
    session.add(
        ChangeEventRow(
            change_id=row.id,
            cluster=row.cluster,
            at=at,
            actor=actor[:64],
            kind=kind.value,
            detail=dict(detail) if detail else None,
        )
    )


def _record(row: ChangeRequestRow) -> ChangeRecord:
    return ChangeRecord(
        id=row.id,
        cluster=row.cluster,
        kind=ChangeKind(row.kind),
        status=Status(row.status),
        version=row.version,
        requester_id=row.requester_id,
        requester_name=row.requester_name,
        reason=row.reason,
        risk=Risk(row.risk),
        approvals_needed=row.approvals_needed,
        spec=ChangeSpec.from_json(row.spec),
        diff_hash=row.diff_hash,
        base=BaseRevision.from_json(row.base),
        target=Target(row.target),
        summary=row.summary,
        detail=dict(row.detail or {}),
        duration=timedelta(seconds=row.duration_seconds) if row.duration_seconds else None,
        rollback_of=row.rollback_of,
        created_at=row.created_at,
        expires_at=row.expires_at,
        updated_at=row.updated_at,
        applied_at=row.applied_at,
        revert_at=row.revert_at,
        finished_at=row.finished_at,
        origin_channel_id=row.origin_channel_id,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        tracking_nodes=row.tracking_nodes,
    )


def _audit(row: ChangeEventRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        change_id=row.change_id,
        cluster=row.cluster,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        detail=dict(row.detail or {}),
    )
