"""The capacity samples digests are built from.

Samples are compact: a row per sample (with the node rows and VPC context only while it is the newest), a row
per subnet and sample (kept for months, thinned), and the pods that failed to get an IP. A sample slot is
taken by inserting a row under a UNIQUE key, so one replica samples each slot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.capacity_samples import CapacitySample, FailedPod, NodeSample, SubnetHistory, SubnetSample, VpcSubnet
from bot.domain.instance_limits import InstanceLimits
from bot.domain.sample_thinning import ThinningPolicy, plan_thinning
from storage.db import session_scope
from storage.digest_tables import CapacitySampleRow, SubnetSampleRow

# Sample states.
PENDING = "pending"
OK = "ok"
PARTIAL = "partial"  # stored, but some input could not be read (see the sample's could_not_check)
SAMPLE_FAILED = "failed"
USABLE = (OK, PARTIAL)
_CHUNK = 500  # ids per IN (...) clause


@dataclass(frozen=True)
class SampleAttempt:
    at: datetime
    status: str  # OK | PARTIAL | SAMPLE_FAILED
    error: str | None


class SampleRepository:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim_slot(self, *, cluster: str, slot: datetime, replica: str, now: datetime) -> int | None:
        """Take the cluster's sampling slot; None when another replica samples it (the EC2 budget is shared)."""
        try:
            with session_scope(self._sessions) as session:
                row = CapacitySampleRow(cluster=cluster, slot=slot, status=PENDING, claimed_by=replica, taken_at=now)
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def store(self, sample_id: int, sample: CapacitySample) -> None:
        with session_scope(self._sessions) as session:
            row = session.get(CapacitySampleRow, sample_id)
            if row is None:
                raise LookupError(f"sample {sample_id} is gone")
            row.status = _status(sample)
            row.taken_at = sample.taken_at
            row.settings_hash = sample.settings_hash
            row.failed_pods = _failed_pods_json(sample)
            row.detail = _detail_json(sample)
            session.add_all(
                SubnetSampleRow(
                    sample_id=sample_id,
                    subnet_id=s.subnet_id,
                    az=s.az,
                    usable=s.usable,
                    free=s.free,
                    warm_unused=s.warm_unused,
                )
                for s in sample.subnets
            )

    def fail(self, sample_id: int, error: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(CapacitySampleRow)
                .where(CapacitySampleRow.id == sample_id)
                .values(status=SAMPLE_FAILED, error=error[:2000])
            )

    def add(self, sample: CapacitySample, *, replica: str = "import") -> int:
        """Store one complete sample (imports, tests, benchmarks)."""
        return self.add_many([sample], replica=replica)[0]

    def add_many(self, samples: Sequence[CapacitySample], *, replica: str = "import") -> list[int]:
        """Store complete samples in one transaction, each in the slot of its own time."""
        with session_scope(self._sessions) as session:
            rows = [
                CapacitySampleRow(
                    cluster=s.cluster,
                    slot=s.taken_at,
                    status=_status(s),
                    claimed_by=replica,
                    taken_at=s.taken_at,
                    settings_hash=s.settings_hash,
                    failed_pods=_failed_pods_json(s),
                    detail=_detail_json(s),
                )
                for s in samples
            ]
            session.add_all(rows)
            session.flush()
            session.add_all(
                SubnetSampleRow(
                    sample_id=row.id,
                    subnet_id=sub.subnet_id,
                    az=sub.az,
                    usable=sub.usable,
                    free=sub.free,
                    warm_unused=sub.warm_unused,
                )
                for row, s in zip(rows, samples, strict=True)
                for sub in s.subnets
            )
            return [row.id for row in rows]

    def latest(self, cluster: str) -> CapacitySample | None:
        """The newest stored sample (complete or partial), with its subnets, nodes and context."""
        with self._sessions() as session:
            row = session.scalars(
                select(CapacitySampleRow)
                .where(CapacitySampleRow.cluster == cluster, CapacitySampleRow.status.in_(USABLE))
                .order_by(CapacitySampleRow.taken_at.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            subnets = session.scalars(
                select(SubnetSampleRow).where(SubnetSampleRow.sample_id == row.id).order_by(SubnetSampleRow.subnet_id)
            ).all()
            return _sample_from(row, subnets)

    def latest_taken_at(self, cluster: str) -> datetime | None:
        with self._sessions() as session:
            return session.scalar(
                select(func.max(CapacitySampleRow.taken_at)).where(
                    CapacitySampleRow.cluster == cluster, CapacitySampleRow.status.in_(USABLE)
                )
            )

    def events_read_at(self, cluster: str) -> datetime | None:
        """When the sandbox events were last read: the next sample looks back to there, so none fall between."""
        with self._sessions() as session:
            return session.scalar(
                select(func.max(CapacitySampleRow.taken_at)).where(
                    CapacitySampleRow.cluster == cluster,
                    CapacitySampleRow.status.in_(USABLE),
                    CapacitySampleRow.failed_pods.is_not(None),
                )
            )

    def attempts_since(self, cluster: str, *, after: datetime | None) -> list[SampleAttempt]:
        """Sampling slots finished after `after` (all when None), newest first: failed and partial ones show
        in digests, so a digest never passes old or incomplete data off as current."""
        query = (
            select(CapacitySampleRow.taken_at, CapacitySampleRow.status, CapacitySampleRow.error)
            .where(CapacitySampleRow.cluster == cluster, CapacitySampleRow.status != PENDING)
            .order_by(CapacitySampleRow.taken_at.desc())
        )
        if after is not None:
            query = query.where(CapacitySampleRow.taken_at > after)
        with self._sessions() as session:
            return [SampleAttempt(at, status, error) for at, status, error in session.execute(query.limit(500))]

    def events_unread(self, cluster: str, *, since: datetime, until: datetime) -> list[datetime]:
        """When, in (since, until], a sampling slot could not read the sandbox events (failed or partial)."""
        query = select(CapacitySampleRow.taken_at).where(
            CapacitySampleRow.cluster == cluster,
            CapacitySampleRow.status != PENDING,
            CapacitySampleRow.failed_pods.is_(None),
            CapacitySampleRow.taken_at > since,
            CapacitySampleRow.taken_at <= until,
        )
        with self._sessions() as session:
            return sorted(session.scalars(query))

    def histories(self, cluster: str, *, since: datetime) -> list[SubnetHistory]:
        """Free addresses per subnet over time, oldest first: what forecasts and the chart read."""
        query = (
            select(
                SubnetSampleRow.subnet_id,
                SubnetSampleRow.az,
                SubnetSampleRow.usable,
                SubnetSampleRow.free,
                CapacitySampleRow.taken_at,
            )
            .join(CapacitySampleRow, CapacitySampleRow.id == SubnetSampleRow.sample_id)
            .where(
                CapacitySampleRow.cluster == cluster,
                CapacitySampleRow.status.in_(USABLE),
                CapacitySampleRow.taken_at >= since,
            )
            .order_by(CapacitySampleRow.taken_at)
        )
        points: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        meta: dict[str, tuple[str, int]] = {}
        with self._sessions() as session:
            for subnet_id, az, usable, free, taken_at in session.execute(query):
                points[subnet_id].append((taken_at, free))
                meta[subnet_id] = (az, usable)
        return [SubnetHistory(s, meta[s][0], meta[s][1], tuple(p)) for s, p in sorted(points.items())]

    def failed_pods(self, cluster: str, *, since: datetime, until: datetime) -> list[FailedPod]:
        """Pods that failed to get an IP with a last sighting in (since, until]."""
        query = select(CapacitySampleRow.failed_pods).where(
            CapacitySampleRow.cluster == cluster,
            CapacitySampleRow.status.in_(USABLE),
            CapacitySampleRow.taken_at > since,
            CapacitySampleRow.failed_pods.is_not(None),
        )
        found = []
        with self._sessions() as session:
            for entries in session.scalars(query):
                for entry in entries or []:
                    pod = _failed_from(entry)
                    if since < pod.last_seen <= until:
                        found.append(pod)
        return found

    def thin(self, cluster: str, *, now: datetime, policy: ThinningPolicy | None = None) -> int:
        """Apply the thinning policy to one cluster's samples; returns how many were dropped."""
        policy = policy or ThinningPolicy()
        with session_scope(self._sessions) as session:
            rows = session.execute(
                select(CapacitySampleRow.id, CapacitySampleRow.taken_at).where(
                    CapacitySampleRow.cluster == cluster,
                    CapacitySampleRow.status != PENDING,
                    CapacitySampleRow.taken_at < now - policy.full_resolution,
                )
            ).all()
            plan = plan_thinning([(r[0], r[1]) for r in rows], now, policy)
            if not plan.drop:
                return 0
            self._merge_failed_pods(session, plan.merge_into)
            for chunk in _chunks(plan.drop):
                session.execute(delete(SubnetSampleRow).where(SubnetSampleRow.sample_id.in_(chunk)))
                session.execute(delete(CapacitySampleRow).where(CapacitySampleRow.id.in_(chunk)))
            return len(plan.drop)

    def strip_details(self, cluster: str, *, keep: int = 2) -> int:
        """Drop node rows and context from all but the newest `keep` samples: digests read only the newest."""
        with session_scope(self._sessions) as session:
            newest = session.scalars(
                select(CapacitySampleRow.id)
                .where(CapacitySampleRow.cluster == cluster, CapacitySampleRow.status.in_(USABLE))
                .order_by(CapacitySampleRow.taken_at.desc())
                .limit(keep)
            ).all()
            result = session.execute(
                update(CapacitySampleRow)
                .where(
                    CapacitySampleRow.cluster == cluster,
                    CapacitySampleRow.detail.is_not(None),
                    CapacitySampleRow.id.not_in(newest),
                )
                .values(detail=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def sample_count(self, cluster: str) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(CapacitySampleRow.cluster == cluster)) or 0)

    def expire_pending(self, *, older_than: datetime) -> int:
        """Samples whose taker died before storing them: mark failed so they never look in progress."""
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(CapacitySampleRow)
                .where(CapacitySampleRow.status == PENDING, CapacitySampleRow.taken_at < older_than)
                .values(status=SAMPLE_FAILED, error="abandoned")
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    @staticmethod
    def _merge_failed_pods(session: Session, merge_into: dict[int, list[int]]) -> None:
        ids = set(merge_into) | {i for dropped in merge_into.values() for i in dropped}
        failed: dict[int, list[Any]] = {}
        for chunk in _chunks(sorted(ids)):
            for sample_id, entries in session.execute(
                select(CapacitySampleRow.id, CapacitySampleRow.failed_pods).where(CapacitySampleRow.id.in_(chunk))
            ):
                if entries:
                    failed[sample_id] = list(entries)
        for kept, dropped in merge_into.items():
            extra = [e for d in dropped for e in failed.get(d, [])]
            if extra:
                session.execute(
                    update(CapacitySampleRow)
                    .where(CapacitySampleRow.id == kept)
                    .values(failed_pods=failed.get(kept, []) + extra)
                )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


# --- JSON shapes (compact: arrays, not objects, for the per-node rows) -----------------------------------------

_NODE_FIELDS = (
    "name",
    "instance_type",
    "az",
    "enis",
    "max_enis",
    "assigned_ips",
    "held_ips",
    "ip_capacity",
    "pods",
    "max_pods",
    "allocation_subnet",
)
_LIMIT_FIELDS = ("max_enis", "ipv4_per_eni", "hypervisor", "bare_metal", "vcpus", "network_cards", "branch_enis")


def _status(sample: CapacitySample) -> str:
    return OK if sample.complete else PARTIAL


def _failed_pods_json(sample: CapacitySample) -> list[dict[str, Any]] | None:
    """None when the events could not be read: "no failures" and "could not tell" must stay apart."""
    return [_failed_json(p) for p in sample.failed_pods] if sample.events_read else None


def _failed_json(pod: FailedPod) -> dict[str, Any]:
    return {
        "ns": pod.namespace,
        "name": pod.name,
        "cause": pod.cause,
        "message": pod.message[:300],
        "last_seen": pod.last_seen.isoformat(),
        "count": pod.count,
        "source": pod.source,
    }


def _failed_from(entry: dict[str, Any]) -> FailedPod:
    return FailedPod(
        namespace=entry["ns"],
        name=entry["name"],
        cause=entry["cause"],
        message=entry.get("message", ""),
        last_seen=datetime.fromisoformat(entry["last_seen"]),
        count=int(entry.get("count", 1)),
        source=entry.get("source", "event"),
    )


def _detail_json(sample: CapacitySample) -> dict[str, Any]:
    return {
        "nodes": [[getattr(n, f) for f in _NODE_FIELDS] for n in sample.nodes],
        "vpc_subnets": [
            [s.subnet_id, s.az, s.cidr, s.usable, s.free, s.cni_role, s.name, s.used_by_cluster]
            for s in sample.vpc_subnets
        ],
        "aws_node_env": dict(sample.aws_node_env) if sample.aws_node_env is not None else None,
        "cni_version": sample.cni_version,
        "limits": {t: [getattr(lim, f) for f in _LIMIT_FIELDS] for t, lim in sample.limits.items()},
        "could_not_check": list(sample.could_not_check),
        # Per subnet [ENIs, addresses] of leaked ENIs: only the newest samples need it (recommendations).
        "leaked": {s.subnet_id: [s.leaked_enis, s.leaked_ips] for s in sample.subnets if s.leaked_enis},
        "other_shape_subnets": dict(sample.other_shape_subnets),
    }


def _sample_from(row: CapacitySampleRow, subnets: Sequence[SubnetSampleRow]) -> CapacitySample:
    detail = row.detail or {}
    leaked = detail.get("leaked") or {}
    return CapacitySample(
        cluster=row.cluster,
        taken_at=row.taken_at,
        subnets=tuple(
            SubnetSample(s.subnet_id, s.az, s.usable, s.free, s.warm_unused, *leaked.get(s.subnet_id, (0, 0)))
            for s in subnets
        ),
        nodes=tuple(NodeSample(**dict(zip(_NODE_FIELDS, n, strict=True))) for n in detail.get("nodes") or []),
        failed_pods=tuple(_failed_from(e) for e in row.failed_pods or []),
        aws_node_env=detail.get("aws_node_env"),
        cni_version=detail.get("cni_version"),
        vpc_subnets=tuple(VpcSubnet(*s) for s in detail.get("vpc_subnets") or []),
        limits={
            t: InstanceLimits(t, **dict(zip(_LIMIT_FIELDS, values, strict=True)))
            for t, values in (detail.get("limits") or {}).items()
        },
        could_not_check=tuple(detail.get("could_not_check") or ()),
        events_read=row.failed_pods is not None,
        other_shape_subnets=dict(detail.get("other_shape_subnets") or {}),
    )
