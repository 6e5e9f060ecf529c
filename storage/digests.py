"""Digest subscriptions and their claims (one row per subscription and period: the exactly-once guarantee).

A claim is taken by inserting a row under a UNIQUE key: of several replicas trying at once, exactly one insert
succeeds, on SQLite and on Postgres alike. Tables: storage/digest_tables.py; the capacity samples digests are
built from: storage/capacity_samples.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.digest_records import CLAIMED, FAILED, POSTED, UNCERTAIN, Claim, Subscription
from storage.db import session_scope
from storage.digest_tables import DigestClaimRow, DigestSubscriptionRow


def _subscription(row: DigestSubscriptionRow) -> Subscription:
    return Subscription(
        row.id, row.cluster, row.channel, row.schedule, row.timezone, row.created_by, row.created_at, row.updated_at
    )


def _claim(row: DigestClaimRow) -> Claim:
    return Claim(
        row.id,
        row.subscription_id,
        row.period,
        row.status,
        row.claimed_by,
        row.claimed_at,
        row.attempts,
        row.late,
        row.finished_at,
        row.channel_id,
        row.message_ts,
        row.error,
        row.summary,
    )


# --- subscriptions and claims -------------------------------------------------------------------------------


class DigestRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def subscribe(
        self, *, cluster: str, channel: str, schedule: str, timezone: str, user_id: str, now: datetime
    ) -> tuple[Subscription, bool]:
        """Create or reschedule the channel's subscription to the cluster. Returns (subscription, created)."""
        for _ in range(2):  # a concurrent subscribe of the same channel makes the insert lose once
            try:
                with session_scope(self._sessions) as session:
                    row = session.scalars(
                        select(DigestSubscriptionRow).where(
                            DigestSubscriptionRow.cluster == cluster, DigestSubscriptionRow.channel == channel
                        )
                    ).first()
                    created = row is None
                    if row is None:
                        row = DigestSubscriptionRow(
                            cluster=cluster, channel=channel, created_by=user_id, created_at=now
                        )
                        session.add(row)
                    row.schedule, row.timezone, row.updated_at = schedule, timezone, now
                    session.flush()
                    return _subscription(row), created
            except IntegrityError:
                continue
        raise RuntimeError("could not save the subscription")

    def unsubscribe(self, *, channel: str, cluster: str | None = None) -> list[Subscription]:
        with session_scope(self._sessions) as session:
            query = select(DigestSubscriptionRow).where(DigestSubscriptionRow.channel == channel)
            if cluster is not None:
                query = query.where(DigestSubscriptionRow.cluster == cluster)
            rows = session.scalars(query).all()
            removed = [_subscription(r) for r in rows]
            ids = [r.id for r in rows]
            if ids:
                # Claims go too (ON DELETE CASCADE would do it on Postgres; SQLite needs foreign_keys=ON).
                session.execute(delete(DigestClaimRow).where(DigestClaimRow.subscription_id.in_(ids)))
                session.execute(delete(DigestSubscriptionRow).where(DigestSubscriptionRow.id.in_(ids)))
            return removed

    def subscriptions(self, *, cluster: str | None = None, channel: str | None = None) -> list[Subscription]:
        query = select(DigestSubscriptionRow).order_by(DigestSubscriptionRow.id)
        if cluster is not None:
            query = query.where(DigestSubscriptionRow.cluster == cluster)
        if channel is not None:
            query = query.where(DigestSubscriptionRow.channel == channel)
        with self._sessions() as session:
            return [_subscription(r) for r in session.scalars(query).all()]

    def subscription(self, subscription_id: int) -> Subscription | None:
        with self._sessions() as session:
            row = session.get(DigestSubscriptionRow, subscription_id)
            return _subscription(row) if row else None

    def claim(
        self, *, subscription_id: int, period: datetime, replica: str, now: datetime, late: bool = False
    ) -> Claim | None:
        """Take (subscription, period). None when another run has it already: that run posts, not this one."""
        try:
            with session_scope(self._sessions) as session:
                row = DigestClaimRow(
                    subscription_id=subscription_id,
                    period=period,
                    status=CLAIMED,
                    claimed_by=replica,
                    claimed_at=now,
                    attempts=1,
                    late=late,
                )
                session.add(row)
                session.flush()
                return _claim(row)
        except IntegrityError:
            return None

    def retake_failed(self, *, claim_id: int, replica: str, now: datetime) -> Claim | None:
        """Take a claim whose post Slack refused (nothing went out), so it is tried again; one taker wins."""
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(DigestClaimRow)
                .where(DigestClaimRow.id == claim_id, DigestClaimRow.status == FAILED)
                .values(
                    status=CLAIMED,
                    claimed_by=replica,
                    claimed_at=now,
                    attempts=DigestClaimRow.attempts + 1,
                    late=True,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.get(DigestClaimRow, claim_id)
            assert row is not None
            return _claim(row)

    def finish(
        self,
        claim_id: int,
        *,
        status: str,
        now: datetime,
        channel_id: str | None = None,
        message_ts: str | None = None,
        error: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(DigestClaimRow)
                .where(DigestClaimRow.id == claim_id)
                .values(
                    status=status,
                    finished_at=now,
                    channel_id=channel_id,
                    message_ts=message_ts,
                    error=error[:2000] if error else None,
                    summary=summary,
                )
            )

    def claim_for(self, subscription_id: int, period: datetime) -> Claim | None:
        with self._sessions() as session:
            row = session.scalars(
                select(DigestClaimRow).where(
                    DigestClaimRow.subscription_id == subscription_id, DigestClaimRow.period == period
                )
            ).first()
            return _claim(row) if row else None

    def last_posted(self, subscription_id: int, *, before: datetime) -> Claim | None:
        with self._sessions() as session:
            row = session.scalars(
                select(DigestClaimRow)
                .where(
                    DigestClaimRow.subscription_id == subscription_id,
                    DigestClaimRow.status == POSTED,
                    DigestClaimRow.period < before,
                )
                .order_by(DigestClaimRow.period.desc())
                .limit(1)
            ).first()
            return _claim(row) if row else None

    def last_claim(self, subscription_id: int, *, before: datetime) -> Claim | None:
        """The newest period that was claimed, whatever became of it."""
        with self._sessions() as session:
            row = session.scalars(
                select(DigestClaimRow)
                .where(DigestClaimRow.subscription_id == subscription_id, DigestClaimRow.period < before)
                .order_by(DigestClaimRow.period.desc())
                .limit(1)
            ).first()
            return _claim(row) if row else None

    def abandon_claimed(self, *, older_than: datetime, now: datetime) -> int:
        """Claims whose replica died while posting: the message may have gone out, so they are never retried
        (uncertain), but they no longer look in progress."""
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(DigestClaimRow)
                .where(DigestClaimRow.status == CLAIMED, DigestClaimRow.claimed_at < older_than)
                .values(
                    status=UNCERTAIN,
                    finished_at=now,
                    error="the replica posting it stopped; it may or may not have been posted",
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claims(self, subscription_id: int | None = None) -> list[Claim]:
        query = select(DigestClaimRow).order_by(DigestClaimRow.period, DigestClaimRow.id)
        if subscription_id is not None:
            query = query.where(DigestClaimRow.subscription_id == subscription_id)
        with self._sessions() as session:
            return [_claim(r) for r in session.scalars(query).all()]
