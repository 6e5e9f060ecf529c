"""Days until a subnet runs out of addresses, from a least-squares line through its free-address samples.

"n/a" is an answer too: with fewer than a handful of samples or less than a few hours of history the line
means nothing, and a subnet whose free count is flat, growing, or falling by less than the fit's own noise
does not run out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.capacity_samples import Point

MIN_SAMPLES = 4
MIN_SPAN = timedelta(hours=6)
FIT_WINDOW = timedelta(days=7)
# A drain slower than this (addresses per day) is no growth worth forecasting.
MIN_DRAIN_PER_DAY = 0.5
# The slope must be below zero by this many standard errors: noise is not a trend.
SIGNIFICANCE = 2.0

TOO_LITTLE_DATA = "too little data"
NO_GROWTH = "no growth"
EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Forecast:
    days_left: float | None  # None = n/a (see reason)
    drain_per_day: float | None  # addresses used up per day by the fit; None with too little data
    reason: str = ""  # TOO_LITTLE_DATA | NO_GROWTH | EXHAUSTED | ""
    samples: int = 0

    @property
    def text(self) -> str:
        if self.reason == EXHAUSTED:
            return "0 (out now)"
        if self.days_left is None:
            return "n/a"
        return f"{self.days_left:.1f}" if self.days_left < 10 else f"{self.days_left:,.0f}"


def forecast_exhaustion(points: Sequence[Point], now: datetime, *, window: timedelta = FIT_WINDOW) -> Forecast:
    """Fit free = a + b*t over the samples of the last `window`; days left = current free / drain rate."""
    recent = [(t, free) for t, free in points if now - window <= t <= now]
    if recent and recent[-1][1] <= 0:
        return Forecast(0.0, None, EXHAUSTED, len(recent))
    if len(recent) < MIN_SAMPLES or recent[-1][0] - recent[0][0] < MIN_SPAN:
        return Forecast(None, None, TOO_LITTLE_DATA, len(recent))
    slope, stderr = _fit(recent)
    drain = -slope
    if drain < MIN_DRAIN_PER_DAY or slope + SIGNIFICANCE * stderr >= 0:
        return Forecast(None, drain, NO_GROWTH, len(recent))
    return Forecast(recent[-1][1] / drain, drain, "", len(recent))


def _fit(points: Sequence[Point]) -> tuple[float, float]:
    """Slope in addresses per day and its standard error (ordinary least squares)."""
    origin = points[0][0]
    xs = [(t - origin).total_seconds() / 86400 for t, _ in points]
    ys = [float(free) for _, free in points]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residuals = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    stderr = math.sqrt(residuals / (n - 2) / sxx) if n > 2 else math.inf
    return slope, stderr


def humane_days(days: float) -> str:
    """How people say a forecast: "about 3 days", "about 5 weeks"."""
    if days < 1:
        hours = max(round(days * 24), 1)
        return f"about {hours} hour{'s' if hours != 1 else ''}"
    if days < 14:
        whole = round(days)
        return f"about {whole} day{'s' if whole != 1 else ''}"
    if days < 60:
        return f"about {round(days / 7)} weeks"
    return f"about {round(days / 30)} months"
