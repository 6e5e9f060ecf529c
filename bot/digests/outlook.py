"""Per-subnet outlook from stored samples: free addresses now, their change over 24 h and 7 days, the
forecast, the warm pools' share, and how worried to be."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.digests.forecast import Forecast, forecast_exhaustion
from bot.domain.capacity_samples import Point, SubnetHistory, SubnetSample

RISK_DAYS = 7.0  # runs out within a week: act now
WATCH_DAYS = 30.0  # runs out within a month: plan
WATCH_PERCENT = 80.0
# How far from the wanted instant a sample may be to stand for "24 h ago" / "7 days ago".
LOOKBACK_TOLERANCE = 0.1


class Level(StrEnum):
    HEALTHY = "healthy"
    WATCH = "watch"
    AT_RISK = "at risk"
    UNKNOWN = "unknown"  # the data is failed, partial or stale: never called healthy

    @property
    def rank(self) -> int:
        return list(Level).index(self)


@dataclass(frozen=True)
class SubnetOutlook:
    subnet_id: str
    az: str
    usable: int
    free: int
    change_24h: int | None  # free now minus free 24 h ago; None = no sample that old
    change_7d: int | None
    forecast: Forecast
    warm_unused: int | None

    @property
    def used(self) -> int:
        return max(self.usable - self.free, 0)

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.usable if self.usable else 100.0

    @property
    def warm_share(self) -> float | None:
        """Share of the subnet's used addresses held unused by warm pools."""
        if self.warm_unused is None or self.used == 0:
            return None
        return min(100.0 * self.warm_unused / self.used, 100.0)

    @property
    def level(self) -> Level:
        days = self.forecast.days_left
        if self.free <= 0 or (days is not None and days <= RISK_DAYS):
            return Level.AT_RISK
        if (days is not None and days <= WATCH_DAYS) or self.percent_used >= WATCH_PERCENT:
            return Level.WATCH
        return Level.HEALTHY


def subnet_outlook(current: SubnetSample, history: SubnetHistory | None, now: datetime) -> SubnetOutlook:
    points: Sequence[Point] = history.points if history else ()
    return SubnetOutlook(
        subnet_id=current.subnet_id,
        az=current.az,
        usable=current.usable,
        free=current.free,
        change_24h=change_since(points, current.free, now, timedelta(hours=24)),
        change_7d=change_since(points, current.free, now, timedelta(days=7)),
        forecast=forecast_exhaustion(points, now),
        warm_unused=current.warm_unused,
    )


def change_since(points: Sequence[Point], free_now: int, now: datetime, ago: timedelta) -> int | None:
    """free_now minus the free count of the sample nearest to `now - ago` (None when none is near enough)."""
    target = now - ago
    tolerance = ago * LOOKBACK_TOLERANCE
    best: Point | None = None
    for point in points:
        distance = abs(point[0] - target)
        if distance <= tolerance and (best is None or distance < abs(best[0] - target)):
            best = point
    return None if best is None else free_now - best[1]
