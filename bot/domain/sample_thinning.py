"""Which old samples to drop so the database stays small: full resolution for two days, then one sample an
hour until thirty days, then one a day. The newest sample of each hour (or day) is kept; what the dropped
ones recorded about failed pods is merged into it, so a weekly digest still sees every failure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThinningPolicy:
    full_resolution: timedelta = timedelta(days=2)
    hourly_until: timedelta = timedelta(days=30)


@dataclass
class ThinningPlan:
    drop: list[int] = field(default_factory=list)
    merge_into: dict[int, list[int]] = field(default_factory=dict)  # kept id -> dropped ids in its bucket


def plan_thinning(
    samples: Sequence[tuple[int, datetime]], now: datetime, policy: ThinningPolicy = ThinningPolicy()
) -> ThinningPlan:
    """`samples`: (id, taken_at) of one cluster. Idempotent: thinning a thinned history drops nothing."""
    buckets: dict[tuple[str, datetime], list[tuple[datetime, int]]] = defaultdict(list)
    for sample_id, taken_at in samples:
        age = now - taken_at
        if age <= policy.full_resolution:
            continue
        if age <= policy.hourly_until:
            key = ("hour", taken_at.replace(minute=0, second=0, microsecond=0))
        else:
            key = ("day", taken_at.replace(hour=0, minute=0, second=0, microsecond=0))
        buckets[key].append((taken_at, sample_id))
    plan = ThinningPlan()
    for members in buckets.values():
        if len(members) < 2:
            continue
        members.sort()
        kept = members[-1][1]
        dropped = [sample_id for _, sample_id in members[:-1]]
        plan.drop.extend(dropped)
        plan.merge_into[kept] = dropped
    plan.drop.sort()
    return plan
